"""Prometheus alerting rule file from the typed definitions."""
from __future__ import annotations

from alerts.model import Alert, Group
from backends.common import to_yaml


def rule(alert: Alert, runbook_base: str, grafana_url: str = "") -> dict:
    out = {"alert": alert.name, "expr": alert.expr, "for": alert.for_}
    if alert.keep_firing_for:
        out["keep_firing_for"] = alert.keep_firing_for
    out["labels"] = alert.labels()
    out["annotations"] = alert.annotations(runbook_base, grafana_url)
    return out


def render_rules(groups: list[Group], runbook_base: str, grafana_url: str = "") -> str:
    return to_yaml({"groups": [{"name": g.name, "interval": g.interval,
                                "rules": [rule(a, runbook_base, grafana_url) for a in g.alerts]} for g in groups]})
