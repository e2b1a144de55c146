"""Every artifact the stack runs on, as {relative path: text}: the pure core's one entry point.
Both Pulumi targets place exactly these texts; `stackctl render` writes them to disk."""
from __future__ import annotations

import alerts
import backends
import dashboards
import collector_config
from settings import Settings


# Each collector tier's config is one ConfigMap key; the API server refuses objects over 1 MiB.
# Leave room for the object's own metadata.
CONFIGMAP_LIMIT = 1024 * 1024 - 16 * 1024


class ConfigTooLarge(ValueError):
    pass


def check_size(path: str, text: str) -> None:
    size = len(text.encode())
    if size > CONFIGMAP_LIMIT:
        raise ConfigTooLarge(
            f"{path} is {size / 1024:.0f} KiB, over the {CONFIGMAP_LIMIT // 1024} KiB a ConfigMap can hold: "
            "redaction.extra_patterns add statements in every context, and each forwarding content mode other "
            "than content.mode and debug.enabled add a redaction pass (~50-110 KiB); use fewer of them")


def render_all(settings: Settings) -> dict[str, str]:
    if settings.two_tier:
        out = {f"collector/{tier}.yaml": collector_config.render_yaml(settings, tier=tier) for tier in ("agent", "sampler")}
    else:
        out = {"collector/config.yaml": collector_config.render_yaml(settings)}
    for path, text in out.items():
        check_size(path, text)
    out.update(backends.render(settings))
    out.update(alerts.render(settings))
    out.update(dashboards.render(settings))
    return dict(sorted(out.items()))
