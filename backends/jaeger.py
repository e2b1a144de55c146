"""jaeger/config.yaml: Jaeger v2, a collector-based binary.

On Kubernetes it keeps traces in Badger on a PersistentVolumeClaim, with the traces
retention as Badger's TTL: a restart keeps what was stored, and old traces expire.
The docker-local preview keeps them in memory (a laptop's preview, lost on restart).
"""
from __future__ import annotations

from backends.common import hours, to_yaml
from settings import Settings

MAX_TRACES = 100_000   # memory backend bound; oldest traces are evicted first
DATA_DIR = "/var/lib/jaeger"
QUERY_PORT = 16686
HEALTH_PORT = 13133
METRICS_PORT = 8888
STORE = "memstore"


def persistent(settings: Settings) -> bool:
    return settings.target == "kubernetes"


def storage(settings: Settings) -> dict:
    if not persistent(settings):
        return {"memory": {"max_traces": MAX_TRACES}}
    return {"badger": {"directories": {"keys": f"{DATA_DIR}/keys", "values": f"{DATA_DIR}/values"},
                       "ephemeral": False, "ttl": {"spans": hours(settings.retention.traces)}}}


def config(settings: Settings) -> dict:
    return {
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query", "healthcheckv2"],
            "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["batch"],
                                     "exporters": ["jaeger_storage_exporter"]}},
            "telemetry": {
                "resource": {"service.name": "jaeger"},
                "metrics": {"level": "detailed", "readers": [{"pull": {"exporter": {"prometheus": {
                    "host": "0.0.0.0", "port": METRICS_PORT}}}}]},
                "logs": {"level": "info"},
            },
        },
        "extensions": {
            "jaeger_storage": {"backends": {STORE: storage(settings)}},
            "jaeger_query": {"storage": {"traces": STORE},
                             "http": {"endpoint": f"0.0.0.0:{QUERY_PORT}"},
                             "grpc": {"endpoint": "0.0.0.0:16685"}},
            "healthcheckv2": {"use_v2": True, "http": {"endpoint": f"0.0.0.0:{HEALTH_PORT}",
                                                       "status": {"enabled": True, "path": "/status"}}},
        },
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"},
                                             "http": {"endpoint": "0.0.0.0:4318"}}}},
        "processors": {"batch": {}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": STORE}},
    }


def render(settings: Settings) -> dict[str, str]:
    return {"jaeger/config.yaml": to_yaml(config(settings))}
