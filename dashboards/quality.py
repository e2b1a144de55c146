"""AI quality: are answers good, safe and liked?"""
from __future__ import annotations

from dashboards.common import dashboard
from dashboards.helpers import RATE, Board, target
from settings import Settings

SLUG, UID, FOLDER = "quality", "llm-quality", "quality"


def build(settings: Settings):
    a = settings.alerts
    b = Board(SLUG)
    b.timeseries("eval_scores", "Evaluation scores", "Average online evaluation score by evaluation name; the line is "
                 "the alert minimum.", "percentunit",
                 [target(f"sum by (gen_ai_evaluation_name) (rate(llm_eval_score_sum[{RATE}])) / "
                         f"sum by (gen_ai_evaluation_name) (rate(llm_eval_score_count[{RATE}]))", "{{gen_ai_evaluation_name}}")],
                 thresholds=[(a.eval_score_min, "red")])
    b.timeseries("eval_events", "Evaluation scores (log events)", "Average score of evaluations sent as log events.",
                 "percentunit",
                 [target(f"sum by (gen_ai_evaluation_name) (rate(llm_eval_score_events_sum[{RATE}])) / "
                         f"sum by (gen_ai_evaluation_name) (rate(llm_eval_score_events_count[{RATE}]))", "{{gen_ai_evaluation_name}}")])
    b.timeseries("safety", "Safety blocks by category", "Blocked inputs or outputs per second, by category.", "reqps",
                 [target(f"sum by (llmobs_safety_category) (rate(llm_safety_blocks_total[{RATE}]))", "{{llmobs_safety_category}}")])
    b.timeseries("safety_ratio", "Safety block ratio", "Blocked share of LLM calls; the line is the alert threshold.",
                 "percentunit",
                 [target(f"sum(rate(llm_safety_blocks_total[{RATE}])) / sum(rate(llm_requests_total[{RATE}]))", "blocked")],
                 thresholds=[(a.safety_block_ratio, "red")])
    b.timeseries("thumbs_down", "Thumbs-down ratio by feature", "Share of user feedback that was negative; the line is "
                 "the alert threshold.", "percentunit",
                 [target(f'sum by (llmobs_feature_bounded) (rate(llm_feedback_total{{llmobs_feedback="down"}}[{RATE}])) / '
                         f"sum by (llmobs_feature_bounded) (rate(llm_feedback_total[{RATE}]))", "{{llmobs_feature_bounded}}")],
                 thresholds=[(a.thumbs_down_ratio, "red")])
    return dashboard(b, "LLM quality", UID, "Evaluation scores, safety blocks and user feedback.", settings)
