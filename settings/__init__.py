"""Stack configuration: schema, validation, typed Settings, price table, versions."""
from settings.load import SettingsError, load_stack_file, validate  # noqa: F401
from settings.model import Settings  # noqa: F401

# The stack generated reference files (dashboards/generated, alerts/generated, runbooks/) are
# rendered from: a Kubernetes stack with the schema's defaults, plus the opt-in parts that bring
# a dashboard and an alert of their own (the debug store: its access audit), so that those are
# generated, linted and diffed too. Its gateway image is a placeholder by digest and its debug
# tenants a placeholder: no reference file depends on them.
REFERENCE_CONFIG = {"target": "kubernetes", "collector": {"image": {
    "repository": "ghcr.io/llm-observability-stack/otelcol-llmobs", "digest": "sha256:" + "0" * 64}},
    "debug": {"enabled": True, "tenants": ["*"]}}
