"""jaeger/config.yaml: Jaeger v2, a collector-based binary.

On Kubernetes it keeps traces in Badger on a PersistentVolumeClaim, with the traces
retention as Badger's TTL: a restart keeps what was stored, and old traces expire.
The docker-local preview keeps them in memory (a laptop's preview, lost on restart).
"""
from __future__ import annotations

from backends.common import CONTAINER, Placement, hours, to_yaml
from settings import Settings

MAX_TRACES = 100_000   # memory backend bound; oldest traces are evicted first
DATA_DIR = "/var/lib/jaeger"
QUERY_PORT = 16686
GRPC_QUERY_PORT = 16685
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
HEALTH_PORT = 13133
METRICS_PORT = 8888
STORE = "memstore"


def persistent(settings: Settings) -> bool:
    return settings.target == "kubernetes"


def storage(settings: Settings, place: Placement = CONTAINER) -> dict:
    if not persistent(settings):
        return {"memory": {"max_traces": MAX_TRACES}}
    data = place.data or DATA_DIR
    return {"badger": {"directories": {"keys": f"{data}/keys", "values": f"{data}/values"},
                       "ephemeral": False, "ttl": {"spans": hours(settings.retention.traces)}}}


def config(settings: Settings, place: Placement = CONTAINER) -> dict:
    listen = place.listen
    return {
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query", "healthcheckv2"],
            "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["batch"],
                                     "exporters": ["jaeger_storage_exporter"]}},
            "telemetry": {
                "resource": {"service.name": "jaeger"},
                "metrics": {"level": "detailed", "readers": [{"pull": {"exporter": {"prometheus": {
                    "host": place.host, "port": place.port(METRICS_PORT)}}}}]},
                "logs": {"level": "info"},
            },
        },
        "extensions": {
            "jaeger_storage": {"backends": {STORE: storage(settings, place)}},
            "jaeger_query": {"storage": {"traces": STORE},
                             "http": {"endpoint": listen(QUERY_PORT)},
                             "grpc": {"endpoint": listen(GRPC_QUERY_PORT)}},
            "healthcheckv2": {"use_v2": True, "http": {"endpoint": listen(HEALTH_PORT),
                                                       "status": {"enabled": True, "path": "/status"}}},
        },
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": listen(OTLP_GRPC_PORT)},
                                             "http": {"endpoint": listen(OTLP_HTTP_PORT)}}}},
        "processors": {"batch": {}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": STORE}},
    }


def render(settings: Settings, place: Placement = CONTAINER) -> dict[str, str]:
    return {"jaeger/config.yaml": to_yaml(config(settings, place))}
