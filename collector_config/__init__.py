"""The gateway's collector config, a pure function of Settings.

render(settings) -> dict; render_yaml(settings) -> the text the collector runs.
`tier` picks the single gateway (default) or, for the two-tier Kubernetes mode,
the agent tier (receive, normalize, redact, route by trace id) or the sampler
tier (cost, metrics, tail sampling).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from collector_config import audit, cost, debug, exporters, forwarding, metrics, normalize, policy, redact, sampling
from collector_config.ottl import escape_dollars
from settings import Settings

TOKEN_ENV = "LLMOBS_INGEST_TOKEN"  # where clients (loadgen, up-local) read the token from
# The gateway reads its ingest tokens from a mounted secret file (one per line, so a
# token can be rotated by adding the new one first): never from env or config text.
TOKEN_FILE = "/etc/llmobs/secrets/ingest_token"
TIERS = ("single", "agent", "sampler")


def argv(config_path: str) -> list[str]:
    """The collector's arguments, wherever it runs (pods, containers, up-local, tests, bench)."""
    return [f"--config={config_path}"]
# The gateway's certificate and key (a kubernetes.io/tls Secret), when llmobs:ingest.tls is on.
TLS_DIR = "/etc/llmobs/tls"
# The persistent sending queue (llmobs:collector.persistent_queue): a volume on each collector.
QUEUE_DIR = "/var/lib/otelcol/queue"
QUEUE_STORAGE = "file_storage/queue"
# Disk for all of one collector's queues (one bbolt file per exporter, each bounded to its
# share), under the Kubernetes volume's sizeLimit.
QUEUE_BUDGET_MIB = 384


@dataclass(frozen=True)
class Listen:
    """Where the collector listens. In a container: all interfaces; locally: 127.0.0.1."""
    host: str = "0.0.0.0"
    grpc_port: int = 4317
    http_port: int = 4318
    health_port: int = 13133
    telemetry_port: int = 8888
    audit_port: int = 4319   # Grafana's own traces (debug.enabled): collector_config/audit.py


def _receivers(auth_on: bool, listen: Listen, tls_dir: str | None = None) -> dict:
    extra: dict = {"auth": {"authenticator": "bearertokenauth"}} if auth_on else {}
    if tls_dir:
        # Re-read hourly: a renewed certificate (cert-manager) takes effect without a restart.
        extra["tls"] = {"cert_file": f"{tls_dir}/tls.crt", "key_file": f"{tls_dir}/tls.key",
                        "min_version": "1.2", "reload_interval": "1h"}
    return {"otlp": {"protocols": {
        "grpc": {"endpoint": f"{listen.host}:{listen.grpc_port}", **extra},
        "http": {"endpoint": f"{listen.host}:{listen.http_port}", **extra},
    }}}


def needs_content_key(settings: Settings, tier: str = "single") -> bool:
    """Whether this tier reads the content hash key (redact.CONTENT_KEY, a secret file beside the
    ingest token): content.hash hmac, where content is redacted (the gateway or the agent tier)."""
    return settings.content.hash == "hmac" and tier in ("single", "agent")


def tls_on(settings: Settings, tier: str) -> bool:
    """TLS where applications connect: the gateway (single) or agent tier, on Kubernetes."""
    return settings.target == "kubernetes" and settings.ingest.tls.mode != "none" and tier != "sampler"


def _extensions(auth_on: bool, listen: Listen, token_file: str) -> dict:
    out = {"health_check": {"endpoint": f"{listen.host}:{listen.health_port}"}}
    if auth_on:
        out["bearertokenauth"] = {"filename": token_file}
    return out


