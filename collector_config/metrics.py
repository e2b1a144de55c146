"""LLM metrics derived from spans and log events (the project's llmmetrics connector), on all traffic."""
from __future__ import annotations

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
# record adds: a small typed vocabulary that llmmetrics reads from its config.
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


def _rules() -> dict[str, dict]:
    """Metric name -> condition (tests), value and, for histograms, buckets."""
    llm = is_true(LLM)    # set once per span by the connector's prepare step
    root = is_true(ROOT)
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


def _labels(metric: Metric, rule: dict) -> list[dict]:
    """Labels the condition requires present get no default: the connector skips a record
    lacking one by a lookup, before it hashes the labels and runs the condition. Where the key
    is present the label is its value either way, so the series are the same. A rule's own
    `labels` (key -> default) replace the metric's."""
    if "labels" in rule:
        return [{"key": key, "default": value} for key, value in rule["labels"].items()]
    required = {t["key"] for t in rule["when"] if t["op"] == "present"}
    return [{"key": key} if key in required else {"key": key, "default": DEFAULTS.get(key, "unknown")}
            for key in metric.labels]


def _definition(metric: Metric, rule: dict) -> dict:
    out: dict = {"name": metric.name, "description": metric.description, "unit": metric.unit, "kind": metric.kind,
                 "when": rule["when"], "value": rule["value"]}
    if metric.labels:
        out["labels"] = _labels(metric, rule)
    if metric.kind == "histogram":
        out["buckets"] = rule["buckets"]
    return out


def _overflow_rules() -> list[dict]:
    """One rule per bound, merged into one metric (same name, unit, description): the
    `llmobs.label` label is the rule's default, since no record carries that key."""
    return [{"when": [is_true(overflow_marker(bound))], "value": ONE, "labels": {k.OVERFLOW_LABEL: bound.setting}}
            for bound in BOUNDS]


NAME = "llmmetrics"
# Where the connector puts the collector's service.instance.id: on the resource, which remote
# write drops (target_info is off), so replicas of a gateway would write the same series.
INSTANCE_KEY = "llmmetrics.service.instance.id"


def instance_processor() -> dict:
    """The gateway's instance id as a label of every derived point: two replicas' counters are
    two series (Prometheus refuses or garbles one series written by two counters); queries sum
    it away. And the application's service.name as `service_name`: remote write turns the
    resource's into `job`, and the alerts and SLOs keep `service_name` (alerts/slo.py)."""
    label = attr("datapoint", k.GATEWAY_INSTANCE)
    source = attr("resource", INSTANCE_KEY)
    service = attr("resource", k.SERVICE_NAME)
    return {"error_mode": "ignore", "metric_statements": [{"context": "datapoint", "statements": [
        f"set({label}, {source}) where {source} != nil",
        f"set({attr('datapoint', k.SERVICE_NAME)}, {service}) where {service} != nil"]}]}


def connector(settings: Settings, spans: bool = True, logs: bool = True) -> dict:
    """llmmetrics' config for the signals this collector tier derives from: every catalog metric
    with its rule, and the prepare steps (flags, defaults, buckets, bounded labels) that the
    connector adds to its own view of each record."""
    rules = _rules()
    wanted = {"spans": spans, "logs": logs}
    # The connector sums each interval's batches and sends them once: the derived-metrics
    # pipeline (instance label, delta to cumulative, remote write) runs once per interval.
    out: dict = {"flush_interval": f"{settings.collector.metrics_flush_s}s", "spans": [], "logs": [],
                 "resource_labels": [{"key": key, "default": "unknown"} for key in RESOURCE_LABELS],
                 "prepare": {signal: prepare(signal, settings) for signal, on in wanted.items() if on}}
    for metric in CATALOG:
        if wanted[metric.signal]:
            chosen = _overflow_rules() if metric.name == OVERFLOW[metric.signal] else [rules[metric.name]]
            out[metric.signal] += [_definition(metric, rule) for rule in chosen]
    return out


def _bound_regex(bound: Bound, settings: Settings) -> str:
    if bound.values:
        return any_of(bound.values)
    limit: LabelBound = getattr(settings.labels, bound.setting)
    return "|".join([any_of(limit.allowed)] + [f"^(?:{p})$" for p in limit.patterns])


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


def prepare(signal: str, settings: Settings) -> dict:
    """What llmmetrics adds to its own view of each record before the rules run (exported data
    never sees it): bounded labels (an out-of-bound value becomes "other" and marks the overflow),
    and on spans the LLM and root flags, outcome defaults, user and session buckets and the
    priced models' context windows."""
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
