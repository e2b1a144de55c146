"""LLM metrics derived from spans and log events (signal_to_metrics), on all traffic."""
from __future__ import annotations

from collector_config.normalize import llm_condition
from collector_config.ottl import any_of, attr, lit
from settings import Settings
from telemetry import keys as k
from settings.model import LabelBound
from telemetry.catalog import BOUNDS, CATALOG, RESOURCE_LABELS, Bound, Metric

LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120]
TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15]
DOC_BUCKETS = [0, 1, 2, 3, 5, 8, 10, 20, 50]
SCORE_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
UTILIZATION_BUCKETS = [0.1, 0.25, 0.5, 0.75, 0.8, 0.9, 0.95, 1.0]
ITERATION_BUCKETS = [1, 2, 3, 5, 8, 12, 16, 20, 25, 50]
TRUNCATED = r'(?:^|")length(?:"|$)'


def _op(ctx: str, op: str) -> str:
    return f"{attr(ctx, k.OPERATION)} == {lit(op)}"


def _has(ctx: str, key: str) -> str:
    return f"{attr(ctx, key)} != nil"


def _rules() -> dict[str, dict]:
    """Metric name -> condition and value (OTTL) and, for histograms, buckets."""
    llm = f"{attr('span', LLM)} == true"   # set once by bound_processor: cheaper than a regex per definition
    duration = "Seconds(span.end_time - span.start_time)"
    root = f"{attr('span', ROOT)} == true"  # IsRootSpan() is not available to signal_to_metrics
    tool, retrieval = _op("span", k.TOOL_OPERATION), _op("span", k.RETRIEVAL_OPERATION)
    span = lambda key: attr("span", key)  # noqa: E731
    log = lambda key: attr("log", key)  # noqa: E731
    return {
        "llm.requests": {"when": llm, "value": "1"},
        "llm.errors": {"when": f"{llm} and span.status.code == STATUS_CODE_ERROR", "value": "1"},
        "gen_ai.client.operation.duration": {"when": llm, "value": duration, "buckets": LATENCY_BUCKETS},
        "llm.time_to_first_token": {"when": f"{llm} and {_has('span', k.TTFT)}",
                                    "value": f"Double({span(k.TTFT)})", "buckets": TTFT_BUCKETS},
        "llm.tokens.input": {"when": f"{llm} and {_has('span', k.INPUT_TOKENS)}", "value": f"Int({span(k.INPUT_TOKENS)})"},
        "llm.tokens.output": {"when": f"{llm} and {_has('span', k.OUTPUT_TOKENS)}", "value": f"Int({span(k.OUTPUT_TOKENS)})"},
        "llm.tokens.cached_input": {"when": f"{llm} and {_has('span', k.CACHED_INPUT_TOKENS)}",
                                    "value": f"Int({span(k.CACHED_INPUT_TOKENS)})"},
        "llm.tokens.cache_write": {"when": f"{llm} and {_has('span', k.CACHE_WRITE_TOKENS)}",
                                   "value": f"Int({span(k.CACHE_WRITE_TOKENS)})"},
        "llm.cost": {"when": _has("span", k.COST), "value": f"Double({span(k.COST)})"},
        "llm.unpriced.requests": {"when": f"{span(k.UNPRICED)} == true", "value": "1"},
        "llm.retries": {"when": f"{llm} and {_has('span', k.RETRY_ATTEMPT)} and Int({span(k.RETRY_ATTEMPT)}) > 0",
                        "value": "1"},
        "llm.fallbacks": {"when": f"{llm} and {span(k.FALLBACK)} == true", "value": "1"},
        "llm.truncated": {"when": f"{llm} and {_has('span', k.FINISH_REASONS)} and "
                                  f"IsMatch(String({span(k.FINISH_REASONS)}), {lit(TRUNCATED)})", "value": "1"},
        "llm.context.utilization": {"when": f"{llm} and {_has('span', k.INPUT_TOKENS)} and {_has('span', k.CONTEXT_WINDOW)} "
                                            f"and Double({span(k.CONTEXT_WINDOW)}) > 0.0",
                                    "value": f"Double({span(k.INPUT_TOKENS)}) / Double({span(k.CONTEXT_WINDOW)})",
                                    "buckets": UTILIZATION_BUCKETS},
        "llm.app.requests": {"when": root, "value": "1"},
        "llm.app.request.duration": {"when": root, "value": duration, "buckets": LATENCY_BUCKETS},
        "llm.agent.iterations": {"when": f"{root} and {_has('span', k.AGENT_ITERATIONS)}",
                                 "value": f"Double({span(k.AGENT_ITERATIONS)})", "buckets": ITERATION_BUCKETS},
        "llm.users.activity": {"when": _has("span", k.USER_BUCKET), "value": "1"},
        "llm.sessions.activity": {"when": _has("span", k.SESSION_BUCKET), "value": "1"},
        "llm.tool.calls": {"when": tool, "value": "1"},
        "llm.tool.duration": {"when": tool, "value": duration, "buckets": LATENCY_BUCKETS},
        "llm.tool.approvals": {"when": f"{tool} and {span(k.TOOL_APPROVAL_REQUIRED)} == true", "value": "1"},
        "llm.retrieval.duration": {"when": retrieval, "value": duration, "buckets": LATENCY_BUCKETS},
        "llm.retrieval.step.duration": {"when": _has("span", k.RETRIEVAL_METHOD), "value": duration,
                                        "buckets": LATENCY_BUCKETS},
        "llm.retrieval.documents": {"when": f"{retrieval} and {_has('span', k.RETRIEVAL_RETURNED)}",
                                    "value": f"Double({span(k.RETRIEVAL_RETURNED)})", "buckets": DOC_BUCKETS},
        "llm.retrieval.requested": {"when": f"{retrieval} and {_has('span', k.RETRIEVAL_TOP_K)}",
                                    "value": f"Int({span(k.RETRIEVAL_TOP_K)})"},
        "llm.retrieval.returned": {"when": f"{retrieval} and {_has('span', k.RETRIEVAL_RETURNED)}",
                                   "value": f"Int({span(k.RETRIEVAL_RETURNED)})"},
        "llm.retrieval.empty": {"when": f"{retrieval} and {_has('span', k.RETRIEVAL_RETURNED)} and "
                                        f"Int({span(k.RETRIEVAL_RETURNED)}) == 0", "value": "1"},
        "llm.retrieval.score": {"when": f"{retrieval} and IsList({span(k.RETRIEVAL_SCORES)}) and "
                                        f"Len({span(k.RETRIEVAL_SCORES)}) > 0",
                                "value": f"Double({span(k.RETRIEVAL_SCORES)}[0])", "buckets": SCORE_BUCKETS},
        "llm.safety.checks": {"when": _has("span", k.SAFETY_BLOCKED), "value": "1"},
        "llm.safety.blocks": {"when": f"{span(k.SAFETY_BLOCKED)} == true", "value": "1"},
        "llm.eval.score": {"when": f"{_has('span', k.EVAL_NAME)} and {_has('span', k.EVAL_SCORE)}",
                           "value": f"Double({span(k.EVAL_SCORE)})", "buckets": SCORE_BUCKETS},
        "llm.eval.score.events": {"when": f"{_has('log', k.EVAL_NAME)} and {_has('log', k.EVAL_SCORE)}",
                                  "value": f"Double({log(k.EVAL_SCORE)})", "buckets": SCORE_BUCKETS},
        "llm.eval.results": {"when": f"{_has('span', k.EVAL_NAME)} and {_has('span', k.EVAL_LABEL)}", "value": "1"},
        "llm.eval.results.events": {"when": f"{_has('log', k.EVAL_NAME)} and {_has('log', k.EVAL_LABEL)}", "value": "1"},
        "llm.feedback": {"when": _has("log", k.FEEDBACK), "value": "1"},
        "llm.redacted.spans": {"when": f"{span(k.REDACTED)} == true", "value": "1"},
        "llm.redacted.logs": {"when": f"{log(k.REDACTED)} == true", "value": "1"},
        "llm.invalid.values": {"when": _has("span", k.INVALID), "value": "1"},
        "llm.invalid.values.logs": {"when": _has("log", k.INVALID), "value": "1"},
        "llm.content.guarded": {"when": _has("span", k.CONTENT_GUARDED), "value": "1"},
        "llm.content.guarded.logs": {"when": _has("log", k.CONTENT_GUARDED), "value": "1"},
    }


