"""The rendered collector config: validated by the real binary over a matrix of settings;
the distribution holds exactly the components the configs use."""
from __future__ import annotations

import functools
import itertools
import re

import pytest
import yaml

import collector_config
from collector_config import render, render_yaml
from collector_harness import validate as otelcol_validate
from settings import load_stack_file, validate
from artifacts import render_all
from stacks import KUBE

MANIFEST = yaml.safe_load(open("collector_config/distribution/manifest.yaml"))
VERSIONS = yaml.safe_load(open("settings/versions.yaml"))
MATRIX = [
    {**KUBE, "traces": {"backend": backend}, "ingest": {"auth": auth}, "content": {"mode": mode},
     "sampling": {"keep_fraction": keep, "llm_keep_fraction": llm_keep}}
    for (backend, auth, mode), (keep, llm_keep) in zip(
        itertools.product(("tempo", "jaeger"), (True, False), ("hash", "preview", "drop")),
        itertools.cycle([(0.1, 1.0), (0.0, 0.5), (1.0, 0.0)]))
]


OPT_IN = {
    **KUBE,
    "content": {"never_retain": {"tenants": ["initech"], "keep": "drop"}, "never_forward": ["umbrella"]},
    "debug": {"enabled": True, "tenants": ["acme"], "features": ["chat"], "sample_rate": 0.05},
    "forwarding": [{"name": "langfuse", "endpoint": "https://cloud.langfuse.com/api/public/otel", "auth": "basic",
                    "exclude_tenants": ["globex"]},
                   {"name": "phoenix", "protocol": "grpc", "endpoint": "phoenix:4317", "insecure": True,
                    "content": "preview"}],
}


def _render(config: dict, **kw) -> str:
    return render_yaml(validate(config), **kw)


@functools.cache
def _stack_files(stack: str) -> dict[str, str]:
    return render_all(load_stack_file(stack))


def _stack_file(stack: str, path: str) -> str:
    return _stack_files(stack)[path]


def _cases():
    """(name, render) for every config. The names are needed at collection, which each xdist worker
    does again; the texts only when a test asks (rendering them all cost ~12 CPU-s per collection)."""
    for config in MATRIX:
        for tier in collector_config.TIERS:
            yield f"{config['traces']['backend']}-auth{config['ingest']['auth']}-{config['content']['mode']}-{tier}", \
                functools.partial(_render, config, tier=tier)
    for stack in ("Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.kube-prometheus.yaml", "Pulumi.grafana-cloud.yaml"):
        tiers = ("agent", "sampler") if load_stack_file(stack).two_tier else ("config",)
        for tier in tiers:   # the paths render_all gives the collector's configs
            yield f"{stack}:collector/{tier}.yaml", functools.partial(_stack_file, stack, f"collector/{tier}.yaml")
    yield "local-logs-file", functools.partial(_render, {"target": "docker"}, logs_file="/tmp/llmobs-logs.json")
    for mode in ("preview", "hash"):   # the opt-in debug store, forwarding and tenant policy
        opted_in = {**OPT_IN, "content": {**OPT_IN["content"], "mode": mode}}
        for tier in collector_config.TIERS:
            yield f"opt-in-{mode}-{tier}", functools.partial(_render, opted_in, tier=tier)
    yield "opt-in-local-logs-file", functools.partial(_render, {**OPT_IN, "target": "docker"}, logs_file="/tmp/llmobs-logs.json")
    span_content = {**OPT_IN, "debug": {**OPT_IN["debug"], "span_content": True}}
    for tier in collector_config.TIERS:   # the debug store's span records (the project's own connector)
        yield f"span-content-{tier}", functools.partial(_render, span_content, tier=tier)
    yield "span-content-no-forwarders", functools.partial(_render, {**span_content, "forwarding": []})
    custom = {**OPT_IN, "redaction": {"extra_patterns": [{"name": "order_id", "regex": "^ORD-[0-9]{6}$"}]}}
    for mode in ("preview", "hash", "drop"):   # every content mode, with a custom (anchored) detector
        for tier in collector_config.TIERS:
            yield f"custom-{mode}-{tier}", functools.partial(
                _render, {**custom, "content": {**OPT_IN["content"], "mode": mode}}, tier=tier)
    yield "no-guard-keep-links", functools.partial(_render, {
        **custom, "redaction": {"span_links": "keep"},
        "content": {**OPT_IN["content"], "guard": {"enabled": False}}, "debug": {"enabled": False}, "forwarding": []})
    # External backends: every auth kind and headers on the three exporters, traces over gRPC (TLS) and
    # HTTP; with the persistent queue (each authenticated exporter's queue on disk too).
    for protocol, endpoint in (("grpc", "tempo.example:4317"), ("http", "https://otlp.example/otlp")):
        external = {**KUBE, "backends": {
            "metrics": {"mode": "external", "remote_write_url": "https://mimir.example/api/v1/push", "auth": "basic",
                        "headers": {"X-Scope-OrgID": "llm"}, "query_url": "https://mimir.example/prometheus"},
            "alerting": {"mode": "external", "kind": "team"},
            "traces": {"mode": "external", "protocol": protocol, "endpoint": endpoint, "auth": "raw",
                       "auth_header": "X-Api-Key", "query_url": "https://tempo.example"},
            "logs": {"mode": "external", "endpoint": "https://loki.example/otlp", "auth": "bearer",
                     "headers": {"X-Scope-OrgID": "llm"}, "query_url": "https://loki.example"}},
            "collector": {**KUBE["collector"], "persistent_queue": protocol == "http"}}
        for tier in collector_config.TIERS:
            yield f"external-{protocol}-{tier}", functools.partial(_render, external, tier=tier)
    for tier in collector_config.TIERS:   # every exporter's queue on disk, forwarders and debug store too
        yield f"persistent-queue-{tier}", functools.partial(
            _render, {**OPT_IN, "collector": {**KUBE["collector"], "persistent_queue": True}}, tier=tier)


