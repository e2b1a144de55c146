"""What the dashboards' exemplar switches and Loki panels rely on, checked against the real gateway.

Exemplars: an application's SDK records its own histograms inside a span; the real collector
runs the generated config and remote-writes to a real Prometheus started with the deployed
flags (exemplar storage on). Every dashboard target with `exemplar: true` gets exemplars that
name the application's traces from Prometheus' query_exemplars API; every target on a
gateway-derived histogram gets none (the llmmetrics connector writes no exemplars), which is
why those targets leave the switch off.

Loki cannot run here: the LLM-event log panels' LogQL is parsed by Grafana's grammar in the
lint, and the fields it filters on are checked here on the records the gateway exports to Loki's
OTLP endpoint (a capture sink), named the way Loki's OTLP ingestion names them.
"""
from __future__ import annotations

import re
import subprocess
import time
import urllib.parse
import urllib.request
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from opentelemetry import context as otel_context
from opentelemetry.sdk.resources import Resource

from backends import grafana, services
from binaries import binary
from collector_harness import TOKEN, RunningCollector, free_port
from dashboards import lint, review
from dashboards.common import EVENT_LINE_KEYS, LLM_EVENT_KEYS
from dashboards.helpers import APP_HISTOGRAMS, loki_label
from gateway_run import App, settings_for, wait
from sinks import OtlpGrpcSink, OtlpHttpSink
from telemetry import keys as k
from telemetry.catalog import CATALOG

SERVICE = "exemplar-app"
REQUESTS = 4
DERIVED_HISTOGRAMS = {m.prometheus for m in CATALOG if m.kind == "histogram"}


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


