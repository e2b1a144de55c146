"""Telemetry pipeline health: the gateway's own metrics and backend reachability.

The series names are the collector's internal telemetry and Prometheus' `up`
(telemetry.catalog.SELF_METRICS)."""
from __future__ import annotations

from alerts.llm import n, per_min
from alerts.model import Alert, Example, Group, Runbook
from settings import Settings
from telemetry.catalog import SELF_METRICS as PIPELINE_METRICS  # noqa: F401  (linted against)

SIGNALS = ("spans", "log_records", "metric_points")
GATEWAY = 'job="collector",instance="collector:8888"'
OVERFLOW, OVERFLOW_LOGS = n("llm.label.overflow"), n("llm.label.overflow.logs")


def _any_signal(template: str) -> str:
    return " or ".join(template.format(s=s) for s in SIGNALS)


def alerts(settings: Settings) -> list[Group]:
    pipeline_checks = ("Panels `pipeline/accepted`, `pipeline/refused` and `pipeline/send_failed`: per signal, per collector pod.",
                       "Collector logs (memory limiter, exporter errors) and pod restarts.",
                       "The backend it exports to: reachable, healthy, not rejecting (429/5xx).")
    out = [
        Alert(
            name="LlmCollectorRefusingData", severity="critical", for_="5m",
            expr=_any_signal("sum by (job, instance) (rate(otelcol_receiver_refused_{s}[5m])) > 0"),
            summary="The telemetry gateway refuses incoming data.",
            description="{{ $labels.job }} {{ $labels.instance }} refuses {{ $value | humanize }} items/s; "
                        "senders retry and then drop.",
            runbook=Runbook(
                meaning="The receiver answers with an error, usually the memory limiter under overload; "
                        "applications buffer, retry and finally drop telemetry.",
                impact="Telemetry is lost once the applications' buffers fill: metrics, traces and logs have gaps, and "
                       "the alerts on those metrics go blind.",
                checks=pipeline_checks,
                mitigations=("Scale the gateway out (replicas) or up (memory limit in settings).",
                             "Find the sender whose traffic jumped and throttle it.",
                             "Check that exporters drain: a stuck backend fills memory.")),
            examples=(
                Example("refusing 1 span/s", {f'otelcol_receiver_refused_spans{{{GATEWAY},receiver="otlp",transport="grpc"}}':
                                              per_min(60)}, True, {"job": "collector", "instance": "collector:8888"},
                        "collector collector:8888 refuses 1 items/s; senders retry and then drop."),
                Example("nothing refused", {f'otelcol_receiver_refused_spans{{{GATEWAY},receiver="otlp",transport="grpc"}}':
                                            "0+0x60"}, False),
            )),
        Alert(
            name="LlmExporterSendFailures", severity="critical", for_="10m",
            expr=_any_signal("sum by (job, instance, exporter) (rate(otelcol_exporter_send_failed_{s}[5m])) > 0"),
            summary="The telemetry gateway fails to deliver data to a backend.",
            description="{{ $labels.job }} {{ $labels.instance }}: exporter {{ $labels.exporter }} drops "
                        "{{ $value | humanize }} items/s after retries.",
            runbook=Runbook(
                meaning="After retries and the sending queue, data is dropped: dashboards and traces have gaps.",
                impact="Telemetry is dropped for good: dashboards and traces have gaps, and alerts on the lost series "
                       "miss or fire late.",
                checks=pipeline_checks,
                mitigations=("Restore the backend (see its down alert and runbook).",
                             "Raise the sending queue or enable the persistent queue for longer outages.",
                             "Check credentials and TLS between gateway and backend.")),
            examples=(
                Example("dropping 2 spans/s", {f'otelcol_exporter_send_failed_spans{{{GATEWAY},exporter="otlp_grpc/traces"}}':
                                               per_min(120)}, True,
                        {"job": "collector", "instance": "collector:8888", "exporter": "otlp_grpc/traces"},
                        "collector collector:8888: exporter otlp_grpc/traces drops 2 items/s after retries."),
                Example("no failures", {f'otelcol_exporter_send_failed_spans{{{GATEWAY},exporter="otlp_grpc/traces"}}':
                                        "3+0x60"}, False),
            )),
        Alert(
            name="LlmExporterQueueNearFull", severity="warning", for_="10m",
            expr="max by (job, instance, exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity) > 0.8",
            summary="A gateway exporter's sending queue is nearly full.",
            description="{{ $labels.job }} {{ $labels.instance }}: exporter {{ $labels.exporter }} queue at "
                        "{{ $value | humanizePercentage }} of capacity.",
            runbook=Runbook(
                meaning="The backend is slower than the incoming rate; once full, the exporter drops data.",
                impact="Nothing is lost yet; once the queue is full, data is dropped (LlmExporterSendFailures), and "
                       "the gateway's memory use is at its highest.",
                checks=pipeline_checks,
                mitigations=("Scale the backend or the gateway.",
                             "Lower the incoming rate (sampling, throttling a noisy sender).",
                             "Raise the queue size if memory allows.")),
            examples=(
                Example("queue at 90%", {f'otelcol_exporter_queue_size{{{GATEWAY},exporter="otlp_http/logs"}}': "900+0x30",
                                         f'otelcol_exporter_queue_capacity{{{GATEWAY},exporter="otlp_http/logs"}}': "1000+0x30"},
                        True, {"job": "collector", "instance": "collector:8888", "exporter": "otlp_http/logs"},
                        "collector collector:8888: exporter otlp_http/logs queue at 90% of capacity."),
                Example("queue at 50%", {f'otelcol_exporter_queue_size{{{GATEWAY},exporter="otlp_http/logs"}}': "500+0x30",
                                         f'otelcol_exporter_queue_capacity{{{GATEWAY},exporter="otlp_http/logs"}}': "1000+0x30"},
                        False),
            )),
        Alert(
            name="LlmBackendDown", severity="critical", for_="5m",
            expr="up == 0",
            summary="A component of the observability stack is unreachable.",
            description="{{ $labels.job }} ({{ $labels.instance }}) has not answered its scrape for 5m.",
            runbook=Runbook(
                meaning="Prometheus cannot scrape the component: it is down, restarting, or blocked by the network. "
                        "A collector outage inhibits the no-traffic alert.",
                impact="Depends on the job: the gateway (no telemetry accepted), Prometheus (no rules evaluated, so no "
                       "alerts), Alertmanager (no notifications), Loki or Tempo (no new logs or traces), Grafana (no "
                       "dashboards, and no runbooks where Grafana serves them).",
                checks=("Panel `pipeline/up`: which job, since when.",
                        "Pod status and recent restarts (`kubectl -n llmobs get pods`), or `docker ps` locally.",
                        "The component's logs around the onset (Loki, or `kubectl logs --previous`)."),
                mitigations=("Restart the component; check its volume has space.",
                             "Roll back a config change (the rendered config is in the PR diff).",
                             "Check NetworkPolicies after a namespace or label change.")),
            examples=(
                Example("loki down", {'up{job="loki",instance="loki:3100"}': "0+0x20"}, True,
                        {"job": "loki", "instance": "loki:3100"}, "loki (loki:3100) has not answered its scrape for 5m."),
                Example("loki up", {'up{job="loki",instance="loki:3100"}': "1+0x20"}, False),
            )),
        Alert(
            name="LlmLabelOverflow", severity="info", for_="1h",
            # Spans first; logs only where no span of that bound overflowed (`or` keeps the left side).
            expr=f"(sum by (llmobs_label) (rate({OVERFLOW}[1h])) or sum by (llmobs_label) (rate({OVERFLOW_LOGS}[1h]))) > 0",
            summary="Values of a bounded metric label are being folded into other.",
            description="{{ $labels.llmobs_label }}: {{ $value | humanize }} records/s carry a value outside "
                        "llmobs:labels.{{ $labels.llmobs_label }} and are counted as other.",
            runbook=Runbook(
                meaning="A label the application controls (tenant, feature, prompt version, environment, index) "
                        "has values outside its bound in the stack settings, so dashboards show them as `other`. "
                        "Informational: the bound protects Prometheus; widen it if the values matter.",
                impact="Dashboards and alerts lump the values outside the bound together as `other`: views by that "
                       "label lose detail; nothing is dropped.",
                checks=("Panel `pipeline/overflow`: which bound, since when?",
                        "Traces of the service: which new values appear (a new tenant, a new prompt version)?",
                        "The head-series budget: `python3 scripts/cardinality` and prometheus_tsdb_head_series."),
                mitigations=("Add the values to llmobs:labels.<bound>.allowed, or a pattern for versions that churn.",
                             "If the values are ids (unbounded), fix the application to send a stable category.",
                             "Silence it for bounds that are meant to fold (e.g. a long tail of small tenants).")),
            examples=(
                Example("tenants folded", {'llm_label_overflow_total{llmobs_label="tenant"}': per_min(60, 120)}, True,
                        {"llmobs_label": "tenant"},
                        "tenant: 1 records/s carry a value outside llmobs:labels.tenant and are counted as other."),
                Example("nothing folded", {'llm_label_overflow_total{llmobs_label="tenant"}': "3+0x120"}, False),
            )),
    ]
    return [Group("llm-pipeline", "1m", tuple(out))]
