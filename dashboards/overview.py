"""LLM overview, for on-call: is the LLM path healthy right now, and where does it hurt?"""
from __future__ import annotations

from dashboards.common import SEL_ENV, SEL_PM, dashboard, llm_events_query, traces_type
from dashboards.helpers import PM, RATE, Board, panel_id, quantiles, target, trace_target
from settings import Settings

SLUG, UID, FOLDER = "overview", "llm-overview", "oncall"
THROTTLED = 'error_type=~"rate_limited|timeout|overloaded"'


def _share(numerator: str, by: str = PM) -> str:
    """A counter's share of LLM calls, per `by`."""
    return (f"sum by ({by}) (rate({numerator}[{RATE}])) / "
            f"sum by ({by}) (rate(llm_requests_total{{{SEL_PM}}}[{RATE}]))")


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
                 quantiles("gen_ai_client_operation_duration_seconds", (0.5, 0.95, 0.99), sel=SEL_PM),
                 thresholds=[(a.latency_p95_seconds, "red")],
                 links=[{"title": "Slow traces", "url": f"/d/{UID}?viewPanel={panel_id(SLUG, 'slow')}&${{__url_time_range}}"}])
    # What the per-model alerts measure, line for line (their panels): ratio and p95 per model.
    b.timeseries("errors_by_model", "Error ratio by model",
                 "Share of each model's calls that failed over 5m, as LlmProviderErrorRateHigh measures it; the line "
                 "is its threshold.", "percentunit",
                 [target(f"sum by ({PM}) (rate(llm_errors_total{{{SEL_PM}}}[5m])) / "
                         f"sum by ({PM}) (rate(llm_requests_total{{{SEL_PM}}}[5m]))",
                         "{{gen_ai_provider_name}} {{gen_ai_request_model}}")],
                 thresholds=[(a.provider_error_ratio, "red")])
    b.timeseries("latency_by_model", "Latency p95 by model",
                 "p95 call duration per model over 5m, as LlmLatencyP95High measures it; the line is its threshold.",
                 "s", [target(f"histogram_quantile(0.95, sum by (le, {PM}) "
                              f"(rate(gen_ai_client_operation_duration_seconds_bucket{{{SEL_PM}}}[5m])))",
                              "{{gen_ai_provider_name}} {{gen_ai_request_model}}")],
                 thresholds=[(a.latency_p95_seconds, "red")])
    b.timeseries("ttft", "Time to first token p95 by model",
                 "Streaming calls: p95 time until the first token; the line is the alert threshold.", "s",
                 quantiles("llm_time_to_first_token_seconds", by=PM, sel=SEL_PM, legend="{{gen_ai_request_model}}"),
                 thresholds=[(a.ttft_p95_seconds, "red")])
    b.timeseries("tokens_per_request", "Tokens per call by model",
                 "Input and output tokens per LLM call; prompt bloat shows here first.", "short",
                 [target(f"sum by (gen_ai_request_model) (rate(llm_tokens_input_total{{{SEL_PM}}}[{RATE}])) / "
                         f"sum by (gen_ai_request_model) (rate(llm_requests_total{{{SEL_PM}}}[{RATE}]))", "in {{gen_ai_request_model}}", "A"),
                  target(f"sum by (gen_ai_request_model) (rate(llm_tokens_output_total{{{SEL_PM}}}[{RATE}])) / "
                         f"sum by (gen_ai_request_model) (rate(llm_requests_total{{{SEL_PM}}}[{RATE}]))", "out {{gen_ai_request_model}}", "B")])
    b.timeseries("throttled", "Rate-limited, overloaded and timed-out share",
                 "Share of a model's calls that were rate-limited, overloaded or timed out (retries usually absorb "
                 "them); the line is the alert threshold.", "percentunit",
                 [target(f"sum by ({PM}, error_type) (rate(llm_errors_total{{{SEL_PM}, {THROTTLED}}}[{RATE}])) "
                         f"/ on ({PM}) group_left sum by ({PM}) (rate(llm_requests_total{{{SEL_PM}}}[{RATE}]))",
                         "{{gen_ai_request_model}} {{error_type}}")],
                 thresholds=[(a.throttle_ratio, "red")])
    b.timeseries("retries", "Retry share by model", "Share of a model's LLM calls that were retries; the line is "
                 "the alert threshold.", "percentunit",
                 [target(_share(f"llm_retries_total{{{SEL_PM}}}"), "{{gen_ai_provider_name}} {{gen_ai_request_model}}")],
                 thresholds=[(a.retry_ratio, "red")])
    b.timeseries("fallbacks", "Fallback share by from-model", "Share of all selected LLM calls served by a fallback "
                 "model, by the model they replaced and the one used; the alert fires on their sum above the line.",
                 "percentunit",
                 [target(f"sum by (llmobs_fallback_from_model, gen_ai_request_model) "
                         f"(rate(llm_fallbacks_total{{{SEL_PM}}}[{RATE}])) / scalar(sum(rate(llm_requests_total{{{SEL_PM}}}[{RATE}])))",
                         "{{llmobs_fallback_from_model}} -> {{gen_ai_request_model}}")],
                 thresholds=[(a.fallback_ratio, "red")])
    b.timeseries("context", "Context window utilization p95 by model", "p95 of input tokens over the model's "
                 "context window; the line is the saturation alert threshold.", "percentunit",
                 quantiles("llm_context_utilization", by="gen_ai_request_model", sel=SEL_PM,
                           legend="{{gen_ai_request_model}}"),
                 thresholds=[(a.context_utilization_p95, "red")])
    b.timeseries("outcomes", "User requests by outcome", "User-visible requests (root spans) per second: answered, "
                 "unanswered, refused, error.", "reqps",
                 [target(f"sum by (llmobs_request_outcome) (rate(llm_app_requests_total{{{SEL_ENV}}}[{RATE}]))",
                         "{{llmobs_request_outcome}}")], stack=True)
    b.timeseries("request_latency", "User request latency p95", "End-to-end duration of user-visible requests.", "s",
                 quantiles("llm_app_request_duration_seconds", sel=SEL_ENV))
    b.timeseries("app_http_latency", "App-reported HTTP latency p95 by route (exemplars)",
                 "The application's own http.server.request.duration histogram (its SDK, through the gateway's "
                 "metrics pipeline). Dots are exemplars: click one to open its trace. They appear when the app "
                 "records the histogram inside a sampled span; the gateway's derived metrics carry none.", "s",
                 quantiles("http_server_request_duration_seconds", by="http_route", legend="{{http_route}}",
                           exemplar=True))
    b.timeseries("app_token_usage", "App-reported tokens per call p95 (exemplars)",
                 "The application's gen_ai.client.token.usage histogram by model and token type; dots are exemplars "
                 "linking to the call's trace.", "short",
                 quantiles("gen_ai_client_token_usage", by="gen_ai_request_model, gen_ai_token_type",
                           sel='gen_ai_provider_name=~"$provider", gen_ai_request_model=~"$model"',
                           legend="{{gen_ai_request_model}} {{gen_ai_token_type}}", exemplar=True))
    tt = traces_type(settings)
    slow = f"{a.latency_p95_seconds:g}s"
    query = (f'{{ span.gen_ai.operation.name =~ "chat|text_completion|generate_content" && duration > {slow} }}'
             if tt == "tempo" else slow)
    b.table("slow", "Slow LLM calls (traces)",
            f"Traces with an LLM call slower than {slow} (the p95 threshold). Tempo returns the first matches, "
            "not the slowest: sorted here by duration.", "s", [trace_target(query, tt)], "${traces}")
    b.logs("llm_events", "LLM events of a trace (Loki)",
           "Evaluation results, user feedback and GenAI events the gateway forwarded to Loki, after redaction. "
           "Paste a trace id into the Trace id box to see one request's events; empty shows all.",
           llm_events_query())
    return dashboard(b, "LLM overview", UID, "On-call view of the LLM path: traffic, errors, latency, tokens.",
                     settings, "environment", "provider", "model", "trace_id")
