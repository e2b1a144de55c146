"""The Pulumi program: read config -> validate -> build the target's stack -> export.

Secrets (`pulumi config set --secret ...`) are read with get_secret and stay secret;
every other llmobs:* key is validated into Settings before any resource exists.
"""
from __future__ import annotations

from typing import Any

import pulumi

from components.args import StackArgs
from settings import SettingsError, validate
from settings.load import SECRET_KEYS, runtime_settings

# Stack outputs, when the target's stack component has them.
OUTPUTS = ("namespace", "otlp_grpc_endpoint", "otlp_http_endpoint", "grafana_url", "grafana_admin_user",
           "prometheus_url", "traces_url")
SECRET_OUTPUTS = ("grafana_admin_password", "ingest_token")


def _config() -> dict[str, Any]:
    """Every llmobs:* key but the secrets, prefix removed, JSON objects parsed; a secret key
    set without --secret is refused, as in a stack file."""
    raw = {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    return runtime_settings(raw, {key for key in raw if pulumi.runtime.config.is_config_secret(key)})


def main() -> None:
    try:
        config = _config()
        settings = validate(config)
    except SettingsError as exc:
        raise pulumi.RunError(str(exc)) from None
    cfg = pulumi.Config("llmobs")
    args: StackArgs = {"config": config}
    for key in SECRET_KEYS:
        value = cfg.get_secret(key)
        if value is not None:
            args[key] = value  # type: ignore[literal-required]
    try:
        if settings.target == "kubernetes":
            from components.kubernetes import KubernetesStack
            stack: pulumi.ComponentResource = KubernetesStack("llmobs", args)
        else:
            from components.docker import DockerStack
            stack = DockerStack("llmobs", args)
    except SettingsError as exc:
        raise pulumi.RunError(str(exc)) from None
    for key in OUTPUTS:
        if getattr(stack, key, None) is not None:
            pulumi.export(key, getattr(stack, key))
    for key in SECRET_OUTPUTS:
        if getattr(stack, key, None) is not None:
            pulumi.export(key, pulumi.Output.secret(getattr(stack, key)))


main()
