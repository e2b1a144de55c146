"""Every artifact the stack runs on, as {relative path: text}: the pure core's one entry point.
Both Pulumi targets place exactly these texts; `stackctl render` writes them to disk."""
from __future__ import annotations

import alerts
import backends
import dashboards
import collector_config
from settings import Settings


def render_all(settings: Settings) -> dict[str, str]:
    if settings.two_tier:
        out = {f"collector/{tier}.yaml": collector_config.render_yaml(settings, tier=tier) for tier in ("agent", "sampler")}
    else:
        out = {"collector/config.yaml": collector_config.render_yaml(settings)}
    out.update(backends.render(settings))
    out.update(alerts.render(settings))
    out.update(dashboards.render(settings))
    return dict(sorted(out.items()))
