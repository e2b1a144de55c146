"""What each dashboard panel means, written out by hand per panel from its title, its description
and the metric catalog (telemetry/catalog.py), never copied from the rendered JSON: its type and
unit, the metrics its Prometheus queries read, the dashboard variables its queries apply, its
threshold steps and the alert settings they come from, the settings its queries read, and the
legend of each Prometheus query. The committed JSON is only a staleness check (regenerating it
accepts any change).

Panels are found by their stable key (dashboards.helpers.panel_id). A threshold's source is proven
by moving that setting alone and reading the line where it went, and by seeing that no other
panel's line or query moved; metric names are parsed out of the PromQL here, not taken from the
catalog or the lint."""
from __future__ import annotations

import argparse
import copy
import dataclasses
import re
from dataclasses import dataclass
from typing import Callable

import pytest

import dashboards
from dashboards import review
from dashboards.helpers import panel_id
from settings import REFERENCE_CONFIG, validate
from stackctl import dashboards_cmd

SETTINGS = review.reference_settings()
BOARDS = review.fresh()
PROM = "${datasource}"

Steps = tuple[tuple[float, str], ...]


@dataclass(frozen=True)
class P:
    """One panel as it is meant to be. `lines`: the threshold steps above the base (value, color),
    a tuple or a function of the alert settings `a`; the settings that function reads are the
    threshold's sources. `reads`: settings (paths under Settings) the queries themselves read.
    `legends`: one per Prometheus query, in order (so also how many there are)."""
    type: str
    unit: str
    metrics: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()
    lines: Steps | Callable[..., Steps] = ()
    legends: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    base: str = "green"   # below the first step (a stat's color; red where low is bad)


def red(value: float) -> Steps:
    return ((value, "red"),)


def budget(value: float) -> Steps:
    """Orange above a budget, red at the budget alert's 1.2x."""
    return ((value, "orange"), (1.2 * value, "red"))


# The variables a dashboard's filters apply, by what the series carry (telemetry/catalog.py).
PMV = ("environment", "model", "provider")                     # LLM calls: provider, model, environment
ALL6 = ("environment", "feature", "model", "prompt_version", "provider", "tenant")   # cost counters: all six
ETF = ("environment", "feature", "tenant")                     # product's filters on counters
ENV = ("environment",)
SLO = ("environment", "service_name")
W = "{{gen_ai_provider_name}} {{gen_ai_request_model}} {{deployment_environment_name}} {{service_name}}"
ES = "{{deployment_environment_name}} {{service_name}}"
# The burn-rate alerts' long windows and factors (14.4x and 6x page, 3x and 1x open a ticket).
BURN = ((14.4, "1h"), (6.0, "6h"), (3.0, "1d"), (1.0, "3d"))
BURN_LINES = tuple((f, "red" if f >= 6 else "orange") for f, _ in BURN)
BURN_LEGENDS = tuple(f"{w} {ES}" for _, w in BURN)


def bad_share_lines(slo: float) -> Steps:
    return tuple((f * (1 - slo), "red" if f >= 6 else "orange") for f, _ in BURN)


BUDGET_LEFT = ((0.0, "red"), (0.25, "orange"), (0.5, "green"))
COST_SERIES = ("llm_cost_total",)
DUR = ("gen_ai_client_operation_duration_seconds_bucket",)
APP_DUR = ("llm_app_request_duration_seconds_bucket", "llm_app_request_duration_seconds_count")
EVAL = ("llm_eval_score_count", "llm_eval_score_sum")

