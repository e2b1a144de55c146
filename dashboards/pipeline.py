"""Pipeline health: is telemetry arriving, redacted, sampled and delivered?"""
from __future__ import annotations

from dashboards.common import dashboard
from dashboards.helpers import LOGS, RATE, Board, log_target, target
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
    decisions = "otelcol_processor_tail_sampling_global_count_traces_sampled"   # once per trace, not per policy
    b.timeseries("sampling", "Tail sampling keep rate", "Share of traces the tail sampler kept (LLM calls, errors, "
                 "slow requests and the configured fraction of the rest).", "percentunit",
                 [target(f'sum(rate({decisions}{{sampled="true"}}[{RATE}])) / sum(rate({decisions}[{RATE}]))', "kept")])
    b.timeseries("redacted_by_detector", "Redaction hits in log lines by detector (Loki)",
                 "Log lines per interval whose body carries a redaction tag, by the first detector named in it "
                 "(attributes are redacted too, but are not in the line).", "short",
                 [log_target(f"sum by (detector) (count_over_time({{service_name=~\".+\"}} |~ `\\[REDACTED:` "
                             f"| regexp `\\[REDACTED:(?P<detector>[^\\]]+)\\]` [$__interval]))")],
                 datasource=LOGS)
    b.timeseries("up", "Backends up", "1 when Prometheus scrapes the component, 0 when it cannot (red).", "short",
                 [target("min by (job) (up)", "{{job}}")], thresholds=[(1, "green")], base_color="red")
    b.timeseries("rule_failures", "Rule evaluation failures by group", "Rule evaluations per second that failed, "
                 "by rule group: the alerts of a failing group cannot fire.", "short",
                 [target(f"sum by (rule_group) (rate(prometheus_rule_evaluation_failures_total[{RATE}]))",
                         "{{rule_group}}")])
    b.timeseries("remote_write", "Remote write failures", "Samples per second Prometheus failed to send to the "
                 "long-term store, by remote.", "short",
                 [target(f"sum by (remote_name) (rate(prometheus_remote_storage_samples_failed_total[{RATE}]))",
                         "{{remote_name}}")])
    b.timeseries("notifications", "Failed notifications by integration", "Notifications per second Alertmanager "
                 "failed to deliver, by integration (slack, pagerduty, email, webhook).", "short",
                 [target(f"sum by (integration) (rate(alertmanager_notifications_failed_total[{RATE}]))",
                         "{{integration}}")])
    b.timeseries("discarded", "Logs and spans refused by Loki and Tempo", "Log lines and spans per second the "
                 "backends accepted but discarded, by reason.", "short",
                 [target(f"sum by (reason) (rate(loki_discarded_samples_total[{RATE}]))", "logs {{reason}}", "A"),
                  target(f"sum by (reason) (rate(tempo_discarded_spans_total[{RATE}]))", "spans {{reason}}", "B")])
    # The gateway's own logs go to stdout (kubectl/docker logs), not to Loki: what Loki holds is the
    # applications' records after redaction.
    b.logs("redacted_lines", "Log lines with redaction tags (Loki)", "Application log records whose body the "
           "gateway redacted (debug log leakage: raw prompts, keys, personal data), newest first.",
           '{service_name=~".+"} |~ `\\[REDACTED:`')
    return dashboard(b, "LLM telemetry pipeline", UID, "Gateway intake, export, redaction, sampling, backend health.",
                     settings)
