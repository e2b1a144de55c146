"""tempo/tempo.yaml: single binary, OTLP gRPC in, metrics-generator off."""
from __future__ import annotations

from backends import storage
from backends.common import hours, to_yaml
from settings import Settings

DATA_DIR = "/var/tempo"
HTTP_PORT = 3200
GRPC_PORT = 9095
OTLP_GRPC_PORT = 4317


def trace_storage(settings: Settings) -> dict:
    store = settings.storage.tempo
    out: dict = {"backend": store.type, "wal": {"path": f"{DATA_DIR}/wal"}}
    if store.type == "local":
        out["local"] = {"path": f"{DATA_DIR}/blocks"}
    elif store.type == "s3":
        out["s3"] = {"bucket": store.bucket, "endpoint": storage.s3_endpoint(store),
                     **({"region": store.region} if store.region else {})}
    elif store.type == "gcs":
        out["gcs"] = {"bucket_name": store.bucket}
    elif store.type == "azure":
        account, suffix = storage.azure_account(store, "llmobs:storage.tempo")
        out["azure"] = {"container_name": store.bucket, "storage_account_name": account,
                        "endpoint_suffix": suffix, "use_federated_token": True}
    return out


def config(settings: Settings) -> dict:
    return {
        "target": "all",
        "stream_over_http_enabled": True,  # Grafana's streaming search
        "server": {"http_listen_port": HTTP_PORT, "grpc_listen_port": GRPC_PORT, "log_level": "info"},
        "distributor": {"receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"0.0.0.0:{OTLP_GRPC_PORT}"}}}}},
        "compactor": {"compaction": {"block_retention": hours(settings.retention.traces)}},
        "storage": {"trace": trace_storage(settings)},
        # No metrics-generator: span metrics come from the gateway, before sampling.
        "overrides": {"defaults": {"metrics_generator": {"processors": []}}},
        "usage_report": {"reporting_enabled": False},
    }


def render(settings: Settings) -> dict[str, str]:
    return {"tempo/tempo.yaml": to_yaml(config(settings))}