DEFAULTS = {k.TOOL_OUTCOME: "ok", k.ERROR_TYPE: "_OTHER"}
ROOT = "llmobs.root"  # marks the request's root span on the metric path
LLM = "llmobs.llm"    # marks LLM calls on the metric path
OVERFLOW = {"spans": "llm.label.overflow", "logs": "llm.label.overflow.logs"}


def overflow_marker(bound: Bound) -> str:
    return f"llmobs.overflow.{bound.setting}"


def _required(metric: Metric, when: str) -> set[str]:
    """Labels the condition requires present (a top-level `key != nil`): without a default, the
    connector skips a record lacking one by a map lookup, before it builds a context, hashes the
    labels and runs the condition. Where the key is present the label is its value either way,
    so the series are the same."""
    if " or " in when:
        return set()
    ctx = "span" if metric.signal == "spans" else "log"
    conjuncts = set(when.split(" and "))
    return {key for key in metric.labels if f"{attr(ctx, key)} != nil" in conjuncts}


def _definition(metric: Metric, rule: dict) -> dict:
    out: dict = {
        "name": metric.name,
        "description": metric.description,
        "unit": metric.unit,
        "conditions": [rule["when"]],
        "include_resource_attributes": [{"key": key, "default_value": "unknown"} for key in RESOURCE_LABELS],
    }
    if metric.labels:
        required = _required(metric, rule["when"])
        out["attributes"] = [{"key": key} if key in required else {"key": key, "default_value": DEFAULTS.get(key, "unknown")}
                             for key in metric.labels]
    if metric.kind == "counter":
        out["sum"] = {"value": rule["value"], "monotonic": True}
    else:
        out["histogram"] = {"value": rule["value"], "buckets": rule["buckets"]}
    return out


