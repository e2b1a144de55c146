"""loki/loki.yaml: single binary, OTLP in at /otlp, retention by the compactor.

auth_enabled is false: the gateway is the only writer and a NetworkPolicy
(Kubernetes) or the private network (Docker) keeps everyone else out. With the debug
sample store on (debug.enabled) Loki is multi-tenant: ordinary logs keep the tenant id
`fake` (what single-tenant Loki stored them under), debug samples have their own tenant,
whose retention is retention.debug_logs (runtime overrides). X-Scope-OrgID is not
authentication: the same NetworkPolicy is what keeps anyone but the gateway and Grafana
from naming a tenant.
"""
from __future__ import annotations

from backends import storage
from backends.common import hours, to_yaml
from settings import Settings

DATA_DIR = "/loki"
HTTP_PORT = 3100
GRPC_PORT = 9095
# Raw debug samples carry this resource attribute; Loki indexes it as the
# stream label `llmobs_debug`, which the shorter per-stream retention selects.
DEBUG_ATTRIBUTE = "llmobs.debug"
DEBUG_SELECTOR = '{llmobs_debug="true"}'
SCHEMA_FROM = "2025-01-01"   # fixed: changing it would orphan stored index
RUNTIME_FILE = "/etc/llmobs/loki/runtime.yaml"
NORMAL_TENANT = "fake"   # = collector_config.debug.NORMAL_TENANT


def object_store(settings: Settings) -> tuple[str, dict]:
    """(object_store name for schema_config, common.storage block)."""
    store = settings.storage.loki
    if store.type == "local":
        return "filesystem", {"filesystem": {"chunks_directory": f"{DATA_DIR}/chunks",
                                             "rules_directory": f"{DATA_DIR}/rules"}}
    if store.type == "s3":
        block = {"bucketnames": store.bucket, "endpoint": storage.s3_endpoint(store)}
        if store.region:
            block["region"] = store.region
        return "s3", {"s3": block}
    if store.type == "gcs":
        return "gcs", {"gcs": {"bucket_name": store.bucket}}
    account, suffix = storage.azure_account(store, "llmobs:storage.loki")
    return "azure", {"azure": {"container_name": store.bucket, "account_name": account,
                               "endpoint_suffix": suffix, "use_federated_token": True}}


def config(settings: Settings) -> dict:
    store_name, store_block = object_store(settings)
    return {
        "target": "all",
        "auth_enabled": False,
        "server": {"http_listen_port": HTTP_PORT, "grpc_listen_port": GRPC_PORT, "log_level": "info"},
        "common": {
            "instance_addr": "127.0.0.1",
            "path_prefix": DATA_DIR,
            "replication_factor": 1,
            "ring": {"kvstore": {"store": "inmemory"}},
            "storage": store_block,
        },
        "schema_config": {"configs": [{"from": SCHEMA_FROM, "store": "tsdb", "object_store": store_name,
                                       "schema": "v13", "index": {"prefix": "index_", "period": "24h"}}]},
        "limits_config": {
            "allow_structured_metadata": True,  # OTLP attributes land here
            "retention_period": hours(settings.retention.logs),
            "retention_stream": [{"selector": DEBUG_SELECTOR, "priority": 1,
                                  "period": hours(settings.retention.debug_logs)}],
            "otlp_config": {"resource_attributes": {"attributes_config": [
                {"action": "index_label", "attributes": [DEBUG_ATTRIBUTE]}]}},
        },
        "compactor": {
            "working_directory": f"{DATA_DIR}/compactor",
            "retention_enabled": True,
            "delete_request_store": store_name,
        },
        "analytics": {"reporting_enabled": False},
    } | (_multi_tenant() if settings.debug.enabled else {})


def _multi_tenant() -> dict:
    return {"auth_enabled": True, "runtime_config": {"file": RUNTIME_FILE, "period": "1m"}}


def runtime_overrides(settings: Settings) -> dict:
    """Per-tenant limits: the debug tenant keeps its records retention.debug_logs."""
    return {"overrides": {settings.debug.loki_tenant: {"retention_period": hours(settings.retention.debug_logs)}}}


def render(settings: Settings) -> dict[str, str]:
    out = {"loki/loki.yaml": to_yaml(config(settings))}
    if settings.debug.enabled:
        out["loki/runtime.yaml"] = to_yaml(runtime_overrides(settings))
    return out
