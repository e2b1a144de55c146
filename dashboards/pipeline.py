"""Pipeline health: is telemetry arriving, redacted, sampled and delivered?"""
from __future__ import annotations

from dashboards.common import dashboard
from dashboards.helpers import RATE, Board, log_target, target
from settings import Settings

SLUG, UID, FOLDER = "pipeline", "llm-pipeline", "platform"
SIGNALS = ("spans", "log_records", "metric_points")


def build(settings: Settings):
    b = Board(SLUG)
    for what, title in (("accepted", "Accepted"), ("refused", "Refused")):
        b.timeseries(what, f"{title} by signal and collector", f"Items per second the gateway receivers {what}.", "short",
                     [target(f"sum by (instance) (rate(otelcol_receiver_{what}_{s}[{RATE}]))", f"{s} {{{{instance}}}}", ref)
                      for s, ref in zip(SIGNALS, "ABC")])
    b.timeseries("send_failed", "Export failures by exporter", "Items per second exporters dropped after retries.", "short",
                 [target(f"sum by (exporter) (rate(otelcol_exporter_send_failed_{s}[{RATE}]))", f"{s} {{{{exporter}}}}", ref)
                  for s, ref in zip(SIGNALS, "ABC")])
    b.timeseries("overflow", "Label overflow by bound", "Records per second whose value of a bounded label was "
                 "folded into `other` (spans and logs): widen llmobs:labels.<bound> if the values matter.", "short",
                 [target(f"sum by (llmobs_label) (rate(llm_label_overflow_total[{RATE}]))", "spans {{llmobs_label}}", "A"),
                  target(f"sum by (llmobs_label) (rate(llm_label_overflow_logs_total[{RATE}]))", "logs {{llmobs_label}}", "B")])
    b.timeseries("queue", "Sending queue usage", "Queue size over capacity per exporter; the line is the alert threshold.",
                 "percentunit",
                 [target("max by (instance, exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity)",
                         "{{instance}} {{exporter}}")], thresholds=[(0.8, "red")])
    b.timeseries("redacted", "Redacted records by service", "Spans and log records in which a detector redacted "
                 "something: a rise means an application leaks secrets or personal data.", "short",
                 [target(f"sum by (service_name) (rate(llm_redacted_spans_total[{RATE}]))", "spans {{service_name}}", "A"),
                  target(f"sum by (service_name) (rate(llm_redacted_logs_total[{RATE}]))", "logs {{service_name}}", "B")])
    b.timeseries("sampling", "Tail sampling decisions", "Traces kept or dropped per second by the tail sampler.", "short",
                 [target(f"sum by (sampled) (rate(otelcol_processor_tail_sampling_count_traces_sampled[{RATE}]))",
                         "sampled={{sampled}}")])
    b.timeseries("up", "Backends up", "1 when Prometheus scrapes the component, 0 when it cannot.", "short",
                 [target("min by (job) (up)", "{{job}}")], thresholds=[(0.5, "green")])
    b.logs("collector_logs", "Gateway logs", "The gateway's own warnings and errors.",
           '{service_name="collector"} |~ "(?i)warn|error"')
    return dashboard(b, "LLM telemetry pipeline", UID, "Gateway intake, export, redaction, sampling, backend health.",
                     settings)