CASES = dict(_cases())
assert len(CASES) == len(list(_cases())), "two configs share a name"


@functools.cache
def config_text(name: str) -> str:
    return CASES[name]()


@functools.cache
def _parsed() -> list[tuple[str, dict]]:
    """Every config of CASES parsed once, by libyaml (pure-Python parsing of ~100 configs
    of ~150 KB took a minute per test that read them all)."""
    return [(name, yaml.load(config_text(name), Loader=yaml.CSafeLoader)) for name in CASES]


@pytest.mark.parametrize("name", CASES)
def test_real_collector_validates(name):
    result = otelcol_validate(config_text(name))
    assert result.returncode == 0, result.stderr[-2000:]


def test_validate_catches_a_broken_config():
    # The check above can fail: a config with an unknown OTTL function is refused.
    broken = config_text(next(iter(CASES))).replace("IsMatch(", "IsMatchTypo(", 1)
    assert otelcol_validate(broken).returncode != 0


def _manifest_types() -> set[tuple[str, str]]:
    out = set()
    for kind in ("receivers", "processors", "exporters", "connectors", "extensions"):
        for entry in MANIFEST.get(kind, []):
            module = entry["gomod"].split()[0].rsplit("/", 1)[1]
            out.add((kind, module))
    return out


# Go module name -> component type in this release (snake_case since the rename).
TYPE_OF_MODULE = {
    "otlpreceiver": "otlp", "memorylimiterprocessor": "memory_limiter", "batchprocessor": "batch",
    "transformprocessor": "transform", "tailsamplingprocessor": "tail_sampling",
    "deltatocumulativeprocessor": "delta_to_cumulative", "forwardconnector": "forward",
    "otlpexporter": "otlp_grpc", "otlphttpexporter": "otlp_http",
    "prometheusremotewriteexporter": "prometheus_remote_write", "loadbalancingexporter": "load_balancing",
    "fileexporter": "file", "bearertokenauthextension": "bearertokenauth", "healthcheckextension": "health_check",
    "filterprocessor": "filter", "probabilisticsamplerprocessor": "probabilistic_sampler",
    "filestorage": "file_storage", "spanlogsconnector": "spanlogs", "llmredactprocessor": "llmredact",
    "llmnormalizeprocessor": "llmnormalize", "llmmetricsconnector": "llmmetrics", "llmcostprocessor": "llmcost",
}


def test_distribution_has_exactly_the_components_the_configs_use():
    used = set()
    for _, config in _parsed():
        used |= collector_config.component_types(config)
    built = {(kind, TYPE_OF_MODULE[module]) for kind, module in _manifest_types()}
    assert built == used