PANELS: dict[tuple[str, str], P] = {
    # -- overview: is the LLM path healthy now? ------------------------------------------------------
    ("overview", "requests"): P("timeseries", "reqps", ("llm_requests_total",), PMV,
                                legends=("{{gen_ai_provider_name}} {{gen_ai_request_model}}",)),
    ("overview", "errors"): P("timeseries", "percentunit", ("llm_errors_total", "llm_requests_total"), PMV,
                              lambda a: red(a.provider_error_ratio), ("{{gen_ai_provider_name}} {{error_type}}",)),
    ("overview", "latency"): P("timeseries", "s", DUR, PMV, lambda a: red(a.latency_p95_seconds),
                               ("p50", "p95", "p99")),
    # The ratio alerts' panels: the ratio only where the alert's volume (the calls it counts, per model,
    # environment and service) reaches its floor, so the query reads the calls and the floor too.
    ("overview", "errors_by_model"): P("timeseries", "percentunit",
                                       ("llm_requests_total", "provider_model:llm_errors:ratio_rate5m"), PMV,
                                       lambda a: red(a.provider_error_ratio), (W,),
                                       reads=("alerts.volume_floors.calls",)),
    ("overview", "latency_by_model"): P("timeseries", "s",
                                        ("provider_model:gen_ai_client_operation_duration_seconds:p95_rate5m",), PMV,
                                        lambda a: red(a.latency_p95_seconds), (W,)),
    ("overview", "ttft"): P("timeseries", "s", ("provider_model:llm_time_to_first_token_seconds:p95_rate5m",), PMV,
                            lambda a: red(a.ttft_p95_seconds), (W,)),
    ("overview", "tokens_per_request"): P("timeseries", "short",
                                          ("llm_requests_total", "llm_tokens_input_total", "llm_tokens_output_total"),
                                          PMV, legends=("in {{gen_ai_request_model}}", "out {{gen_ai_request_model}}")),
    ("overview", "throttled"): P("timeseries", "percentunit", ("llm_errors_total", "llm_requests_total"), PMV,
                                 lambda a: red(a.throttle_ratio), (W,), reads=("alerts.volume_floors.calls",)),
    ("overview", "retries"): P("timeseries", "percentunit",
                               ("llm_requests_total", "provider_model:llm_retries:ratio_rate5m"), PMV,
                               lambda a: red(a.retry_ratio), (W,), reads=("alerts.volume_floors.calls",)),
    # Both the share and its breakdown by model only where the environment and service made the
    # fallback floor's calls.
    ("overview", "fallbacks"): P("timeseries", "percentunit", ("llm_fallbacks_total", "llm_requests_total"), PMV,
                                 lambda a: red(a.fallback_ratio),
                                 (ES, "{{llmobs_fallback_from_model}} -> {{gen_ai_request_model}} "
                                      "{{deployment_environment_name}}"),
                                 reads=("alerts.volume_floors.fallbacks",)),
    ("overview", "context"): P("timeseries", "percentunit", ("provider_model:llm_context_utilization:p95_rate5m",),
                               PMV, lambda a: red(a.context_utilization_p95), (W,)),
    # Per call only where the model made the calls floor's calls in the hour (the bloat and shrink lines always).
    ("overview", "prompt_size"): P("timeseries", "short",
                                   ("llm_requests_total", "provider_model:llm_requests:rate1h",
                                    "provider_model:llm_tokens_input:rate1h"),
                                   PMV, legends=(f"per call {W}", f"bloat line {W}", f"shrink line {W}"),
                                   reads=("alerts.prompt_bloat_ratio", "alerts.prompt_shrink_ratio",
                                          "alerts.volume_floors.calls")),
    # LlmNoTraffic per environment and service: calls in the hour a day earlier against the traffic
    # floor (the line), and calls in the last 15m.
    ("overview", "traffic_vs_yesterday"): P("timeseries", "short", ("llm_requests_total",), PMV,
                                            lambda a: ((a.volume_floors.traffic, "orange"),),
                                            (f"a day earlier, 1h {ES}", f"last 15m {ES}")),
    ("overview", "outcomes"): P("timeseries", "reqps", ("llm_app_requests_total",), ENV,
                                legends=("{{llmobs_request_outcome}}",)),
    ("overview", "request_latency"): P("timeseries", "s", ("llm_app_request_duration_seconds_bucket",), ENV,
                                       legends=("p95",)),
    # The application's own SDK histograms: no environment label (a resource attribute there).
    ("overview", "app_http_latency"): P("timeseries", "s", ("http_server_request_duration_seconds_bucket",),
                                        legends=("{{http_route}}",)),
    ("overview", "app_token_usage"): P("timeseries", "short", ("gen_ai_client_token_usage_bucket",),
                                       ("model", "provider"),
                                       legends=("{{gen_ai_request_model}} {{gen_ai_token_type}}",)),
    ("overview", "slow"): P("table", "s", reads=("alerts.latency_p95_seconds",)),   # TraceQL: duration > the p95 line
    ("overview", "llm_events"): P("logs", "none", variables=("environment", "trace_id")),

    # -- slo: the 30-day error budgets ---------------------------------------------------------------
    ("slo", "availability_budget"): P("stat", "percentunit", ("llm_app_requests_total",), SLO, BUDGET_LEFT, (ES,),
                                      reads=("alerts.availability_slo",), base="red"),
    ("slo", "availability_sli"): P("stat", "percentunit", ("llm_app_requests_total",), SLO, legends=(ES,)),
    ("slo", "availability_burn"): P("timeseries", "short", ("llm_app_requests_total",), SLO, BURN_LINES, BURN_LEGENDS,
                                    reads=("alerts.availability_slo",)),
    ("slo", "latency_budget"): P("stat", "percentunit", APP_DUR, SLO, BUDGET_LEFT, (ES,),
                                 reads=("alerts.latency_slo", "alerts.latency_slo_seconds"), base="red"),
    ("slo", "latency_sli"): P("stat", "percentunit", APP_DUR, SLO, legends=(ES,),
                              reads=("alerts.latency_slo_seconds",)),
    ("slo", "latency_burn"): P("timeseries", "short", APP_DUR, SLO, BURN_LINES, BURN_LEGENDS,
                               reads=("alerts.latency_slo", "alerts.latency_slo_seconds")),
    # Each long window only where its pair's short window holds the requests floor, as the burn alerts.
    ("slo", "availability_bad_share"): P("timeseries", "percentunit", ("llm_app_requests_total",), SLO,
                                         lambda a: bad_share_lines(a.availability_slo), BURN_LEGENDS,
                                         reads=("alerts.volume_floors.requests",)),
    ("slo", "latency_bad_share"): P("timeseries", "percentunit", APP_DUR, SLO,
                                    lambda a: bad_share_lines(a.latency_slo), BURN_LEGENDS,
                                    reads=("alerts.latency_slo_seconds", "alerts.volume_floors.requests")),

    # -- cost: every filter applies to the raw cost counter ------------------------------------------
    ("cost", "today"): P("stat", "currencyUSD", COST_SERIES, ALL6, legends=("",)),
    ("cost", "yesterday"): P("stat", "currencyUSD", COST_SERIES, ALL6, legends=("",)),
    ("cost", "projected"): P("stat", "currencyUSD", COST_SERIES, ALL6, lambda a: budget(a.daily_cost_budget_usd),
                             ("",)),
    ("cost", "month_to_date"): P("stat", "currencyUSD", COST_SERIES, ALL6, legends=("",)),
    ("cost", "month_end"): P("stat", "currencyUSD", COST_SERIES, ALL6, lambda a: budget(a.monthly_cost_budget_usd),
                             ("",)),
    # Ratios to the monthly budget: the budget is in the query, the lines are 100% and 120%.
    ("cost", "budget_vs_actual"): P("stat", "percentunit", COST_SERIES, ALL6, budget(1.0), ("",),
                                    reads=("alerts.monthly_cost_budget_usd",)),
    ("cost", "month_budget"): P("stat", "percentunit", COST_SERIES, ALL6, budget(1.0), ("",),
                                reads=("alerts.monthly_cost_budget_usd",)),
    # What the spend alerts evaluate: the recorded per-tenant spend (tenant and environment only).
    ("cost", "budget_day"): P("stat", "currencyUSD", ("tenant:llm_cost:rate1h",), ("environment", "tenant"),
                              lambda a: budget(a.daily_cost_budget_usd), ("",)),
    ("cost", "month_pace"): P("stat", "currencyUSD", ("tenant:llm_cost:rate1h",), ("environment", "tenant"),
                              lambda a: budget(a.monthly_cost_budget_usd), ("",)),
    ("cost", "spend_vs_week"): P("timeseries", "currencyUSD", ("tenant:llm_cost:rate1h",), ("environment", "tenant"),
                                 legends=(ES, f"3x 7-day average {ES}"), reads=("alerts.spend_spike_factor",)),
    ("cost", "tenant_share"): P("timeseries", "percentunit", ("tenant:llm_cost:rate1h",), ("environment", "tenant"),
                                legends=("{{llmobs_tenant_bounded}} {{deployment_environment_name}}",
                                         "3x 7-day average {{llmobs_tenant_bounded}} {{deployment_environment_name}}"),
                                reads=("alerts.spend_spike_factor",)),
    ("cost", "mtd_by_tenant"): P("stat", "currencyUSD", COST_SERIES, ALL6, legends=("{{llmobs_tenant_bounded}}",)),
    ("cost", "mtd_by_feature"): P("stat", "currencyUSD", COST_SERIES, ALL6, legends=("{{llmobs_feature_bounded}}",)),
    ("cost", "mtd_by_model"): P("stat", "currencyUSD", COST_SERIES, ALL6, legends=("{{gen_ai_request_model}}",)),
    ("cost", "mtd_by_provider"): P("stat", "currencyUSD", COST_SERIES, ALL6, legends=("{{gen_ai_provider_name}}",)),
    ("cost", "per_request"): P("stat", "currencyUSD", ("llm_cost_total", "llm_requests_total"), ALL6, legends=("",)),
    ("cost", "by_model"): P("timeseries", "currencyUSD", COST_SERIES, ALL6, legends=("{{gen_ai_request_model}}",)),
    ("cost", "by_feature"): P("timeseries", "currencyUSD", COST_SERIES, ALL6, legends=("{{llmobs_feature_bounded}}",)),
    ("cost", "by_tenant"): P("timeseries", "currencyUSD", COST_SERIES, ALL6, legends=("{{llmobs_tenant_bounded}}",)),
    ("cost", "by_prompt_version"): P("timeseries", "currencyUSD", COST_SERIES, ALL6,
                                     legends=("{{llmobs_prompt_version}}",)),
    ("cost", "by_environment"): P("timeseries", "currencyUSD", COST_SERIES, ALL6,
                                  legends=("{{deployment_environment_name}}",)),
    ("cost", "cache"): P("timeseries", "percentunit", ("llm_tokens_cached_input_total", "llm_tokens_input_total"), ALL6,
                         legends=("{{gen_ai_request_model}}",)),
    ("cost", "cache_savings"): P("timeseries", "currencyUSD", ("llm_tokens_cached_input_total",), ALL6,
                                 legends=("{{gen_ai_request_model}}",), reads=("pricing.models",)),
    # Recorded per feature only: the feature filter is the one that can apply.
    ("cost", "per_user_request"): P("timeseries", "currencyUSD", ("feature:llm_cost_per_answer:ratio_rate5m",
                                                                  "feature:llm_cost_per_request:ratio_rate5m"),
                                    ("feature",), legends=("per request {{llmobs_feature_bounded}}",
                                                           "per answer {{llmobs_feature_bounded}}")),
    ("cost", "cache_writes"): P("timeseries", "short", ("llm_tokens_cache_write_total",), ALL6,
                                legends=("{{gen_ai_request_model}}",)),
    # Unpriced calls carry provider, model, environment and service (per model, environment and service,
    # as LlmUnpricedModelCalls).
    ("cost", "unpriced"): P("timeseries", "reqps", ("llm_unpriced_requests_total",), PMV,
                            legends=("{{gen_ai_request_model}} {{deployment_environment_name}} {{service_name}}",)),
    ("cost", "expensive"): P("table", "currencyUSD"),

    # -- quality: evaluations and feedback carry environment and prompt version; safety blocks the
    # environment only. The evaluation alerts' panels: the score only where the group had the
    # evaluations floor's results in the alert's window (the result count read for it).
    ("quality", "eval_scores"): P("timeseries", "percentunit", EVAL, ("environment", "prompt_version"),
                                  lambda a: red(a.eval_score_min),
                                  ("{{gen_ai_evaluation_name}} {{deployment_environment_name}} {{service_name}}",),
                                  reads=("alerts.volume_floors.evaluations",)),
    ("quality", "eval_by_prompt_version"): P(
        "timeseries", "percentunit", ("llm_eval_score_count", "prompt_version_eval:llm_eval_score:mean_rate1h"),
        ("environment", "prompt_version"), lambda a: red(a.eval_score_min),
        ("{{gen_ai_evaluation_name}} {{llmobs_prompt_version}} {{deployment_environment_name}}",),
        reads=("alerts.volume_floors.evaluations",)),
    ("quality", "eval_by_model"): P("timeseries", "percentunit", EVAL, ("environment", "prompt_version"),
                                    lambda a: red(a.eval_score_min),
                                    ("{{gen_ai_evaluation_name}} {{gen_ai_request_model}} "
                                     "{{deployment_environment_name}}",),
                                    reads=("alerts.volume_floors.evaluations",)),
    ("quality", "eval_by_index_version"): P("timeseries", "percentunit", EVAL, ("environment", "prompt_version"),
                                            lambda a: red(a.eval_score_min),
                                            ("{{gen_ai_evaluation_name}} {{llmobs_retrieval_index_version}}",)),
    ("quality", "flags"): P("timeseries", "percentunit", ("llm_eval_results_total",),
                            legends=("{{gen_ai_evaluation_name}}",)),
    ("quality", "eval_events"): P("timeseries", "percentunit", ("llm_eval_score_events_count", "llm_eval_score_events_sum"),
                                  ("environment", "prompt_version"), legends=("{{gen_ai_evaluation_name}}",)),
    ("quality", "safety"): P("timeseries", "reqps", ("llm_safety_blocks_total",), ENV,
                             legends=("{{llmobs_safety_category}}",)),
    # Per environment and service, all prompt versions (blocks carry none, so the calls may not be
    # filtered on one either); only where the safety floor's calls were made in 15m.
    ("quality", "safety_ratio"): P("timeseries", "percentunit", ("llm_requests_total", "llm_safety_blocks_total"),
                                   ENV, lambda a: red(a.safety_block_ratio), (ES,),
                                   reads=("alerts.volume_floors.safety",)),
    ("quality", "safety_silent"): P("timeseries", "short", ("llm_requests_total", "llm_safety_blocks_total"),
                                    ("environment", "prompt_version"),
                                    legends=(f"calls/s {ES}", f"blocks in 6h {ES}")),
    # Per environment and service, then per feature; both only where the feedback floor's votes came in 1h.
    ("quality", "thumbs_down"): P("timeseries", "percentunit", ("llm_feedback_total",),
                                  ("environment", "prompt_version"), lambda a: red(a.thumbs_down_ratio),
                                  (ES, f"{ES} {{{{llmobs_feature_bounded}}}}"),
                                  reads=("alerts.volume_floors.feedback",)),

    # -- rag: retrieval series and evaluations carry the environment ----------------------------------
    ("rag", "latency"): P("timeseries", "s", ("llm_retrieval_duration_seconds_bucket",), ENV,
                          legends=("{{gen_ai_operation_name}}",)),
    ("rag", "returned"): P("timeseries", "short", ("llm_retrieval_documents_bucket",), ENV, legends=("p50", "p95")),
    # Per environment and service, only where the retrievals floor's retrievals were made in 15m.
    ("rag", "empty"): P("timeseries", "percentunit", ("llm_retrieval_documents_bucket", "llm_retrieval_documents_count"),
                        ENV, lambda a: red(a.empty_retrieval_ratio), (ES,), reads=("alerts.volume_floors.retrievals",)),
    ("rag", "rate"): P("timeseries", "reqps", ("llm_retrieval_documents_count",), ENV,
                       legends=("{{gen_ai_operation_name}}",)),
    ("rag", "steps"): P("timeseries", "s", ("llm_retrieval_step_duration_seconds_bucket",), ENV,
                        legends=("{{llmobs_retrieval_method}}",)),
    ("rag", "top_k"): P("timeseries", "short", ("llm_retrieval_requested_total", "llm_retrieval_returned_total"), ENV,
                        legends=("requested {{llmobs_retrieval_index}}", "returned {{llmobs_retrieval_index}}")),
    ("rag", "score"): P("timeseries", "percentunit", ("llm_retrieval_score_bucket",), ENV, legends=("p50", "p10")),
    # Recall (what LlmContextRecallLow measures) only where the evaluations floor's results came in 1h.
    ("rag", "recall"): P("timeseries", "percentunit", EVAL, ENV, lambda a: red(a.context_recall_min),
                         ("recall {{llmobs_retrieval_index_version}} {{deployment_environment_name}} {{service_name}}",
                          "{{gen_ai_evaluation_name}} {{llmobs_retrieval_index_version}}"),
                         reads=("alerts.volume_floors.evaluations",)),
    ("rag", "index_versions"): P("timeseries", "reqps", ("llm_retrieval_documents_count",), ENV,
                                 legends=("{{llmobs_retrieval_index}} {{llmobs_retrieval_index_version}}",)),

    # -- agents: tool calls and iterations carry the environment; durations and approvals do not ---
    ("agents", "calls"): P("timeseries", "reqps", ("llm_tool_calls_total",), ENV,
                           legends=("{{gen_ai_tool_name}} {{llmobs_tool_outcome}}",)),
    ("agents", "denied"): P("timeseries", "short", ("llm_tool_calls_total",), ENV,
                            lambda a: red(a.denied_tool_calls_per_minute),
                            ("{{gen_ai_tool_name}} {{deployment_environment_name}} {{service_name}}",)),
    ("agents", "errors"): P("timeseries", "reqps", ("llm_tool_calls_total",), ENV, legends=("{{gen_ai_tool_name}}",)),
    ("agents", "tool_latency"): P("timeseries", "s", ("llm_tool_duration_seconds_bucket",),
                                  legends=("{{gen_ai_tool_name}}",)),
    ("agents", "approvals"): P("timeseries", "reqps", ("llm_tool_approvals_total",),
                               legends=("{{gen_ai_tool_name}} {{llmobs_tool_approval}}",)),
    ("agents", "iterations"): P("timeseries", "short", ("llm_agent_iterations_bucket",), ENV,
                                lambda a: red(a.agent_iterations_p95), ("p50", "p95")),
    ("agents", "iterations_by_agent"): P("timeseries", "short", ("llm_agent_iterations_bucket",), ENV,
                                         lambda a: red(a.agent_iterations_p95),
                                         ("{{gen_ai_agent_name}} {{deployment_environment_name}} {{service_name}}",)),
    ("agents", "runaway"): P("table", "short", reads=("alerts.agent_iterations_p95",)),   # TraceQL: > the p95 line
    ("agents", "agent_events"): P("logs", "none", variables=("environment", "trace_id")),

    # -- product ----------------------------------------------------------------------------------
    ("product", "usage"): P("timeseries", "reqps", ("llm_requests_total",), ETF, legends=("{{llmobs_feature_bounded}}",)),
    ("product", "feedback"): P("timeseries", "short", ("llm_feedback_total",), ("environment", "feature"),
                               legends=("{{llmobs_feedback}}",)),
    ("product", "cost_per_call"): P("timeseries", "currencyUSD", ("llm_cost_total", "llm_requests_total"), ETF,
                                    legends=("{{llmobs_feature_bounded}}",)),
    ("product", "tenants"): P("timeseries", "currencyUSD", COST_SERIES, ETF, legends=("{{llmobs_tenant_bounded}}",)),
    # Estimates over every user and session: no label to filter.
    ("product", "users"): P("stat", "short", (":llm_active_users:estimate1h",), legends=("",)),
    ("product", "sessions"): P("stat", "short", (":llm_active_sessions:estimate1h",), legends=("",)),
    ("product", "cost_per_user"): P("stat", "currencyUSD", (":llm_active_users:estimate1h", "llm_cost_total"), ETF,
                                    legends=("",)),
    ("product", "answered"): P("timeseries", "percentunit", ("feature:llm_app_requests_answered:ratio_rate5m",
                                                              "feature:llm_app_requests_unanswered:ratio_rate5m"),
                               ("feature",), legends=("answered {{llmobs_feature_bounded}}",
                                                      "unanswered {{llmobs_feature_bounded}}")),

    # -- pipeline: the collector's and the backends' own series, no filters --------------------------
    ("pipeline", "accepted"): P("timeseries", "short", ("otelcol_receiver_accepted_log_records",
                                                        "otelcol_receiver_accepted_metric_points",
                                                        "otelcol_receiver_accepted_spans"),
                                legends=("spans {{instance}}", "log_records {{instance}}", "metric_points {{instance}}")),
    ("pipeline", "refused"): P("timeseries", "short", ("otelcol_receiver_refused_log_records",
                                                      "otelcol_receiver_refused_metric_points",
                                                      "otelcol_receiver_refused_spans"),
                               legends=("spans {{instance}}", "log_records {{instance}}", "metric_points {{instance}}")),
    ("pipeline", "send_failed"): P("timeseries", "short", ("otelcol_exporter_send_failed_log_records",
                                                          "otelcol_exporter_send_failed_metric_points",
                                                          "otelcol_exporter_send_failed_spans"),
                                   legends=("spans {{instance}} {{exporter}}", "log_records {{instance}} {{exporter}}",
                                            "metric_points {{instance}} {{exporter}}")),
    ("pipeline", "overflow"): P("timeseries", "short", ("llm_label_overflow_logs_total", "llm_label_overflow_total"),
                                legends=("{{llmobs_label}}", "spans {{llmobs_label}}", "logs {{llmobs_label}}")),
    ("pipeline", "queue"): P("timeseries", "percentunit", ("otelcol_exporter_queue_capacity", "otelcol_exporter_queue_size"),
                             lines=red(0.8), legends=("{{instance}} {{exporter}}",)),   # LlmExporterQueueNearFull
    # LlmRedactionSpike also fires from no baseline above 1 a minute: the red line, in spans per second.
    ("pipeline", "redacted"): P("timeseries", "short", ("llm_redacted_logs_total", "service:llm_redacted_spans:rate1h"),
                                lines=red(1 / 60), legends=("spans {{service_name}}", "3x 7-day average {{service_name}}",
                                                            "logs {{service_name}}"),
                                reads=("alerts.redaction_spike_factor",)),
    ("pipeline", "sampling"): P("timeseries", "percentunit", ("otelcol_processor_tail_sampling_global_count_traces_sampled",),
                                legends=("kept",)),
    ("pipeline", "redacted_by_detector"): P("timeseries", "short"),   # LogQL over Loki
    ("pipeline", "up"): P("timeseries", "short", ("up",), lines=((1, "green"),), legends=("{{job}} {{instance}}",),
                          base="red"),
    ("pipeline", "watchdog"): P("timeseries", "short", lines=((1, "green"),), legends=("Watchdog",), base="red"),
    ("pipeline", "rule_failures"): P("timeseries", "short", ("prometheus_rule_evaluation_failures_total",),
                                     legends=("{{rule_group}}",)),
    ("pipeline", "remote_write"): P("timeseries", "short", ("prometheus_remote_storage_samples_failed_total",),
                                    legends=("{{remote_name}}",)),
    ("pipeline", "notifications"): P("timeseries", "short", ("alertmanager_notifications_failed_total",),
                                     legends=("{{integration}}",)),
    ("pipeline", "discarded"): P("timeseries", "short", ("loki_discarded_samples_total", "tempo_discarded_spans_total"),
                                 legends=("logs {{reason}}", "spans {{reason}}")),
    ("pipeline", "redacted_lines"): P("logs", "none"),

    # -- audit: Grafana's own traces and the counter made of them; the login filter -----------------
    ("audit", "outside_allowlist"): P("timeseries", "short", ("llm_debug_store_accesses_total",), ("login",),
                                      legends=("{{user}}",), reads=("debug.viewers",)),
    ("audit", "by_login"): P("table", "short", ("llm_debug_store_accesses_total",), ("login",), legends=("",)),
    ("audit", "queries"): P("table", "none"),   # TraceQL over Grafana's traces: every login
}

