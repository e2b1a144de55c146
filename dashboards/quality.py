"""AI quality: are answers good, safe and liked?"""
from __future__ import annotations

from dashboards.common import SEL_ENV, SEL_PV, dashboard
from dashboards.helpers import RATE, Board, first_seen, target
from settings import Settings

SLUG, UID, FOLDER = "quality", "llm-quality", "quality"
FAILING_LABELS = "hallucinated|toxic|fail|failed|unsafe"
FAULT_DETECTORS = "hallucination|toxicity"   # evaluations whose label `true` means the fault was found
SEL = f"{SEL_ENV}, {SEL_PV}"


def build(settings: Settings):
    a = settings.alerts
    b = Board(SLUG)
    b.timeseries("eval_scores", "Evaluation scores", "Average online evaluation score by evaluation name; the line is "
                 "the alert minimum.", "percentunit",
                 [target(f"sum by (gen_ai_evaluation_name) (rate(llm_eval_score_sum{{{SEL}}}[{RATE}])) / "
                         f"sum by (gen_ai_evaluation_name) (rate(llm_eval_score_count{{{SEL}}}[{RATE}]))", "{{gen_ai_evaluation_name}}")],
                 thresholds=[(a.eval_score_min, "red")])
    for key, lbl, title in (("by_prompt_version", "llmobs_prompt_version", "prompt version"),
                            ("by_model", "gen_ai_request_model", "model"),
                            ("by_index_version", "llmobs_retrieval_index_version", "index version")):
        b.timeseries(f"eval_{key}", f"Evaluation scores by {title}",
                     f"Average evaluation score by evaluation name and {title}: a new version that scores worse "
                     "shows as a new, lower line. The line is the alert minimum.", "percentunit",
                     [target(f"sum by (gen_ai_evaluation_name, {lbl}) (rate(llm_eval_score_sum{{{SEL}}}[{RATE}])) / "
                             f"sum by (gen_ai_evaluation_name, {lbl}) (rate(llm_eval_score_count{{{SEL}}}[{RATE}]))",
                             f"{{{{gen_ai_evaluation_name}}}} {{{{{lbl}}}}}")],
                     thresholds=[(a.eval_score_min, "red")])
    # `true` is a failure only for evaluations that detect a fault (hallucination: true = hallucinated);
    # for the others (`relevant: true`) it is a pass.
    flagged = (f'rate(llm_eval_results_total{{gen_ai_evaluation_score_label=~"{FAILING_LABELS}"}}[{RATE}]) or '
               f'rate(llm_eval_results_total{{gen_ai_evaluation_name=~"{FAULT_DETECTORS}", '
               f'gen_ai_evaluation_score_label="true"}}[{RATE}])')
    b.timeseries("flags", "Flagged answers (hallucinated, toxic, failed)", "Share of evaluation results per name "
                 f"whose label is a failing one ({FAILING_LABELS.replace('|', ', ')}; `true` only for "
                 f"{FAULT_DETECTORS.replace('|', ', ')}).", "percentunit",
                 [target(f"sum by (gen_ai_evaluation_name) ({flagged}) / "
                         f"sum by (gen_ai_evaluation_name) (rate(llm_eval_results_total[{RATE}]))", "{{gen_ai_evaluation_name}}")])
    b.timeseries("eval_events", "Evaluation scores (log events)", "Average score of evaluations sent as log events.",
                 "percentunit",
                 [target(f"sum by (gen_ai_evaluation_name) (rate(llm_eval_score_events_sum{{{SEL}}}[{RATE}])) / "
                         f"sum by (gen_ai_evaluation_name) (rate(llm_eval_score_events_count{{{SEL}}}[{RATE}]))", "{{gen_ai_evaluation_name}}")])
    b.timeseries("safety", "Safety blocks by category", "Blocked inputs or outputs per second, by category.", "reqps",
                 [target(f"sum by (llmobs_safety_category) (rate(llm_safety_blocks_total[{RATE}]))", "{{llmobs_safety_category}}")])
    b.timeseries("safety_ratio", "Safety block ratio", "Blocked share of LLM calls, all environments and prompt "
                 "versions (safety blocks carry neither label), as the alert measures it; the line is its threshold.",
                 "percentunit",
                 [target(f"sum(rate(llm_safety_blocks_total[{RATE}])) / sum(rate(llm_requests_total[{RATE}]))", "blocked")],
                 thresholds=[(a.safety_block_ratio, "red")])
    b.timeseries("thumbs_down", "Thumbs-down ratio by feature", "Share of user feedback that was negative; the line is "
                 "the alert threshold.", "percentunit",
                 [target(f'sum by (llmobs_feature_bounded) (rate(llm_feedback_total{{{SEL_PV}, llmobs_feedback="down"}}[{RATE}])) / '
                         f"sum by (llmobs_feature_bounded) (rate(llm_feedback_total{{{SEL_PV}}}[{RATE}]))", "{{llmobs_feature_bounded}}")],
                 thresholds=[(a.thumbs_down_ratio, "red")])
    # Before/after a release: where a prompt version or a model starts to take traffic.
    releases = [first_seen("llmobs_prompt_version", f"llm_requests_total{{{SEL}}}", "New prompt version", "purple"),
                first_seen("gen_ai_request_model", f"llm_requests_total{{{SEL}}}", "New model", "orange")]
    return dashboard(b, "LLM quality", UID, "Evaluation scores, safety blocks and user feedback.", settings,
                     "environment", "prompt_version", annotations=releases)
