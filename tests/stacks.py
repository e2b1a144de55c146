"""Stack configs tests start from. A Kubernetes stack names the gateway's image (the project's
distribution, by digest): without it validation refuses the stack."""
from __future__ import annotations

IMAGE = {"repository": "ghcr.io/llm-observability-stack/otelcol-llmobs", "tag": "0.161.0-1",
         "digest": "sha256:" + "5e" * 32}
KUBE = {"target": "kubernetes", "collector": {"image": IMAGE}}