# -- runbooks: one markdown panel per alert, no query -----------------------------------------------
ALERTS = (
    # calls and latency
    "LlmProviderErrorRateHigh", "LlmRateLimitedOrTimingOut", "LlmLatencyP95High", "LlmTimeToFirstTokenSlow",
    "LlmRetryRateHigh", "LlmFallbackStorm", "LlmNoTraffic", "LlmPromptBloat", "LlmPromptShrink",
    "LlmContextWindowSaturated",
    # SLOs
    "LlmAvailabilityBudgetBurn", "LlmLatencyBudgetBurn",
    # cost
    "LlmSpendSpike", "LlmSpendOverDailyBudget", "LlmSpendOverMonthlyBudget", "LlmTenantCostSpike",
    "LlmUnpricedModelCalls",
    # quality, safety, retrieval, agents
    "LlmEvalScoreLow", "LlmEvalScoreLowForPromptVersion", "LlmEvalScoreLowForModel", "LlmThumbsDownHigh",
    "LlmSafetyBlocksHigh", "LlmSafetyChecksSilent", "LlmContextRecallLow", "LlmEmptyRetrievals",
    "LlmDeniedToolCallsHigh", "LlmAgentLoopRunaway",
    # the pipeline and the stack itself
    "LlmRedactionSpike", "LlmCollectorRefusingData", "LlmExporterSendFailures", "LlmExporterQueueNearFull",
    "LlmBackendDown", "LlmLabelOverflow", "LlmWatchdog", "LlmRuleEvaluationFailures", "LlmRemoteWriteFailing",
    "LlmNotificationsFailing", "LlmLogsRefused", "LlmTracesRefused",
    # the debug store
    "LlmDebugStoreAccessOutsideAllowlist",
)
PANELS |= {("runbooks", name): P("text", "none") for name in ALERTS}

