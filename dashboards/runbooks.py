"""LLM runbooks, served by Grafana itself: one markdown panel per alert (its runbooks/<Alert>.md page),
so that an alert's runbook_url works in every target without a page of its own to host
(alerts.runbook_base_url points elsewhere where the runbooks are published, e.g. GitHub)."""
from __future__ import annotations

from dashboards.common import dashboard
from dashboards.helpers import Board
from settings import Settings

SLUG, UID, FOLDER = "runbooks", "llm-runbooks", "oncall"


def build(settings: Settings):
    import alerts   # alerts -> dashboards (links); imported late
    from alerts.runbooks import pages
    b = Board(SLUG)
    for path, text in sorted(pages(alerts.all_alerts(settings)).items()):
        name = path.rsplit("/", 1)[1].removesuffix(".md")
        b.text(name, name, f"Runbook of {name}, as in {path} (generated from alerts/).", text)
    return dashboard(b, "LLM runbooks", UID, "One panel per alert: what it means, what to check, what to do.",
                     settings)