def _overflow(metric: Metric, ctx: str) -> list[dict]:
    """One definition per bound, merged into one metric (same name, unit, description): the
    `llmobs.label` label is the definition's default, since no record carries that key."""
    out = []
    for bound in BOUNDS:
        d = _definition(metric, {"when": f"{attr(ctx, overflow_marker(bound))} == true", "value": "1"})
        d["attributes"] = [{"key": k.OVERFLOW_LABEL, "default_value": bound.setting}]
        out.append(d)
    return out


def connector(spans: bool = True, logs: bool = True) -> dict:
    """Metric definitions for the signals this collector tier derives from."""
    rules = _rules()
    wanted = {"spans": spans, "logs": logs}
    out: dict = {"error_mode": "ignore", "spans": [], "logs": []}
    for metric in CATALOG:
        if not wanted[metric.signal]:
            continue
        if metric.name == OVERFLOW[metric.signal]:
            out[metric.signal] += _overflow(metric, "span" if metric.signal == "spans" else "log")
        else:
            out[metric.signal].append(_definition(metric, rules[metric.name]))
    return out


def _bound_regex(bound: Bound, settings: Settings) -> str:
    if bound.values:
        return any_of(bound.values)
    limit: LabelBound = getattr(settings.labels, bound.setting)
    return "|".join([any_of(limit.allowed)] + [f"^(?:{p})$" for p in limit.patterns])


def _bound_group(ctx: str, bound: Bound, settings: Settings) -> dict:
    """Copy (or take in place) the value, mark it when outside the bound, then fold it."""
    src = attr("resource", bound.source) if bound.resource else attr(ctx, bound.source)
    dst, marker = attr(ctx, bound.label), attr(ctx, overflow_marker(bound))
    statements, condition = [], f"{src} != nil"
    if bound.resource:
        # The resource's value wins; a record attribute of the same name is bounded all the same.
        statements.append(f"set({dst}, String({src})) where {src} != nil")
        condition = f"{src} != nil or {dst} != nil"
    elif bound.label != bound.source:
        statements.append(f"set({dst}, String({src}))")
    statements += [f'set({marker}, true) where {dst} != "other" and not IsMatch(String({dst}), {lit(_bound_regex(bound, settings))})',
                   f'set({dst}, "other") where {marker} == true']
    return {"context": ctx, "conditions": [condition], "statements": statements}


