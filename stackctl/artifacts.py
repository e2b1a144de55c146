"""Every artifact the stack runs on, as {relative path: text}. Both Pulumi targets
place exactly these texts; `stackctl render` writes them to disk."""
from __future__ import annotations

import backends
import collector_config
from settings import Settings


def render_all(settings: Settings) -> dict[str, str]:
    out = {"collector/config.yaml": collector_config.render_yaml(settings)}
    if settings.target == "kubernetes" and settings.kubernetes.two_tier.enabled:
        out["collector/agent.yaml"] = collector_config.render_yaml(settings, tier="agent")
        out["collector/sampler.yaml"] = collector_config.render_yaml(settings, tier="sampler")
    out.update(backends.render(settings))
    return dict(sorted(out.items()))
