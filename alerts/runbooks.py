"""runbooks/<AlertName>.md, one page per alert, from the definition's Runbook."""
from __future__ import annotations

import re
from functools import lru_cache

from alerts.model import Alert

PANEL_REF = re.compile(r"`([a-z]+)/([a-z0-9_]+)`")   # `dashboard slug/panel key` in a runbook's checks
# Warnings about the calls behind the user-visible SLOs (latency, throttling, retries, ...).
WITH_SLO_PAGE = ("Warning: A ticket for the owning team, handled in working hours. If LlmAvailabilityBudgetBurn or "
                 "LlmLatencyBudgetBurn pages for the same environment and service, handle this alert as part of "
                 "that page.")
ESCALATION = {
    "critical": "Pages on-call. Not mitigated within 30 minutes, or users affected beyond one feature: page the "
                "owning team's secondary and open an incident.",
    "warning": "A ticket for the owning team, handled in working hours.",
    "info": "No action out of hours; the owning team reviews it at its weekly triage.",
}


@lru_cache(maxsize=None)
def _titles(slug: str) -> dict[int, str]:
    from dashboards import REGISTRY   # dashboards -> alerts (the runbooks dashboard); imported late
    from dashboards.review import reference_settings
    entry = next(e for e in REGISTRY if e.slug == slug)
    board = entry.build(reference_settings())
    return {panel.id: panel.title for panel in board.panels}


def panel_refs(text: str) -> list[tuple[str, str]]:
    return PANEL_REF.findall(text)


def _panel_line(slug: str, key: str) -> str:
    from dashboards.helpers import panel_id
    title = _titles(slug).get(panel_id(slug, key))
    if title is None:
        raise KeyError(f"runbook names panel `{slug}/{key}`, which does not exist")
    return f"- `{slug}/{key}`: {title}"


def render_runbook(alert: Alert, *twins: Alert) -> str:
    """One page per alert name: `twins` are the same alert at other severities (an SLO's page and
    ticket share a name so that the critical one inhibits the warning)."""
    rules = (alert, *twins)
    rb = alert.runbook
    severity = ", ".join(f"{a.severity} (fires after {a.for_})" for a in rules)
    lines = [f"# {alert.name}", "", f"**Severity:** {severity} · **Team:** {alert.team}", "", f"> {alert.summary}", "",
             "## What it means", "", rb.meaning, "", "## Impact", "", rb.impact, "", "## First three checks", ""]
    lines += [f"{i}. {c}" for i, c in enumerate(rb.checks, 1)]
    refs = list(dict.fromkeys(r for c in rb.checks for r in panel_refs(c)))
    lines += ["", "Panels (`dashboard/panel key`; Grafana opens one with `/d/<uid>?viewPanel=<id>`):", ""]
    lines += [_panel_line(*r) for r in refs]
    lines += ["", "## Mitigations", ""] + [f"- {m}" for m in rb.mitigations]
    lines += ["", "## Escalation", "", f"Owned by team `{alert.team}` (`llmobs:alerts.teams`)."]
    lines += ([rb.escalation] if rb.escalation else
              [f"{a.severity.capitalize()}: {ESCALATION[a.severity]}" for a in rules])
    lines += ["", "## The rule" if len(rules) == 1 else "## The rules", ""]
    for a in rules:
        lines += ([] if len(rules) == 1 else [f"{a.severity}:", ""]) + ["```promql", a.expr, "```", ""]
    lines += ["_Generated from `alerts/` by `python -m alerts`; edit the definition, not this page._", ""]
    return "\n".join(lines)


def pages(alerts: list[Alert]) -> dict[str, str]:
    """runbooks/<AlertName>.md -> text, one page per alert name."""
    by_name: dict[str, list[Alert]] = {}
    for a in alerts:
        by_name.setdefault(a.name, []).append(a)
    return {same[0].runbook_path: render_runbook(*same) for same in by_name.values()}
