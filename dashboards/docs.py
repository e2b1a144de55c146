"""The per-dashboard reference of docs/dashboards.md, from the typed definitions: every panel's
title, key and description as the dashboard renders them, and the alerts whose runbooks open it.
`python -m dashboards.docs` prints it; tests/test_docs.py fails when the page's copy is stale.
The audience and "when it looks wrong" of each dashboard are written here, beside the registry."""
from __future__ import annotations

import inspect
import re

import dashboards
from dashboards.helpers import panel_id

BEGIN, END = "<!-- dashboards-reference:begin -->", "<!-- dashboards-reference:end -->"

# slug -> (who opens it and when, what to do when it looks wrong)
GUIDE: dict[str, tuple[str, str]] = {
    "overview": (
        "On-call, first stop of any LLM page: is traffic flowing, are calls failing or slow, and which "
        "provider and model.",
        "Errors up: the error-type split says whether it is the provider (5xx, timeouts), throttling "
        "(429: lower concurrency, ask for quota) or your request (4xx after a deploy: roll back). Latency "
        "or TTFT up on one model only: the provider; on all: your side (prompt size, tokens per call). "
        "Fallback or retry shares up: the primary model is failing, and cost follows. Open the slow-call "
        "traces and the trace's LLM events from the same dashboard."),
    "slo": (
        "On-call and service owners: how much of the 30-day error budget is left, and how fast it burns.",
        "A burn rate above its line is what pages (14.4x and 6x) or opens a ticket (3x, 1x). Find the cause "
        "on the overview (errors, latency); a budget below zero means freezing risky changes until it "
        "recovers. Empty panels mean no root spans carry `llmobs.request.outcome`: see "
        "[instrumenting](instrumenting.md)."),
    "cost": (
        "Finance and engineering leads: spend today and this month against the budget, and who or what "
        "spends it.",
        "A spike: split by model, feature, tenant and prompt version to find who; a new prompt version "
        "with more tokens per call is the usual cause (the overview's tokens per call). Unpriced calls mean "
        "spend is under-counted: add the model to `llmobs:pricing.models`. A low cached-token share after a "
        "prompt change means the prompt prefix stopped being cacheable."),
    "quality": (
        "ML engineers: online evaluation scores, safety blocks and user feedback, by prompt version and "
        "model.",
        "A new, lower line after a prompt or model change: compare the versions' scores, roll back the "
        "version (the annotations mark when each started taking traffic). Safety blocks up: a false-positive "
        "wave after a guardrail change, or an attack; read the blocked requests' traces. Thumbs-down up "
        "without an eval drop: the evaluations miss what users see."),
    "rag": (
        "ML engineers owning retrieval: latency, documents returned, scores and recall by index version.",
        "Empty retrievals or lower best scores after an index rebuild: a stale or broken index version, "
        "roll back to the previous one. Recall down for one index version: compare with the previous "
        "version's line. Latency up in one method (vector, BM25, rerank): that step's backend."),
    "agents": (
        "On-call for agent features: tool calls, denials, errors and loop length.",
        "Denied calls up: a prompt injection attempt or a policy change; read the denied calls' traces. "
        "Loop iterations up: an agent is looping (a tool keeps failing, or the model never stops); the "
        "runaway-request traces show which. Tool errors on one tool: that tool's backend."),
    "product": (
        "Product managers: usage, feedback and cost per feature and tenant, active users without ids.",
        "Usage falling for one feature with errors flat: a product change, not an incident. Cost per user "
        "rising: more calls or tokens per request (the overview). Unanswered rate up: retrieval (the RAG "
        "dashboard) or a prompt change."),
    "pipeline": (
        "The platform team: is the telemetry itself arriving, redacted, sampled and stored.",
        "Refused or export failures: the gateway is overloaded or a backend is down; see "
        "[operations](operations.md#overload-and-faults). A backend `up` at 0: that service's logs. Label "
        "overflow: a bound in `llmobs:labels` is too tight. Redaction hits rising: an application started "
        "sending secrets; find the service and fix it at the source."),
    "runbooks": (
        "On-call, from an alert's `runbook_url`: the runbook of every alert, served by Grafana.",
        "Nothing to go wrong but a missing panel: regenerate with `python -m alerts`."),
    "audit": (
        "Security, with `debug.enabled`: who read the debug sample store (prompts and answers kept for "
        "debugging) and what they queried; `LlmDebugStoreAccessOutsideAllowlist` links here with `$login` set.",
        "A login outside `debug.viewers`: remove it from the debug organization in Grafana and ask why; "
        "the queries panel shows what it read. Empty panels with the store in use: Grafana's own traces "
        "do not reach the gateway (the audit receiver), see the runbook."),
}


