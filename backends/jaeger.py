"""jaeger/config.yaml: Jaeger v2, a collector-based binary, with in-memory storage."""
from __future__ import annotations

from backends.common import to_yaml
from settings import Settings

MAX_TRACES = 100_000   # memory backend bound; oldest traces are evicted first
QUERY_PORT = 16686
HEALTH_PORT = 13133
METRICS_PORT = 8888
STORE = "memstore"


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
            "jaeger_storage": {"backends": {STORE: {"memory": {"max_traces": MAX_TRACES}}}},
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
