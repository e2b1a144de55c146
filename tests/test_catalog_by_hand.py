"""The metric catalog's kinds and units, written out by hand (UCUM, as the OpenTelemetry
conventions spell them: seconds `s`, ratios `1`, counted things as `{annotation}`), not read from
telemetry/catalog.py: a unit or kind that changes fails a row, and every unit is valid UCUM."""
from __future__ import annotations

import re

from telemetry.catalog import CATALOG

# name -> (kind, unit)
EXPECTED = {
    "llm.requests": ("counter", "{request}"),
    "llm.errors": ("counter", "{request}"),
    "gen_ai.client.operation.duration": ("histogram", "s"),
    "llm.time_to_first_token": ("histogram", "s"),
    "llm.tokens.input": ("counter", "{token}"),
    "llm.tokens.output": ("counter", "{token}"),
    "llm.tokens.cached_input": ("counter", "{token}"),
    "llm.tokens.cache_write": ("counter", "{token}"),
    "llm.cost": ("counter", "{USD}"),
    "llm.unpriced.requests": ("counter", "{request}"),
    "llm.retries": ("counter", "{request}"),
    "llm.fallbacks": ("counter", "{request}"),
    "llm.truncated": ("counter", "{request}"),
    "llm.context.utilization": ("histogram", "1"),
    "llm.app.requests": ("counter", "{request}"),
    "llm.app.request.duration": ("histogram", "s"),
    "llm.agent.iterations": ("histogram", "{iteration}"),
    "llm.users.activity": ("counter", "{span}"),
    "llm.sessions.activity": ("counter", "{span}"),
    "llm.tool.calls": ("counter", "{call}"),
    "llm.tool.duration": ("histogram", "s"),
    "llm.tool.approvals": ("counter", "{call}"),
    "llm.retrieval.duration": ("histogram", "s"),
    "llm.retrieval.step.duration": ("histogram", "s"),
    "llm.retrieval.documents": ("histogram", "{document}"),
    "llm.retrieval.requested": ("counter", "{document}"),
    "llm.retrieval.returned": ("counter", "{document}"),
    "llm.retrieval.empty": ("counter", "{retrieval}"),
    "llm.retrieval.score": ("histogram", "1"),
    "llm.safety.checks": ("counter", "{check}"),
    "llm.safety.blocks": ("counter", "{request}"),
    "llm.eval.score": ("histogram", "{score}"),
    "llm.eval.score.events": ("histogram", "{score}"),
    "llm.eval.results": ("counter", "{result}"),
    "llm.eval.results.events": ("counter", "{result}"),
    "llm.feedback": ("counter", "{event}"),
    "llm.redacted.spans": ("counter", "{span}"),
    "llm.redacted.logs": ("counter", "{record}"),
    "llm.invalid.values": ("counter", "{span}"),
    "llm.invalid.values.logs": ("counter", "{record}"),
    "llm.label.overflow": ("counter", "{span}"),
    "llm.label.overflow.logs": ("counter", "{record}"),
    "llm.content.guarded": ("counter", "{span}"),
    "llm.content.guarded.logs": ("counter", "{record}"),
}


def test_every_metric_has_its_kind_and_unit():
    assert {m.name: (m.kind, m.unit) for m in CATALOG} == EXPECTED


def test_units_are_ucum():
    wrong = [(m.name, m.unit) for m in CATALOG if m.unit not in ("s", "1", "By") and not re.fullmatch(r"\{[A-Za-z_]+\}", m.unit)]
    assert wrong == []
