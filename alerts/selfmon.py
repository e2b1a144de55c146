"""The stack watching itself: an always-firing Watchdog (a dead man's switch outside the stack
pages when its heartbeats stop), and the failures that would otherwise hide every other alert:
rules that fail to evaluate, remote write that fails, notifications that fail, and logs or traces
the backends refuse. A backend that is down (Grafana, Loki, Tempo, ...) is LlmBackendDown
(alerts/pipeline.py, `up == 0` per job).

Series: Prometheus', Alertmanager's, Loki's and Tempo's own metrics, scraped by the stack
(backends/prometheus.BACKEND_TARGETS)."""
from __future__ import annotations

from alerts.llm import per_min
from alerts.model import Alert, Example, Group, Runbook
from settings import Settings

SELF_MONITORING_METRICS = frozenset({
    "prometheus_rule_evaluation_failures_total", "prometheus_remote_storage_samples_failed_total",
    "alertmanager_notifications_failed_total", "loki_discarded_samples_total", "tempo_discarded_spans_total"})
WATCHDOG = "LlmWatchdog"
PROM = 'job="prometheus",instance="localhost:9090"'
AM = 'job="alertmanager",instance="alertmanager:9093"'


def alerts(settings: Settings) -> list[Group]:
    out = [
        Alert(
            name=WATCHDOG, severity="info", for_="1m",
            expr="vector(1)",
            summary="The alerting pipeline is alive; this alert always fires.",
            description="Always firing: {{ $value }} heartbeat from Prometheus through Alertmanager to the "
                        "dead man's switch receiver.",
            runbook=Runbook(
                meaning="A heartbeat, not a problem. Alertmanager sends it to alerts.receivers.dead_mans_switch "
                        "every few minutes; the service behind that receiver (e.g. a healthchecks or PagerDuty "
                        "heartbeat) pages when the heartbeats stop, because then no other alert can reach anyone.",
                impact="None while it fires: that is the pipeline working. When it stops, no alert reaches anyone.",
                checks=("If the dead man's switch paged: Panel `pipeline/watchdog` (the Watchdog's own expression: a gap "
                        "means no rule is evaluated), then `pipeline/up`: are Prometheus and Alertmanager up?",
                        "Alertmanager's API (`/api/v2/alerts`): is LlmWatchdog active there? If not, Prometheus "
                        "does not evaluate rules or cannot reach Alertmanager (panel `pipeline/rule_failures`).",
                        "Panel `pipeline/notifications`: does Alertmanager fail to reach the receiver?"),
                escalation="Info: Nothing to escalate while it fires. When the dead man's switch pages (the "
                           "heartbeats stopped), handle it as a critical page: no other alert reaches anyone then.",
                mitigations=("Restart Prometheus or Alertmanager, whichever stopped.",
                             "Fix the dead man's switch receiver's credentials or network egress.",
                             "Never silence this alert: silence the switch's check while you work instead.")),
            examples=(Example("always", {'up{job="prometheus",instance="localhost:9090"}': "1+0x10"}, True, {},
                              "Always firing: 1 heartbeat from Prometheus through Alertmanager to the dead man's "
                              "switch receiver."),)),
        Alert(
            name="LlmRuleEvaluationFailures", severity="critical", for_="10m",
            expr="sum by (job, instance, rule_group) (increase(prometheus_rule_evaluation_failures_total[5m])) > 0",
            summary="Prometheus fails to evaluate alerting or recording rules.",
            description="{{ $labels.instance }}: {{ $value | humanize }} rule evaluations of group "
                        "{{ $labels.rule_group }} failed in 5m; its alerts cannot fire.",
            runbook=Runbook(
                meaning="A rule group fails to evaluate (a query error, a timeout, a many-to-many match after a "
                        "label change): the alerts in it are blind, silently.",
                impact="That group's alerts cannot fire and its recorded series stop: the panels reading them go "
                       "empty.",
                checks=("Panel `pipeline/rule_failures`: which group, since when.",
                        "Prometheus' log and `/api/v1/rules` (lastError of the group's rules).",
                        "The last change to alerts/ or backends/rules.py (the PR's alert diff)."),
                mitigations=("Roll back the rule change; `promtool check rules` and the alert unit tests run in CI.",
                             "For timeouts, give Prometheus more CPU or shorten the group's heaviest windows.",
                             "For many-to-many errors, fix the label the join relies on.")),
            examples=(
                Example("3 failures a minute", {f'prometheus_rule_evaluation_failures_total{{{PROM},rule_group="llm-slo"}}':
                                                per_min(3)}, True,
                        {"job": "prometheus", "instance": "localhost:9090", "rule_group": "llm-slo"},
                        "localhost:9090: 15 rule evaluations of group llm-slo failed in 5m; its alerts cannot fire."),
                Example("no failures", {f'prometheus_rule_evaluation_failures_total{{{PROM},rule_group="llm-slo"}}':
                                        "2+0x60"}, False),
            )),
        Alert(
            name="LlmRemoteWriteFailing", severity="warning", for_="15m",
            expr="sum by (job, instance, remote_name) (rate(prometheus_remote_storage_samples_failed_total[5m])) > 0",
            summary="Prometheus fails to send samples to the long-term store.",
            description="{{ $labels.instance }}: {{ $value | humanize }} samples/s to {{ $labels.remote_name }} "
                        "fail; long-term history has a gap.",
            runbook=Runbook(
                meaning="Remote write to prometheus.remote_write fails after retries: local dashboards and alerts "
                        "work, the long-term store (Mimir, Thanos, a managed service) misses data.",
                impact="The long-term store's history has a gap (capacity and cost trends, anything read from it); "
                       "local dashboards and alerts are unaffected.",
                checks=("Panel `pipeline/remote_write`: which remote, since when.",
                        "Prometheus' log for the remote's HTTP status (401: the secret remote_write_password; "
                        "429/5xx: the store).",
                        "The store's own status page or ingestion limits."),
                mitigations=("Fix the credentials (llmobs:remote_write_password) or the URL in settings.",
                             "Ask the store's owners for higher ingestion limits.",
                             "Lower what is sent (drop series the store does not need).")),
            examples=(
                Example("2 samples/s fail", {f'prometheus_remote_storage_samples_failed_total{{{PROM},remote_name="mimir"}}':
                                             per_min(120)}, True,
                        {"job": "prometheus", "instance": "localhost:9090", "remote_name": "mimir"},
                        "localhost:9090: 2 samples/s to mimir fail; long-term history has a gap."),
                Example("none fail", {f'prometheus_remote_storage_samples_failed_total{{{PROM},remote_name="mimir"}}':
                                      "5+0x60"}, False),
            )),
        Alert(
            name="LlmNotificationsFailing", severity="critical", for_="10m",
            expr="sum by (job, instance, integration) (rate(alertmanager_notifications_failed_total[5m])) > 0",
            summary="Alertmanager fails to deliver notifications to a receiver.",
            description="{{ $labels.instance }}: {{ $value | humanize }} notifications/s to {{ $labels.integration }} "
                        "fail; alerts reach nobody there.",
            runbook=Runbook(
                meaning="Alertmanager cannot deliver to a receiver (Slack, PagerDuty, email, webhook): alerts fire "
                        "and nobody hears. This alert may not reach anyone either: the dead man's switch and the "
                        "Alertmanager UI are the fallback.",
                impact="Alerts routed to that integration reach nobody: pages are lost until it is fixed.",
                checks=("Panel `pipeline/notifications`: which integration, since when.",
                        "Alertmanager's log for the receiver's error (401/403: the secret; timeouts: egress).",
                        "The receiver's secret file (alert_webhook_url, alert_pagerduty_routing_key, "
                        "alert_email_password) and the NetworkPolicy egress ports."),
                mitigations=("Rotate or fix the receiver's secret and restart Alertmanager.",
                             "Open the egress port (443, or the SMTP port) for Alertmanager.",
                             "Meanwhile watch the Alertmanager UI for active alerts.")),
            examples=(
                Example("slack fails", {f'alertmanager_notifications_failed_total{{{AM},integration="slack"}}': per_min(60)},
                        True, {"job": "alertmanager", "instance": "alertmanager:9093", "integration": "slack"},
                        "alertmanager:9093: 1 notifications/s to slack fail; alerts reach nobody there."),
                Example("no failures", {f'alertmanager_notifications_failed_total{{{AM},integration="slack"}}': "1+0x60"},
                        False),
            )),
        Alert(
            name="LlmLogsRefused", severity="warning", for_="10m",
            expr="sum by (job, instance, reason) (rate(loki_discarded_samples_total[5m])) > 0",
            summary="Loki refuses log records the gateway sends.",
            description="{{ $labels.instance }}: {{ $value | humanize }} log lines/s discarded ({{ $labels.reason }}).",
            runbook=Runbook(
                meaning="Loki accepts the push but discards lines (rate limit, too old, line too long, stream "
                        "limit): LLM events and redaction evidence go missing from the Loki panels.",
                impact="Log records are lost: LLM events, evaluation results and redaction evidence are missing from "
                       "the Loki panels and from trace-to-logs links.",
                checks=("Panel `pipeline/discarded`: which reason, since when.",
                        "Panel `pipeline/send_failed`: does the gateway's logs exporter also fail?",
                        "Loki's limits (ingestion rate, max line size, max streams per tenant) in its config."),
                mitigations=("Raise the Loki limit named by the reason.",
                             "Lower log volume at the source (debug logs, verbose events).",
                             "For `too_far_behind`/`too_old`: check the gateway's clock and queue backlog.")),
            examples=(
                Example("rate limited", {'loki_discarded_samples_total{job="loki",instance="loki:3100",reason="rate_limited"}':
                                         per_min(60)}, True,
                        {"job": "loki", "instance": "loki:3100", "reason": "rate_limited"},
                        "loki:3100: 1 log lines/s discarded (rate_limited)."),
                Example("nothing discarded", {'loki_discarded_samples_total{job="loki",instance="loki:3100",reason="rate_limited"}':
                                              "4+0x60"}, False),
            )),
        Alert(
            name="LlmTracesRefused", severity="warning", for_="10m",
            expr="sum by (job, instance, reason) (rate(tempo_discarded_spans_total[5m])) > 0",
            summary="Tempo refuses spans the gateway sends.",
            description="{{ $labels.instance }}: {{ $value | humanize }} spans/s discarded ({{ $labels.reason }}).",
            runbook=Runbook(
                meaning="Tempo discards spans (rate or trace-size limits, live-traces limit): kept traces arrive "
                        "incomplete, and trace links from dashboards and alerts open partial traces.",
                impact="Spans are lost: traces open incomplete from dashboards and alerts, and a failure's steps are "
                       "missing when you debug it.",
                checks=("Panel `pipeline/discarded`: which reason, since when.",
                        "Panel `pipeline/sampling`: did the keep rate jump (more traces sent)?",
                        "Tempo's overrides (ingestion rate, max bytes per trace) in its config."),
                mitigations=("Raise the Tempo limit named by the reason.",
                             "Lower sampling.keep_rate for traces without an LLM call or error.",
                             "Find the service sending huge traces (agent loops) and cap it.")),
            examples=(
                Example("trace too large", {'tempo_discarded_spans_total{job="tempo",instance="tempo:3200",reason="trace_too_large"}':
                                            per_min(120)}, True,
                        {"job": "tempo", "instance": "tempo:3200", "reason": "trace_too_large"},
                        "tempo:3200: 2 spans/s discarded (trace_too_large)."),
                Example("nothing discarded", {'tempo_discarded_spans_total{job="tempo",instance="tempo:3200",reason="trace_too_large"}':
                                              "4+0x60"}, False),
            )),
    ]
    return [Group("llm-self-monitoring", "1m", tuple(out))]