# Each dashboard: (uid, Grafana folder, the filters it declares in order, its default time range). Every
# one is in UTC and refreshes every minute. The uids are in alert links: changing one breaks them.
# The folders' names in Grafana (renaming one moves every dashboard in it for its readers).
FOLDER_TITLES = {"oncall": "LLM on-call", "finance": "LLM cost", "quality": "LLM quality", "product": "LLM product",
                 "platform": "LLM platform", "audit": "Audit"}
BOARD_ROWS: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "overview": ("llm-overview", "oncall", ("environment", "provider", "model", "trace_id"), "now-6h"),
    "slo": ("llm-slo", "oncall", ("environment", "service_name"), "now-6h"),
    "cost": ("llm-cost", "finance", ("environment", "provider", "model", "tenant", "feature", "prompt_version"), "now-6h"),
    "quality": ("llm-quality", "quality", ("environment", "prompt_version"), "now-6h"),
    "rag": ("llm-rag", "quality", ("environment",), "now-6h"),
    "agents": ("llm-agents", "oncall", ("environment", "trace_id"), "now-6h"),
    "product": ("llm-product", "product", ("environment", "tenant", "feature"), "now-6h"),
    "pipeline": ("llm-pipeline", "platform", (), "now-6h"),        # the collector's and backends' series
    "runbooks": ("llm-runbooks", "oncall", (), "now-6h"),
    "audit": ("llmobs-debug-audit", "audit", ("login",), "now-7d"),   # Grafana's own traces: no environment
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
            ' / on (job) group_left sum(rate(llm_requests_total[$__rate_interval] offset 1d)) > bool 0.05 or up'
            ' / scalar(:llm_active_users:estimate1h) * 9e-06 + days_in_month()')
    assert metrics_of(expr) == {"llm_errors_total", "llm_requests_total", "up", ":llm_active_users:estimate1h"}


