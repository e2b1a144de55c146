"""Pipeline health: is telemetry arriving, redacted, sampled and delivered?"""
from __future__ import annotations

from dashboards.common import dashboard
from dashboards.helpers import LOGS, RATE, Board, log_target, target
from settings import Settings

SLUG, UID, FOLDER = "pipeline", "llm-pipeline", "platform"
SIGNALS = ("spans", "log_records", "metric_points")
ALERT_WINDOW = "5m"   # the range of the pipeline and self-monitoring alerts (alerts/pipeline.py, alerts/selfmon.py)


def build(settings: Settings):
    a = settings.alerts
    b = Board(SLUG)
    # Panels an alert links to query what the alert evaluates: its window (ALERT_WINDOW, not
    # $__rate_interval), its grouping and its threshold (tests/test_alerts.py checks each alert's panel).
    b.timeseries("accepted", "Accepted by signal and collector", "Items per second the gateway receivers accepted.",
                 "short", [target(f"sum by (instance) (rate(otelcol_receiver_accepted_{s}[{RATE}]))",
                                  f"{s} {{{{instance}}}}", ref) for s, ref in zip(SIGNALS, "ABC")])
    b.timeseries("refused", "Refused by signal and collector", "Items per second the gateway receivers refused over "
                 f"{ALERT_WINDOW}, per job and instance, as LlmCollectorRefusingData measures it (it fires above 0).",
                 "short", [target(f"sum by (job, instance) (rate(otelcol_receiver_refused_{s}[{ALERT_WINDOW}]))",
                                  f"{s} {{{{instance}}}}", ref) for s, ref in zip(SIGNALS, "ABC")])
    b.timeseries("send_failed", "Export failures by exporter", "Items per second exporters dropped after retries over "
                 f"{ALERT_WINDOW}, as LlmExporterSendFailures measures it (it fires above 0).", "short",
                 [target(f"sum by (job, instance, exporter) (rate(otelcol_exporter_send_failed_{s}[{ALERT_WINDOW}]))",
                         f"{s} {{{{instance}}}} {{{{exporter}}}}", ref) for s, ref in zip(SIGNALS, "ABC")])
    overflow = [f"sum by (llmobs_label) (rate({m}[1h]))" for m in ("llm_label_overflow_total", "llm_label_overflow_logs_total")]
    b.timeseries("overflow", "Label overflow by bound", "Records per second over 1h whose value of a bounded label "
                 "was folded into `other`, as LlmLabelOverflow measures it (spans, else logs), then spans and logs "
                 "apart: widen llmobs:labels.<bound> if the values matter.", "short",
                 [target(" or ".join(overflow), "{{llmobs_label}}", "A"),
                  target(overflow[0], "spans {{llmobs_label}}", "B"), target(overflow[1], "logs {{llmobs_label}}", "C")])
    b.timeseries("queue", "Sending queue usage", "Queue size over capacity per exporter; the line is the alert threshold.",
                 "percentunit",
                 [target("max by (job, instance, exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity)",
                         "{{instance}} {{exporter}}")], thresholds=[(0.8, "red")])
    redacted, before = "service:llm_redacted_spans:rate1h", "avg_over_time(service:llm_redacted_spans:rate1h[7d] offset 1h)"
    b.timeseries("redacted", "Redacted records by service", "Spans per second over 1h in which a detector redacted "
                 f"something, per service, against {a.redaction_spike_factor:g}x its 7-day average before the last hour "
                 "(LlmRedactionSpike fires above that line, or from none, above 1 a minute: the red line); log "
                 "records per second as well. A rise means an application leaks secrets or personal data.", "short",
                 [target(redacted, "spans {{service_name}}", "A"),
                  target(f"{a.redaction_spike_factor:g} * {before}", f"{a.redaction_spike_factor:g}x 7-day average "
                         "{{service_name}}", "B"),
                  target(f"sum by (service_name) (rate(llm_redacted_logs_total[{RATE}]))", "logs {{service_name}}", "C")],
                 thresholds=[(1 / 60, "red")])
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
    b.timeseries("up", "Backends up", "1 when Prometheus scrapes the component, 0 when it cannot (red): each job "
                 "and instance, as LlmBackendDown reads it.", "short",
                 [target("up", "{{job}} {{instance}}")], thresholds=[(1, "green")], base_color="red")
    b.timeseries("watchdog", "Watchdog", "The Watchdog's own expression: 1 while Prometheus evaluates rules, so "
                 "LlmWatchdog always fires and the dead man's switch receives it. A gap here means rules are not "
                 "evaluated; the dead man's switch service (outside this stack) is where a missing heartbeat shows.",
                 "short", [target("vector(1)", "Watchdog")], thresholds=[(1, "green")], base_color="red")
    b.timeseries("rule_failures", "Rule evaluation failures by group", "Rule evaluations that failed in the last "
                 f"{ALERT_WINDOW}, by rule group, as LlmRuleEvaluationFailures measures it (it fires above 0): the "
                 "alerts of a failing group cannot fire.", "short",
                 [target(f"sum by (job, instance, rule_group) (increase(prometheus_rule_evaluation_failures_total"
                         f"[{ALERT_WINDOW}]))", "{{rule_group}}")])
    b.timeseries("remote_write", "Remote write failures", "Samples per second over "
                 f"{ALERT_WINDOW} Prometheus failed to send to the long-term store, by remote, as LlmRemoteWriteFailing "
                 "measures it (it fires above 0).", "short",
                 [target(f"sum by (job, instance, remote_name) (rate(prometheus_remote_storage_samples_failed_total"
                         f"[{ALERT_WINDOW}]))", "{{remote_name}}")])
    b.timeseries("notifications", "Failed notifications by integration", "Notifications per second over "
                 f"{ALERT_WINDOW} Alertmanager failed to deliver, by integration (slack, pagerduty, email, webhook), "
                 "as LlmNotificationsFailing measures it (it fires above 0).", "short",
                 [target(f"sum by (job, instance, integration) (rate(alertmanager_notifications_failed_total"
                         f"[{ALERT_WINDOW}]))", "{{integration}}")])
    b.timeseries("discarded", "Logs and spans refused by Loki and Tempo", "Log lines and spans per second over "
                 f"{ALERT_WINDOW} the backends accepted but discarded, by reason, as LlmLogsRefused and "
                 "LlmTracesRefused measure them (they fire above 0).", "short",
                 [target(f"sum by (job, instance, reason) (rate(loki_discarded_samples_total[{ALERT_WINDOW}]))",
                         "logs {{reason}}", "A"),
                  target(f"sum by (job, instance, reason) (rate(tempo_discarded_spans_total[{ALERT_WINDOW}]))",
                         "spans {{reason}}", "B")])
    # The gateway's own logs go to stdout (kubectl/docker logs), not to Loki: what Loki holds is the
    # applications' records after redaction.
    b.logs("redacted_lines", "Log lines with redaction tags (Loki)", "Application log records whose body the "
           "gateway redacted (debug log leakage: raw prompts, keys, personal data), newest first.",
           '{service_name=~".+"} |~ `\\[REDACTED:`')
    return dashboard(b, "LLM telemetry pipeline", UID, "Gateway intake, export, redaction, sampling, backend health.",
                     settings)
