"""Configs of the backends (Prometheus, Alertmanager, Tempo or Jaeger, Loki, Grafana)
as {relative path: text}, pure functions of Settings; and `services`, the
target-neutral description of every container the stack runs."""
from __future__ import annotations

from backends import alertmanager, debug_access, grafana, jaeger, loki, prometheus, rules, tempo
from settings import Settings


def render(settings: Settings) -> dict[str, str]:
    traces = tempo if settings.traces.backend == "tempo" else jaeger
    out: dict[str, str] = {}
    for module in (prometheus, rules, alertmanager, traces, loki, grafana, debug_access):
        out.update(module.render(settings))
    return out
