"""What each dashboard panel means, written out by hand per panel (the committed JSON is only a
staleness check; regenerating it would accept any change): the metrics its Prometheus queries
read, its unit, the alert setting its threshold line comes from, and the dashboard variables its
queries apply. Panels are found by their stable key (dashboards.helpers.panel_id). A threshold's
source is proven by moving that setting alone and reading the line where it went; the metric
names are parsed out of the PromQL here, not taken from the catalog."""
from __future__ import annotations

import copy
import dataclasses
import re

import pytest

import dashboards
from dashboards import review
from dashboards.helpers import panel_id

SETTINGS = review.reference_settings()
BOARDS = review.fresh()
PROM = "${datasource}"

# (dashboard, panel key): (unit, metrics read, threshold setting under alerts. or None, variables applied)
PANELS: dict[tuple[str, str], tuple[str, tuple[str, ...], str | None, tuple[str, ...]]] = {
    # overview
    ("overview", "requests"): ("reqps", ("llm_requests_total",), None, ("environment", "model", "provider")),
    ("overview", "errors"): ("percentunit", ("llm_errors_total", "llm_requests_total"), "provider_error_ratio", ("environment", "model", "provider")),
    ("overview", "latency"): ("s", ("gen_ai_client_operation_duration_seconds_bucket",), "latency_p95_seconds", ("environment", "model", "provider")),
    ("overview", "errors_by_model"): ("percentunit", ("llm_errors_total", "llm_requests_total"), "provider_error_ratio", ("environment", "model", "provider")),
    ("overview", "latency_by_model"): ("s", ("gen_ai_client_operation_duration_seconds_bucket",), "latency_p95_seconds", ("environment", "model", "provider")),
    ("overview", "ttft"): ("s", ("llm_time_to_first_token_seconds_bucket",), "ttft_p95_seconds", ("environment", "model", "provider")),
    ("overview", "tokens_per_request"): ("short", ("llm_requests_total", "llm_tokens_input_total", "llm_tokens_output_total"), None, ("environment", "model", "provider")),
    ("overview", "throttled"): ("percentunit", ("llm_errors_total", "llm_requests_total"), "throttle_ratio", ("environment", "model", "provider")),
    ("overview", "retries"): ("percentunit", ("llm_requests_total", "llm_retries_total"), "retry_ratio", ("environment", "model", "provider")),
    ("overview", "fallbacks"): ("percentunit", ("llm_fallbacks_total", "llm_requests_total"), "fallback_ratio", ("environment", "model", "provider")),
    ("overview", "context"): ("percentunit", ("llm_context_utilization_bucket",), "context_utilization_p95", ("environment", "model", "provider")),
    ("overview", "outcomes"): ("reqps", ("llm_app_requests_total",), None, ("environment",)),
    ("overview", "request_latency"): ("s", ("llm_app_request_duration_seconds_bucket",), None, ("environment",)),
    ("overview", "app_http_latency"): ("s", ("http_server_request_duration_seconds_bucket",), None, ()),
    ("overview", "app_token_usage"): ("short", ("gen_ai_client_token_usage_bucket",), None, ("model", "provider")),
    ("overview", "slow"): ("s", (), None, ()),
    ("overview", "llm_events"): ("none", (), None, ("environment", "trace_id")),
    # slo
    ("slo", "availability_budget"): ("percentunit", ("llm_app_requests_total",), None, ("environment", "service_name")),
    ("slo", "availability_sli"): ("percentunit", ("llm_app_requests_total",), None, ("environment", "service_name")),
    ("slo", "availability_burn"): ("short", ("llm_app_requests_total",), None, ("environment", "service_name")),
    ("slo", "latency_budget"): ("percentunit", ("llm_app_request_duration_seconds_bucket", "llm_app_request_duration_seconds_count"), None, ("environment", "service_name")),
    ("slo", "latency_sli"): ("percentunit", ("llm_app_request_duration_seconds_bucket", "llm_app_request_duration_seconds_count"), None, ("environment", "service_name")),
    ("slo", "latency_burn"): ("short", ("llm_app_request_duration_seconds_bucket", "llm_app_request_duration_seconds_count"), None, ("environment", "service_name")),
    # cost
    ("cost", "today"): ("currencyUSD", ("llm_cost_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "yesterday"): ("currencyUSD", ("llm_cost_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "projected"): ("currencyUSD", ("llm_cost_total",), "daily_cost_budget_usd", ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "month_to_date"): ("currencyUSD", ("llm_cost_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "month_end"): ("currencyUSD", ("llm_cost_total",), "monthly_cost_budget_usd", ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "budget_vs_actual"): ("percentunit", ("llm_cost_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "month_budget"): ("percentunit", ("llm_cost_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "mtd_by_tenant"): ("currencyUSD", ("llm_cost_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "mtd_by_feature"): ("currencyUSD", ("llm_cost_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "mtd_by_model"): ("currencyUSD", ("llm_cost_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "mtd_by_provider"): ("currencyUSD", ("llm_cost_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "per_request"): ("currencyUSD", ("llm_cost_total", "llm_requests_total"), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "by_model"): ("currencyUSD", ("llm_cost_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "by_feature"): ("currencyUSD", ("llm_cost_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "by_tenant"): ("currencyUSD", ("llm_cost_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "by_prompt_version"): ("currencyUSD", ("llm_cost_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "by_environment"): ("currencyUSD", ("llm_cost_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "cache"): ("percentunit", ("llm_tokens_cached_input_total", "llm_tokens_input_total"), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "cache_savings"): ("currencyUSD", ("llm_tokens_cached_input_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "per_user_request"): ("currencyUSD", ("feature:llm_cost_per_answer:ratio_rate5m", "feature:llm_cost_per_request:ratio_rate5m"), None, ()),
    ("cost", "cache_writes"): ("short", ("llm_tokens_cache_write_total",), None, ("environment", "feature", "model", "prompt_version", "provider", "tenant")),
    ("cost", "unpriced"): ("reqps", ("llm_unpriced_requests_total",), None, ("environment", "model", "provider")),
    ("cost", "expensive"): ("currencyUSD", (), None, ()),
    # quality
    ("quality", "eval_scores"): ("percentunit", ("llm_eval_score_count", "llm_eval_score_sum"), "eval_score_min", ("environment", "prompt_version")),
    ("quality", "eval_by_prompt_version"): ("percentunit", ("llm_eval_score_count", "llm_eval_score_sum"), "eval_score_min", ("environment", "prompt_version")),
    ("quality", "eval_by_model"): ("percentunit", ("llm_eval_score_count", "llm_eval_score_sum"), "eval_score_min", ("environment", "prompt_version")),
    ("quality", "eval_by_index_version"): ("percentunit", ("llm_eval_score_count", "llm_eval_score_sum"), "eval_score_min", ("environment", "prompt_version")),
    ("quality", "flags"): ("percentunit", ("llm_eval_results_total",), None, ()),
    ("quality", "eval_events"): ("percentunit", ("llm_eval_score_events_count", "llm_eval_score_events_sum"), None, ("environment", "prompt_version")),
    ("quality", "safety"): ("reqps", ("llm_safety_blocks_total",), None, ()),
    ("quality", "safety_ratio"): ("percentunit", ("llm_requests_total", "llm_safety_blocks_total"), "safety_block_ratio", ()),
    ("quality", "thumbs_down"): ("percentunit", ("llm_feedback_total",), "thumbs_down_ratio", ("prompt_version",)),
    # rag
    ("rag", "latency"): ("s", ("llm_retrieval_duration_seconds_bucket",), None, ()),
    ("rag", "returned"): ("short", ("llm_retrieval_documents_bucket",), None, ()),
    ("rag", "empty"): ("percentunit", ("llm_retrieval_documents_bucket", "llm_retrieval_documents_count"), "empty_retrieval_ratio", ()),
    ("rag", "rate"): ("reqps", ("llm_retrieval_documents_count",), None, ()),
    ("rag", "steps"): ("s", ("llm_retrieval_step_duration_seconds_bucket",), None, ()),
    ("rag", "top_k"): ("short", ("llm_retrieval_requested_total", "llm_retrieval_returned_total"), None, ()),
    ("rag", "score"): ("percentunit", ("llm_retrieval_score_bucket",), None, ()),
    ("rag", "recall"): ("percentunit", ("llm_eval_score_count", "llm_eval_score_sum"), "context_recall_min", ("environment",)),
    ("rag", "index_versions"): ("reqps", ("llm_retrieval_documents_count",), None, ()),
    # agents
    ("agents", "calls"): ("reqps", ("llm_tool_calls_total",), None, ("environment",)),
    ("agents", "denied"): ("short", ("llm_tool_calls_total",), "denied_tool_calls_per_minute", ("environment",)),
    ("agents", "errors"): ("reqps", ("llm_tool_calls_total",), None, ("environment",)),
    ("agents", "tool_latency"): ("s", ("llm_tool_duration_seconds_bucket",), None, ()),
    ("agents", "approvals"): ("reqps", ("llm_tool_approvals_total",), None, ()),
    ("agents", "iterations"): ("short", ("llm_agent_iterations_bucket",), "agent_iterations_p95", ("environment",)),
    ("agents", "runaway"): ("short", (), None, ()),
    ("agents", "agent_events"): ("none", (), None, ("environment", "trace_id")),
    # product
    ("product", "usage"): ("reqps", ("llm_requests_total",), None, ("environment", "feature", "tenant")),
    ("product", "feedback"): ("short", ("llm_feedback_total",), None, ("feature",)),
    ("product", "cost_per_call"): ("currencyUSD", ("llm_cost_total", "llm_requests_total"), None, ("environment", "feature", "tenant")),
    ("product", "tenants"): ("currencyUSD", ("llm_cost_total",), None, ("environment", "feature", "tenant")),
    ("product", "users"): ("short", (":llm_active_users:estimate1h",), None, ()),
    ("product", "sessions"): ("short", (":llm_active_sessions:estimate1h",), None, ()),
    ("product", "cost_per_user"): ("currencyUSD", (":llm_active_users:estimate1h", "llm_cost_total"), None, ("environment", "feature", "tenant")),
    ("product", "answered"): ("percentunit", ("feature:llm_app_requests_answered:ratio_rate5m", "feature:llm_app_requests_unanswered:ratio_rate5m"), None, ()),
    # pipeline
    ("pipeline", "accepted"): ("short", ("otelcol_receiver_accepted_log_records", "otelcol_receiver_accepted_metric_points", "otelcol_receiver_accepted_spans"), None, ()),
    ("pipeline", "refused"): ("short", ("otelcol_receiver_refused_log_records", "otelcol_receiver_refused_metric_points", "otelcol_receiver_refused_spans"), None, ()),
    ("pipeline", "send_failed"): ("short", ("otelcol_exporter_send_failed_log_records", "otelcol_exporter_send_failed_metric_points", "otelcol_exporter_send_failed_spans"), None, ()),
    ("pipeline", "overflow"): ("short", ("llm_label_overflow_logs_total", "llm_label_overflow_total"), None, ()),
    ("pipeline", "queue"): ("percentunit", ("otelcol_exporter_queue_capacity", "otelcol_exporter_queue_size"), None, ()),
    ("pipeline", "redacted"): ("short", ("llm_redacted_logs_total", "llm_redacted_spans_total"), None, ()),
    ("pipeline", "sampling"): ("percentunit", ("otelcol_processor_tail_sampling_global_count_traces_sampled",), None, ()),
    ("pipeline", "redacted_by_detector"): ("short", (), None, ()),
    ("pipeline", "up"): ("short", ("up",), None, ()),
    ("pipeline", "rule_failures"): ("short", ("prometheus_rule_evaluation_failures_total",), None, ()),
    ("pipeline", "remote_write"): ("short", ("prometheus_remote_storage_samples_failed_total",), None, ()),
    ("pipeline", "notifications"): ("short", ("alertmanager_notifications_failed_total",), None, ()),
    ("pipeline", "discarded"): ("short", ("loki_discarded_samples_total", "tempo_discarded_spans_total"), None, ()),
    ("pipeline", "redacted_lines"): ("none", (), None, ()),
}

# What each series is called: (dashboard, panel key): the legend of each Prometheus query, in order.
LEGENDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("overview", "requests"): ("{{gen_ai_provider_name}} {{gen_ai_request_model}}",),
    ("overview", "errors"): ("{{gen_ai_provider_name}} {{error_type}}",),
    ("overview", "latency"): ("p50", "p95", "p99"),
    ("overview", "errors_by_model"): ("{{gen_ai_provider_name}} {{gen_ai_request_model}}",),
    ("overview", "latency_by_model"): ("{{gen_ai_provider_name}} {{gen_ai_request_model}}",),
    ("overview", "ttft"): ("{{gen_ai_request_model}}",),
    ("overview", "tokens_per_request"): ("in {{gen_ai_request_model}}", "out {{gen_ai_request_model}}"),
    ("overview", "throttled"): ("{{gen_ai_request_model}} {{error_type}}",),
    ("overview", "retries"): ("{{gen_ai_provider_name}} {{gen_ai_request_model}}",),
    ("overview", "fallbacks"): ("{{llmobs_fallback_from_model}} -> {{gen_ai_request_model}}",),
    ("overview", "context"): ("{{gen_ai_request_model}}",),
    ("overview", "outcomes"): ("{{llmobs_request_outcome}}",),
    ("overview", "request_latency"): ("p95",),
    ("overview", "app_http_latency"): ("{{http_route}}",),
    ("overview", "app_token_usage"): ("{{gen_ai_request_model}} {{gen_ai_token_type}}",),
    ("slo", "availability_budget"): ("{{deployment_environment_name}} {{service_name}}",),
    ("slo", "availability_sli"): ("{{deployment_environment_name}} {{service_name}}",),
    ("slo", "availability_burn"): ("1h {{deployment_environment_name}} {{service_name}}", "6h {{deployment_environment_name}} {{service_name}}", "1d {{deployment_environment_name}} {{service_name}}", "3d {{deployment_environment_name}} {{service_name}}"),
    ("slo", "latency_budget"): ("{{deployment_environment_name}} {{service_name}}",),
    ("slo", "latency_sli"): ("{{deployment_environment_name}} {{service_name}}",),
    ("slo", "latency_burn"): ("1h {{deployment_environment_name}} {{service_name}}", "6h {{deployment_environment_name}} {{service_name}}", "1d {{deployment_environment_name}} {{service_name}}", "3d {{deployment_environment_name}} {{service_name}}"),
    ("cost", "mtd_by_tenant"): ("{{llmobs_tenant_bounded}}",),
    ("cost", "mtd_by_feature"): ("{{llmobs_feature_bounded}}",),
    ("cost", "mtd_by_model"): ("{{gen_ai_request_model}}",),
    ("cost", "mtd_by_provider"): ("{{gen_ai_provider_name}}",),
    ("cost", "by_model"): ("{{gen_ai_request_model}}",),
    ("cost", "by_feature"): ("{{llmobs_feature_bounded}}",),
    ("cost", "by_tenant"): ("{{llmobs_tenant_bounded}}",),
    ("cost", "by_prompt_version"): ("{{llmobs_prompt_version}}",),
    ("cost", "by_environment"): ("{{deployment_environment_name}}",),
    ("cost", "cache"): ("{{gen_ai_request_model}}",),
    ("cost", "cache_savings"): ("{{gen_ai_request_model}}",),
    ("cost", "per_user_request"): ("per request {{llmobs_feature_bounded}}", "per answer {{llmobs_feature_bounded}}"),
    ("cost", "cache_writes"): ("{{gen_ai_request_model}}",),
    ("cost", "unpriced"): ("{{gen_ai_request_model}}",),
    ("quality", "eval_scores"): ("{{gen_ai_evaluation_name}}",),
    ("quality", "eval_by_prompt_version"): ("{{gen_ai_evaluation_name}} {{llmobs_prompt_version}}",),
    ("quality", "eval_by_model"): ("{{gen_ai_evaluation_name}} {{gen_ai_request_model}}",),
    ("quality", "eval_by_index_version"): ("{{gen_ai_evaluation_name}} {{llmobs_retrieval_index_version}}",),
    ("quality", "flags"): ("{{gen_ai_evaluation_name}}",),
    ("quality", "eval_events"): ("{{gen_ai_evaluation_name}}",),
    ("quality", "safety"): ("{{llmobs_safety_category}}",),
    ("quality", "safety_ratio"): ("blocked",),
    ("quality", "thumbs_down"): ("{{llmobs_feature_bounded}}",),
    ("rag", "latency"): ("{{gen_ai_operation_name}}",),
    ("rag", "returned"): ("p50", "p95"),
    ("rag", "empty"): ("empty",),
    ("rag", "rate"): ("{{gen_ai_operation_name}}",),
    ("rag", "steps"): ("{{llmobs_retrieval_method}}",),
    ("rag", "top_k"): ("requested {{llmobs_retrieval_index}}", "returned {{llmobs_retrieval_index}}"),
    ("rag", "score"): ("p50", "p10"),
    ("rag", "recall"): ("{{gen_ai_evaluation_name}} {{llmobs_retrieval_index_version}}",),
    ("rag", "index_versions"): ("{{llmobs_retrieval_index}} {{llmobs_retrieval_index_version}}",),
    ("agents", "calls"): ("{{gen_ai_tool_name}} {{llmobs_tool_outcome}}",),
    ("agents", "denied"): ("{{gen_ai_tool_name}}",),
    ("agents", "errors"): ("{{gen_ai_tool_name}}",),
    ("agents", "tool_latency"): ("{{gen_ai_tool_name}}",),
    ("agents", "approvals"): ("{{gen_ai_tool_name}} {{llmobs_tool_approval}}",),
    ("agents", "iterations"): ("p50", "p95"),
    ("product", "usage"): ("{{llmobs_feature_bounded}}",),
    ("product", "feedback"): ("{{llmobs_feedback}}",),
    ("product", "cost_per_call"): ("{{llmobs_feature_bounded}}",),
    ("product", "tenants"): ("{{llmobs_tenant_bounded}}",),
    ("product", "answered"): ("answered {{llmobs_feature_bounded}}", "unanswered {{llmobs_feature_bounded}}"),
    ("pipeline", "accepted"): ("spans {{instance}}", "log_records {{instance}}", "metric_points {{instance}}"),
    ("pipeline", "refused"): ("spans {{instance}}", "log_records {{instance}}", "metric_points {{instance}}"),
    ("pipeline", "send_failed"): ("spans {{exporter}}", "log_records {{exporter}}", "metric_points {{exporter}}"),
    ("pipeline", "overflow"): ("spans {{llmobs_label}}", "logs {{llmobs_label}}"),
    ("pipeline", "queue"): ("{{instance}} {{exporter}}",),
    ("pipeline", "redacted"): ("spans {{service_name}}", "logs {{service_name}}"),
    ("pipeline", "sampling"): ("kept",),
    ("pipeline", "up"): ("{{job}}",),
    ("pipeline", "rule_failures"): ("{{rule_group}}",),
    ("pipeline", "remote_write"): ("{{remote_name}}",),
    ("pipeline", "notifications"): ("{{integration}}",),
    ("pipeline", "discarded"): ("logs {{reason}}", "spans {{reason}}"),
}
# The LLM-event log panels: a line is an LLM event when it carries any of these fields (Loki
# labels of the GenAI evaluation name, feedback, provider and operation).
EVENT_FIELDS = ("gen_ai_evaluation_name", "llmobs_feedback", "gen_ai_provider_name", "gen_ai_operation_name")

_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
             "inf", "nan", "Inf", "NaN"}
_BUILTIN_VARS = {"__rate_interval", "__range", "__interval", "datasource", "traces", "logs"}


def metrics_of(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers outside label matchers, ranges,
    grouping clauses and strings that are not function calls or keywords."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^{}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\boffset\s+\S+", " ", e)
    e = re.sub(r"\$\w+", " ", e)
    return {m.group(1) for m in re.finditer(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", e)
            if not m.group(2) and m.group(1) not in _KEYWORDS}


def test_the_parser_reads_metric_names_only():
    expr = ('sum by (gen_ai_provider_name) (rate(llm_errors_total{error_type=~"timeout|rate_limited", x="a b"}[5m]))'
            ' / on (job) group_left sum(rate(llm_requests_total[$__rate_interval] offset 1d)) > bool 0.05 or up')
    assert metrics_of(expr) == {"llm_errors_total", "llm_requests_total", "up"}


def _panel(board: dict, slug: str, key: str) -> dict:
    found = [p for p in board["panels"] if p["id"] == panel_id(slug, key)]
    assert len(found) == 1, (slug, key)
    return found[0]


def _view(panel: dict) -> tuple:
    targets = panel.get("targets", [])
    prom = [t["expr"] for t in targets if t.get("datasource") == PROM and t.get("expr")]
    texts = [t.get("expr") or t.get("query") or "" for t in targets]
    variables = {v for text in texts for v in re.findall(r"\$\{?(\w+)", text)} - _BUILTIN_VARS
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit") or panel.get("format")
    return unit, tuple(sorted(set().union(*map(metrics_of, prom)))) if prom else (), tuple(sorted(variables))


def _steps(panel: dict) -> list:
    return [s.get("value") for s in panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])]


def test_every_panel_is_in_the_table():
    listed = {panel_id(slug, key) for slug, key in PANELS}
    missing = [(slug, p["title"]) for slug, b in BOARDS.items() if slug != "runbooks"
               for p in b["panels"] if p["id"] not in listed]
    assert missing == []
    assert all(p["type"] == "text" for p in BOARDS["runbooks"]["panels"])


@pytest.mark.parametrize("slug, key", sorted(PANELS), ids=[f"{s}/{k}" for s, k in sorted(PANELS)])
def test_metrics_unit_and_variables(slug, key):
    unit, metrics, _, variables = PANELS[slug, key]
    assert _view(_panel(BOARDS[slug], slug, key)) == (unit, metrics, variables)


def _boards_with(**alerts) -> dict[str, dict]:
    settings = dataclasses.replace(SETTINGS, alerts=dataclasses.replace(SETTINGS.alerts, **alerts))
    return {e.slug: dashboards.to_json(e, settings) for e in dashboards.REGISTRY}


THRESHOLDS = sorted({(slug, key, setting) for (slug, key), (_, _, setting, _) in PANELS.items() if setting})


@pytest.mark.parametrize("slug, key, setting", THRESHOLDS, ids=[f"{s}/{k}" for s, k, _ in THRESHOLDS])
def test_threshold_line_reads_its_setting(slug, key, setting):
    value = getattr(SETTINGS.alerts, setting)
    moved = round(value * 0.9, 6) if value <= 1 else round(value * 1.1 + 1, 6)
    before, after = _steps(_panel(BOARDS[slug], slug, key)), _steps(_panel(_boards_with(**{setting: moved})[slug], slug, key))
    assert value in before and moved in after and value not in after, (before, after)


def test_no_other_threshold_follows_an_alert_setting():
    """Every numeric alert setting moved at once: only the panels in the table change their lines."""
    moved = {f.name: getattr(SETTINGS.alerts, f.name) * 0.9 for f in dataclasses.fields(SETTINGS.alerts)
             if isinstance(getattr(SETTINGS.alerts, f.name), float) and not isinstance(getattr(SETTINGS.alerts, f.name), bool)}
    moved |= {f.name: getattr(SETTINGS.alerts, f.name) + 1 for f in dataclasses.fields(SETTINGS.alerts)
              if type(getattr(SETTINGS.alerts, f.name)) is int}
    after = _boards_with(**moved)
    changed = {(slug, p["id"]) for slug, b in BOARDS.items() for p, q in zip(b["panels"], after[slug]["panels"])
               if _steps(p) != _steps(q)}
    assert changed == {(slug, panel_id(slug, key)) for slug, key, _ in THRESHOLDS}


# -- the pull-request diff reports what these tests pin ---------------------------------------------

def test_diff_reports_a_unit_change():
    new = copy.deepcopy(BOARDS)
    panel = _panel(new["overview"], "overview", "latency")
    panel["fieldConfig"]["defaults"]["unit"] = "ms"
    assert review.diff(BOARDS, new) == [f"overview/{panel['title']}: unit: 's' -> 'ms'"]


def test_diff_reports_a_threshold_change():
    lines = review.diff(BOARDS, _boards_with(provider_error_ratio=0.1))
    titles = {_panel(BOARDS["overview"], "overview", k)["title"] for k in ("errors", "errors_by_model")}
    assert sorted(lines) == sorted(f"overview/{t}: thresholds: [None, 0.05] -> [None, 0.1]" for t in titles)


def test_diff_reports_a_dropped_variable_selector_and_a_metric_change():
    new = copy.deepcopy(BOARDS)
    panel = _panel(new["overview"], "overview", "errors")
    before = panel["targets"][0]["expr"]
    panel["targets"][0]["expr"] = before.replace(', gen_ai_request_model=~"$model"', "").replace("llm_errors_total", "llm_retries_total")
    (line,) = review.diff(BOARDS, new)
    assert line.startswith(f"overview/{panel['title']}: queries:") and "llm_retries_total" in line


@pytest.mark.parametrize("slug, key", sorted(PANELS), ids=[f"{s}/{k}" for s, k in sorted(PANELS)])
def test_legends(slug, key):
    panel = _panel(BOARDS[slug], slug, key)
    got = tuple(t.get("legendFormat") or "" for t in panel.get("targets", []) if t.get("datasource") == PROM)
    assert got == LEGENDS.get((slug, key), ("",) * len(got))


def test_legend_labels_survive_the_aggregation():
    """A `{{label}}` in a legend names a label the query still has: in its `by (...)`, or the
    query aggregates nothing away."""
    wrong = []
    for slug, b in BOARDS.items():
        for p in b["panels"]:
            for t in p.get("targets", []):
                if t.get("datasource") != PROM:
                    continue
                expr, wanted = t.get("expr", ""), set(re.findall(r"\{\{(\w+)\}\}", t.get("legendFormat") or ""))
                kept = {label.strip() for group in re.findall(r"\bby\s*\(([^)]*)\)", expr) for label in group.split(",")}
                if re.search(r"\b(?:sum|avg|min|max|count|topk|bottomk|quantile)\b\s*(?:by\s*\([^)]*\)\s*)?\(", expr) \
                        and wanted - kept:
                    wrong.append((slug, p["title"], sorted(wanted - kept)))
    assert wrong == []


@pytest.mark.parametrize("slug, key", [("overview", "llm_events"), ("agents", "agent_events")])
def test_llm_event_panels_keep_lines_with_any_event_field(slug, key):
    (target,) = _panel(BOARDS[slug], slug, key)["targets"]
    query = target.get("expr") or target.get("query")
    assert " or ".join(f'{field}!=""' for field in EVENT_FIELDS) in query
    assert 'trace_id=~"${trace_id}.*"' in query and 'deployment_environment_name=~"$environment"' in query
