"""Exporters to the backends, each with a sending queue and retry."""
from __future__ import annotations

from settings import Settings

SAMPLER_SERVICE = "otel-sampler"  # headless Service of the sampler tier (two-tier mode)
RETRY = {"enabled": True, "initial_interval": "1s", "max_interval": "30s", "max_elapsed_time": "300s"}


SECRETS_DIR = "/etc/llmobs/secrets"
SCHEMES = {"bearer": "Bearer", "basic": "Basic", "raw": ""}
SIGNALS = ("metrics", "traces", "logs")


def endpoints(settings: Settings) -> dict[str, str]:
    """The schema's defaults are the stack's own services: the same names resolve on both targets
    (Kubernetes Services in the namespace, Docker network aliases). An unset traces endpoint is the
    stack's own traces backend, whose name is a setting of its own (traces.backend). An external
    backend's endpoint is its own setting (backends.<signal>)."""
    e, b = settings.endpoints, settings.backends
    out = {"metrics": e.metrics, "traces": e.traces or f"{settings.traces.backend}:4317", "logs": e.logs}
    if b.metrics.external:
        out["metrics"] = b.metrics.remote_write_url
    for signal in ("traces", "logs"):
        if getattr(b, signal).external:
            out[signal] = getattr(b, signal).endpoint
    return out


def token_key(signal: str) -> str:
    """The secret (and the file it is mounted as) that authenticates the gateway to an external backend."""
    return f"{signal}_token"


def authenticated(settings: Settings) -> tuple[str, ...]:
    """The signals whose external backend takes a token."""
    return tuple(s for s in SIGNALS if getattr(settings.backends, s).external and getattr(settings.backends, s).auth != "none")


def auth_extensions(settings: Settings, secrets_dir: str = SECRETS_DIR) -> dict:
    """One bearertokenauth per authenticated external backend; its token is a mounted secret file (never
    in the config text; a rotated file is read again without a restart)."""
    out = {}
    for signal in authenticated(settings):
        backend = getattr(settings.backends, signal)
        out[f"bearertokenauth/{signal}"] = {"header": backend.auth_header, "scheme": SCHEMES[backend.auth],
                                            "filename": f"{secrets_dir}/{token_key(signal)}"}
    return out


def traces_exporter(settings: Settings) -> str:
    b = settings.backends.traces
    return "otlp_http/traces" if b.external and b.protocol == "http" else "otlp_grpc/traces"


def _external(settings: Settings, signal: str, cfg: dict) -> dict:
    """An external backend's auth and headers on its exporter."""
    backend = getattr(settings.backends, signal)
    if not backend.external:
        return cfg
    out = dict(cfg)
    if backend.headers:
        out["headers"] = dict(backend.headers)
    if backend.auth != "none":
        out["auth"] = {"authenticator": f"bearertokenauth/{signal}"}
    return out


QUEUE_SIZE = 5000   # batches (requests) per exporter; a batch holds up to 8192 spans or records


def exporters(settings: Settings, tier: str, pipelines: dict, logs_file: str | None = None) -> dict:
    ep = endpoints(settings)
    queue = {"enabled": True, "num_consumers": 4, "queue_size": QUEUE_SIZE}
    traces = settings.backends.traces
    traces_cfg: dict = {"endpoint": ep["traces"], "sending_queue": queue, "retry_on_failure": RETRY}
    if traces_exporter(settings) == "otlp_grpc/traces":
        traces_cfg = {"endpoint": ep["traces"], "tls": {"insecure": traces.insecure if traces.external else True},
                      "sending_queue": queue, "retry_on_failure": RETRY}
    out = {
        "prometheus_remote_write": _external(settings, "metrics", {
            "endpoint": ep["metrics"],
            "remote_write_queue": {"enabled": True, "queue_size": 10000, "num_consumers": 4},
            "retry_on_failure": RETRY,
            "target_info": {"enabled": False},
        }),
        traces_exporter(settings): _external(settings, "traces", traces_cfg),
        "otlp_http/logs": _external(settings, "logs", {"endpoint": ep["logs"], "sending_queue": queue,
                                                       "retry_on_failure": RETRY}),
        "load_balancing": {
            "routing_key": "traceID",
            "protocol": {"otlp": {"tls": {"insecure": True}, "sending_queue": queue, "retry_on_failure": RETRY}},
            "resolver": {"k8s": {"service": f"{SAMPLER_SERVICE}.{settings.namespace}", "ports": [4317]}},
        },
    }
    if logs_file:
        out["file/logs"] = {"path": logs_file, "format": "json", "flush_interval": "200ms"}
    used = {name for p in pipelines.values() for name in p["exporters"]}
    return {name: cfg for name, cfg in out.items() if name in used}


def persist_queues(all_exporters: dict, storage: str) -> dict:
    """Every exporter's sending queue on disk, in `storage` (a storage extension). The
    load-balancing exporter's per-endpoint queues cannot be (they would share one file):
    it gets a persistent queue of its own in front of them. Remote write has no
    sending_queue (its own queue takes no storage): it keeps its queue in memory."""
    out = {}
    for name, cfg in all_exporters.items():
        if name.split("/")[0] == "load_balancing":
            cfg = {**cfg, "sending_queue": cfg["protocol"]["otlp"]["sending_queue"]}
        if "sending_queue" in cfg:
            cfg = {**cfg, "sending_queue": {**cfg["sending_queue"], "storage": storage}}
        out[name] = cfg
    return out
