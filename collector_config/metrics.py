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


# A rule's condition is a list of tests, all of which must hold; its value is what a matching
# record adds. Both are a small vocabulary that renders to OTTL (signal_to_metrics) and to the
# llmmetrics connector's config (collector.metrics_engine native), so the two engines derive
# from one definition.
def present(key: str) -> dict:
    return {"op": "present", "key": key}


def is_true(key: str) -> dict:
    return {"op": "true", "key": key}


def equals(key: str, value: str) -> dict:
    return {"op": "eq", "key": key, "string": value}


def int_above(key: str, number: int) -> dict:
    return {"op": "int_gt", "key": key, "number": number}


def int_equals(key: str, number: int) -> dict:
    return {"op": "int_eq", "key": key, "number": number}


def double_above(key: str, number: float) -> dict:
    return {"op": "double_gt", "key": key, "number": float(number)}


def matches(key: str, regex: str) -> dict:
    return {"op": "match", "key": key, "regex": regex}


def nonempty_list(key: str) -> dict:
    return {"op": "nonempty_list", "key": key}


ERROR_STATUS = {"op": "error_status"}
ONE = {"from": "one"}
DURATION = {"from": "duration"}


def as_int(key: str) -> dict:
    return {"from": "int", "key": key}


def as_double(key: str, per: str | None = None) -> dict:
    return {"from": "double", "key": key, **({"per": per} if per else {})}


def first(key: str) -> dict:
    return {"from": "first", "key": key}


def ottl_test(ctx: str, test: dict) -> str:
    a = attr(ctx, test.get("key", ""))
    return {
        "present": lambda: f"{a} != nil",
        "true": lambda: f"{a} == true",
        "eq": lambda: f"{a} == {lit(test.get('string', ''))}",
        "int_gt": lambda: f"Int({a}) > {test.get('number')}",
        "int_eq": lambda: f"Int({a}) == {test.get('number')}",
        "double_gt": lambda: f"Double({a}) > {test.get('number')}",
        "match": lambda: f"IsMatch(String({a}), {lit(test.get('regex', ''))})",
        "nonempty_list": lambda: f"IsList({a}) and Len({a}) > 0",
        "error_status": lambda: "span.status.code == STATUS_CODE_ERROR",
    }[test["op"]]()


def ottl_when(ctx: str, tests: list[dict]) -> str:
    return " and ".join(ottl_test(ctx, t) for t in tests)


def ottl_value(ctx: str, value: dict) -> str:
    a = attr(ctx, value.get("key", ""))
    return {
        "one": lambda: "1",
        "duration": lambda: "Seconds(span.end_time - span.start_time)",
        "int": lambda: f"Int({a})",
        "double": lambda: f"Double({a}) / Double({attr(ctx, value['per'])})" if "per" in value else f"Double({a})",
        "first": lambda: f"Double({a}[0])",
    }[value["from"]]()