def test_manifest_pins_one_release_matching_versions_file():
    release = VERSIONS["collector"]["release"]
    # The project's own components (a local `path`) have no release of their own.
    versions = {entry["gomod"].split()[1] for kind in ("receivers", "processors", "exporters", "connectors", "extensions")
                for entry in MANIFEST[kind] if "path" not in entry}
    assert versions == {f"v{release}"}
    assert MANIFEST["dist"]["version"] == release
    assert VERSIONS["tools"]["ocb"] == f"v{release}"


def test_built_binary_reports_the_manifest_components():
    import subprocess
    from collector_harness import collector_binary
    out = yaml.safe_load(subprocess.run([collector_binary(), "components"], capture_output=True, text=True,
                                        check=True, timeout=60).stdout)
    assert out["buildinfo"]["version"] == MANIFEST["dist"]["version"]
    listed = {(kind, c["name"]) for kind in ("receivers", "processors", "exporters", "connectors", "extensions")
              for c in out.get(kind) or []}
    assert listed == {(kind, TYPE_OF_MODULE[module]) for kind, module in _manifest_types()}


def test_memory_limiter_first_and_batch_last():
    for _, config in _parsed():
        for name, pipeline in config["service"]["pipelines"].items():
            assert pipeline["processors"][0] == "memory_limiter", name
            if "batch" in pipeline["processors"]:
                assert pipeline["processors"][-1] == "batch", name


def test_token_read_from_the_mounted_secret_file():
    from backends.common import INGEST_TOKEN, secret_path
    config = render(validate({"target": "docker"}))
    # The path the gateway reads is the one both targets mount the secret at.
    assert config["extensions"]["bearertokenauth"] == {"filename": secret_path(INGEST_TOKEN)}
    text = render_yaml(validate({"target": "docker"}))
    assert "authenticator: bearertokenauth" in text and "${env:" not in text
    assert "bearertokenauth" not in render_yaml(validate({"target": "docker", "ingest": {"auth": False}}))


def test_metrics_derived_before_sampling():
    pipelines = render(validate({"target": "docker"}))["service"]["pipelines"]
    assert "tail_sampling" not in pipelines["traces/in"]["processors"]
    assert pipelines["traces/in"]["exporters"] == ["forward/traces"]
    assert pipelines["traces/derive"]["receivers"] == ["forward/traces"]
    assert "llmmetrics" in pipelines["traces/derive"]["exporters"]
    # llmmetrics emits deltas; remote write needs cumulative.
    assert "delta_to_cumulative" in pipelines["metrics/derived"]["processors"]


def _paths(config: dict) -> list[list[str]]:
    """Every chain of pipelines from a receiver to an exporter, through connectors, as the list
    of the processors it runs (memory_limiter, in every pipeline, left out)."""
    pipelines, connectors = config["service"]["pipelines"], set(config.get("connectors", {}))
    def walk(name: str, seen: list[str]) -> list[list[str]]:
        steps = seen + [p for p in pipelines[name]["processors"] if p != "memory_limiter"]
        nexts = [other for c in pipelines[name]["exporters"] if c in connectors
                 for other, p in pipelines.items() if c in p["receivers"]]
        ends = [steps] if any(e not in connectors for e in pipelines[name]["exporters"]) else []
        return ends + [path for other in nexts for path in walk(other, steps)]
    starts = [n for n, p in pipelines.items() if not set(p["receivers"]) & connectors]
    return [path for n in starts for path in walk(n, [])]


@pytest.mark.parametrize("name", CASES)
def test_no_path_runs_a_processor_twice(name):
    # E.g. normalization both in the fork and again after it: harmless in effect, a second
    # pass of every rename over every span in cost.
    for path in _paths(yaml.load(config_text(name), Loader=yaml.CSafeLoader)):
        assert len(path) == len(set(path)), path


def test_render_is_deterministic():
    s = load_stack_file("Pulumi.prod.yaml")
    assert render_all(s) == render_all(load_stack_file("Pulumi.prod.yaml"))


def test_a_collector_config_too_large_for_a_configmap_is_refused_before_anything_is_deployed():
    from artifacts import CONFIGMAP_LIMIT, ConfigTooLarge, render_all
    from settings import validate
    # Each pattern is in every redaction step's config (traces, logs, metrics): ~1.3 MiB in all.
    patterns = [{"name": f"p{i}", "regex": f"internal-{i:04d}-" + "[a-z0-9]{16}-" * 30 + "x"} for i in range(900)]
    with pytest.raises(ConfigTooLarge, match=r"collector/config.yaml is \d+ KiB.*redaction.extra_patterns"):
        render_all(validate({"target": "docker", "redaction": {"extra_patterns": patterns}}))
    fits = render_all(validate({"target": "docker", "redaction": {"extra_patterns": patterns[:20]}}))
    assert len(fits["collector/config.yaml"].encode()) <= CONFIGMAP_LIMIT


