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
# Environment (a few values) labels every metric of application traffic (LLM calls, requests, tools,
# retrieval, safety, evaluations, feedback, unpriced calls), so that alerts on them keep where the
# traffic ran; prompt version labels counters and latency; tenant and feature only ever label
# counters. All of them are bounded (BOUNDS).
LATENCY_LABELS = SPAN_LABELS + (k.ENVIRONMENT, k.PROMPT_VERSION)
COUNTER_LABELS = LATENCY_LABELS + (k.TENANT_LABEL, k.FEATURE_LABEL)
INDEX_LABELS = (k.RETRIEVAL_INDEX, k.RETRIEVAL_INDEX_VERSION, k.ENVIRONMENT)
EVAL_LABELS = (k.EVAL_NAME, k.REQUEST_MODEL, k.PROMPT_VERSION, k.RETRIEVAL_INDEX_VERSION, k.ENVIRONMENT)


@dataclass(frozen=True)
class Bound:
    """A label whose values are folded into `other` outside a bound: the allowlist and RE2
    patterns of `settings.labels.<setting>`, or the fixed `values` of an enum key."""
    setting: str
    source: str          # the attribute the application sets
    label: str           # the attribute the metric path carries (a copy, or the source itself)
    resource: bool = False                # the source is a resource attribute
    values: tuple[str, ...] = ()          # fixed values (no setting)


BOUNDS: tuple[Bound, ...] = (
    Bound("tenant", k.TENANT, k.TENANT_LABEL),
    Bound("feature", k.FEATURE, k.FEATURE_LABEL),
    Bound("prompt_version", k.PROMPT_VERSION, k.PROMPT_VERSION),
    Bound("environment", k.ENVIRONMENT, k.ENVIRONMENT, resource=True),
    Bound("retrieval_index", k.RETRIEVAL_INDEX, k.RETRIEVAL_INDEX),
    Bound("index_version", k.RETRIEVAL_INDEX_VERSION, k.RETRIEVAL_INDEX_VERSION),
    Bound("retrieval_method", k.RETRIEVAL_METHOD, k.RETRIEVAL_METHOD),
    Bound("eval_label", k.EVAL_LABEL, k.EVAL_LABEL),
    Bound("outcome", k.OUTCOME, k.OUTCOME, values=k.OUTCOMES + ("unknown",)),
    Bound("safety_stage", k.SAFETY_STAGE, k.SAFETY_STAGE, values=k.SAFETY_STAGES),
)
SETTING_BOUNDS = tuple(b for b in BOUNDS if not b.values)


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # counter | histogram
    unit: str
    labels: tuple[str, ...]
    prometheus: str
    description: str
    signal: str = "spans"  # spans | logs


