"""Configs of the backends (Prometheus, Alertmanager, Tempo or Jaeger, Loki, Grafana)
as {relative path: text}, pure functions of Settings; and `services`, the
target-neutral description of every container the stack runs."""
from __future__ import annotations

from backends import alertmanager, debug_access, grafana, jaeger, loki, prometheus, rules, tempo
from settings import Settings


def render(settings: Settings) -> dict[str, str]:
    """An external backend's config is not rendered (it runs its own), except the rules: they are
    the stack's to give, as PrometheusRule objects or files for the team to load."""
    b = settings.backends
    traces = tempo if settings.traces.backend == "tempo" else jaeger
    modules = [(prometheus, "metrics"), (rules, None), (alertmanager, "alerting"), (traces, "traces"),
               (loki, "logs"), (grafana, "dashboards"), (debug_access, "dashboards")]
    out: dict[str, str] = {}
    for module, backend in modules:
        if backend is None or b.bundled(backend):
            out.update(module.render(settings))
    return out
