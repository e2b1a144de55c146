"""Exporters to the backends, each with a sending queue and retry."""
from __future__ import annotations

from settings import Settings

SAMPLER_SERVICE = "otel-sampler"  # headless Service of the sampler tier (two-tier mode)
RETRY = {"enabled": True, "initial_interval": "1s", "max_interval": "30s", "max_elapsed_time": "300s"}


def endpoints(settings: Settings) -> dict[str, str]:
    """The schema's defaults are the stack's own services: the same names resolve on both targets
    (Kubernetes Services in the namespace, Docker network aliases). An unset traces endpoint is the
    stack's own traces backend, whose name is a setting of its own (traces.backend)."""
    e = settings.endpoints
    return {"metrics": e.metrics, "traces": e.traces or f"{settings.traces.backend}:4317", "logs": e.logs}


QUEUE_SIZE = 5000   # batches (requests) per exporter; a batch holds up to 8192 spans or records


def exporters(settings: Settings, tier: str, pipelines: dict, logs_file: str | None = None) -> dict:
    ep = endpoints(settings)
    queue = {"enabled": True, "num_consumers": 4, "queue_size": QUEUE_SIZE}
    out = {
        "prometheus_remote_write": {
            "endpoint": ep["metrics"],
            "remote_write_queue": {"enabled": True, "queue_size": 10000, "num_consumers": 4},
            "retry_on_failure": RETRY,
            "target_info": {"enabled": False},
        },
        "otlp_grpc/traces": {"endpoint": ep["traces"], "tls": {"insecure": True},
                             "sending_queue": queue, "retry_on_failure": RETRY},
        "otlp_http/logs": {"endpoint": ep["logs"], "sending_queue": queue, "retry_on_failure": RETRY},
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
