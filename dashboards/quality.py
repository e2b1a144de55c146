"""AI quality: are answers good, safe and liked?"""
from __future__ import annotations

from dashboards.common import SEL_ENV, SEL_PV, dashboard
from dashboards.helpers import RATE, Board, above_floor, first_seen, floor_note, target
from settings import Settings

SLUG, UID, FOLDER = "quality", "llm-quality", "quality"
FAILING_LABELS = "hallucinated|toxic|fail|failed|unsafe"
FAULT_DETECTORS = "hallucination|toxicity"   # evaluations whose label `true` means the fault was found
SEL = f"{SEL_ENV}, {SEL_PV}"
ES = "deployment_environment_name, service_name"
WHERE_LEGEND = "{{deployment_environment_name}} {{service_name}}"
HIGHER_IS_BETTER = 'gen_ai_evaluation_name!~"hallucination"'   # as alerts.llm.HIGHER_IS_BETTER


def build(settings: Settings):
    a, floors = settings.alerts, settings.alerts.volume_floors
    b = Board(SLUG)
    # The panels the evaluation alerts link to evaluate what the alert does (window, grouping per
    # environment and service, evaluations where higher is better, volume floor: every evaluation of
    # the group counts towards it, as in the alert); tests/test_alerts.py checks them.
    hib = f"{HIGHER_IS_BETTER}, {SEL}"

    def results(by: str, window: str) -> str:
        return f"sum by ({by}) (increase(llm_eval_score_count{{{SEL}}}[{window}]))"
    b.timeseries("eval_scores", "Evaluation scores", "Average online evaluation score over 30m by evaluation name, "
                 "environment and service, as LlmEvalScoreLow measures it (evaluations where lower is better, such "
                 "as hallucination, are left out: see the flagged answers); the line is its minimum."
                 + floor_note(floors.evaluations, "results of the evaluation, environment and service", "30m"),
                 "percentunit",
                 [target(above_floor(f"sum by (gen_ai_evaluation_name, {ES}) (rate(llm_eval_score_sum{{{hib}}}[30m])) / "
                                     f"sum by (gen_ai_evaluation_name, {ES}) (rate(llm_eval_score_count{{{hib}}}[30m]))",
                                     results(f"gen_ai_evaluation_name, {ES}", "30m"), floors.evaluations),
                         "{{gen_ai_evaluation_name}} {{deployment_environment_name}} {{service_name}}")],
                 thresholds=[(a.eval_score_min, "red")])
    b.timeseries("eval_by_prompt_version", "Evaluation scores by prompt version",
                 "Average evaluation score over 1h by evaluation name, prompt version, environment and service, as "
                 "LlmEvalScoreLowForPromptVersion measures it: a new version that scores worse shows as a new, lower "
                 "line. The line is the alert minimum."
                 + floor_note(floors.evaluations, "results of the version, evaluation, environment and service", "1h"),
                 "percentunit",
                 [target(above_floor(f"prompt_version_eval:llm_eval_score:mean_rate1h{{{hib}}}",
                                     results(f"llmobs_prompt_version, gen_ai_evaluation_name, {ES}", "1h"),
                                     floors.evaluations),
                         "{{gen_ai_evaluation_name}} {{llmobs_prompt_version}} {{deployment_environment_name}}")],
                 thresholds=[(a.eval_score_min, "red")])
    by_model = f"gen_ai_request_model, gen_ai_evaluation_name, {ES}"
    b.timeseries("eval_by_model", "Evaluation scores by model",
                 "Average evaluation score over 1h by model, evaluation name, environment and service, as "
                 "LlmEvalScoreLowForModel measures it: a model that scores worse shows as a lower line. The line is "
                 "the alert minimum."
                 + floor_note(floors.evaluations, "results of the model, evaluation, environment and service", "1h"),
                 "percentunit",
                 [target(above_floor(f"sum by ({by_model}) (rate(llm_eval_score_sum{{{hib}}}[1h])) / "
                                     f"sum by ({by_model}) (rate(llm_eval_score_count{{{hib}}}[1h]))",
                                     results(by_model, "1h"), floors.evaluations),
                         "{{gen_ai_evaluation_name}} {{gen_ai_request_model}} {{deployment_environment_name}}")],
                 thresholds=[(a.eval_score_min, "red")])
    for key, lbl, title in (("by_index_version", "llmobs_retrieval_index_version", "index version"),):
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
                 [target(f"sum by (llmobs_safety_category) (rate(llm_safety_blocks_total{{{SEL_ENV}}}[{RATE}]))",
                         "{{llmobs_safety_category}}")])
    b.timeseries("safety_ratio", "Safety block ratio", "Blocked share of LLM calls over 15m per environment and "
                 "service, all prompt versions (safety blocks carry none), as LlmSafetyBlocksHigh measures it; the "
                 "line is its threshold." + floor_note(floors.safety, "LLM calls of the environment and service", "15m"),
                 "percentunit",
                 [target(above_floor(f"sum by ({ES}) (rate(llm_safety_blocks_total{{{SEL_ENV}}}[15m])) / "
                                     f"sum by ({ES}) (rate(llm_requests_total{{{SEL_ENV}}}[15m]))",
                                     f"sum by ({ES}) (increase(llm_requests_total{{{SEL_ENV}}}[15m]))", floors.safety),
                         WHERE_LEGEND)],
                 thresholds=[(a.safety_block_ratio, "red")])
    b.timeseries("safety_silent", "LLM calls and safety blocks per service",
                 "LLM calls per second over 1h per environment and service (what LlmSafetyChecksSilent reports), and "
                 "the safety blocks of the last 6h: the alert fires where calls flow, blocks were seen in the last 7 "
                 "days and none in the last 6h.", "short",
                 [target(f"sum by ({ES}) (rate(llm_requests_total{{{SEL}}}[1h]))", f"calls/s {WHERE_LEGEND}", "A"),
                  target(f"sum by ({ES}) (increase(llm_safety_blocks_total{{{SEL_ENV}}}[6h]))",
                         f"blocks in 6h {WHERE_LEGEND}", "B")])
    down = f'sum by ({ES}) (rate(llm_feedback_total{{{SEL}, llmobs_feedback="down"}}[1h]))'
    votes = f"sum by ({ES}) (increase(llm_feedback_total{{{SEL}}}[1h]))"
    b.timeseries("thumbs_down", "Thumbs-down ratio", "Share of user feedback over 1h that was negative, per "
                 "environment and service, as LlmThumbsDownHigh measures it, then per feature; the line is its "
                 "threshold." + floor_note(floors.feedback, "feedback events of the environment and service", "1h",
                                           "Both are drawn"), "percentunit",
                 [target(above_floor(f"{down} / sum by ({ES}) (rate(llm_feedback_total{{{SEL}}}[1h]))", votes,
                                     floors.feedback), WHERE_LEGEND, "A"),
                  target(above_floor(f'sum by ({ES}, llmobs_feature_bounded) (rate(llm_feedback_total{{{SEL}, '
                                     f'llmobs_feedback="down"}}[1h])) / sum by ({ES}, llmobs_feature_bounded) '
                                     f"(rate(llm_feedback_total{{{SEL}}}[1h]))", votes, floors.feedback, on=ES),
                         f"{WHERE_LEGEND} {{{{llmobs_feature_bounded}}}}", "B")],
                 thresholds=[(a.thumbs_down_ratio, "red")])
    # Before/after a release: where a prompt version or a model starts to take traffic.
    releases = [first_seen("llmobs_prompt_version", f"llm_requests_total{{{SEL}}}", "New prompt version", "purple"),
                first_seen("gen_ai_request_model", f"llm_requests_total{{{SEL}}}", "New model", "orange")]
    return dashboard(b, "LLM quality", UID, "Evaluation scores, safety blocks and user feedback.", settings,
                     "environment", "prompt_version", annotations=releases)