def queue_storage(queue_dir: str, queues: int) -> dict:
    """The file_storage extension behind the persistent sending queues: `queues` files (one per
    exporter) sharing QUEUE_BUDGET_MIB; a full one refuses new batches (counted as enqueue
    failures). Compaction on rebound (once a grown queue has drained to a few MiB) gives the
    disk back after an outage; it copies only that little, into the same volume (/tmp is small)."""
    per_file = QUEUE_BUDGET_MIB // max(1, queues)
    return {"directory": queue_dir, "create_directory": True, "timeout": "1s",
            "max_size": per_file * 1024 * 1024,
            "compaction": {"directory": queue_dir, "on_start": False, "on_rebound": True,
                           "rebound_needed_threshold_mib": per_file // 2,
                           "rebound_trigger_threshold_mib": min(10, per_file // 4),
                           "cleanup_on_start": True}}


def memory_limiter(settings: Settings) -> dict:
    """Limits from the container's memory setting rather than a percentage of what the runtime
    reports: the same limit on every target, and a real one where there is no cgroup limit
    (up-local), where a percentage would be of the host's memory."""
    mib = settings.collector.memory_limit_mib
    return {"check_interval": "1s", "limit_mib": mib * 80 // 100, "spike_limit_mib": mib * 20 // 100}


def runtime_env(settings: Settings) -> dict[str, str]:
    """The collector process's environment: GOMEMLIMIT at the memory_limiter's hard limit, so
    the Go runtime collects garbage before the process outgrows it (without it, RSS runs well
    past the limit: the heap may double between collections)."""
    return {"GOMEMLIMIT": f"{memory_limiter(settings)['limit_mib']}MiB"}


def _pipeline(receivers, processors, exporters_):
    return {"receivers": receivers, "processors": ["memory_limiter", *processors], "exporters": exporters_}


def _retained(settings: Settings, signal: str, processors: dict) -> list[str]:
    """The redaction steps of the gateway's own pipeline: redaction, then the never-retain policy."""
    steps = [redact.stage_name(f"redact_{signal}")]
    if policy.needed(settings, settings.content.mode):
        processors[f"transform/retain_{signal}"] = policy.processor(signal, settings, settings.content.mode)
        steps.append(f"transform/retain_{signal}")
    return steps


def _exporters_of(settings: Settings, all_exporters: dict) -> dict:
    if settings.collector.persistent_queue:
        return exporters.persist_queues(all_exporters, QUEUE_STORAGE)
    return all_exporters


def render(settings: Settings, listen: Listen = Listen(), tier: str = "single", logs_file: str | None = None,
           token_file: str = TOKEN_FILE, tls_dir: str = TLS_DIR, queue_dir: str = QUEUE_DIR) -> dict:
    """`logs_file`: write logs to this file (file exporter) instead of Loki, for local runs
    where Loki cannot run; nothing else in the pipeline changes. `token_file`: where the
    ingest token file is mounted; the other secret files (forwarders' tokens, the content hash
    key) are beside it. `queue_dir`: the persistent queue's directory."""
    if tier not in TIERS:
        raise ValueError(f"tier must be one of {TIERS}")
    processors = {
        "memory_limiter": memory_limiter(settings),
        "batch": {"send_batch_size": 8192, "timeout": "1s"},
        "delta_to_cumulative": {},  # the metrics connector emits deltas; remote write needs cumulative
    }
    front = tier in ("single", "agent")   # receive, normalize, redact; logs and app metrics
    back = tier in ("single", "sampler")   # cost, span metrics, tail sampling
    derive = metrics.NAME
    connectors: dict = {derive: metrics.connector(settings, spans=back, logs=front)}
    processors["transform/instance"] = metrics.instance_processor()
    # No `batch`: the connector already sends each signal's points once per flush interval.
    pipelines: dict = {"metrics/derived": _pipeline([derive], ["transform/instance", "delta_to_cumulative"],
                                                    ["prometheus_remote_write"])}
    extra_exporters: dict = {}
    norm: dict[str, str] = {}
    secrets_dir = str(Path(token_file).parent)
    key_file = f"{secrets_dir}/{redact.CONTENT_KEY}"
    if front:
        for signal in ("traces", "logs", "metrics"):
            norm[signal], processors[norm[signal]] = normalize.stage(signal)
            processors.update(redact.stage(f"redact_{signal}", signal, settings, key_file=key_file))
        connectors["forward/logs"] = {}
        # Batched before the fork: a `batch` in logs/export would declare that it mutates,
        # and the forward connector would then copy every record for that branch.
        redact_logs = _retained(settings, "logs", processors) + ["batch"]
        if settings.debug.enabled:
            # Fork before the content policy: the debug branch sees redacted content, not hashes.
            connectors["forward/logs_in"] = {}
            pipelines["logs/in"] = _pipeline(["otlp"], [norm["logs"]], ["forward/logs_in"])
            pipelines["logs/main"] = _pipeline(["forward/logs_in"], redact_logs, ["forward/logs"])
            processors.update(debug.processors(settings))
            pipelines["logs/debug"] = _pipeline(["forward/logs_in"], debug.steps(settings), [debug.exporter_name(logs_file)])
            extra_exporters[debug.exporter_name(logs_file)] = debug.exporter(
                settings, exporters.endpoints(settings)["logs"], logs_file)
        else:
            pipelines["logs/in"] = _pipeline(["otlp"], [norm["logs"]] + redact_logs, ["forward/logs"])
        pipelines["logs/export"] = _pipeline(["forward/logs"], [], ["file/logs" if logs_file else "otlp_http/logs"])
        pipelines["logs/derive"] = _pipeline(["forward/logs"], [], [derive])
        processors["transform/bound_metrics"] = metrics.app_metrics_processor(settings)
        pipelines["metrics"] = _pipeline(["otlp"], [norm["metrics"],
                                                    redact.stage_name("redact_metrics"),
                                                    "transform/bound_metrics",
                                                    "delta_to_cumulative", "batch"], ["prometheus_remote_write"])
    # Forwarders and the debug store's span records fork off the normalized spans, before the
    # gateway's own content policy.
    span_debug = front and debug.span_content_on(settings)
    fork = front and (bool(settings.forwarding) or span_debug)
    front_traces = _retained(settings, "traces", processors) if front else []
    if fork:
        connectors["forward/traces_in"] = {}
        pipelines["traces/fork"] = _pipeline(["otlp"], [norm["traces"]], ["forward/traces_in"])
        forwarding.build(settings, processors, pipelines, extra_exporters, "forward/traces_in", _pipeline, key_file)
    elif front:
        front_traces.insert(0, norm["traces"])
    if span_debug:
        debug.build_spans(settings, "forward/traces_in", processors, connectors, pipelines, _pipeline,
                          debug.exporter_name(logs_file))
    traces_in = ["forward/traces_in"] if fork else ["otlp"]
    if back:
        processors[cost.NAME] = cost.processor(settings)
        processors["tail_sampling"] = sampling.processor(settings)
        connectors["forward/traces"] = {}
        pipelines["traces/in"] = _pipeline(traces_in, front_traces + [cost.NAME], ["forward/traces"])
        pipelines["traces/derive"] = _pipeline(["forward/traces"], [], [derive])
        pipelines["traces/sampled"] = _pipeline(["forward/traces"], ["tail_sampling", "batch"],
                                               [exporters.traces_exporter(settings)])
    else:
        # Agent tier: route whole traces by trace id to the sampler tier.
        pipelines["traces/in"] = _pipeline(traces_in, front_traces, ["load_balancing"])
    # The sampler tier only hears from the agent tier (NetworkPolicy), which authenticated already.
    auth = settings.ingest.auth and tier != "sampler"
    receivers = _receivers(auth, listen, tls_dir if tls_on(settings, tier) else None)
    if front and settings.debug.enabled:   # Grafana's own traces: the debug store's access audit
        receivers.update(audit.build(settings, listen.host, listen.audit_port, processors, connectors, pipelines,
                                     _pipeline))
    extension_names = ["health_check"] + (["bearertokenauth"] if auth else [])
    extensions = _extensions(auth, listen, token_file)
    if fork:
        extensions.update(forwarding.extensions(settings, secrets_dir))
        extension_names += [name for name in extensions if name.startswith("bearertokenauth/")]
    all_exporters = exporters.exporters(settings, tier, pipelines, logs_file)
    if front and settings.debug.enabled and "otlp_http/logs" in all_exporters:
        # Loki runs multi-tenant once the debug tenant exists: ordinary logs name theirs.
        all_exporters["otlp_http/logs"] = {**all_exporters["otlp_http/logs"],
                                           "headers": {debug.ORG_HEADER: debug.NORMAL_TENANT}}
    exporters_ = _exporters_of(settings, {**all_exporters, **extra_exporters})
    # An external backend's authenticator, on the tiers whose exporters use it.
    used_auth = {c["auth"]["authenticator"] for c in exporters_.values() if isinstance(c.get("auth"), dict)}
    for name, ext in exporters.auth_extensions(settings, str(Path(token_file).parent)).items():
        if name in used_auth:
            extensions[name] = ext
            extension_names.append(name)
    if settings.collector.persistent_queue:
        extensions[QUEUE_STORAGE] = queue_storage(queue_dir, sum("sending_queue" in c for c in exporters_.values()))
        extension_names.append(QUEUE_STORAGE)
    config = {
        "extensions": extensions,
        "receivers": receivers,
        "processors": escape_dollars(processors),
        "connectors": escape_dollars(connectors),
        "exporters": exporters_,
        "service": {
            "extensions": extension_names,
            "pipelines": pipelines,
            "telemetry": {"metrics": {"level": "normal", "readers": [{"pull": {"exporter": {"prometheus": {
                "host": listen.host, "port": listen.telemetry_port}}}}]}},
        },
    }
    return config


# libyaml's emitter: the same text as yaml.safe_dump (test_libyaml_dump_is_the_pure_python_text),
# ten times faster; a stack renders about 1 MB of YAML. backends.common writes with it too.
SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def render_yaml(settings: Settings, listen: Listen = Listen(), tier: str = "single", logs_file: str | None = None,
                token_file: str = TOKEN_FILE, tls_dir: str = TLS_DIR, queue_dir: str = QUEUE_DIR) -> str:
    header = "# Generated by llm-observability-stack from the stack settings. Do not edit.\n"
    return header + yaml.dump(render(settings, listen, tier, logs_file, token_file, tls_dir, queue_dir),
                              Dumper=SAFE_DUMPER, sort_keys=False, width=1000)


def component_types(config: dict) -> set[tuple[str, str]]:
    """(kind, type) of every component a rendered config declares, e.g. ("exporters", "otlp_grpc")."""
    return {(kind, name.split("/")[0]) for kind in ("receivers", "processors", "exporters", "connectors", "extensions")
            for name in config.get(kind, {})}