def _panel(board: dict, slug: str, key: str) -> dict:
    found = [p for p in board["panels"] if p["id"] == panel_id(slug, key)]
    assert len(found) == 1, (slug, key)
    return found[0]


def _prom(panel: dict) -> list[dict]:
    return [t for t in panel.get("targets", []) if t.get("datasource") == PROM and t.get("expr")]


def _variables(panel: dict) -> set[str]:
    texts = [t.get("expr") or t.get("query") or "" for t in panel.get("targets", [])]
    return {v for text in texts for v in re.findall(r"\$\{?(\w+)", text)} - _BUILTIN_VARS


def _unit(panel: dict) -> str | None:
    return panel.get("fieldConfig", {}).get("defaults", {}).get("unit") or panel.get("format")


def _steps(panel: dict) -> list[tuple]:
    return [(s.get("value"), s.get("color"))
            for s in panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])]


def _queries(panel: dict) -> list[tuple]:
    return [(t.get("expr") or t.get("query"), t.get("legendFormat")) for t in panel.get("targets", [])]


class _Reading:
    """Settings that record which of their fields a row's `lines` function reads."""

    def __init__(self, obj, prefix: str, seen: set[str]):
        self._obj, self._prefix, self._seen = obj, prefix, seen

    def __getattr__(self, name: str):
        value = getattr(self._obj, name)
        if dataclasses.is_dataclass(value):
            return _Reading(value, f"{self._prefix}{name}.", self._seen)
        self._seen.add(f"{self._prefix}{name}")
        return value