def _sending_queues(config: dict) -> dict[str, dict]:
    """Every sending_queue of every exporter, by where it is."""
    out = {}
    for name, cfg in config["exporters"].items():
        if "sending_queue" in cfg:
            out[name] = cfg["sending_queue"]
        if "sending_queue" in cfg.get("protocol", {}).get("otlp", {}):
            out[f"{name}.protocol.otlp"] = cfg["protocol"]["otlp"]["sending_queue"]
    return out


@pytest.mark.parametrize("tier", collector_config.TIERS)
def test_persistent_queue_puts_every_sending_queue_on_file_storage(tier):
    on = render(validate({**OPT_IN, "collector": {**KUBE["collector"], "persistent_queue": True}}), tier=tier, queue_dir="/q")
    storage = collector_config.QUEUE_STORAGE
    assert on["extensions"][storage]["directory"] == on["extensions"][storage]["compaction"]["directory"] == "/q"
    assert on["extensions"][storage]["create_directory"] is True
    # One bbolt file per exporter queue, together within the budget (the volume's sizeLimit is above it).
    files = sum("sending_queue" in c for c in on["exporters"].values())
    assert files * on["extensions"][storage]["max_size"] <= collector_config.QUEUE_BUDGET_MIB * 1024 * 1024
    assert storage in on["service"]["extensions"]
    queues = _sending_queues(on)
    assert queues, "no exporter with a sending queue"
    for where, queue in queues.items():
        if where == "load_balancing.protocol.otlp":
            # Per-endpoint queues would share one file; the exporter's own queue in front is on disk.
            assert "storage" not in queue and on["exporters"]["load_balancing"]["sending_queue"]["storage"] == storage
        else:
            assert queue["storage"] == storage, where
    assert (tier == "agent") == ("load_balancing" in on["exporters"])
    # Remote write has no sending_queue (its own queue takes no storage): it stays in memory.
    assert "sending_queue" not in on["exporters"]["prometheus_remote_write"]
    off = render(validate(OPT_IN), tier=tier)
    assert storage not in off["extensions"] and storage not in off["service"]["extensions"]
    assert all("storage" not in queue for queue in _sending_queues(off).values())
    assert "sending_queue" not in off["exporters"].get("load_balancing", {})


def test_persistent_queue_directory_is_the_collectors_data_volume():
    from backends.services import collectors
    settings = validate({**KUBE, "collector": {**KUBE["collector"], "persistent_queue": True}})
    rendered = render_all(settings)
    for svc in collectors(settings, rendered):
        config = yaml.safe_load(rendered[svc.config_files[0]])
        assert svc.data_dir == collector_config.QUEUE_DIR == config["extensions"][collector_config.QUEUE_STORAGE]["directory"]
    plain = validate({**KUBE})
    assert all(svc.data_dir is None for svc in collectors(plain, render_all(plain)))


