"""Tail sampling: errors, slow, safety-blocked and denied-tool traces always kept.

Native attribute policies rather than OTTL conditions: a map lookup per span instead of an
OTTL evaluation (and a regexp for the LLM operations). They also match the key on the
resource, where no instrumentation sets these keys."""
from __future__ import annotations

from settings import Settings
from telemetry import keys as k


def _is(name: str, key: str, *values: str) -> dict:
    """Exact string match (the policy's default: no regexp)."""
    return {"name": name, "type": "string_attribute", "string_attribute": {"key": key, "values": list(values)}}


def _flag(name: str, key: str) -> dict:
    """A boolean attribute that is true (a string "true" is not: as OTTL's `== true`)."""
    return {"name": name, "type": "boolean_attribute", "boolean_attribute": {"key": key, "value": True}}


def _fraction(name: str, fraction: float) -> dict:
    return {"name": name, "type": "probabilistic", "probabilistic": {"sampling_percentage": round(fraction * 100, 6)}}


def processor(settings: Settings) -> dict:
    s = settings.sampling
    policies = [
        {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
        {"name": "slow", "type": "latency", "latency": {"threshold_ms": s.slow_threshold_ms}},
        _flag("safety-blocks", k.SAFETY_BLOCKED),
        _is("denied-tools", k.TOOL_OUTCOME, "denied"),
    ]
    if s.llm_keep_fraction >= 1:
        policies.append(_is("llm", k.OPERATION, *k.LLM_OPERATIONS))
    elif s.llm_keep_fraction > 0:
        policies.append({"name": "llm", "type": "and", "and": {"and_sub_policy": [
            _is("llm-spans", k.OPERATION, *k.LLM_OPERATIONS), _fraction("llm-fraction", s.llm_keep_fraction)]}})
    if s.keep_fraction > 0:
        policies.append(_fraction("baseline", s.keep_fraction))
    return {"decision_wait": f"{s.decision_wait_s}s", "num_traces": s.num_traces, "policies": policies}