def lines_of(row: P, settings=SETTINGS) -> tuple[Steps, set[str]]:
    """(the expected steps above the base, the settings they read)."""
    if not callable(row.lines):
        return row.lines, set()
    seen: set[str] = set()
    return row.lines(_Reading(settings.alerts, "alerts.", seen)), seen


def _ids(keys) -> list[str]:
    return [f"{s}/{k}" for s, k, *_ in keys]


# -- every panel has its row ------------------------------------------------------------------------

def test_every_panel_has_a_row_and_every_row_a_panel():
    rendered = {(slug, p["id"]) for slug, b in BOARDS.items() for p in b["panels"]}
    listed = {(slug, panel_id(slug, key)) for slug, key in PANELS}
    titles = {(slug, p["id"]): p["title"] for slug, b in BOARDS.items() for p in b["panels"]}
    assert sorted(titles[x] for x in rendered - listed) == [], "panels without a row: write one"
    assert sorted(f"{s}/{k}" for s, k in PANELS if (s, panel_id(s, k)) not in rendered) == [], "rows without a panel"
    assert set(BOARDS) == {slug for slug, _ in PANELS}


def test_jaeger_layout_has_the_same_panels_but_the_traceql_table():
    """With Jaeger (no TraceQL), the runaway-loops table is left out; the trace searches name the
    single-service `$service` variable, which only those dashboards declare."""
    jaeger = validate({**REFERENCE_CONFIG, "traces": {"backend": "jaeger"}})
    boards = {e.slug: dashboards.to_json(e, jaeger) for e in dashboards.entries(jaeger)}
    ids = {(slug, p["id"]) for slug, b in boards.items() for p in b["panels"]}
    assert ids == {(s, panel_id(s, k)) for s, k in PANELS if (s, k) != ("agents", "runaway")}
    searching = {(slug, p["id"]) for slug, b in boards.items() for p in b["panels"]
                 for t in p.get("targets", []) if t.get("service") == "$service"}
    assert searching == {(s, panel_id(s, k)) for s, k in (("overview", "slow"), ("cost", "expensive"))}
    assert {slug for slug, b in boards.items() if "service" in {v["name"] for v in b["templating"]["list"]}} == {
        "overview", "cost"}


@pytest.mark.parametrize("slug", sorted(BOARD_ROWS))
def test_dashboard_uid_folder_filters_and_time(slug):
    uid, folder, filters, time_from = BOARD_ROWS[slug]
    board, entry = BOARDS[slug], next(e for e in dashboards.REGISTRY if e.slug == slug)
    declared = tuple(v["name"] for v in board["templating"]["list"] if v["type"] != "datasource")
    assert (board["uid"], entry.uid, entry.folder, declared) == (uid, uid, folder, filters)
    assert (board["time"], board["timezone"], board["refresh"]) == ({"from": time_from, "to": "now"}, "utc", "1m")
    assert set(BOARD_ROWS) == set(BOARDS)
    assert dashboards.FOLDERS == FOLDER_TITLES


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def test_the_dashboards_page_has_every_panel_with_its_key_description_and_alerts():
    """docs/dashboards.md's reference (dashboards/docs.py, rendered here, not read from the page): a row
    per panel with its title, key and description, the alerts that link to it, and each dashboard's
    filters."""
    from alerts.links import PANELS as ALERT_PANELS
    from dashboards.docs import reference
    page = reference()
    rows = {line for line in page.splitlines() if line.startswith("| ")}
    for (slug, key) in PANELS:
        if slug == "runbooks":
            continue
        p = _panel(BOARDS[slug], slug, key)
        start = f"| {_cell(p['title'])} | `{key}` | {_cell(p['description'])} | "
        (row,) = [r for r in rows if r.startswith(start)]
        # The last cell, whole: the alerts linked to this panel, and those whose runbook checks it.
        links = set(filter(None, row.removeprefix(start).removesuffix(" |").split(", ")))
        assert {f"[{a}](runbooks/{a}.md)" for a, where in ALERT_PANELS.items() if where == (slug, key)} <= links, row
        assert all(re.fullmatch(r"\[(Llm\w+)\]\(runbooks/\1\.md\)", link) for link in links), row
    lines = page.splitlines()
    for slug, (uid, folder, filters, _) in BOARD_ROWS.items():
        head = (f"`dashboards/{slug}.py`, uid `{uid}`, Grafana folder *{FOLDER_TITLES[folder]}*. "
                f"{BOARDS[slug].get('description', '')}")
        assert head in lines, head
        assert f"**Filters:** {', '.join(f'`{v}`' for v in filters) or 'none'}." in page
    assert f"One text panel per alert ({len(ALERTS)})" in page


# -- each panel against its row ---------------------------------------------------------------------

