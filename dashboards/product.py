"""Product: do people use it and like it, and what does a user cost?"""
from __future__ import annotations

from dashboards.common import SEL_ENV, SEL_TF, dashboard
from dashboards.helpers import RATE, Board, target
from settings import Settings

SEL = f"{SEL_ENV}, {SEL_TF}"
SLUG, UID, FOLDER = "product", "llm-product", "product"


def build(settings: Settings):
    b = Board(SLUG)
    b.timeseries("usage", "LLM calls by feature", "LLM calls per second, by feature.", "reqps",
                 [target(f"sum by (llmobs_feature_bounded) (rate(llm_requests_total{{{SEL}}}[{RATE}]))",
                         "{{llmobs_feature_bounded}}")], stack=True)
    b.timeseries("feedback", "Thumbs up and down", "User feedback events per hour.", "short",
                 [target(f'sum by (llmobs_feedback) (rate(llm_feedback_total{{{SEL_ENV}, llmobs_feature_bounded=~"$feature"}}[{RATE}])) * 3600',
                         "{{llmobs_feedback}}")])
    b.timeseries("cost_per_call", "Cost per call by feature", "USD per LLM call, by feature.", "currencyUSD",
                 [target(f"sum by (llmobs_feature_bounded) (rate(llm_cost_total{{{SEL}}}[{RATE}])) / "
                         f"sum by (llmobs_feature_bounded) (rate(llm_requests_total{{{SEL}}}[{RATE}]))",
                         "{{llmobs_feature_bounded}}")])
    b.timeseries("tenants", "Spend by tenant", "USD per hour, by tenant.", "currencyUSD",
                 [target(f"sum by (llmobs_tenant_bounded) (rate(llm_cost_total{{{SEL}}}[{RATE}])) * 3600",
                         "{{llmobs_tenant_bounded}}")], stack=True)
    b.stat("users", "Active users, last hour", "Distinct users estimated from 4,096 hash buckets (no user id is "
           "stored); error about 1-2% below ~10k users.", "short",
           [target(":llm_active_users:estimate1h", instant=True)])
    b.stat("sessions", "Active sessions, last hour", "Distinct conversations, estimated the same way.", "short",
           [target(":llm_active_sessions:estimate1h", instant=True)])
    b.stat("cost_per_user", "Cost per active user, last hour", "USD spent in the last hour divided by the active "
           "users estimate.", "currencyUSD",
           [target(f"sum(increase(llm_cost_total{{{SEL}}}[1h])) / scalar(:llm_active_users:estimate1h)", instant=True)])
    feature = 'llmobs_feature_bounded=~"$feature"'
    b.timeseries("answered", "Answered and unanswered rates by feature", "Share of user-visible requests answered, "
                 "and the share the application could not answer. Recorded per feature: only the feature filter "
                 "applies.", "percentunit",
                 [target(f"feature:llm_app_requests_answered:ratio_rate5m{{{feature}}}",
                         "answered {{llmobs_feature_bounded}}", "A"),
                  target(f"feature:llm_app_requests_unanswered:ratio_rate5m{{{feature}}}",
                         "unanswered {{llmobs_feature_bounded}}", "B")])
    return dashboard(b, "LLM product", UID, "Usage, feedback and cost by feature and tenant.", settings,
                     "environment", "tenant", "feature")
