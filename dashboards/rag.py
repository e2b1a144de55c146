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
    return dashboard(b, "LLM RAG", UID, "Retrieval latency, documents returned, empty retrievals.", settings)