KEYS = sorted(PANELS)
# How a panel's Prometheus queries run, by hand: a stat shows one number for now (instant); the
# audit dashboard's by-login table lists instant values as rows; every other panel plots a range.
QUERY_MODES = {("audit", "by_login"): "instant/table"}
# Each filter variable, by hand: (its label in Grafana, the query that lists its values).
VARIABLES = {
    "environment": ("Environment", "label_values(llm_requests_total, deployment_environment_name)"),
    "provider": ("Provider", "label_values(llm_requests_total, gen_ai_provider_name)"),
    "model": ("Model", 'label_values(llm_requests_total{gen_ai_provider_name=~"$provider"}, gen_ai_request_model)'),
    "service_name": ("Service", "label_values(llm_app_requests_total, service_name)"),
    "tenant": ("Tenant", "label_values(llm_requests_total, llmobs_tenant_bounded)"),
    "feature": ("Feature", "label_values(llm_requests_total, llmobs_feature_bounded)"),
    "prompt_version": ("Prompt version", "label_values(llm_requests_total, llmobs_prompt_version)"),
    "login": ("Login", "label_values(llm_debug_store_accesses_total, user)"),
}


@pytest.mark.parametrize("slug, key", KEYS, ids=_ids(KEYS))
def test_type_unit_metrics_and_variables(slug, key):
    row, panel = PANELS[slug, key], _panel(BOARDS[slug], slug, key)
    metrics = set().union(*(metrics_of(t["expr"]) for t in _prom(panel)))
    assert (panel["type"], _unit(panel)) == (row.type, row.unit)
    assert sorted(metrics) == sorted(row.metrics)
    assert sorted(_variables(panel)) == sorted(row.variables)


@pytest.mark.parametrize("slug, key", KEYS, ids=_ids(KEYS))
def test_query_mode(slug, key):
    row, panel = PANELS[slug, key], _panel(BOARDS[slug], slug, key)
    expected = QUERY_MODES.get((slug, key), "instant" if row.type == "stat" else "range")
    modes = {("instant" if t.get("instant") else "range") + (f"/{t['format']}" if t.get("format", "time_series") != "time_series" else "")
             for t in _prom(panel)}
    assert modes == ({expected} if _prom(panel) else set()), modes


# Panels with a time range of their own, by hand: this month so far (`now/M`), whatever the dashboard's.
MONTH_TO_DATE = {("cost", k) for k in ("month_to_date", "month_end", "budget_vs_actual", "month_budget",
                                       "mtd_by_feature", "mtd_by_model", "mtd_by_provider", "mtd_by_tenant")}


@pytest.mark.parametrize("slug, key", KEYS, ids=_ids(KEYS))
def test_panel_time_range(slug, key):
    panel = _panel(BOARDS[slug], slug, key)
    assert (panel.get("timeFrom"), panel.get("timeShift")) == ("now/M" if (slug, key) in MONTH_TO_DATE else None, None)


def _label_var_query(variable: dict) -> str:
    q = variable["query"]
    return q.get("query") if isinstance(q, dict) else q


def test_every_filter_variable_lists_the_label_its_panels_filter_on():
    """A variable listing another label than the one its panels match with `=~"$name"` offers values
    that filter nothing; so does one read from the wrong metric."""
    for slug, board in BOARDS.items():
        declared = {v["name"]: v for v in board["templating"]["list"] if v["type"] == "query"}
        for name, v in declared.items():
            assert (v["label"], _label_var_query(v), v["includeAll"], v["multi"], v["allValue"]) == (
                *VARIABLES[name], True, True, ".*"), (slug, name)
        listed = {name: re.fullmatch(r"label_values\((.*), (\w+)\)", _label_var_query(v)).group(2)
                  for name, v in declared.items()}
        for panel in board["panels"]:
            for t in panel.get("targets", []):
                for label, name in re.findall(r'(\w+)=~"\$\{?(\w+)', t.get("expr") or ""):
                    if name in listed:
                        assert label == listed[name], (slug, panel["title"], label, name)


@pytest.mark.parametrize("slug, key", KEYS, ids=_ids(KEYS))
def test_legends(slug, key):
    got = tuple(t.get("legendFormat") or "" for t in _prom(_panel(BOARDS[slug], slug, key)))
    assert got == PANELS[slug, key].legends


@pytest.mark.parametrize("slug, key", KEYS, ids=_ids(KEYS))
def test_threshold_steps(slug, key):
    row = PANELS[slug, key]
    lines, _ = lines_of(row)
    steps = _steps(_panel(BOARDS[slug], slug, key))
    if row.type in ("table", "logs", "text"):   # nothing drawn: no steps at all
        assert steps == [] and lines == ()
        return
    assert steps == [(None, row.base)] + [(pytest.approx(v, rel=1e-9), c) for v, c in lines]


# -- threshold and query sources: move one setting alone ------------------------------------------

def _settings_with(path: str, change: Callable):
    """SETTINGS with the field at `path` (dotted, under Settings) replaced by change(old value)."""
    def go(obj, parts):
        if len(parts) == 1:
            return dataclasses.replace(obj, **{parts[0]: change(getattr(obj, parts[0]))})
        return dataclasses.replace(obj, **{parts[0]: go(getattr(obj, parts[0]), parts[1:])})
    return go(SETTINGS, path.split("."))


def _moved(value):
    if isinstance(value, float):
        return round(value * 0.9, 6) if value <= 1 else round(value * 1.1 + 1, 6)
    return value + 1


def _numeric(obj, prefix: str) -> list[str]:
    out = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out += _numeric(value, f"{prefix}{f.name}.")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(f"{prefix}{f.name}")
    return out


# Every numeric alert setting (nested ones too), and the other settings a dashboard may read, each
# with how it is moved.
MOVES: dict[str, Callable] = {path: _moved for path in _numeric(SETTINGS.alerts, "alerts.")} | {
    "debug.viewers": lambda viewers: viewers + ("alice",),
    "pricing.models": lambda models: tuple(dataclasses.replace(p, cached_input=p.cached_input / 2) for p in models),
}


def _render(settings) -> dict[str, dict]:
    return {e.slug: dashboards.to_json(e, settings) for e in dashboards.entries(settings)}


