"""LLM overview, for on-call: is the LLM path healthy right now, and where does it hurt?"""
from __future__ import annotations

from dashboards.common import SEL_ENV, SEL_PM, dashboard, llm_events_query, traces_type
from dashboards.helpers import PM, RATE, Board, above_floor, floor_note, panel_id, quantiles, target, trace_target
from settings import Settings

SLUG, UID, FOLDER = "overview", "llm-overview", "oncall"
ES = "deployment_environment_name, service_name"
PMES = f"{PM}, {ES}"
WHERE_LEGEND = "{{gen_ai_provider_name}} {{gen_ai_request_model}} {{deployment_environment_name}} {{service_name}}"
THROTTLED = 'error_type=~"rate_limited|timeout|overloaded"'


def build(settings: Settings):
    a, floors = settings.alerts, settings.alerts.volume_floors
    b = Board(SLUG)
    # The ratio alerts' volumes, as they count them (per model, environment and service; per environment
    # and service for fallbacks): their panels draw a ratio only where its volume reached the floor.
    calls_5m = f"sum by ({PMES}) (increase(llm_requests_total{{{SEL_PM}}}[5m]))"
    calls_1h = f"sum by ({PMES}) (increase(llm_requests_total{{{SEL_PM}}}[1h]))"
    env_calls_5m = f"sum by ({ES}) (increase(llm_requests_total{{{SEL_PM}}}[5m]))"
    calls_note = floor_note(floors.calls, "calls of the model, environment and service", "5m")
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
    # The alerts' own series (recording rules per model, environment and service), filtered.
    b.timeseries("errors_by_model", "Error ratio by model",
                 "Share of each model's calls that failed over 5m, per environment and service, as "
                 "LlmProviderErrorRateHigh measures it; the line is its threshold." + calls_note, "percentunit",
                 [target(above_floor(f"provider_model:llm_errors:ratio_rate5m{{{SEL_PM}}}", calls_5m, floors.calls),
                         WHERE_LEGEND)],
                 thresholds=[(a.provider_error_ratio, "red")])
    b.timeseries("latency_by_model", "Latency p95 by model",
                 "p95 call duration per model over 5m, per environment and service, as LlmLatencyP95High measures it; "
                 "the line is its threshold.", "s",
                 [target(f"provider_model:gen_ai_client_operation_duration_seconds:p95_rate5m{{{SEL_PM}}}", WHERE_LEGEND)],
                 thresholds=[(a.latency_p95_seconds, "red")])
    b.timeseries("ttft", "Time to first token p95 by model",
                 "Streaming calls: p95 time until the first token over 5m, per model, environment and service, as "
                 "LlmTimeToFirstTokenSlow measures it; the line is its threshold.", "s",
                 [target(f"provider_model:llm_time_to_first_token_seconds:p95_rate5m{{{SEL_PM}}}", WHERE_LEGEND)],
                 thresholds=[(a.ttft_p95_seconds, "red")])
    b.timeseries("tokens_per_request", "Tokens per call by model",
                 "Input and output tokens per LLM call; prompt bloat shows here first.", "short",
                 [target(f"sum by (gen_ai_request_model) (rate(llm_tokens_input_total{{{SEL_PM}}}[{RATE}])) / "
                         f"sum by (gen_ai_request_model) (rate(llm_requests_total{{{SEL_PM}}}[{RATE}]))", "in {{gen_ai_request_model}}", "A"),
                  target(f"sum by (gen_ai_request_model) (rate(llm_tokens_output_total{{{SEL_PM}}}[{RATE}])) / "
                         f"sum by (gen_ai_request_model) (rate(llm_requests_total{{{SEL_PM}}}[{RATE}]))", "out {{gen_ai_request_model}}", "B")])
    b.timeseries("throttled", "Rate-limited, overloaded and timed-out share",
                 "Share of a model's calls over 5m that were rate-limited, overloaded or timed out (retries usually "
                 "absorb them), per environment and service, as LlmRateLimitedOrTimingOut measures it; the line is "
                 "its threshold." + calls_note, "percentunit",
                 [target(above_floor(f"sum by ({PMES}) (rate(llm_errors_total{{{SEL_PM}, {THROTTLED}}}[5m])) "
                                     f"/ sum by ({PMES}) (rate(llm_requests_total{{{SEL_PM}}}[5m]))",
                                     calls_5m, floors.calls), WHERE_LEGEND)],
                 thresholds=[(a.throttle_ratio, "red")])
    b.timeseries("retries", "Retry share by model", "Share of a model's LLM calls over 5m that were retries, per "
                 "environment and service, as LlmRetryRateHigh measures it; the line is its threshold." + calls_note,
                 "percentunit",
                 [target(above_floor(f"provider_model:llm_retries:ratio_rate5m{{{SEL_PM}}}", calls_5m, floors.calls),
                         WHERE_LEGEND)],
                 thresholds=[(a.retry_ratio, "red")])
    b.timeseries("fallbacks", "Fallback share", "Share of the selected LLM calls over 5m served by a fallback model, "
                 "per environment and service, as LlmFallbackStorm measures it (the line is its threshold); then the "
                 "same share by the model replaced and the one used."
                 + floor_note(floors.fallbacks, "calls of the environment and service", "5m"), "percentunit",
                 [target(above_floor(f"sum by ({ES}) (rate(llm_fallbacks_total{{{SEL_PM}}}[5m])) / "
                                     f"sum by ({ES}) (rate(llm_requests_total{{{SEL_PM}}}[5m]))",
                                     env_calls_5m, floors.fallbacks),
                         "{{deployment_environment_name}} {{service_name}}", "A"),
                  target(above_floor(f"sum by ({ES}, llmobs_fallback_from_model, gen_ai_request_model) "
                                     f"(rate(llm_fallbacks_total{{{SEL_PM}}}[5m])) / on ({ES}) group_left "
                                     f"sum by ({ES}) (rate(llm_requests_total{{{SEL_PM}}}[5m]))",
                                     env_calls_5m, floors.fallbacks, on=ES),
                         "{{llmobs_fallback_from_model}} -> {{gen_ai_request_model}} {{deployment_environment_name}}",
                         "B")],
                 thresholds=[(a.fallback_ratio, "red")])
    b.timeseries("context", "Context window utilization p95 by model", "p95 of input tokens over the model's "
                 "context window over 5m, per model, environment and service, as LlmContextWindowSaturated measures "
                 "it; the line is its threshold.", "percentunit",
                 [target(f"provider_model:llm_context_utilization:p95_rate5m{{{SEL_PM}}}", WHERE_LEGEND)],
                 thresholds=[(a.context_utilization_p95, "red")])
    per_call = f"provider_model:llm_tokens_input:rate1h{{{SEL_PM}}} / provider_model:llm_requests:rate1h{{{SEL_PM}}}"
    week = (f"avg_over_time(provider_model:llm_tokens_input:rate1h{{{SEL_PM}}}[7d]) / "
            f"avg_over_time(provider_model:llm_requests:rate1h{{{SEL_PM}}}[7d])")
    b.timeseries("prompt_size", "Input tokens per call vs the 7-day average",
                 "Input tokens per call over 1h, per model, environment and service, and the lines LlmPromptBloat "
                 f"({a.prompt_bloat_ratio:g}x the 7-day average) and LlmPromptShrink ({a.prompt_shrink_ratio:g}x) "
                 "compare it with." + floor_note(floors.calls, "calls of the model, environment and service", "1h",
                                                 "Per call is drawn"), "short",
                 [target(above_floor(per_call, calls_1h, floors.calls), f"per call {WHERE_LEGEND}", "A"),
                  target(f"{a.prompt_bloat_ratio:g} * ({week})", f"bloat line {WHERE_LEGEND}", "B"),
                  target(f"{a.prompt_shrink_ratio:g} * ({week})", f"shrink line {WHERE_LEGEND}", "C")])
    floor = a.volume_floors.traffic
    b.timeseries("traffic_vs_yesterday", "Calls now and a day earlier",
                 "Per environment and service: LLM calls in the hour up to this time a day earlier (what LlmNoTraffic "
                 f"reports; the line is its traffic floor, {floor} calls), and LLM calls in the last 15m. The alert "
                 "fires where the last 15m hold none while a day earlier was at or over the line.", "short",
                 [target(f"sum by ({ES}) (increase(llm_requests_total{{{SEL_PM}}}[1h] offset 1d))",
                         "a day earlier, 1h {{deployment_environment_name}} {{service_name}}", "A"),
                  target(f"sum by ({ES}) (increase(llm_requests_total{{{SEL_PM}}}[15m]))",
                         "last 15m {{deployment_environment_name}} {{service_name}}", "B")],
                 thresholds=[(floor, "orange")])
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