@pytest.mark.parametrize("mib", [256, 1024, 3000])
def test_memory_limiter_and_go_runtime_limit_follow_the_container_memory(mib):
    settings = validate({"target": "docker", "collector": {"memory_limit_mib": mib}})
    limiter = render(settings)["processors"]["memory_limiter"]
    # A limit of its own, not a percentage of what the runtime reports (none on up-local).
    assert limiter == {"check_interval": "1s", "limit_mib": mib * 80 // 100, "spike_limit_mib": mib * 20 // 100}
    assert collector_config.runtime_env(settings) == {"GOMEMLIMIT": f"{mib * 80 // 100}MiB"}
    from backends.services import collectors
    for svc in collectors(settings, render_all(settings)):
        assert dict(svc.env)["GOMEMLIMIT"] == f"{limiter['limit_mib']}MiB"
        assert svc.memory_limit == f"{mib}Mi"


# The derived metrics' flush interval: 15 s unless set; 1 and 60 accepted, 0 and 61 refused by name.
@pytest.mark.parametrize("flush,rendered", [(None, "15s"), (1, "1s"), (60, "60s")])
def test_metrics_flush_interval_is_rendered(flush, rendered):
    config = {**KUBE, "collector": {**KUBE.get("collector", {}), **({"metrics_flush_s": flush} if flush else {})}}
    for tier in ("single", "sampler"):
        assert render(validate(config), tier=tier)["connectors"]["llmmetrics"]["flush_interval"] == rendered


@pytest.mark.parametrize("flush", [0, 61])
def test_metrics_flush_interval_out_of_bounds_is_refused(flush):
    from settings import SettingsError
    with pytest.raises(SettingsError, match="collector.metrics_flush_s"):
        validate({**KUBE, "collector": {**KUBE.get("collector", {}), "metrics_flush_s": flush}})


def test_forks_copy_only_where_a_branch_must_batch():
    """A forward connector copies every item for a branch that mutates (batch declares so). Logs
    are batched before their fork; the derived metrics need none (the connector flushes per
    interval); only the sampled traces batch after the fork (tail sampling releases a trace at
    a time)."""
    pipes = render(validate(KUBE))["service"]["pipelines"]
    assert pipes["logs/in"]["processors"][-1] == "batch"
    assert pipes["logs/export"]["processors"] == ["memory_limiter"]
    assert pipes["logs/derive"]["processors"] == ["memory_limiter"]
    assert "batch" not in pipes["metrics/derived"]["processors"]
    assert pipes["traces/sampled"]["processors"] == ["memory_limiter", "tail_sampling", "batch"]


def test_tail_sampling_policies_are_native():
    """Errors, slow, safety-blocked, denied-tool and LLM traces by native policies (no OTTL); the
    LLM operations are the GenAI conventions' four, listed here by hand."""
    policies = {p["name"]: p for p in render(validate(KUBE))["processors"]["tail_sampling"]["policies"]}
    assert not [p for p in policies.values() if p["type"] == "ottl_condition"]
    assert policies["safety-blocks"]["boolean_attribute"] == {"key": "llmobs.safety.blocked", "value": True}
    assert policies["denied-tools"]["string_attribute"] == {"key": "llmobs.tool.outcome", "values": ["denied"]}
    llm = policies["llm"]
    assert llm["type"] == "string_attribute"
    assert llm["string_attribute"]["key"] == "gen_ai.operation.name"
    assert sorted(llm["string_attribute"]["values"]) == ["chat", "embeddings", "generate_content", "text_completion"]


def test_libyaml_dump_is_the_pure_python_text():
    """Rendering uses libyaml's dumper for speed; its text must be what yaml.safe_dump writes."""
    for stack in ("Pulumi.dev.yaml", "Pulumi.prod.yaml"):
        settings = load_stack_file(stack)
        for tier in collector_config.TIERS:
            assert render_yaml(settings, tier=tier).split("\n", 1)[1] == yaml.safe_dump(
                render(settings, tier=tier), sort_keys=False, width=1000), (stack, tier)
        checked = 0
        for path, text in render_all(settings).items():
            if path.endswith((".yaml", ".yml")) and text.startswith("#"):
                data = yaml.safe_load(text)
                assert text.split("\n", 1)[1].endswith(yaml.safe_dump(data, sort_keys=False, width=1000)), path
                checked += 1
        assert checked > 3, stack


def test_the_gateway_listens_on_the_otlp_ports_sdks_default_to():
    """By hand: OTLP gRPC 4317 and HTTP 4318 (the SDKs' defaults, what apps are told to send to),
    health 13133 and telemetry 8888 (the collector's own), Grafana's traces for the audit on 4319.
    Five different ports: one process binds them all when debug is on."""
    from collector_config import Listen
    listen = Listen()
    ports = (listen.grpc_port, listen.http_port, listen.health_port, listen.telemetry_port, listen.audit_port)
    assert (listen.host, *ports) == ("0.0.0.0", 4317, 4318, 13133, 8888, 4319)
    text = _render({**KUBE, "debug": {"enabled": True, "tenants": ["acme"]}})
    endpoints = {v["endpoint"] for r in yaml.safe_load(text)["receivers"].values()
                 for v in (r.get("protocols") or {"": r}).values() if isinstance(v, dict) and "endpoint" in v}
    assert {"0.0.0.0:4317", "0.0.0.0:4318", "0.0.0.0:4319"} <= endpoints


def test_forwarding_exporters_by_hand():
    """gRPC forwarders say whether TLS is off (`insecure`); HTTP ones take it from the URL's scheme.
    A token goes through the forwarder's own authenticator; headers are sent as given."""
    from collector_config import forwarding
    settings = validate({**KUBE, "forwarding": [
        {"name": "phoenix", "protocol": "grpc", "endpoint": "phoenix:4317", "insecure": True},
        {"name": "vendor", "protocol": "grpc", "endpoint": "otlp.vendor.example:443", "auth": "bearer"},
        {"name": "langfuse", "endpoint": "https://cloud.langfuse.com/api/public/otel", "auth": "basic",
         "headers": {"X-Project": "p1"}}]})
    got = {forwarding.exporter_name(f): {k: v for k, v in forwarding.exporter(f).items()
                                         if k not in ("sending_queue", "retry_on_failure")}
           for f in settings.forwarding}
    assert got == {
        "otlp_grpc/forward_phoenix": {"endpoint": "phoenix:4317", "tls": {"insecure": True}},
        "otlp_grpc/forward_vendor": {"endpoint": "otlp.vendor.example:443", "tls": {"insecure": False},
                                     "auth": {"authenticator": "bearertokenauth/forward_vendor"}},
        "otlp_http/forward_langfuse": {"endpoint": "https://cloud.langfuse.com/api/public/otel",
                                       "headers": {"X-Project": "p1"},
                                       "auth": {"authenticator": "bearertokenauth/forward_langfuse"}}}


def test_the_image_builds_with_the_builder_the_manifest_names():
    """The Dockerfile's builder (versions.yaml `ocb`) is the release the manifest's dist.version names,
    which scripts/build-collector.sh installs for local builds; the Go image is the pinned one."""
    from collector_config import image
    manifest = yaml.safe_load((image.DISTRIBUTION / "manifest.yaml").read_text())
    args = image.build_args()
    assert set(args) == {"GO_IMAGE", "OCB_VERSION"}
    assert args["OCB_VERSION"] == "v" + manifest["dist"]["version"]
    assert re.fullmatch(r"golang:\d+\.\d+\.\d+-bookworm", args["GO_IMAGE"])
    dockerfile = (image.DISTRIBUTION / "Dockerfile").read_text()
    assert f"ARG GO_IMAGE={args['GO_IMAGE']}\n" in dockerfile and f"ARG OCB_VERSION={args['OCB_VERSION']}\n" in dockerfile


def test_the_binary_key_command_prints_the_binary_key():
    """scripts/build-collector.sh caches the local binary under `--binary-key`; the image's tag is the
    other answer. Mixing them up rebuilds the collector on every run."""
    import subprocess
    import sys
    from collector_config import image

    def run(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "collector_config.image", *args], capture_output=True, text=True,
                              check=True, cwd=image.DISTRIBUTION.parent.parent).stdout.strip()
    assert run("--binary-key") == image.binary_key()
    assert run() == image.content_tag() and image.content_tag().startswith("src-")
    assert image.binary_key() != image.content_tag()


