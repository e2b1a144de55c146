"""RAG: is retrieval fast and does it find something?"""
from __future__ import annotations

from dashboards.common import dashboard
from dashboards.helpers import RATE, Board, target
from settings import Settings

SLUG, UID, FOLDER = "rag", "llm-rag", "quality"


def build(settings: Settings):
    a = settings.alerts
    b = Board(SLUG)
    b.timeseries("latency", "Retrieval latency p95 by operation", "p95 duration of retrieval spans.", "s",
                 [target(f"histogram_quantile(0.95, sum by (le, gen_ai_operation_name) "
                         f"(rate(llm_retrieval_duration_seconds_bucket[{RATE}])))", "{{gen_ai_operation_name}}")])
    b.timeseries("returned", "Documents returned (median and p95)", "Documents a retrieval returned.", "short",
                 [target(f"histogram_quantile({q}, sum by (le) (rate(llm_retrieval_documents_bucket[{RATE}])))", f"p{round(q * 100)}", ref)
                  for q, ref in ((0.5, "A"), (0.95, "B"))])
    b.timeseries("empty", "Empty retrievals", "Share of retrievals returning no document; the line is the alert "
                 "threshold.", "percentunit",
                 [target(f'sum(rate(llm_retrieval_documents_bucket{{le="0"}}[{RATE}])) / '
                         f"sum(rate(llm_retrieval_documents_count[{RATE}]))", "empty")],
                 thresholds=[(a.empty_retrieval_ratio, "red")])
    b.timeseries("rate", "Retrievals per second", "Retrieval calls per second, by operation.", "reqps",
                 [target(f"sum by (gen_ai_operation_name) (rate(llm_retrieval_documents_count[{RATE}]))",
                         "{{gen_ai_operation_name}}")])
    b.timeseries("steps", "Retrieval step latency p95 by method", "p95 duration of vector, BM25, rerank and hybrid "
                 "steps.", "s",
                 [target(f"histogram_quantile(0.95, sum by (le, llmobs_retrieval_method) "
                         f"(rate(llm_retrieval_step_duration_seconds_bucket[{RATE}])))", "{{llmobs_retrieval_method}}")])
    b.timeseries("top_k", "Top-k requested vs returned", "Documents requested and returned per second, by index.",
                 "short",
                 [target(f"sum by (llmobs_retrieval_index) (rate(llm_retrieval_requested_total[{RATE}]))",
                         "requested {{llmobs_retrieval_index}}", "A"),
                  target(f"sum by (llmobs_retrieval_index) (rate(llm_retrieval_returned_total[{RATE}]))",
                         "returned {{llmobs_retrieval_index}}", "B")])
    b.timeseries("score", "Best-document score (median and p10)", "Score of the top-ranked document per retrieval; "
                 "a stale index drifts down.", "percentunit",
                 [target(f"histogram_quantile({q}, sum by (le) (rate(llm_retrieval_score_bucket[{RATE}])))", f"p{round(q * 100)}", ref)
                  for q, ref in ((0.5, "A"), (0.1, "B"))])
    b.timeseries("recall", "Context recall by index version", "Average context-recall evaluation by index version; "
                 "the line is the alert minimum.", "percentunit",
                 [target(f'sum by (llmobs_retrieval_index_version) (rate(llm_eval_score_sum{{gen_ai_evaluation_name="context_recall"}}[{RATE}])) / '
                         f'sum by (llmobs_retrieval_index_version) (rate(llm_eval_score_count{{gen_ai_evaluation_name="context_recall"}}[{RATE}]))',
                         "{{llmobs_retrieval_index_version}}")],
                 thresholds=[(a.context_recall_min, "red")])
    b.timeseries("index_versions", "Index versions in use", "Retrievals per second by index and version.", "reqps",
                 [target(f"sum by (llmobs_retrieval_index, llmobs_retrieval_index_version) "
                         f"(rate(llm_retrieval_requested_total[{RATE}]) > 0 or rate(llm_retrieval_empty_total[{RATE}]))",
                         "{{llmobs_retrieval_index}} {{llmobs_retrieval_index_version}}")], stack=True)
    return dashboard(b, "LLM RAG", UID, "Retrieval latency, documents returned, empty retrievals.", settings)
