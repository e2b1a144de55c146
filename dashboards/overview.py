"""LLM overview, for on-call: is the LLM path healthy right now, and where does it hurt?"""
from __future__ import annotations

from dashboards.common import SEL_ENV, SEL_PM, dashboard, traces_type
from dashboards.helpers import PM, RATE, Board, panel_id, target, trace_target
from settings import Settings

SLUG, UID, FOLDER = "overview", "llm-overview", "oncall"


def build(settings: Settings):
    a = settings.alerts
    b = Board(SLUG)
    b.timeseries("requests", "Request rate by model", "LLM calls per second, by provider and model.", "reqps",
                 [target(f"sum by ({PM}) (rate(llm_requests_total{{{SEL_PM}}}[{RATE}]))",
                         "{{gen_ai_provider_name}} {{gen_ai_request_model}}")])
    b.timeseries("errors", "Error ratio by error type and provider",
                 "Share of LLM calls that failed, by error.type; the line is the paging threshold.", "percentunit",
                 [target(f"sum by (gen_ai_provider_name, error_type) (rate(llm_errors_total{{{SEL_PM}}}[{RATE}])) "
                         f"/ on (gen_ai_provider_name) group_left sum by (gen_ai_provider_name) "
                         f"(rate(llm_requests_total{{{SEL_PM}}}[{RATE}]))", "{{gen_ai_provider_name}} {{error_type}}")],
                 thresholds=[(a.provider_error_ratio, "red")])
    b.timeseries("latency", "Latency p50 / p95 / p99",
                 "LLM call duration quantiles over all selected models; the line is the p95 alert threshold. "
                 "Click a point for the slowest traces.", "s",
                 [target(f"histogram_quantile({q}, sum by (le) (rate(gen_ai_client_operation_duration_seconds_bucket"
                         f"{{{SEL_PM}}}[{RATE}])))", f"p{round(q * 100)}", ref) for q, ref in ((0.5, "A"), (0.95, "B"), (0.99, "C"))],
                 thresholds=[(a.latency_p95_seconds, "red")],
                 links=[{"title": "Slow traces", "url": f"/d/{UID}?viewPanel={panel_id(SLUG, 'slow')}&${{__url_time_range}}"}])
    b.timeseries("ttft", "Time to first token p95 by model",
                 "Streaming calls: p95 time until the first token; the line is the alert threshold.", "s",
                 [target(f"histogram_quantile(0.95, sum by (le, {PM}) (rate(llm_time_to_first_token_seconds_bucket"
                         f"{{{SEL_PM}}}[{RATE}])))", "{{gen_ai_request_model}}")],
                 thresholds=[(a.ttft_p95_seconds, "red")])
    b.timeseries("tokens_per_request", "Tokens per call by model",
                 "Input and output tokens per LLM call; prompt bloat shows here first.", "short",
                 [target(f"sum by (gen_ai_request_model) (rate(llm_tokens_input_total{{{SEL_PM}}}[{RATE}])) / "
                         f"sum by (gen_ai_request_model) (rate(llm_requests_total{{{SEL_PM}}}[{RATE}]))", "in {{gen_ai_request_model}}", "A"),
                  target(f"sum by (gen_ai_request_model) (rate(llm_tokens_output_total{{{SEL_PM}}}[{RATE}])) / "
                         f"sum by (gen_ai_request_model) (rate(llm_requests_total{{{SEL_PM}}}[{RATE}]))", "out {{gen_ai_request_model}}", "B")])
    b.timeseries("throttled", "Rate-limited, overloaded and timed-out calls",
                 "Errors that retries usually absorb, per second, by provider.", "reqps",
                 [target(f'sum by (gen_ai_provider_name, error_type) (rate(llm_errors_total{{{SEL_PM}, '
                         f'error_type=~"rate_limited|timeout|overloaded"}}[{RATE}]))', "{{gen_ai_provider_name}} {{error_type}}")])
    b.timeseries("retries", "Retries by model", "LLM calls that were retries, per second; the line is the alert "
                 "threshold as a share of calls.", "reqps",
                 [target(f"sum by ({PM}) (rate(llm_retries_total{{{SEL_PM}}}[{RATE}]))",
                         "{{gen_ai_provider_name}} {{gen_ai_request_model}}")])
    b.timeseries("fallbacks", "Fallback calls by from-model", "Calls served by a fallback model, per second, by the "
                 "model they replaced and the one used.", "reqps",
                 [target(f"sum by (llmobs_fallback_from_model, gen_ai_request_model) "
                         f"(rate(llm_fallbacks_total{{{SEL_PM}}}[{RATE}]))",
                         "{{llmobs_fallback_from_model}} -> {{gen_ai_request_model}}")])
    b.timeseries("context", "Context window utilization p95 by model", "p95 of input tokens over the model's "
                 "context window; the line is the saturation alert threshold.", "percentunit",
                 [target(f"histogram_quantile(0.95, sum by (le, gen_ai_request_model) (rate(llm_context_utilization_bucket"
                         f"{{{SEL_PM}}}[{RATE}])))", "{{gen_ai_request_model}}")],
                 thresholds=[(a.context_utilization_p95, "red")])
    b.timeseries("outcomes", "User requests by outcome", "User-visible requests (root spans) per second: answered, "
                 "unanswered, refused, error.", "reqps",
                 [target(f"sum by (llmobs_request_outcome) (rate(llm_app_requests_total{{{SEL_ENV}}}[{RATE}]))",
                         "{{llmobs_request_outcome}}")], stack=True)
    b.timeseries("request_latency", "User request latency p95", "End-to-end duration of user-visible requests.", "s",
                 [target(f"histogram_quantile(0.95, sum by (le) (rate(llm_app_request_duration_seconds_bucket"
                         f"{{{SEL_ENV}}}[{RATE}])))", "p95")])
    tt = traces_type(settings)
    slow = f"{a.latency_p95_seconds:g}s"
    query = (f'{{ span.gen_ai.operation.name =~ "chat|text_completion|generate_content" && duration > {slow} }}'
             if tt == "tempo" else slow)
    b.table("slow", "Slow LLM calls (traces)",
            f"Traces with an LLM call slower than {slow} (the p95 threshold). Tempo returns the first matches, "
            "not the slowest: sorted here by duration.", "s", [trace_target(query, tt)], "${traces}")
    return dashboard(b, "LLM overview", UID, "On-call view of the LLM path: traffic, errors, latency, tokens.",
                     settings, "environment", "provider", "model")
