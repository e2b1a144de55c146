"""Product: do people use it and like it, and what does a user cost?"""
from __future__ import annotations

from dashboards.common import SEL_TF, dashboard
from dashboards.helpers import RATE, Board, target
from settings import Settings

SLUG, UID, FOLDER = "product", "llm-product", "product"


def build(settings: Settings):
    b = Board(SLUG)
    b.timeseries("usage", "LLM calls by feature", "LLM calls per second, by feature.", "reqps",
                 [target(f"sum by (llmobs_feature_bounded) (rate(llm_requests_total{{{SEL_TF}}}[{RATE}]))",
                         "{{llmobs_feature_bounded}}")], stack=True)
    b.timeseries("feedback", "Thumbs up and down", "User feedback events per hour.", "short",
                 [target(f'sum by (llmobs_feedback) (rate(llm_feedback_total{{llmobs_feature_bounded=~"$feature"}}[{RATE}])) * 3600',
                         "{{llmobs_feedback}}")])
    b.timeseries("cost_per_call", "Cost per call by feature", "USD per LLM call, by feature.", "currencyUSD",
                 [target(f"sum by (llmobs_feature_bounded) (rate(llm_cost_total{{{SEL_TF}}}[{RATE}])) / "
                         f"sum by (llmobs_feature_bounded) (rate(llm_requests_total{{{SEL_TF}}}[{RATE}]))",
                         "{{llmobs_feature_bounded}}")])
    b.timeseries("tenants", "Spend by tenant", "USD per hour, by tenant.", "currencyUSD",
                 [target(f"sum by (llmobs_tenant_bounded) (rate(llm_cost_total{{{SEL_TF}}}[{RATE}])) * 3600",
                         "{{llmobs_tenant_bounded}}")], stack=True)
    return dashboard(b, "LLM product", UID, "Usage, feedback and cost by feature and tenant.", settings,
                     "tenant", "feature")