# The priced model, as cost has it: the response model when present, else the request model.
# Read once into the group's cache: one lookup in a small map per priced model instead of two
# or three in the span's attributes.
MODEL = 'span.cache["model"]'


def _model_is(model: str, pattern: str | None) -> str:
    return f"{MODEL} == {lit(model)}" if pattern is None else f"IsMatch({MODEL}, {lit('^(?:' + pattern + ')$')})"


def _span_groups(settings: Settings) -> list[dict]:
    outcome, window = attr("span", k.OUTCOME), attr("span", k.CONTEXT_WINDOW)
    resp, req = attr("span", k.RESPONSE_MODEL), attr("span", k.REQUEST_MODEL)
    windows = [f"set({window}, {p.context_window}) where {_model_is(p.model, None)}"
               for p in settings.pricing.models if p.context_window]
    windows += [f"set({window}, {p.context_window}) where {window} == nil and {_model_is(p.model, p.pattern)}"
                for p in settings.pricing.models if p.context_window and p.pattern]
    if windows:
        windows = [f"set({MODEL}, {req})", f"set({MODEL}, {resp}) where {resp} != nil"] + windows
    buckets = [f"set({attr('span', label)}, Substring(SHA256(String({attr('span', key)})), 0, 3)) "
               f"where {attr('span', key)} != nil" for key, label in ((k.USER_ID, k.USER_BUCKET),
                                                                     (k.CONVERSATION_ID, k.SESSION_BUCKET))]
    llm = attr("span", LLM)
    return [
        {"context": "span", "statements": [f"set({llm}, true) where {llm_condition()}"]},
        {"context": "span", "conditions": ["IsRootSpan()"], "statements": [
            f"set({attr('span', ROOT)}, true)",
            f'set({outcome}, "error") where {outcome} == nil and span.status.code == STATUS_CODE_ERROR',
            f'set({outcome}, "unknown") where {outcome} == nil']},
        {"context": "span", "conditions": [f"{llm} == true and {window} == nil"], "statements": windows},
        {"context": "span", "conditions": [f"{attr('span', k.USER_ID)} != nil or {attr('span', k.CONVERSATION_ID)} != nil"],
         "statements": buckets},
    ]


# Ids that must never become labels of application metrics either.
ID_KEYS = (k.USER_ID, k.CONVERSATION_ID, "session.id", "llmobs.request.id", k.TOOL_CALL_ID, "gen_ai.response.id")


def app_metrics_processor(settings: Settings) -> dict:
    """Application metrics pass through the gateway: the same bounds on their data-point labels
    (folded in place), and id labels removed."""
    groups = []
    for bound in BOUNDS:
        if bound.resource:
            continue
        v = attr("datapoint", bound.source)
        groups.append({"context": "datapoint", "conditions": [f"{v} != nil"], "statements": [
            f'set({v}, "other") where not IsMatch(String({v}), {lit(_bound_regex(bound, settings))})']})
    groups.append({"context": "datapoint", "statements": [
        f"delete_key(datapoint.attributes, {lit(key)})" for key in ID_KEYS]})
    return {"error_mode": "ignore", "metric_statements": groups}


def bound_processor(signal: str, settings: Settings) -> dict:
    """The metric path's own copy of each record (a fork of the pipeline): bounded labels,
    outcome defaults, user and session buckets, context windows. Exported data never sees these."""
    ctx, key = ("span", "trace_statements") if signal == "traces" else ("log", "log_statements")
    groups = [_bound_group(ctx, b, settings) for b in BOUNDS]
    if signal == "traces":
        groups = _span_groups(settings) + groups
    return {"error_mode": "ignore", key: groups}
