"""Cost, for finance and owners: where the money goes and where it is heading."""
from __future__ import annotations

import json
import re

from dashboards.common import SEL_ENV, SEL_PM, SEL_PV, SEL_TF, dashboard, traces_type
from dashboards.helpers import RATE, Board, target, trace_target
from settings import Settings

SLUG, UID, FOLDER = "cost", "llm-cost", "finance"
SEL = f"{SEL_PM}, {SEL_TF}, {SEL_PV}"
ES = "deployment_environment_name, service_name"
SEL_FEATURE = 'llmobs_feature_bounded=~"$feature"'
RECORDED_ENV = f"tenant:llm_cost:rate1h{{{SEL_ENV}}}"
RECORDED = f'tenant:llm_cost:rate1h{{llmobs_tenant_bounded=~"$tenant", {SEL_ENV}}}'


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
    # Projections use the selected series' own rate over the last 6 hours (the filters apply), not the
    # recorded all-tenant rate.
    rate6h = f"sum(rate(llm_cost_total{{{SEL}}}[6h]))"
    b.stat("projected", "Projected daily spend", "The last 6 hours' spend rate of the selection, projected over a "
           "day; red above the budget alert (budget x 1.2).", "currencyUSD",
           [target(f"{rate6h} * 86400", instant=True)],
           thresholds=[(a.daily_cost_budget_usd, "orange"), (1.2 * a.daily_cost_budget_usd, "red")])
    # This month so far: the panels' own time is `now/M` (the first of the month to now), as $__range.
    mtd = f"sum(increase(llm_cost_total{{{SEL}}}[$__range]))"
    remaining = "((days_in_month() - day_of_month()) * 86400 + 86400 - time() % 86400)"
    month_end = f"({mtd} + {rate6h} * {remaining})"
    budget = a.monthly_cost_budget_usd
    b.stat("month_to_date", "Spend, month to date", "USD spent by the selection since the first of the month (UTC).",
           "currencyUSD", [target(mtd, instant=True)], time_from="now/M")
    b.stat("month_end", "Month-end forecast", "This month's spend so far plus the last 6 hours' rate until the month "
           "ends, for the selection; orange above the monthly budget, red at the monthly budget alert's 1.2x.",
           "currencyUSD", [target(month_end, instant=True)], time_from="now/M",
           thresholds=[(budget, "orange"), (1.2 * budget, "red")])
    b.stat("budget_vs_actual", "Month to date vs budget to date", "Spend so far over the monthly budget's share of "
           f"the days elapsed (budget {budget:g} USD a month): above 100% the month is ahead of budget.",
           "percentunit", [target(f"{mtd} / ({budget:g} * (day_of_month() - 1 + time() % 86400 / 86400) "
                                  f"/ days_in_month())", instant=True)],
           thresholds=[(1.0, "orange"), (1.2, "red")], time_from="now/M")
    b.stat("month_budget", "Month-end forecast vs budget", "The forecast as a share of the monthly budget; red at "
           "the monthly budget alert's 1.2x.", "percentunit",
           [target(f"{month_end} / {budget:g}", instant=True)],
           thresholds=[(1.0, "orange"), (1.2, "red")], time_from="now/M")
    # What the spend alerts evaluate: the recorded hourly spend per tenant, environment and service (the
    # tenant and environment filters apply; the recorded series has no model, feature or prompt version).
    b.stat("budget_day", "Projected daily spend, as the budget alert computes it",
           "The recorded hourly spend averaged over the last 6 hours, projected over a day, as "
           "LlmSpendOverDailyBudget measures it (every environment and service: the budget is the whole bill; "
           "only the tenant and environment filters apply); orange above the daily budget, red at the alert's 1.2x.",
           "currencyUSD", [target(f"sum(avg_over_time({RECORDED}[6h])) * 86400", instant=True)],
           thresholds=[(a.daily_cost_budget_usd, "orange"), (1.2 * a.daily_cost_budget_usd, "red")])
    b.stat("month_pace", "Last day's spend rate over the month",
           "The recorded hourly spend averaged over the last day, over the whole month (its number of days), as "
           "LlmSpendOverMonthlyBudget measures it (only the tenant and environment filters apply); orange above "
           "the monthly budget, red at the alert's 1.2x.",
           "currencyUSD", [target(f"sum(avg_over_time({RECORDED}[1d])) * 86400 * days_in_month()", instant=True)],
           thresholds=[(budget, "orange"), (1.2 * budget, "red")])
    factor = a.spend_spike_factor
    b.timeseries("spend_vs_week", "Spend rate (USD per second, last hour) vs the 7-day average",
                 "USD per second over the last hour per environment and service, as LlmSpendSpike measures it, and "
                 f"the line it compares it with ({factor:g}x its 7-day average; it also needs "
                 f"{a.spend_floor_usd_per_hour / 3600:.6g} USD per second, {a.spend_floor_usd_per_hour:g} USD an hour). "
                 "Only the tenant and environment filters apply.",
                 "currencyUSD",
                 [target(f"sum by ({ES}) ({RECORDED})", "{{deployment_environment_name}} {{service_name}}", "A"),
                  target(f"{factor:g} * sum by ({ES}) (avg_over_time({RECORDED}[7d]))",
                         f"{factor:g}x 7-day average {{{{deployment_environment_name}}}} {{{{service_name}}}}", "B")])
    share = f"{RECORDED} / on ({ES}) group_left sum by ({ES}) ({RECORDED_ENV})"
    b.timeseries("tenant_share", "Tenant share of spend vs its 7-day average",
                 "Each tenant's share of its environment's and service's hourly spend, and the line LlmTenantCostSpike "
                 f"compares it with ({factor:g}x the tenant's 7-day average share). The environment filter applies; "
                 "the tenant filter picks the tenants drawn, not the total they are a share of.", "percentunit",
                 [target(share, "{{llmobs_tenant_bounded}} {{deployment_environment_name}}", "A"),
                  target(f"{factor:g} * avg_over_time(({share})[7d:1h])",
                         f"{factor:g}x 7-day average {{{{llmobs_tenant_bounded}}}} {{{{deployment_environment_name}}}}",
                         "B")])
    for key, label, title in (("mtd_by_tenant", "llmobs_tenant_bounded", "tenant"),
                              ("mtd_by_feature", "llmobs_feature_bounded", "feature"),
                              ("mtd_by_model", "gen_ai_request_model", "model"),
                              ("mtd_by_provider", "gen_ai_provider_name", "provider")):
        b.stat(key, f"Month to date by {title}", f"USD spent since the first of the month, by {title}.",
               "currencyUSD", [target(f"sum by ({label}) (increase(llm_cost_total{{{SEL}}}[$__range]))",
                                      f"{{{{{label}}}}}", instant=True)], time_from="now/M", w=12, h=6)
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
                 "requests cost money too). Recorded per feature: only the feature filter applies.", "currencyUSD",
                 [target(f"feature:llm_cost_per_request:ratio_rate5m{{{SEL_FEATURE}}}",
                         "per request {{llmobs_feature_bounded}}", "A"),
                  target(f"feature:llm_cost_per_answer:ratio_rate5m{{{SEL_FEATURE}}}",
                         "per answer {{llmobs_feature_bounded}}", "B")])
    b.timeseries("cache_writes", "Prompt-cache writes", "Input tokens written to the provider's prompt cache per "
                 "second (billed at a premium by some providers), by model.", "short",
                 [target(f"sum by (gen_ai_request_model) (rate(llm_tokens_cache_write_total{{{SEL}}}[{RATE}]))",
                         "{{gen_ai_request_model}}")])
    b.timeseries("unpriced", "Unpriced calls", "Calls per second over 15m to models missing from the price table "
                 "(counted at 0 USD), per model, environment and service, as LlmUnpricedModelCalls measures it (it "
                 "fires above 0).",
                 "reqps", [target(f"sum by (gen_ai_provider_name, gen_ai_request_model, deployment_environment_name, "
                                  f"service_name) (rate(llm_unpriced_requests_total{{{SEL_PM}}}[15m]))",
                                  "{{gen_ai_request_model}} {{deployment_environment_name}} {{service_name}}")])
    tt = traces_type(settings)
    query = '{ span.llmobs.cost.usd > 0.05 }' if tt == "tempo" else "1ms"
    b.table("expensive", "Expensive requests (traces)",
            "Traces with an LLM call over 0.05 USD. Tempo returns the first matches, not a sorted top N: this is a "
            "threshold query; sort by the cost column. With Jaeger: a search, filter by tag llmobs.cost.usd.",
            "currencyUSD", [trace_target(query, tt)], "${traces}")
    return dashboard(b, "LLM cost", UID, "Spend by model, feature and tenant; projection against the budget.",
                     settings, "environment", "provider", "model", "tenant", "feature", "prompt_version")
