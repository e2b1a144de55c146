"""Stack configs tests start from. A Kubernetes stack names the gateway's image (the project's
distribution, by digest): without it validation refuses the stack."""
from __future__ import annotations

IMAGE = {"repository": "ghcr.io/llm-observability-stack/otelcol-llmobs", "tag": "0.161.0-1",
         "digest": "sha256:" + "5e" * 32}
KUBE = {"target": "kubernetes", "collector": {"image": IMAGE}}


def with_backends(base: dict, alerts: dict | None = None, **backends) -> dict:
    """`base` with these backends.<signal> settings (and alerts.* keys) merged in, `base` untouched."""
    import copy
    out = copy.deepcopy(base)
    out["backends"] = {**out.get("backends", {}), **backends}
    if alerts is not None:
        out["alerts"] = {**out.get("alerts", {}), **alerts}
    return out


def drop_none(value):
    """A config with its None values left out (tests write `None` for "not set")."""
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    return value
