"""Alert rules as typed Python (alerts.llm), rendered for Prometheus; runbooks from the same definitions."""
from __future__ import annotations

import dataclasses

from alerts import audit, calls, families, grafana, llm, pipeline, quality, selfmon, slo
from alerts.model import Alert, Group
from alerts.prometheus import render_rules
from alerts.runbooks import render_runbook
from backends import timing
from settings import Settings

RULES_FILE = "prometheus/rules/llm.alerts.yml"


def groups(settings: Settings) -> list[Group]:
    defined = (llm.alerts(settings) + slo.alerts(settings) + calls.alerts(settings) + quality.alerts(settings)
               + pipeline.alerts(settings) + selfmon.alerts(settings) + audit.alerts(settings))
    return [_retimed(g, settings) for g in defined]


def _retimed(group: Group, settings: Settings) -> Group:
    """The settings' timing (identity by default) and each alert's owning team (its family's, from
    settings.alerts.teams) on every rule, once, for both renderers."""
    t = settings.alerts.timing
    rules = tuple(dataclasses.replace(a, expr=timing.expr(a.expr, t), for_=timing.pending(a.for_, t),
                                      keep_firing_for=timing.pending(a.keep_firing_for, t),
                                      team=families.team(settings, a.name)) for a in group.alerts)
    return dataclasses.replace(group, interval=timing.interval(group.interval, t), alerts=rules)


def all_alerts(settings: Settings) -> list[Alert]:
    return [a for g in groups(settings) for a in g.alerts]


def render(settings: Settings) -> dict[str, str]:
    """The active engine's file only: both engines evaluating the same rules would page twice."""
    if settings.alerts.engine == "grafana":
        return {grafana.PROVISIONING_FILE: grafana.render(groups(settings), settings)}
    return {RULES_FILE: render_rules(groups(settings), settings.alerts.runbook_base_url, settings.alerts.grafana_url)}


__all__ = ["Alert", "Group", "groups", "all_alerts", "render", "render_runbook", "RULES_FILE"]
