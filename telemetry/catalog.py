"""Every metric the gateway produces: the names dashboards and alerts may use.

`prometheus` is the series name after the remote-write translation (dots to
underscores, unit suffix, `_total` on counters); tests check it against what
the real collector sends.
"""
from __future__ import annotations

from dataclasses import dataclass

from telemetry import keys as k

# Every derived metric also carries these resource attributes as labels.
RESOURCE_LABELS = (k.SERVICE_NAME,)
SPAN_LABELS = (k.PROVIDER, k.REQUEST_MODEL, k.OPERATION)
# Tenant and feature only ever label counters, and only as bounded copies.
COUNTER_LABELS = SPAN_LABELS + (k.TENANT_LABEL, k.FEATURE_LABEL)


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # counter | histogram
    unit: str
    labels: tuple[str, ...]
    prometheus: str
    description: str
    signal: str = "spans"  # spans | logs


CATALOG: tuple[Metric, ...] = (
    Metric("llm.requests", "counter", "{request}", COUNTER_LABELS, "llm_requests_total",
           "LLM calls (chat, completion, embeddings), all traffic before sampling"),
    Metric("llm.errors", "counter", "{request}", SPAN_LABELS + (k.ERROR_TYPE,), "llm_errors_total",
           "LLM calls that ended in error, by error.type"),
    Metric("gen_ai.client.operation.duration", "histogram", "s", SPAN_LABELS,
           "gen_ai_client_operation_duration_seconds", "LLM call duration"),
    Metric("llm.time_to_first_token", "histogram", "s", SPAN_LABELS, "llm_time_to_first_token_seconds",
           "time to first token of streamed LLM calls"),
    Metric("llm.tokens.input", "counter", "{token}", COUNTER_LABELS, "llm_tokens_input_total",
           "input tokens, cached ones included"),
    Metric("llm.tokens.output", "counter", "{token}", COUNTER_LABELS, "llm_tokens_output_total", "output tokens"),
    Metric("llm.tokens.cached_input", "counter", "{token}", COUNTER_LABELS, "llm_tokens_cached_input_total",
           "input tokens served from the provider's prompt cache"),
    Metric("llm.cost", "counter", "{USD}", COUNTER_LABELS, "llm_cost_total",
           "cost in USD from the gateway's price table"),
    Metric("llm.unpriced.requests", "counter", "{request}", SPAN_LABELS, "llm_unpriced_requests_total",
           "LLM calls whose model has no price; their cost is not guessed"),
    Metric("llm.tool.calls", "counter", "{call}", (k.TOOL_NAME, k.TOOL_OUTCOME), "llm_tool_calls_total",
           "tool calls by tool and outcome (ok, error, denied)"),
    Metric("llm.retrieval.duration", "histogram", "s", (k.OPERATION,), "llm_retrieval_duration_seconds",
           "retrieval step duration"),
    Metric("llm.retrieval.documents", "histogram", "{document}", (k.OPERATION,), "llm_retrieval_documents",
           "documents returned per retrieval"),
    Metric("llm.safety.blocks", "counter", "{request}", (k.SAFETY_CATEGORY,), "llm_safety_blocks_total",
           "requests or responses blocked by a safety check"),
    Metric("llm.eval.score", "histogram", "{score}", (k.EVAL_NAME,), "llm_eval_score",
           "evaluation scores (faithfulness, relevance, context recall, ...) from spans"),
    Metric("llm.eval.score.events", "histogram", "{score}", (k.EVAL_NAME,), "llm_eval_score_events",
           "evaluation scores arriving as log events", signal="logs"),
    Metric("llm.feedback", "counter", "{event}", (k.FEEDBACK, k.FEATURE_LABEL), "llm_feedback_total",
           "user feedback events (up or down)", signal="logs"),
    Metric("llm.redacted.spans", "counter", "{span}", (), "llm_redacted_spans_total",
           "spans in which a detector redacted something"),
    Metric("llm.redacted.logs", "counter", "{record}", (), "llm_redacted_logs_total",
           "log records in which a detector redacted something", signal="logs"),
    Metric("llm.invalid.values", "counter", "{span}", (k.INVALID,), "llm_invalid_values_total",
           "spans whose token count, time to first token, document count or eval score was negative, NaN, "
           "infinite or not a number: the gateway dropped the value (label: which key)"),
    Metric("llm.invalid.values.logs", "counter", "{record}", (k.INVALID,), "llm_invalid_values_logs_total",
           "log records whose eval score was not a valid number: the gateway dropped it", signal="logs"),
    Metric("llm.content.guarded", "counter", "{span}", (k.CONTENT_GUARDED,), "llm_content_guarded_total",
           "LLM spans where free text under a key the alias table does not know was treated as content "
           "(label: the key, the first in key order when several); allowlist benign keys in content.guard"),
    Metric("llm.content.guarded.logs", "counter", "{record}", (k.CONTENT_GUARDED,), "llm_content_guarded_logs_total",
           "GenAI log events where free text under an unknown key was treated as content (label: the key)",
           signal="logs"),
)

BY_NAME = {m.name: m for m in CATALOG}


# The collector's own telemetry (v0.161, Prometheus pull reader: counters without a `_total`
# suffix) and Prometheus' `up`: what pipeline-health alerts and panels read.
_SIGNALS = ("spans", "log_records", "metric_points")
SELF_METRICS: frozenset[str] = frozenset(
    [f"otelcol_receiver_{what}_{s}" for what in ("accepted", "refused", "failed") for s in _SIGNALS]
    + [f"otelcol_exporter_{what}_{s}" for what in ("sent", "send_failed") for s in _SIGNALS]
    + ["otelcol_exporter_queue_size", "otelcol_exporter_queue_capacity",
       "otelcol_processor_tail_sampling_count_traces_sampled", "up"])