def _keys(slug: str, module) -> dict[int, str]:
    """Panel id -> key: the ids come from the keys (panel_id), so every string literal of the
    dashboard's module that hashes to a panel's id is its key."""
    source = inspect.getsource(module)
    literals = set(re.findall(r"[\"']([a-z][a-z0-9_]*)[\"']", source))
    # Keys made in a loop: f"{key}_budget", f"eval_{key}".
    templates = re.findall(r"\.\w+\(\s*f\"([a-z0-9_]*)\{\w+\}([a-z0-9_]*)\"", source)
    candidates = literals | {pre + lit + post for pre, post in templates for lit in literals}
    return {panel_id(slug, key): key for key in candidates}


def _alerts_by_panel() -> dict[tuple[str, str], list[str]]:
    import alerts
    from alerts.links import PANELS
    from alerts.runbooks import panel_refs
    from dashboards.review import reference_settings
    out: dict[tuple[str, str], list[str]] = {}
    for alert in alerts.all_alerts(reference_settings()):
        refs = [PANELS[alert.name]] if alert.name in PANELS else []
        refs += [r for check in alert.runbook.checks for r in panel_refs(check)]
        for ref in dict.fromkeys(refs):
            if alert.name not in out.setdefault(ref, []):
                out[ref].append(alert.name)
    return out


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def reference() -> str:
    from dashboards.review import reference_settings
    settings = reference_settings()
    modules = {e.slug: getattr(dashboards, e.slug) for e in dashboards.REGISTRY}   # each module is its slug
    by_panel = _alerts_by_panel()
    out = [BEGIN]
    for entry in dashboards.REGISTRY:
        if not entry.enabled(settings):
            continue
        board = dashboards.to_json(entry, settings)
        audience, wrong = GUIDE[entry.slug]
        keys = _keys(entry.slug, modules[entry.slug])
        variables = [t["name"] for t in board["templating"]["list"] if t["type"] != "datasource"]
        out += ["", f"### {board['title']}", "",
                f"`dashboards/{entry.slug}.py`, uid `{entry.uid}`, Grafana folder *{dashboards.FOLDERS[entry.folder]}*. {board.get('description', '')}",
                "", f"**For:** {audience}", "",
                f"**Filters:** {', '.join(f'`{v}`' for v in variables) or 'none'}.", "",
                f"**When it looks wrong:** {wrong}", ""]
        if entry.slug == "runbooks":
            out += [f"One text panel per alert ({len(board['panels'])}), each the alert's "
                    "[runbook](alerts.md#runbooks).", ""]
            continue
        out += ["| panel | key | what it shows | alerts that open it |", "|---|---|---|---|"]
        for panel in board["panels"]:
            key = keys.get(panel["id"])
            if key is None:
                raise KeyError(f"{entry.slug}: no key found for panel {panel['title']!r}: make its key a literal")
            runbooks = ", ".join(f"[{name}](runbooks/{name}.md)" for name in by_panel.get((entry.slug, key), []))
            out.append(f"| {_cell(panel['title'])} | `{key}` | {_cell(panel.get('description') or '')} | {runbooks} |")
    return "\n".join(out + ["", END])


if __name__ == "__main__":
    print(reference())
