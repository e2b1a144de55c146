"""Cost, for finance and owners: where the money goes and where it is heading."""
from __future__ import annotations

import json
import re

from dashboards.common import SEL_PM, SEL_PV, SEL_TF, dashboard, traces_type
from dashboards.helpers import RATE, Board, target, trace_target
from settings import Settings

SLUG, UID, FOLDER = "cost", "llm-cost", "finance"
SEL = f"{SEL_PM}, {SEL_TF}, {SEL_PV}"


def _model_regex(price) -> str:
    """The request models a price applies to, as a PromQL string (the collector's exact name or pattern)."""
    regex = "|".join([re.escape(price.model)] + ([price.pattern] if price.pattern else []))
    return json.dumps(regex)   # a double-quoted string with its backslashes escaped


def cache_savings(settings: Settings, sel: str) -> str:
    """USD per hour saved by cached input tokens, per priced model with a cache discount."""
    parts = [f"sum by (gen_ai_request_model) (rate(llm_tokens_cached_input_total{{{sel}, "
             f"gen_ai_request_model=~{_model_regex(p)}}}[{RATE}])) * {(p.input - p.cached_input) * 3600 / 1e6:.10g}"
             for p in settings.pricing.models if p.input > p.cached_input]
    return " or ".join(parts)


def build(settings: Settings):
    a = settings.alerts
    b = Board(SLUG)
    b.stat("today", "Spend, last 24h", "USD spent on priced LLM calls in the last 24 hours.", "currencyUSD",
           [target(f"sum(increase(llm_cost_total{{{SEL}}}[1d]))", instant=True)])
    b.stat("yesterday", "Spend, the 24h before", "USD spent in the 24 hours before that.", "currencyUSD",
           [target(f"sum(increase(llm_cost_total{{{SEL}}}[1d] offset 1d))", instant=True)])
    b.stat("projected", "Projected daily spend", "The last 6 hours' hourly spend, averaged and projected over a day; "
           "red above the budget alert (budget x 1.2).", "currencyUSD",
           [target("sum(avg_over_time(tenant:llm_cost:rate1h[6h])) * 86400", instant=True)],
           thresholds=[(a.daily_cost_budget_usd, "orange"), (1.2 * a.daily_cost_budget_usd, "red")])
    remaining = "((days_in_month() - day_of_month()) * 86400 + 86400 - time() % 86400)"
    month_end = (f"(sum(increase(llm_cost_total[$__range])) + "
                 f"sum(avg_over_time(tenant:llm_cost:rate1h[6h])) * {remaining})")
    b.stat("month_end", "Projected month-end spend", "This month's spend so far (the panel's time is this month) "
           "plus the last 6 hours' rate until the month ends, all tenants.", "currencyUSD",
           [target(month_end, instant=True)], time_from="now/M")
    b.stat("month_budget", "Projected month-end vs budget", "The projection as a share of the month's budget (the "
           "daily budget x days in the month); red at the daily budget alert's 1.2x.", "percentunit",
           [target(f"{month_end} / (days_in_month() * {a.daily_cost_budget_usd:g})", instant=True)],
           thresholds=[(1.0, "orange"), (1.2, "red")], time_from="now/M")
    b.stat("per_request", "Cost per call", "Average USD per priced LLM call over the selected range.", "currencyUSD",
           [target(f"sum(increase(llm_cost_total{{{SEL}}}[$__range])) / sum(increase(llm_requests_total{{{SEL}}}[$__range]))",
                   instant=True)])
    for key, label, title in (("by_model", "gen_ai_request_model", "Spend by model"),
                              ("by_feature", "llmobs_feature_bounded", "Spend by feature"),
                              ("by_tenant", "llmobs_tenant_bounded", "Spend by tenant"),
                              ("by_prompt_version", "llmobs_prompt_version", "Spend by prompt version"),
                              ("by_environment", "deployment_environment_name", "Spend by environment")):
        b.timeseries(key, title, f"USD per hour, by {label}.", "currencyUSD",
                     [target(f"sum by ({label}) (rate(llm_cost_total{{{SEL}}}[{RATE}])) * 3600", f"{{{{{label}}}}}")],
                     stack=True)
    b.timeseries("cache", "Cached input tokens share",
                 "Share of input tokens served from the provider's prompt cache (billed at the cached price).",
                 "percentunit",
                 [target(f"sum by (gen_ai_request_model) (rate(llm_tokens_cached_input_total{{{SEL}}}[{RATE}])) / "
                         f"sum by (gen_ai_request_model) (rate(llm_tokens_input_total{{{SEL}}}[{RATE}]))",
                         "{{gen_ai_request_model}}")])
    b.timeseries("cache_savings", "Prompt-cache savings by model",
                 "USD per hour not spent because input tokens came from the provider's prompt cache: cached tokens x "
                 "(input price - cached price) from the gateway's price table, by request model.", "currencyUSD",
                 [target(cache_savings(settings, SEL), "{{gen_ai_request_model}}")], stack=True)
    b.timeseries("per_user_request", "Cost per request and per answer by feature",
                 "USD per user-visible request, and per answered request (failed, refused and unanswered "
                 "requests cost money too).", "currencyUSD",
                 [target("feature:llm_cost_per_request:ratio_rate5m", "per request {{llmobs_feature_bounded}}", "A"),
                  target("feature:llm_cost_per_answer:ratio_rate5m", "per answer {{llmobs_feature_bounded}}", "B")])
    b.timeseries("cache_writes", "Prompt-cache writes", "Input tokens written to the provider's prompt cache per "
                 "second (billed at a premium by some providers), by model.", "short",
                 [target(f"sum by (gen_ai_request_model) (rate(llm_tokens_cache_write_total{{{SEL}}}[{RATE}]))",
                         "{{gen_ai_request_model}}")])
    b.timeseries("unpriced", "Unpriced calls", "Calls to models missing from the price table: counted at 0 USD.",
                 "reqps", [target(f"sum by (gen_ai_request_model) (rate(llm_unpriced_requests_total{{{SEL_PM}}}[{RATE}]))",
                                  "{{gen_ai_request_model}}")])
    tt = traces_type(settings)
    query = '{ span.llmobs.cost.usd > 0.05 }' if tt == "tempo" else "1ms"
    b.table("expensive", "Expensive requests (traces)",
            "Traces with an LLM call over 0.05 USD. Tempo returns the first matches, not a sorted top N: this is a "
            "threshold query; sort by the cost column. With Jaeger: a search, filter by tag llmobs.cost.usd.",
            "currencyUSD", [trace_target(query, tt)], "${traces}")
    return dashboard(b, "LLM cost", UID, "Spend by model, feature and tenant; projection against the budget.",
                     settings, "environment", "provider", "model", "tenant", "feature", "prompt_version")
