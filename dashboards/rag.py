"""RAG: is retrieval fast and does it find something?"""
from __future__ import annotations

from dashboards.common import SEL_ENV, dashboard
from dashboards.helpers import RATE, Board, above_floor, floor_note, quantiles, target
from settings import Settings

SLUG, UID, FOLDER = "rag", "llm-rag", "quality"
ES = "deployment_environment_name, service_name"


def build(settings: Settings):
    a, floors = settings.alerts, settings.alerts.volume_floors
    b = Board(SLUG)
    b.timeseries("latency", "Retrieval latency p95 by operation", "p95 duration of retrieval spans.", "s",
                 quantiles("llm_retrieval_duration_seconds", by="gen_ai_operation_name", sel=SEL_ENV,
                           legend="{{gen_ai_operation_name}}"))
    b.timeseries("returned", "Documents returned (median and p95)", "Documents a retrieval returned.", "short",
                 quantiles("llm_retrieval_documents", (0.5, 0.95), sel=SEL_ENV))
    b.timeseries("empty", "Empty retrievals", "Share of retrievals over 15m returning no document, per environment "
                 "and service, as LlmEmptyRetrievals measures it; the line is its threshold."
                 + floor_note(floors.retrievals, "retrievals of the environment and service", "15m"),
                 "percentunit",
                 [target(above_floor(f'sum by ({ES}) (rate(llm_retrieval_documents_bucket{{{SEL_ENV}, le="0"}}[15m])) / '
                                     f"sum by ({ES}) (rate(llm_retrieval_documents_count{{{SEL_ENV}}}[15m]))",
                                     f"sum by ({ES}) (increase(llm_retrieval_documents_count{{{SEL_ENV}}}[15m]))",
                                     floors.retrievals),
                         "{{deployment_environment_name}} {{service_name}}")],
                 thresholds=[(a.empty_retrieval_ratio, "red")])
    b.timeseries("rate", "Retrievals per second", "Retrieval calls per second, by operation.", "reqps",
                 [target(f"sum by (gen_ai_operation_name) (rate(llm_retrieval_documents_count{{{SEL_ENV}}}[{RATE}]))",
                         "{{gen_ai_operation_name}}")])
    b.timeseries("steps", "Retrieval step latency p95 by method", "p95 duration of vector, BM25, rerank and hybrid "
                 "steps.", "s",
                 quantiles("llm_retrieval_step_duration_seconds", by="llmobs_retrieval_method", sel=SEL_ENV,
                           legend="{{llmobs_retrieval_method}}"))
    b.timeseries("top_k", "Top-k requested vs returned", "Documents requested and returned per second, by index.",
                 "short",
                 [target(f"sum by (llmobs_retrieval_index) (rate(llm_retrieval_requested_total{{{SEL_ENV}}}[{RATE}]))",
                         "requested {{llmobs_retrieval_index}}", "A"),
                  target(f"sum by (llmobs_retrieval_index) (rate(llm_retrieval_returned_total{{{SEL_ENV}}}[{RATE}]))",
                         "returned {{llmobs_retrieval_index}}", "B")])
    b.timeseries("score", "Best-document score (median and p10)", "Score of the top-ranked document per retrieval; "
                 "a stale index drifts down.", "percentunit",
                 quantiles("llm_retrieval_score", (0.5, 0.1), sel=SEL_ENV))
    ctx = f'gen_ai_evaluation_name=~"context_recall|context_precision", {SEL_ENV}'
    by = "gen_ai_evaluation_name, llmobs_retrieval_index_version"
    recall = f'gen_ai_evaluation_name="context_recall", {SEL_ENV}'
    where = "llmobs_retrieval_index_version, deployment_environment_name, service_name"
    b.timeseries("recall", "Context recall and precision by index version", "Average context recall over 1h by index "
                 "version, environment and service, as LlmContextRecallLow measures it (the line is its minimum); "
                 "then recall and precision (when the app sends it) by index version."
                 + floor_note(floors.evaluations, "recall results of the index version, environment and service",
                              "1h", "Recall is drawn"), "percentunit",
                 [target(above_floor(f"sum by ({where}) (rate(llm_eval_score_sum{{{recall}}}[1h])) / "
                                     f"sum by ({where}) (rate(llm_eval_score_count{{{recall}}}[1h]))",
                                     f"sum by ({where}) (increase(llm_eval_score_count{{{recall}}}[1h]))",
                                     floors.evaluations),
                         "recall {{llmobs_retrieval_index_version}} {{deployment_environment_name}} {{service_name}}", "A"),
                  target(f"sum by ({by}) (rate(llm_eval_score_sum{{{ctx}}}[{RATE}])) / "
                         f"sum by ({by}) (rate(llm_eval_score_count{{{ctx}}}[{RATE}]))",
                         "{{gen_ai_evaluation_name}} {{llmobs_retrieval_index_version}}", "B")],
                 thresholds=[(a.context_recall_min, "red")])
    b.timeseries("index_versions", "Index versions in use", "Retrievals per second by index and version (each "
                 "retrieval once, whatever its top-k).", "reqps",
                 [target(f"sum by (llmobs_retrieval_index, llmobs_retrieval_index_version) "
                         f"(rate(llm_retrieval_documents_count{{{SEL_ENV}}}[{RATE}]))",
                         "{{llmobs_retrieval_index}} {{llmobs_retrieval_index_version}}")], stack=True)
    return dashboard(b, "LLM RAG", UID, "Retrieval latency, documents returned, empty retrievals.", settings,
                     "environment")
