"""LLM metrics derived from spans and log events (signal_to_metrics), on all traffic."""
from __future__ import annotations

from collector_config.normalize import llm_condition
from collector_config.ottl import any_of, attr, lit
from settings import Settings
from telemetry import keys as k
from telemetry.catalog import CATALOG, RESOURCE_LABELS, Metric

LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120]
TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15]
DOC_BUCKETS = [0, 1, 2, 3, 5, 8, 10, 20, 50]
SCORE_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


def _op(ctx: str, op: str) -> str:
    return f"{attr(ctx, k.OPERATION)} == {lit(op)}"


def _has(ctx: str, key: str) -> str:
    return f"{attr(ctx, key)} != nil"


def _rules() -> dict[str, dict]:
    """Metric name -> condition and value (OTTL) and, for histograms, buckets."""
    llm = llm_condition()
    duration = "Seconds(span.end_time - span.start_time)"
    return {
        "llm.requests": {"when": llm, "value": "1"},
        "llm.errors": {"when": f"{llm} and span.status.code == STATUS_CODE_ERROR", "value": "1"},
        "gen_ai.client.operation.duration": {"when": llm, "value": duration, "buckets": LATENCY_BUCKETS},
        "llm.time_to_first_token": {"when": f"{llm} and {_has('span', k.TTFT)}",
                                    "value": f"Double({attr('span', k.TTFT)})", "buckets": TTFT_BUCKETS},
        "llm.tokens.input": {"when": f"{llm} and {_has('span', k.INPUT_TOKENS)}", "value": f"Int({attr('span', k.INPUT_TOKENS)})"},
        "llm.tokens.output": {"when": f"{llm} and {_has('span', k.OUTPUT_TOKENS)}", "value": f"Int({attr('span', k.OUTPUT_TOKENS)})"},
        "llm.tokens.cached_input": {"when": f"{llm} and {_has('span', k.CACHED_INPUT_TOKENS)}",
                                    "value": f"Int({attr('span', k.CACHED_INPUT_TOKENS)})"},
        "llm.cost": {"when": _has("span", k.COST), "value": f"Double({attr('span', k.COST)})"},
        "llm.unpriced.requests": {"when": f"{attr('span', k.UNPRICED)} == true", "value": "1"},
        "llm.tool.calls": {"when": _op("span", k.TOOL_OPERATION), "value": "1"},
        "llm.retrieval.duration": {"when": _op("span", k.RETRIEVAL_OPERATION), "value": duration, "buckets": LATENCY_BUCKETS},
        "llm.retrieval.documents": {"when": f"{_op('span', k.RETRIEVAL_OPERATION)} and {_has('span', k.RETRIEVAL_RETURNED)}",
                                    "value": f"Double({attr('span', k.RETRIEVAL_RETURNED)})", "buckets": DOC_BUCKETS},
        "llm.safety.blocks": {"when": f"{attr('span', k.SAFETY_BLOCKED)} == true", "value": "1"},
        "llm.eval.score": {"when": f"{_has('span', k.EVAL_NAME)} and {_has('span', k.EVAL_SCORE)}",
                           "value": f"Double({attr('span', k.EVAL_SCORE)})", "buckets": SCORE_BUCKETS},
        "llm.eval.score.events": {"when": f"{_has('log', k.EVAL_NAME)} and {_has('log', k.EVAL_SCORE)}",
                                  "value": f"Double({attr('log', k.EVAL_SCORE)})", "buckets": SCORE_BUCKETS},
        "llm.feedback": {"when": _has("log", k.FEEDBACK), "value": "1"},
        "llm.redacted.spans": {"when": f"{attr('span', k.REDACTED)} == true", "value": "1"},
        "llm.redacted.logs": {"when": f"{attr('log', k.REDACTED)} == true", "value": "1"},
        "llm.invalid.values": {"when": _has("span", k.INVALID), "value": "1"},
        "llm.invalid.values.logs": {"when": _has("log", k.INVALID), "value": "1"},
        "llm.content.guarded": {"when": _has("span", k.CONTENT_GUARDED), "value": "1"},
        "llm.content.guarded.logs": {"when": _has("log", k.CONTENT_GUARDED), "value": "1"},
    }


DEFAULTS = {k.TOOL_OUTCOME: "ok", k.ERROR_TYPE: "_OTHER"}


def _definition(metric: Metric, rule: dict) -> dict:
    out: dict = {
        "name": metric.name,
        "description": metric.description,
        "unit": metric.unit,
        "conditions": [rule["when"]],
        "include_resource_attributes": [{"key": key, "default_value": "unknown"} for key in RESOURCE_LABELS],
    }
    if metric.labels:
        out["attributes"] = [{"key": key, "default_value": DEFAULTS.get(key, "unknown")} for key in metric.labels]
    if metric.kind == "counter":
        out["sum"] = {"value": rule["value"], "monotonic": True}
    else:
        out["histogram"] = {"value": rule["value"], "buckets": rule["buckets"]}
    return out


def connector(spans: bool = True, logs: bool = True) -> dict:
    """Metric definitions for the signals this collector tier derives from."""
    rules = _rules()
    wanted = {"spans": spans, "logs": logs}
    out: dict = {"error_mode": "ignore", "spans": [], "logs": []}
    for metric in CATALOG:
        if wanted[metric.signal]:
            out[metric.signal].append(_definition(metric, rules[metric.name]))
    return out


def bound_labels(ctx: str, settings: Settings) -> list[str]:
    """Metric-only copies of tenant and feature; values outside the bound become `other`."""
    out = []
    for source, label, bound in ((k.TENANT, k.TENANT_LABEL, settings.labels.tenant),
                                 (k.FEATURE, k.FEATURE_LABEL, settings.labels.feature)):
        src, dst = attr(ctx, source), attr(ctx, label)
        out.append(f"set({dst}, String({src})) where {src} != nil")
        out.append(f'set({dst}, "other") where {dst} != nil and not IsMatch({dst}, {lit(any_of(bound.allowed))})')
    return out


def bound_processor(signal: str, settings: Settings) -> dict:
    ctx, key = ("span", "trace_statements") if signal == "traces" else ("log", "log_statements")
    return {"error_mode": "ignore", key: [{"context": ctx, "statements": bound_labels(ctx, settings)}]}