def _rules() -> dict[str, dict]:
    """Metric name -> condition (tests), value and, for histograms, buckets."""
    llm = is_true(LLM)    # set once by bound_processor: cheaper than a regex per definition
    root = is_true(ROOT)  # IsRootSpan() is not available to signal_to_metrics
    tool, retrieval = equals(k.OPERATION, k.TOOL_OPERATION), equals(k.OPERATION, k.RETRIEVAL_OPERATION)
    counted = lambda *when: {"when": list(when), "value": ONE}  # noqa: E731
    return {
        "llm.requests": counted(llm),
        "llm.errors": counted(llm, ERROR_STATUS),
        "gen_ai.client.operation.duration": {"when": [llm], "value": DURATION, "buckets": LATENCY_BUCKETS},
        "llm.time_to_first_token": {"when": [llm, present(k.TTFT)], "value": as_double(k.TTFT), "buckets": TTFT_BUCKETS},
        "llm.tokens.input": {"when": [llm, present(k.INPUT_TOKENS)], "value": as_int(k.INPUT_TOKENS)},
        "llm.tokens.output": {"when": [llm, present(k.OUTPUT_TOKENS)], "value": as_int(k.OUTPUT_TOKENS)},
        "llm.tokens.cached_input": {"when": [llm, present(k.CACHED_INPUT_TOKENS)], "value": as_int(k.CACHED_INPUT_TOKENS)},
        "llm.tokens.cache_write": {"when": [llm, present(k.CACHE_WRITE_TOKENS)], "value": as_int(k.CACHE_WRITE_TOKENS)},
        "llm.cost": {"when": [present(k.COST)], "value": as_double(k.COST)},
        "llm.unpriced.requests": counted(is_true(k.UNPRICED)),
        "llm.retries": counted(llm, present(k.RETRY_ATTEMPT), int_above(k.RETRY_ATTEMPT, 0)),
        "llm.fallbacks": counted(llm, is_true(k.FALLBACK)),
        "llm.truncated": counted(llm, present(k.FINISH_REASONS), matches(k.FINISH_REASONS, TRUNCATED)),
        "llm.context.utilization": {"when": [llm, present(k.INPUT_TOKENS), present(k.CONTEXT_WINDOW),
                                             double_above(k.CONTEXT_WINDOW, 0)],
                                    "value": as_double(k.INPUT_TOKENS, per=k.CONTEXT_WINDOW),
                                    "buckets": UTILIZATION_BUCKETS},
        "llm.app.requests": counted(root),
        "llm.app.request.duration": {"when": [root], "value": DURATION, "buckets": LATENCY_BUCKETS},
        "llm.agent.iterations": {"when": [root, present(k.AGENT_ITERATIONS)], "value": as_double(k.AGENT_ITERATIONS),
                                 "buckets": ITERATION_BUCKETS},
        "llm.users.activity": counted(present(k.USER_BUCKET)),
        "llm.sessions.activity": counted(present(k.SESSION_BUCKET)),
        "llm.tool.calls": counted(tool),
        "llm.tool.duration": {"when": [tool], "value": DURATION, "buckets": LATENCY_BUCKETS},
        "llm.tool.approvals": counted(tool, is_true(k.TOOL_APPROVAL_REQUIRED)),
        "llm.retrieval.duration": {"when": [retrieval], "value": DURATION, "buckets": LATENCY_BUCKETS},
        "llm.retrieval.step.duration": {"when": [present(k.RETRIEVAL_METHOD)], "value": DURATION,
                                        "buckets": LATENCY_BUCKETS},
        "llm.retrieval.documents": {"when": [retrieval, present(k.RETRIEVAL_RETURNED)],
                                    "value": as_double(k.RETRIEVAL_RETURNED), "buckets": DOC_BUCKETS},
        "llm.retrieval.requested": {"when": [retrieval, present(k.RETRIEVAL_TOP_K)], "value": as_int(k.RETRIEVAL_TOP_K)},
        "llm.retrieval.returned": {"when": [retrieval, present(k.RETRIEVAL_RETURNED)],
                                   "value": as_int(k.RETRIEVAL_RETURNED)},
        "llm.retrieval.empty": counted(retrieval, present(k.RETRIEVAL_RETURNED), int_equals(k.RETRIEVAL_RETURNED, 0)),
        "llm.retrieval.score": {"when": [retrieval, nonempty_list(k.RETRIEVAL_SCORES)],
                                "value": first(k.RETRIEVAL_SCORES), "buckets": SCORE_BUCKETS},
        "llm.safety.checks": counted(present(k.SAFETY_BLOCKED)),
        "llm.safety.blocks": counted(is_true(k.SAFETY_BLOCKED)),
        "llm.eval.score": {"when": [present(k.EVAL_NAME), present(k.EVAL_SCORE)], "value": as_double(k.EVAL_SCORE),
                           "buckets": SCORE_BUCKETS},
        "llm.eval.score.events": {"when": [present(k.EVAL_NAME), present(k.EVAL_SCORE)],
                                  "value": as_double(k.EVAL_SCORE), "buckets": SCORE_BUCKETS},
        "llm.eval.results": counted(present(k.EVAL_NAME), present(k.EVAL_LABEL)),
        "llm.eval.results.events": counted(present(k.EVAL_NAME), present(k.EVAL_LABEL)),
        "llm.feedback": counted(present(k.FEEDBACK)),
        "llm.redacted.spans": counted(is_true(k.REDACTED)),
        "llm.redacted.logs": counted(is_true(k.REDACTED)),
        "llm.invalid.values": counted(present(k.INVALID)),
        "llm.invalid.values.logs": counted(present(k.INVALID)),
        "llm.content.guarded": counted(present(k.CONTENT_GUARDED)),
        "llm.content.guarded.logs": counted(present(k.CONTENT_GUARDED)),
    }


