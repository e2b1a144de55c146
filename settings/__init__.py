"""Stack configuration: schema, validation, typed Settings, price table, versions."""
from settings.load import SettingsError, load_stack_file, validate  # noqa: F401
from settings.model import Settings  # noqa: F401

# The stack generated reference files (dashboards/generated, runbooks/) are rendered from: a
# Kubernetes stack with the schema's defaults. Its gateway image is a placeholder by digest: no
# reference file depends on it.
REFERENCE_CONFIG = {"target": "kubernetes", "collector": {"image": {
    "repository": "ghcr.io/llm-observability-stack/otelcol-llmobs", "digest": "sha256:" + "0" * 64}}}