def test_which_tier_reads_the_content_hash_key():
    """hmac hashes need the key where content is redacted: the one gateway (up-local and Docker ask
    without naming a tier) or the agent tier, never the sampler; sha256 needs none."""
    hmac_, sha = validate(KUBE), validate({**KUBE, "content": {"hash": "sha256"}})
    assert [collector_config.needs_content_key(hmac_, *t) for t in ((), ("single",), ("agent",), ("sampler",))] == [
        True, True, True, False]
    assert not collector_config.needs_content_key(sha) and not collector_config.needs_content_key(sha, "agent")


def test_histogram_buckets_by_hand():
    """The `le` boundaries every latency, time-to-first-token, document-count, score and utilization
    histogram is cut at: the alerts' quantiles and thresholds (e.g. a 2 s p95) are read between them."""
    from collector_config import metrics
    assert metrics.LATENCY_BUCKETS == [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120]
    assert metrics.TTFT_BUCKETS == [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15]
    assert metrics.DOC_BUCKETS == [0, 1, 2, 3, 5, 8, 10, 20, 50]
    assert metrics.SCORE_BUCKETS == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert metrics.UTILIZATION_BUCKETS == [0.1, 0.25, 0.5, 0.75, 0.8, 0.9, 0.95, 1.0]