DEFAULTS = {k.TOOL_OUTCOME: "ok", k.ERROR_TYPE: "_OTHER"}
ROOT = "llmobs.root"  # marks the request's root span on the metric path
LLM = "llmobs.llm"    # marks LLM calls on the metric path
OVERFLOW = {"spans": "llm.label.overflow", "logs": "llm.label.overflow.logs"}


def overflow_marker(bound: Bound) -> str:
    return f"llmobs.overflow.{bound.setting}"


def _ctx(metric: Metric) -> str:
    return "span" if metric.signal == "spans" else "log"


def _labels(metric: Metric, rule: dict, default: str) -> list[dict]:
    """Labels the condition requires present get no default: the connector skips a record
    lacking one by a lookup, before it hashes the labels and runs the condition. Where the key
    is present the label is its value either way, so the series are the same. A rule's own
    `labels` (key -> default) replace the metric's."""
    if "labels" in rule:
        return [{"key": key, default: value} for key, value in rule["labels"].items()]
    required = {t["key"] for t in rule["when"] if t["op"] == "present"}
    return [{"key": key} if key in required else {"key": key, default: DEFAULTS.get(key, "unknown")}
            for key in metric.labels]


def _definition(metric: Metric, rule: dict) -> dict:
    ctx = _ctx(metric)
    out: dict = {
        "name": metric.name,
        "description": metric.description,
        "unit": metric.unit,
        "conditions": [ottl_when(ctx, rule["when"])],
        "include_resource_attributes": [{"key": key, "default_value": "unknown"} for key in RESOURCE_LABELS],
    }
    if metric.labels:
        out["attributes"] = _labels(metric, rule, "default_value")
    if metric.kind == "counter":
        out["sum"] = {"value": ottl_value(ctx, rule["value"]), "monotonic": True}
    else:
        out["histogram"] = {"value": ottl_value(ctx, rule["value"]), "buckets": rule["buckets"]}
    return out


def _native_definition(metric: Metric, rule: dict) -> dict:
    out: dict = {"name": metric.name, "description": metric.description, "unit": metric.unit, "kind": metric.kind,
                 "when": rule["when"], "value": rule["value"]}
    if metric.labels:
        out["labels"] = _labels(metric, rule, "default")
    if metric.kind == "histogram":
        out["buckets"] = rule["buckets"]
    return out


def _overflow_rules() -> list[dict]:
    """One rule per bound, merged into one metric (same name, unit, description): the
    `llmobs.label` label is the rule's default, since no record carries that key."""
    return [{"when": [is_true(overflow_marker(bound))], "value": ONE, "labels": {k.OVERFLOW_LABEL: bound.setting}}
            for bound in BOUNDS]


NATIVE = "llmmetrics"  # the connector of collector.metrics_engine native
# Where each connector puts the collector's service.instance.id: on the resource, which remote
# write drops (target_info is off), so replicas of a gateway would write the same series.
INSTANCE_KEYS = ("signal_to_metrics.service.instance.id", "llmmetrics.service.instance.id")


