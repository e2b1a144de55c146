"""runbooks/<AlertName>.md, one page per alert, from the definition's Runbook."""
from __future__ import annotations

from alerts.model import Alert

PRACTICE = (
    "Scope it: one model, provider, tenant or feature, or everything?",
    "Check the provider's status page and recent deploys (prompt, model, index, client versions).",
    "Look for a cost anomaly next to it (Cost dashboard).",
    "Fail over to the fallback model if users are affected.",
    "Capture example traces (trace ids) in the incident channel before they age out.",
    "Afterwards: a short post-mortem, and tune the threshold in settings if it paged for nothing.",
)


def render_runbook(alert: Alert) -> str:
    rb = alert.runbook
    lines = [f"# {alert.name}", "", f"**Severity:** {alert.severity} · **Team:** {alert.team} · "
             f"**Fires after:** {alert.for_}", "", f"> {alert.summary}", "", "## What it means", "", rb.meaning, "",
             "## First three checks", ""]
    lines += [f"{i}. {c}" for i, c in enumerate(rb.checks, 1)]
    lines += ["", "## Mitigations", ""] + [f"- {m}" for m in rb.mitigations]
    lines += ["", "## Incident practice", ""] + [f"- {p}" for p in PRACTICE]
    lines += ["", "## The rule", "", "```promql", alert.expr, "```", "",
              "_Generated from `alerts/` by `python -m alerts`; edit the definition, not this page._", ""]
    return "\n".join(lines)