class Prometheus:
    """The pinned Prometheus with the deployed remote-write and exemplar flags, on 127.0.0.1."""

    def __init__(self, tmp: Path):
        deployed = services.prometheus(review.reference_settings(), {}).args
        flags = [a for a in deployed if a.startswith(("--web.enable-remote-write-receiver", "--enable-feature="))]
        assert "--enable-feature=exemplar-storage" in flags, deployed
        (tmp / "prometheus.yml").write_text("global: {}\n")   # nothing to scrape: remote write only
        self.base = f"http://127.0.0.1:{free_port()}"
        self.log = open(tmp / "prometheus.log", "w")
        self.proc = subprocess.Popen(
            [binary("prometheus"), f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={tmp / 'data'}",
             f"--web.listen-address={self.base.split('//')[1]}", *flags], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (tmp / "prometheus.log").read_text()
            try:
                with urllib.request.urlopen(f"{self.base}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise TimeoutError("Prometheus not ready in 60s")

    def query(self, expr: str) -> list:
        return _get(f"{self.base}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))["data"]["result"]

    def exemplars(self, expr: str) -> list[dict]:
        now = time.time()
        data = _get(f"{self.base}/api/v1/query_exemplars?" + urllib.parse.urlencode(
            {"query": expr, "start": now - 900, "end": now + 60}))
        assert data["status"] == "success", data
        return [e for series in data["data"] for e in series["exemplars"]]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()


def _send(app: App) -> list[str]:
    """An application's requests: an LLM call span, its SDK histograms recorded inside the spans,
    an evaluation result and a feedback event in the trace. Returns the trace ids."""
    duration = app.meter.create_histogram("http.server.request.duration", unit="s")
    tokens = app.meter.create_histogram("gen_ai.client.token.usage", unit="{token}")
    call = {k.PROVIDER: "openai", k.REQUEST_MODEL: "gpt-4o-mini", k.OPERATION: "chat"}
    trace_ids = []
    for i in range(REQUESTS):
        with app.tracer.start_as_current_span("POST /chat") as root:
            trace_ids.append(format(root.get_span_context().trace_id, "032x"))
            with app.tracer.start_as_current_span("chat gpt-4o-mini") as span:
                for key, value in {**call, k.INPUT_TOKENS: 100 + i, k.OUTPUT_TOKENS: 20}.items():
                    span.set_attribute(key, value)
                tokens.record(100 + i, {**call, "gen_ai.token.type": "input"})
                tokens.record(20, {**call, "gen_ai.token.type": "output"})
            ctx = otel_context.get_current()
            app.logger.emit(body="", context=ctx, event_name="gen_ai.evaluation.result", attributes={
                k.EVAL_NAME: "faithfulness", k.EVAL_SCORE: 0.9, k.EVAL_LABEL: "pass",
                k.REQUEST_MODEL: "gpt-4o-mini", k.PROMPT_VERSION: "v1"})
            app.logger.emit(body="", context=ctx, event_name="llmobs.user_feedback",
                            attributes={k.FEEDBACK: "up", k.PROMPT_VERSION: "v1"})
            duration.record(0.4 + i / 10, {"http.route": "/chat", "http.request.method": "POST",
                                           "http.response.status_code": 200})
    app.flush()
    return trace_ids


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    prom = Prometheus(tmp_path_factory.mktemp("prometheus"))
    try:
        with OtlpGrpcSink() as traces, OtlpHttpSink() as logs:
            remote_write = SimpleNamespace(url=f"{prom.base}/api/v1/write")
            with RunningCollector(settings_for(traces, logs, remote_write)) as collector:
                app = App(collector.grpc_endpoint, Resource.create(
                    {"service.name": SERVICE, "deployment.environment.name": "test"}), TOKEN)
                trace_ids = _send(app)
                app.close()
                job = f'{{job="{SERVICE}"}}'
                assert wait(lambda: prom.query(f"http_server_request_duration_seconds_count{job}")
                            and prom.query(f"gen_ai_client_operation_duration_seconds_count{job}"), timeout=60), \
                    collector.logs()[-3000:]
                assert wait(lambda: len([r for r in logs.logs() if r["attributes"].get(k.FEEDBACK)]) == REQUESTS,
                            timeout=30)
                yield SimpleNamespace(prom=prom, logs=logs.logs(), trace_ids=set(trace_ids))
    finally:
        prom.stop()


def _targets():
    prom, other = lint.queries(review.fresh())
    exemplar = {where for slug, board in review.fresh().items() for p in board["panels"]
                for t in p.get("targets", []) if t.get("exemplar")
                for where in [f"{slug}/{p['title']}/{t['refId']}"]}
    return prom, other, exemplar


def _as_prometheus_sees_it(expr: str) -> str:
    return lint.promql(expr.replace("$__rate_interval", "15m"))


def test_exemplar_targets_link_to_the_apps_traces(run):
    prom, _, exemplar = _targets()
    assert exemplar, "no dashboard target asks for exemplars"
    for where, expr in prom:
        if where in exemplar:
            found = run.prom.exemplars(_as_prometheus_sees_it(expr))
            ids = {e["labels"].get("trace_id") for e in found}
            assert found and ids <= run.trace_ids, (where, found)


def test_derived_histograms_carry_no_exemplars_so_their_targets_ask_for_none(run):
    prom, _, exemplar = _targets()
    # The derived series exist (so "none" is not "no data")...
    assert run.prom.query(f'gen_ai_client_operation_duration_seconds_bucket{{job="{SERVICE}"}}')
    assert run.prom.exemplars(f'gen_ai_client_operation_duration_seconds_bucket{{job="{SERVICE}"}}') == []
    checked = 0
    for where, expr in prom:
        names = lint.identifiers(expr)
        if names & {h + "_bucket" for h in DERIVED_HISTOGRAMS}:
            assert where not in exemplar, where
            assert run.prom.exemplars(_as_prometheus_sees_it(expr)) == [], where
            checked += 1
        if names & {h + "_bucket" for h in APP_HISTOGRAMS}:
            assert where in exemplar, f"{where}: an app histogram without the exemplar switch"
    assert checked >= 5


def _llm_event_queries() -> list[str]:
    _, other, _ = _targets()
    return [q for where, lang, q in other if lang == "logql" and "trace_id" in q]


def test_llm_event_panels_filter_on_fields_the_gateway_exports(run):
    queries = _llm_event_queries()
    assert len(queries) == 2   # overview and agents
    events = [r for r in run.logs if r["attributes"].get(k.EVAL_NAME) or r["attributes"].get(k.FEEDBACK)]
    assert len(events) == 2 * REQUESTS
    for record in events:
        # Loki stores the record's trace id as structured metadata `trace_id`: the `$trace_id` filter.
        assert record["trace_id"] in run.trace_ids, record
        assert record["resource"][k.SERVICE_NAME] == SERVICE                    # the stream selector's label
        assert record["resource"][k.ENVIRONMENT] == "test"                       # the environment filter
        assert any(record["attributes"].get(key) not in (None, "") for key in LLM_EVENT_KEYS), record
    exported = {key for record in events for key in record["attributes"]}
    for key in EVENT_LINE_KEYS:
        assert key in exported, f"line_format shows {key}, which no exported event carries"
    for query in queries:
        for key in LLM_EVENT_KEYS + EVENT_LINE_KEYS:
            assert loki_label(key) in query
        assert re.search(r'\| trace_id=~"\$\{trace_id\}\.\*"', query), query


def test_grafana_correlations_use_the_names_the_backends_write(run):
    # Metrics -> traces: Grafana reads the exemplar label that remote write sets.
    _, _, exemplar = _targets()
    prom, _, _ = _targets()
    labels = {key for where, expr in prom if where in exemplar
              for e in run.prom.exemplars(_as_prometheus_sees_it(expr)) for key in e["labels"]}
    assert grafana.EXEMPLAR_TRACE_LABEL in labels, labels
    # Traces -> logs: a valid LogQL on Loki's `trace_id` structured metadata (Loki's otlp.go sets it
    # from the record's trace id, which every exported LLM event carries).
    query = grafana.TRACE_LOGS_QUERY.replace("$${__trace.traceId}", sorted(run.trace_ids)[0])
    assert lint.parse_grammars([("traces->logs", "logql", query)]) == []
    assert f'| {grafana.LOKI_TRACE_FIELD}="' in query and grafana.LOKI_TRACE_FIELD == "trace_id"
    derived = grafana.logs_datasource()["jsonData"]["derivedFields"]
    assert any(d["matcherType"] == "label" and d["matcherRegex"] == grafana.LOKI_TRACE_FIELD for d in derived)


def test_loki_names_attributes_as_the_panels_expect():
    # Loki's OTLP ingestion (otlptranslator.NormalizeLabel): characters outside [A-Za-z0-9_] become "_".
    assert loki_label(k.EVAL_NAME) == "gen_ai_evaluation_name"
    assert loki_label(k.ENVIRONMENT) == "deployment_environment_name"
    assert loki_label("http.response.status_code") == "http_response_status_code"
