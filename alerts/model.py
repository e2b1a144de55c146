"""Typed alert definitions: one `Alert` per rule, with its runbook and its unit-test examples."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

SEVERITIES = ("critical", "warning", "info")
NAME = re.compile(r"^Llm[A-Z][A-Za-z0-9]{2,36}$")   # mixin convention: PascalCase, Llm prefix, <= 40 chars
RUNBOOKS = "runbooks"


@dataclass(frozen=True)
class Example:
    """Input series for `promtool test rules` and whether the alert must fire on them.
    Series values use promtool's expanding notation, one sample per minute."""
    note: str
    series: dict[str, str]
    fires: bool
    labels: dict[str, str] = field(default_factory=dict)   # labels the firing alert carries (besides its own)
    description: str = ""                                   # the rendered description when it fires
    onset: int = 1            # minute from which the condition holds (the test checks both sides of `for`)
    settle: int = 0           # extra minutes before checking the firing alert, so its value is steady


@dataclass(frozen=True)
class Runbook:
    meaning: str
    impact: str                       # who or what suffers while it fires
    checks: tuple[str, str, str]      # the first three things to look at
    mitigations: tuple[str, ...]
    escalation: str = ""              # instead of the severity's (alerts/runbooks.py ESCALATION), where that does not fit


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str                         # Prometheus duration, e.g. "10m"
    severity: str
    summary: str                      # static, one sentence ending in a period
    description: str                  # templated with the values that matter
    runbook: Runbook
    examples: tuple[Example, ...]
    team: str = "llm-platform"
    keep_firing_for: str = ""         # where flapping is likely
    metrics: tuple[str, ...] = ()     # Prometheus series names the expression reads (linted)

    @property
    def runbook_path(self) -> str:
        return f"{RUNBOOKS}/{self.name}.md"

    def labels(self) -> dict[str, str]:
        return {"severity": self.severity, "team": self.team}

    def annotations(self, runbook_base: str, grafana_url: str = "") -> dict[str, str]:
        """Absolute links from the settings' base URLs (relative to Grafana's root when `grafana_url`
        is empty, as Grafana links its own alerts)."""
        from alerts import links   # dashboards -> settings; imported late to keep this module plain
        return {"summary": self.summary, "description": self.description,
                "runbook_url": links.runbook_url(self.name, runbook_base, grafana_url),
                "dashboard_url": links.url(self.name, grafana_url)}


@dataclass(frozen=True)
class Group:
    name: str
    interval: str
    alerts: tuple[Alert, ...]