def instance_processor() -> dict:
    """The gateway's instance id as a label of every derived point: two replicas' counters are
    two series (Prometheus refuses or garbles one series written by two counters); queries sum
    it away."""
    label = attr("datapoint", k.GATEWAY_INSTANCE)
    return {"error_mode": "ignore", "metric_statements": [{"context": "datapoint", "statements": [
        f"set({label}, {attr('resource', key)}) where {attr('resource', key)} != nil" for key in INSTANCE_KEYS]}]}


def connector(settings: Settings, spans: bool = True, logs: bool = True) -> dict:
    """Metric definitions for the signals this collector tier derives from: signal_to_metrics'
    config (engine ottl) or llmmetrics' (native, with its own bound_processor steps), from the
    same rules."""
    engine = settings.collector.metrics_engine
    rules = _rules()
    make = _native_definition if engine == "native" else _definition
    wanted = {"spans": spans, "logs": logs}
    out: dict = {"spans": [], "logs": []}
    if engine == "native":
        out |= {"resource_labels": [{"key": key, "default": "unknown"} for key in RESOURCE_LABELS],
                "prepare": {signal: native_prepare(signal, settings) for signal, on in wanted.items() if on}}
    else:
        out["error_mode"] = "ignore"
    for metric in CATALOG:
        if wanted[metric.signal]:
            chosen = _overflow_rules() if metric.name == OVERFLOW[metric.signal] else [rules[metric.name]]
            out[metric.signal] += [make(metric, rule) for rule in chosen]
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
    if bound.resource or bound.label != bound.source:
        # The source's value wins; a label the record carries itself is bounded all the same
        # (else a client could set the label key directly and write unbounded series).
        statements.append(f"set({dst}, String({src})) where {src} != nil")
        condition = f"{src} != nil or {dst} != nil"
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


def native_prepare(signal: str, settings: Settings) -> dict:
    """The same steps as bound_processor, for llmmetrics: it adds them to its own view of each
    record, so the metric path needs neither the transform nor a copy of every record."""
    bounds = [{"label": b.label, "source": b.source, "resource": b.resource, "allow": _bound_regex(b, settings),
               "marker": overflow_marker(b)} for b in BOUNDS]
    if signal == "logs":
        return {"bounds": bounds}
    models = [p for p in settings.pricing.models if p.context_window]
    root = [is_true(ROOT)]
    out: dict = {
        "flags": [{"key": LLM, "when": [matches(k.OPERATION, any_of(k.LLM_OPERATIONS))]},
                  {"key": ROOT, "when": [{"op": "root"}]}],
        "defaults": [{"key": k.OUTCOME, "string": "error", "when": root + [ERROR_STATUS]},
                     {"key": k.OUTCOME, "string": "unknown", "when": root}],
        "hashes": [{"key": label, "from": key, "chars": 3}
                   for key, label in ((k.USER_ID, k.USER_BUCKET), (k.CONVERSATION_ID, k.SESSION_BUCKET))],
        "bounds": bounds,
    }
    if models:
        out["windows"] = {"key": k.CONTEXT_WINDOW, "models": [k.RESPONSE_MODEL, k.REQUEST_MODEL], "when": [is_true(LLM)],
                          "exact": [{"model": p.model, "tokens": p.context_window} for p in models],
                          "patterns": [{"regex": "^(?:" + p.pattern + ")$", "tokens": p.context_window}
                                       for p in models if p.pattern]}
    return out


def bound_processor(signal: str, settings: Settings) -> dict:
    """The metric path's own copy of each record (a fork of the pipeline): bounded labels,
    outcome defaults, user and session buckets, context windows. Exported data never sees these."""
    ctx, key = ("span", "trace_statements") if signal == "traces" else ("log", "log_statements")
    groups = [_bound_group(ctx, b, settings) for b in BOUNDS]
    if signal == "traces":
        groups = _span_groups(settings) + groups
    return {"error_mode": "ignore", key: groups}