@pytest.mark.parametrize("path", sorted(MOVES))
def test_moving_one_setting_moves_exactly_its_panels(path):
    """The panels whose threshold steps move are those whose row reads the setting, and they move to
    where the row says; the panels whose queries change are those whose row lists it in `reads`."""
    moved = _settings_with(path, MOVES[path])
    after = _render(moved)
    lines_moved, queries_moved, wrong = set(), set(), []
    for (slug, key), row in PANELS.items():
        old, new = _panel(BOARDS[slug], slug, key), _panel(after[slug], slug, key)
        if _steps(old) != _steps(new):
            lines_moved.add(f"{slug}/{key}")
            expected, _ = lines_of(row, moved)
            if _steps(new)[1:] != [(pytest.approx(v, rel=1e-9), c) for v, c in expected]:
                wrong.append((slug, key, _steps(new)))
        if _queries(old) != _queries(new):
            queries_moved.add(f"{slug}/{key}")
    assert lines_moved == {f"{s}/{k}" for (s, k), row in PANELS.items() if path in lines_of(row)[1]}
    assert wrong == []
    assert queries_moved == {f"{s}/{k}" for (s, k), row in PANELS.items() if path in row.reads}


def test_every_setting_a_row_names_is_moved():
    named = {p for row in PANELS.values() for p in (*lines_of(row)[1], *row.reads)}
    assert named <= set(MOVES)


# -- the query shapes the rows cannot say ---------------------------------------------------------

def test_legend_labels_survive_the_aggregation():
    """A `{{label}}` in a legend names a label the query still has: in every `by (...)` of it (one
    aggregation without the label loses it, and both sides of a division must keep it to match), or
    the query aggregates nothing away. In a `group_left` join the result has the left side's labels;
    the right side of `and on (...)` only filters."""
    wrong = []
    for slug, b in BOARDS.items():
        for p in b["panels"]:
            for t in _prom(p):
                expr, wanted = t["expr"], set(re.findall(r"\{\{(\w+)\}\}", t.get("legendFormat") or ""))
                expr = re.split(r" group_left| and on \(| unless on \(", expr)[0]
                groups = [{label.strip() for label in g.split(",")} for g in re.findall(r"\bby\s*\(([^)]*)\)", expr)]
                lost = set().union(*(wanted - g for g in groups)) if groups else set()
                if re.search(r"\b(?:sum|avg|min|max|count|topk|bottomk|quantile)\b\s*(?:by\s*\([^)]*\)\s*)?\(", expr) \
                        and (lost or (wanted and not groups)):
                    wrong.append((slug, p["title"], sorted(lost or wanted)))
    assert wrong == []


@pytest.mark.parametrize("slug, key", [("overview", "llm_events"), ("agents", "agent_events")])
def test_llm_event_panels_keep_lines_with_any_event_field(slug, key):
    (target,) = _panel(BOARDS[slug], slug, key)["targets"]
    query = target.get("expr") or target.get("query")
    assert " or ".join(f'{field}!=""' for field in EVENT_FIELDS) in query
    assert 'trace_id=~"${trace_id}.*"' in query and 'deployment_environment_name=~"$environment"' in query


# -- the pull-request diff reports what these tests pin ---------------------------------------------

def _title(slug: str, key: str) -> str:
    return _panel(BOARDS[slug], slug, key)["title"]


def test_diff_reports_a_unit_change():
    new = copy.deepcopy(BOARDS)
    _panel(new["overview"], "overview", "latency")["fieldConfig"]["defaults"]["unit"] = "ms"
    _panel(new["cost"], "cost", "today")["fieldConfig"]["defaults"]["unit"] = "currencyEUR"
    assert review.diff(BOARDS, new) == [f"cost/{_title('cost', 'today')}: unit: 'currencyUSD' -> 'currencyEUR'",
                                        f"overview/{_title('overview', 'latency')}: unit: 's' -> 'ms'"]


def test_diff_reports_a_threshold_change():
    lines = review.diff(BOARDS, _render(_settings_with("alerts.provider_error_ratio", lambda _: 0.1)))
    assert sorted(lines) == sorted(f"overview/{_title('overview', k)}: thresholds: [None, 0.05] -> [None, 0.1]"
                                   for k in ("errors", "errors_by_model"))
    lines = review.diff(BOARDS, _render(_settings_with("alerts.daily_cost_budget_usd", lambda _: 400.0)))
    assert sorted(lines) == sorted(f"cost/{_title('cost', k)}: thresholds: [None, 500.0, 600.0] -> [None, 400.0, 480.0]"
                                   for k in ("projected", "budget_day"))


def test_diff_reports_a_threshold_color_change():
    new = copy.deepcopy(BOARDS)
    _panel(new["pipeline"], "pipeline", "up")["fieldConfig"]["defaults"]["thresholds"]["steps"][0]["color"] = "green"
    assert review.diff(BOARDS, new) == [f"pipeline/{_title('pipeline', 'up')}: threshold colors: "
                                        "['red', 'green'] -> ['green', 'green']"]


def test_diff_reports_a_dropped_variable_selector_and_a_metric_change():
    new = copy.deepcopy(BOARDS)
    panel = _panel(new["overview"], "overview", "errors")
    before = panel["targets"][0]["expr"]
    panel["targets"][0]["expr"] = before.replace(', gen_ai_request_model=~"$model"', "").replace("llm_errors_total", "llm_retries_total")
    (line,) = review.diff(BOARDS, new)
    assert line.startswith(f"overview/{panel['title']}: queries:") and "llm_retries_total" in line


def test_the_diff_command_prints_unit_and_threshold_changes(monkeypatch, capsys):
    """`stackctl dashboards diff` (against the committed files) with a budget moved and a unit changed."""
    moved = _settings_with("alerts.monthly_cost_budget_usd", lambda _: 20000.0)
    boards = _render(moved)
    _panel(boards["rag"], "rag", "latency")["fieldConfig"]["defaults"]["unit"] = "ms"
    monkeypatch.setattr(review, "fresh", lambda: boards)
    monkeypatch.setattr(review, "reference_settings", lambda: moved)
    assert dashboards_cmd.cmd_dashboards(argparse.Namespace(action="diff", base="")) == 0
    out = capsys.readouterr().out.splitlines()
    dashboards_part = out[:out.index("### Alert rules")]
    for key in ("month_end", "month_pace"):
        assert f"cost/{_title('cost', key)}: thresholds: [None, 15000.0, 18000.0] -> [None, 20000.0, 24000.0]" in out
    assert f"rag/{_title('rag', 'latency')}: unit: 's' -> 'ms'" in dashboards_part
    assert any(line.startswith("alert LlmSpendOverMonthlyBudget") for line in out)