_LLM = SPAN_LABELS + (k.ENVIRONMENT,)
CATALOG: tuple[Metric, ...] = (
    # --- LLM calls ---
    Metric("llm.requests", "counter", "{request}", COUNTER_LABELS, "llm_requests_total",
           "LLM calls (chat, completion, embeddings), all traffic before sampling"),
    Metric("llm.errors", "counter", "{request}", _LLM + (k.ERROR_TYPE,), "llm_errors_total",
           "LLM calls that ended in error, by error.type"),
    Metric("gen_ai.client.operation.duration", "histogram", "s", LATENCY_LABELS,
           "gen_ai_client_operation_duration_seconds", "LLM call duration"),
    Metric("llm.time_to_first_token", "histogram", "s", LATENCY_LABELS, "llm_time_to_first_token_seconds",
           "time to first token of streamed LLM calls"),
    Metric("llm.tokens.input", "counter", "{token}", COUNTER_LABELS, "llm_tokens_input_total",
           "input tokens, cached ones included"),
    Metric("llm.tokens.output", "counter", "{token}", COUNTER_LABELS, "llm_tokens_output_total", "output tokens"),
    Metric("llm.tokens.cached_input", "counter", "{token}", COUNTER_LABELS, "llm_tokens_cached_input_total",
           "input tokens served from the provider's prompt cache"),
    Metric("llm.tokens.cache_write", "counter", "{token}", COUNTER_LABELS, "llm_tokens_cache_write_total",
           "input tokens written to the provider's prompt cache"),
    Metric("llm.cost", "counter", "{USD}", COUNTER_LABELS, "llm_cost_total",
           "cost in USD from the gateway's price table"),
    Metric("llm.unpriced.requests", "counter", "{request}", _LLM, "llm_unpriced_requests_total",
           "LLM calls whose model has no price; their cost is not guessed"),
    Metric("llm.retries", "counter", "{request}", _LLM, "llm_retries_total",
           "LLM calls that were a retry (llmobs.retry.attempt > 0)"),
    Metric("llm.fallbacks", "counter", "{request}", _LLM + (k.FALLBACK_FROM,), "llm_fallbacks_total",
           "LLM calls to a fallback model (llmobs.fallback), by the model they replaced and the one used"),
    Metric("llm.truncated", "counter", "{request}", _LLM, "llm_truncated_total",
           "LLM responses cut at the token limit (finish reason `length`)"),
    Metric("llm.context.utilization", "histogram", "1", _LLM, "llm_context_utilization",
           "input tokens / the model's context window (from the app, else the gateway's model table)"),
    # --- application requests (root spans) ---
    Metric("llm.app.requests", "counter", "{request}",
           (k.ENVIRONMENT, k.OUTCOME, k.TENANT_LABEL, k.FEATURE_LABEL), "llm_app_requests_total",
           "user-visible requests (root spans) by outcome: answered, unanswered, refused, error, unknown"),
    Metric("llm.app.request.duration", "histogram", "s", (k.ENVIRONMENT, k.OUTCOME), "llm_app_request_duration_seconds",
           "end-to-end duration of user-visible requests (root spans)"),
    Metric("llm.agent.iterations", "histogram", "{iteration}", (k.AGENT_NAME, k.ENVIRONMENT), "llm_agent_iterations",
           "agent loop iterations per request, from llmobs.agent.iterations on the root span"),
    Metric("llm.users.activity", "counter", "{span}", (k.USER_BUCKET,), "llm_users_activity_total",
           "spans with a user.id, by 1 of 4096 hash buckets: active users are estimated from occupied buckets"),
    Metric("llm.sessions.activity", "counter", "{span}", (k.SESSION_BUCKET,), "llm_sessions_activity_total",
           "spans with a gen_ai.conversation.id, by 1 of 4096 hash buckets (active sessions estimate)"),
    # --- tools ---
    Metric("llm.tool.calls", "counter", "{call}", (k.TOOL_NAME, k.TOOL_OUTCOME, k.ENVIRONMENT), "llm_tool_calls_total",
           "tool calls by tool and outcome (ok, error, denied)"),
    Metric("llm.tool.duration", "histogram", "s", (k.TOOL_NAME, k.TOOL_OUTCOME), "llm_tool_duration_seconds",
           "tool call duration"),
    Metric("llm.tool.approvals", "counter", "{call}", (k.TOOL_NAME, k.TOOL_APPROVAL), "llm_tool_approvals_total",
           "tool calls that required approval, by decision (auto, approved, denied)"),
    # --- retrieval ---
    Metric("llm.retrieval.duration", "histogram", "s", (k.OPERATION,) + INDEX_LABELS, "llm_retrieval_duration_seconds",
           "retrieval step duration"),
    Metric("llm.retrieval.step.duration", "histogram", "s", (k.RETRIEVAL_METHOD, k.RETRIEVAL_INDEX_VERSION, k.ENVIRONMENT),
           "llm_retrieval_step_duration_seconds", "duration of retrieval sub-steps by method (vector, bm25, rerank, hybrid)"),
    Metric("llm.retrieval.documents", "histogram", "{document}", (k.OPERATION,) + INDEX_LABELS, "llm_retrieval_documents",
           "documents returned per retrieval"),
    Metric("llm.retrieval.requested", "counter", "{document}", INDEX_LABELS, "llm_retrieval_requested_total",
           "documents requested (top-k), summed over retrievals"),
    Metric("llm.retrieval.returned", "counter", "{document}", INDEX_LABELS, "llm_retrieval_returned_total",
           "documents returned, summed over retrievals"),
    Metric("llm.retrieval.empty", "counter", "{retrieval}", INDEX_LABELS, "llm_retrieval_empty_total",
           "retrievals that returned no document"),
    Metric("llm.retrieval.score", "histogram", "1", INDEX_LABELS, "llm_retrieval_score",
           "score of the best document per retrieval (first of llmobs.retrieval.scores)"),
    # --- safety and quality ---
    Metric("llm.safety.checks", "counter", "{check}", (k.SAFETY_STAGE, k.ENVIRONMENT), "llm_safety_checks_total",
           "safety checks run (llmobs.safety.blocked set), by stage"),
    Metric("llm.safety.blocks", "counter", "{request}", (k.SAFETY_CATEGORY, k.SAFETY_STAGE, k.ENVIRONMENT),
           "llm_safety_blocks_total",
           "requests or responses blocked by a safety check"),
    Metric("llm.eval.score", "histogram", "{score}", EVAL_LABELS, "llm_eval_score",
           "evaluation scores (faithfulness, relevance, context recall, ...) from spans"),
    Metric("llm.eval.score.events", "histogram", "{score}", EVAL_LABELS, "llm_eval_score_events",
           "evaluation scores arriving as log events", signal="logs"),
    Metric("llm.eval.results", "counter", "{result}", (k.EVAL_NAME, k.EVAL_LABEL), "llm_eval_results_total",
           "evaluation results by label (pass, fail, hallucinated, ...): boolean flag rates, from spans"),
    Metric("llm.eval.results.events", "counter", "{result}", (k.EVAL_NAME, k.EVAL_LABEL), "llm_eval_results_events_total",
           "evaluation results by label, from log events", signal="logs"),
    Metric("llm.feedback", "counter", "{event}", (k.FEEDBACK, k.FEATURE_LABEL, k.PROMPT_VERSION, k.ENVIRONMENT),
           "llm_feedback_total", "user feedback events (up or down); the environment from the record's resource",
           signal="logs"),
    # --- the gateway itself ---
    Metric("llm.redacted.spans", "counter", "{span}", (), "llm_redacted_spans_total",
           "spans in which a detector redacted something"),
    Metric("llm.redacted.logs", "counter", "{record}", (), "llm_redacted_logs_total",
           "log records in which a detector redacted something", signal="logs"),
    Metric("llm.invalid.values", "counter", "{span}", (k.INVALID,), "llm_invalid_values_total",
           "spans whose token count, time to first token, document count or eval score was negative, NaN, "
           "infinite or not a number: the gateway dropped the value (label: which key)"),
    Metric("llm.invalid.values.logs", "counter", "{record}", (k.INVALID,), "llm_invalid_values_logs_total",
           "log records whose eval score was not a valid number: the gateway dropped it", signal="logs"),
    Metric("llm.label.overflow", "counter", "{span}", (k.OVERFLOW_LABEL,), "llm_label_overflow_total",
           "spans whose value of a bounded label was folded into `other` (label: which bound)"),
    Metric("llm.label.overflow.logs", "counter", "{record}", (k.OVERFLOW_LABEL,), "llm_label_overflow_logs_total",
           "log records whose value of a bounded label was folded into `other`", signal="logs"),
    Metric("llm.content.guarded", "counter", "{span}", (k.CONTENT_GUARDED,), "llm_content_guarded_total",
           "LLM spans where free text under a key the alias table does not know was treated as content "
           "(label: the key, the first in key order when several); allowlist benign keys in content.guard"),
    Metric("llm.content.guarded.logs", "counter", "{record}", (k.CONTENT_GUARDED,), "llm_content_guarded_logs_total",
           "GenAI log events where free text under an unknown key was treated as content (label: the key)",
           signal="logs"),
)

BY_NAME = {m.name: m for m in CATALOG}

# The debug store's access audit: derived from Grafana's own traces (collector_config/audit.py),
# never from LLM telemetry, so outside CATALOG (whose metrics every LLM pipeline derives).
DEBUG_STORE_ACCESSES = Metric(
    "llm.debug_store.accesses", "counter", "{request}", ("user", "endpoint"), "llm_debug_store_accesses_total",
    "Grafana calls to a data source of the debug organization, by login and endpoint", signal="grafana_spans")


# The collector's own telemetry (v0.161, Prometheus pull reader: counters without a `_total`
# suffix) and Prometheus' `up`: what pipeline-health alerts and panels read.
_SIGNALS = ("spans", "log_records", "metric_points")
SELF_METRICS: frozenset[str] = frozenset(
    [f"otelcol_receiver_{what}_{s}" for what in ("accepted", "refused", "failed") for s in _SIGNALS]
    + [f"otelcol_exporter_{what}_{s}" for what in ("sent", "send_failed") for s in _SIGNALS]
    + ["otelcol_exporter_queue_size", "otelcol_exporter_queue_capacity",
       "otelcol_processor_tail_sampling_count_traces_sampled", "up"])
