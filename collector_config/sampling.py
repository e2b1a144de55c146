"""Tail sampling: errors, slow, safety-blocked and denied-tool traces always kept."""
from __future__ import annotations

from collector_config.normalize import llm_condition
from collector_config.ottl import attr
from settings import Settings
from telemetry import keys as k


def _when(name: str, condition: str) -> dict:
    return {"name": name, "type": "ottl_condition",
            "ottl_condition": {"error_mode": "ignore", "span": [condition]}}


def _fraction(name: str, fraction: float) -> dict:
    return {"name": name, "type": "probabilistic", "probabilistic": {"sampling_percentage": round(fraction * 100, 6)}}


def processor(settings: Settings) -> dict:
    s = settings.sampling
    policies = [
        {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
        {"name": "slow", "type": "latency", "latency": {"threshold_ms": s.slow_threshold_ms}},
        _when("safety-blocks", f"{attr('span', k.SAFETY_BLOCKED)} == true"),
        _when("denied-tools", f'{attr("span", k.TOOL_OUTCOME)} == "denied"'),
    ]
    if s.llm_keep_fraction >= 1:
        policies.append(_when("llm", llm_condition()))
    elif s.llm_keep_fraction > 0:
        policies.append({"name": "llm", "type": "and", "and": {"and_sub_policy": [
            _when("llm-spans", llm_condition()), _fraction("llm-fraction", s.llm_keep_fraction)]}})
    if s.keep_fraction > 0:
        policies.append(_fraction("baseline", s.keep_fraction))
    return {"decision_wait": f"{s.decision_wait_s}s", "num_traces": s.num_traces, "policies": policies}
