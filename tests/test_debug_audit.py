"""The debug store's access audit, from Grafana's own traces (collector_config/audit.py).

The real gateway receives spans shaped as Grafana 12 emits them for a query, on the audit
receiver, with no token (Grafana's exporter sends no headers). What each span carries is
quoted from grafana/grafana's source (the file versions docs/gateway.md names, Debug sample store):

- pkg/services/pluginsintegration/clientmiddleware/tracing_middleware.go, traceWrap:
    ctx, span := m.tracer.Start(ctx, "PluginClient."+string(endpoint), trace.WithAttributes(
        attribute.String("plugin_id", pluginContext.PluginID),
        attribute.Int64("org_id", pluginContext.OrgID), // nolint:staticcheck
    ))
    ... span.SetAttributes(attribute.String("datasource_name", settings.Name))
    ... span.SetAttributes(attribute.String("datasource_uid", settings.UID))
    ... span.SetAttributes(attribute.String("user", u.Login))
- pkg/tsdb/loki/loki.go, executeQuery:
    ctx, span := tracer.Start(ctx, "datasource.loki.queryData.runQueries.runQuery", trace.WithAttributes(
        attribute.Bool("runInParallel", runInParallel),
        attribute.String("expr", query.Expr),
        attribute.Int64("start_unixnano", query.Start.UnixNano()),
        attribute.Int64("stop_unixnano", query.End.UnixNano()),
    ))
- pkg/api/pluginproxy/ds_proxy.go, HandleRequest:
    ctx, span := proxy.tracer.Start(proxy.ctx.Req.Context(), "datasource reverse proxy")
    span.SetAttributes(attribute.String("datasource_name", ...), attribute.String("datasource_type", ...),
                       attribute.String("user", proxy.requester.GetLogin()), attribute.Int64("org_id", ...))
- pkg/services/contexthandler/contexthandler.go, setRequestContext:
    span.AddEvent("user", trace.WithAttributes(attribute.String("uname", reqContext.Login),
        attribute.Int64("orgId", reqContext.OrgID), attribute.Int64("userId", reqContext.UserID)))
- pkg/middleware/request_tracing.go: the request span `HTTP <method> <route>` with http.method,
  http.status_code and http.url; pkg/infra/tracing: resource service.name "grafana", service.version.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import collector_config
from artifacts import render_all
import dashboards
from alerts import audit as audit_alert
from backends import debug_access, services
from binaries import promtool
from collector_config import audit
from dashboards import audit as audit_board, lint
from gateway_run import await_sentinel, gateway, wait
from settings import validate
from stacks import KUBE

DEBUG = {"enabled": True, "tenants": ["acme"], "viewers": ["alice@example.com"]}
SECRET = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0kLmN"
LOGQL = '{service_name="support-bot"} |= "' + SECRET + '"'
NOW_NS = 1_767_000_000_000_000_000


class Grafana:
    """Grafana's tracer provider, pointed at the gateway's audit receiver (no headers, no TLS)."""

    def __init__(self, endpoint: str):
        self.provider = TracerProvider(resource=Resource.create({
            "service.name": "grafana", "service.version": "12.1.0", "process.runtime.name": "go",
            "process.runtime.description": "go version go1.24.4 linux/amd64"}))
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, insecure=True),
                                                            schedule_delay_millis=200))
        self.tracer = self.provider.get_tracer("github.com/grafana/grafana/pkg/infra/tracing")

    def query(self, login: str, org_id: int, ds_uid: str, ds_name: str, expr: str) -> str:
        """POST /api/ds/query: auth, then the plugin client, then the Loki data source."""
        t = self.tracer
        with t.start_as_current_span("HTTP POST /api/ds/query", attributes={
                "http.method": "POST", "http.status_code": 200,
                "http.url": "/api/ds/query?ds_type=loki&requestId=explore_abc"}) as root:
            with t.start_as_current_span("ContextHandler.setRequestContext") as auth:
                auth.add_event("user", {"uname": login, "orgId": org_id, "userId": 7})
            with t.start_as_current_span("PluginClient.queryData", attributes={
                    "plugin_id": "loki", "org_id": org_id, "datasource_name": ds_name, "datasource_uid": ds_uid,
                    "user": login, "query_group_id": "q-1"}):
                with t.start_as_current_span("datasource.loki.queryData.runQueries", attributes={
                        "runInParallel": False, "queriesLength": 1}):
                    with t.start_as_current_span(audit.LOKI_QUERY_SPAN, attributes={
                            "runInParallel": False, "expr": expr, "start_unixnano": NOW_NS - 3_600_000_000_000,
                            "stop_unixnano": NOW_NS}):
                        pass
        return format(root.get_span_context().trace_id, "032x")

    def proxy(self, login: str, org_id: int) -> str:
        """GET through the data proxy (no plugin client span)."""
        with self.tracer.start_as_current_span("HTTP GET /api/datasources/proxy/uid/:uid/*", attributes={
                "http.method": "GET", "http.status_code": 200,
                "http.url": "/api/datasources/proxy/uid/debug-logs/loki/api/v1/labels"}) as root:
            with self.tracer.start_as_current_span(audit.PROXY_SPAN, attributes={
                    "datasource_name": debug_access.ORG_NAME, "datasource_type": "loki", "user": login,
                    "org_id": org_id}):
                pass
        return format(root.get_span_context().trace_id, "032x")

    def close(self):
        self.provider.force_flush()
        self.provider.shutdown()


def test_grafana_traces_count_debug_org_accesses_by_login_and_keep_their_traces_intact():
    with gateway(debug=DEBUG) as gw:
        grafana = Grafana(f"127.0.0.1:{gw.collector.listen.audit_port}")
        alice = grafana.query("alice@example.com", 2, audit.DEBUG_DATASOURCE_UID, "Loki debug samples", LOGQL)
        mallory = grafana.proxy("mallory", 2)
        carol = grafana.query("carol", 1, "logs", "Loki", '{service_name="support-bot"}')   # main organization
        grafana.close()

        def count(**labels):
            return gw.sum_of(audit.PROM_METRIC, **labels)
        assert wait(lambda: count(user="alice@example.com", endpoint="PluginClient.queryData") == 1
                    and count(user="mallory", endpoint=audit.PROXY_SPAN) == 1), gw.collector.logs()[-3000:]
        # One series per login and endpoint, from Grafana (service.name becomes `job`); nothing else.
        series = {(labels["user"], labels["endpoint"], labels["job"])
                  for labels in map(dict, gw.metrics.latest(audit.PROM_METRIC))}
        assert series == {("alice@example.com", "PluginClient.queryData", "grafana"),
                          ("mallory", audit.PROXY_SPAN, "grafana")}

        def trace(trace_id):
            return {s["name"]: s for s in gw.traces.spans() if s["trace_id"] == trace_id}
        assert wait(lambda: len(trace(alice)) == 5 and len(trace(mallory)) == 2), gw.collector.logs()[-3000:]
        spans = trace(alice)
        plugin = spans["PluginClient.queryData"]["attributes"]
        # Who and where, intact: an e-mail login is not taken for an e-mail in content.
        assert plugin == {"user": "alice@example.com", "org_id": 2, "plugin_id": "loki",
                          "datasource_uid": audit.DEBUG_DATASOURCE_UID, "datasource_name": "Loki debug samples",
                          "query_group_id": "q-1", audit.MARK: True}
        # What: the LogQL, with the secret typed into it redacted and the rest kept.
        query = spans[audit.LOKI_QUERY_SPAN]["attributes"]
        assert query["expr"] == '{service_name="support-bot"} |= "[REDACTED:openai_key]"'
        assert (query["start_unixnano"], query["stop_unixnano"]) == (NOW_NS - 3_600_000_000_000, NOW_NS)
        assert SECRET not in json.dumps(gw.traces.spans())
        # When: the spans keep their times; the request's URL and the process details go.
        assert spans[audit.LOKI_QUERY_SPAN]["start_ns"] > 0
        assert spans["HTTP POST /api/ds/query"]["attributes"] == {"http.method": "POST", "http.status_code": 200}
        assert spans["PluginClient.queryData"]["resource"] == {"service.name": "grafana", "service.version": "12.1.0"}
        (event,) = spans["ContextHandler.setRequestContext"]["events"]
        assert event["name"] == "user" and event["attributes"] == {"uname": "alice@example.com", "orgId": 2,
                                                                    "userId": 7}
        assert trace(mallory)[audit.PROXY_SPAN]["attributes"]["user"] == "mallory"
        # The main organization's query: neither counted nor kept. A debug-org query after it (kept and
        # counted, past the tail sampler's decision wait) is awaited first.
        late = Grafana(f"127.0.0.1:{gw.collector.listen.audit_port}")
        sent: list[str] = []

        def sentinel(i: int) -> None:
            sent.append(late.query(f"sentinel-{i}", 2, audit.DEBUG_DATASOURCE_UID, "Loki debug samples", "{job=\"x\"}"))
            late.provider.force_flush()
        assert await_sentinel(sentinel, lambda: any(len(trace(t)) == 5 for t in sent)
                              and count(user="sentinel-0", endpoint="PluginClient.queryData") == 1, every=10)
        late.close()
        assert trace(carol) == {} and count(user="carol") == 0
        # Grafana's spans never reach the LLM metrics.
        for name in ("llm_app_requests_total", "llm_requests_total", "llm_redacted_spans_total"):
            assert gw.metrics.latest(name) == {}, name


def test_the_audit_receiver_exists_only_with_the_debug_store():
    off = collector_config.render(validate({"target": "docker"}))
    assert audit.RECEIVER not in off["receivers"] and "traces/audit_in" not in off["service"]["pipelines"]
    on = collector_config.render(validate({"target": "docker", "debug": DEBUG}))
    assert on["receivers"][audit.RECEIVER] == {"protocols": {"grpc": {"endpoint": "0.0.0.0:4319"}}}
    # It is its own pipeline: the LLM pipelines never see Grafana's spans.
    llm = [p for name, p in on["service"]["pipelines"].items() if name.startswith("traces/") and "audit" not in name]
    assert all(audit.RECEIVER not in p["receivers"] and "forward/audit" not in p["receivers"] for p in llm)
    assert on["service"]["pipelines"]["metrics/derived"]["receivers"] == ["llmmetrics", audit.CONNECTOR]
    # Two tiers: the agent runs it (the tier Grafana reaches), the sampler does not.
    two = validate({**KUBE, "kubernetes": {"two_tier": {"enabled": True}}, "debug": DEBUG})
    assert audit.RECEIVER in collector_config.render(two, tier="agent")["receivers"]
    assert audit.RECEIVER not in collector_config.render(two, tier="sampler")["receivers"]
    ports = {s.name: [p.name for p in s.ports] for s in services.collectors(two, render_all(two))}
    assert "audit-grpc" in ports["collector"] and "audit-grpc" not in ports["otel-sampler"]


def _alert_rules(tmp_path: Path) -> Path:
    settings = validate({"target": "docker", "debug": {**DEBUG, "viewers": ["alice", "bob.smith"]}})
    path = tmp_path / "audit.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "audit", "rules": [
        {"alert": audit_alert.NAME, "expr": audit_alert.accesses(settings)}]}]}))
    return path


def _series(user: str, values: str) -> dict:
    return {"series": f'{audit.PROM_METRIC}{{user="{user}",endpoint="PluginClient.queryData",job="grafana"}}',
            "values": values}


def test_the_alert_expression_fires_on_a_first_access_outside_the_allowlist_only(tmp_path):
    """The generated PromQL, evaluated by promtool: a login's very first access (a new series
    at 1) fires, a later one fires again, allowed logins never do."""
    rules = _alert_rules(tmp_path)
    assert lint.parse_promql([("alert", audit_alert.accesses(validate({"target": "docker", "debug": DEBUG})))],
                             promtool()) == []
    fires = [{"exp_labels": {"user": "mallory"}}]
    tests = {"rule_files": [rules.name], "evaluation_interval": "1m", "tests": [
        {"interval": "1m", "input_series": [   # the collector sends the cumulative value every interval
            _series("mallory", "_x10 1x20 2x20"), _series("alice", "1x5 2x40"), _series("bob.smith", "_x10 1x40")],
         "alert_rule_test": [
             {"eval_time": "5m", "alertname": audit_alert.NAME, "exp_alerts": []},
             {"eval_time": "12m", "alertname": audit_alert.NAME, "exp_alerts": fires},   # first access
             {"eval_time": "25m", "alertname": audit_alert.NAME, "exp_alerts": []},      # 10 min later
             {"eval_time": "33m", "alertname": audit_alert.NAME, "exp_alerts": fires},   # the second
             {"eval_time": "45m", "alertname": audit_alert.NAME, "exp_alerts": []}]},
        {"interval": "1m", "input_series": [_series("mallory", "_x10 1")],   # one sample only, then nothing
         "alert_rule_test": [
             {"eval_time": "12m", "alertname": audit_alert.NAME, "exp_alerts": fires},
             {"eval_time": "20m", "alertname": audit_alert.NAME, "exp_alerts": []}]}]}
    (tmp_path / "audit.test.yml").write_text(yaml.safe_dump(tests))
    out = subprocess.run([promtool(), "test", "rules", "audit.test.yml"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("backend", ["tempo", "jaeger"])
def test_the_audit_dashboard_reads_the_counter_and_the_traces(backend):
    settings = validate({"target": "docker", "traces": {"backend": backend}, "debug": DEBUG})
    entry = next(e for e in dashboards.entries(settings) if e.slug == audit_board.SLUG)
    board = dashboards.to_json(entry, settings)
    prom, other = lint.queries({"audit": board})
    assert [expr for _, expr in prom] == [audit_alert.accesses(settings, "$login"), audit_board.all_accesses()]
    # The lint every dashboard gets (PromQL by promtool, TraceQL by Grafana's grammar, metrics, counters,
    # units, descriptions, data source variables, the $login filter applied), with an allowlist.
    assert lint.lint({"audit": board}) == []
    (traces,) = [p for p in board["panels"] if p["datasource"] == "${traces}"]
    target = traces["targets"][0]
    if backend == "tempo":
        assert other == [("audit/The queries (LogQL) the debug organization ran/A", "traceql", audit_board.traceql())]
        assert target["tableType"] == "spans"
        assert lint.parse_grammars([("broken", "traceql", audit_board.traceql()[:-1] + " ||")]) != []
    else:
        assert other == [] and (target["service"], target["tags"]) == ("grafana", f"{audit.MARK}=true")
    # Only signals the stack ships, through the data source variables of every dashboard: Prometheus and
    # the traces backend; no panel reads Grafana's or Loki's own log lines.
    assert {t["datasource"] for p in board["panels"] for t in p["targets"]} == {"${datasource}", "${traces}"}
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert (variables["datasource"]["query"], variables["traces"]["query"]) == ("prometheus", backend)
    assert "service" not in variables   # Jaeger's search names service grafana itself


# --- placement (Pulumi mocks) ----------------------------------------------------------

def _ports_of(rule: dict) -> set[int]:
    return {p["port"] for p in rule.get("ports", [])}


@pytest.mark.parametrize("two_tier", [False, True])
def test_kubernetes_lets_only_grafana_reach_the_audit_receiver(two_tier):
    import test_kubernetes as k8s_t   # installs the Kubernetes mocks
    k8s_t.install_mocks()
    config = {**KUBE, "debug": DEBUG, "kubernetes": {"two_tier": {"enabled": two_tier}},
              **({} if two_tier else {"collector": {**KUBE["collector"], "replicas_min": 1, "replicas_max": 1}})}
    g = k8s_t.build(config, k8s_t.SECRETS)
    objects = g.objects()
    assert k8s_t.check_schema(objects, "1.33") == []
    assert k8s_t.check_network_policies(objects) == [] and k8s_t.check_policy_pairs(objects) == []
    service = g.get("Service", "collector")
    assert {"name": "audit-grpc", "port": 4319, "targetPort": "audit-grpc", "protocol": "TCP",
            "appProtocol": "grpc"} in service["spec"]["ports"]
    policy = g.get("NetworkPolicy", "collector")["spec"]
    audit_rules = [r for r in policy["ingress"] if 4319 in _ports_of(r)]
    assert [(_ports_of(r), [peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for peer in r["from"]])
            for r in audit_rules] == [({4319}, ["grafana"])]
    grafana = g.get("NetworkPolicy", "grafana")["spec"]
    assert any(4319 in _ports_of(r) and r["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "collector"
               for r in grafana["egress"])
    # The tier that receives Grafana's traces also exports the kept ones to the traces backend.
    assert any(4317 in _ports_of(r) and r["to"][0].get("podSelector", {}).get("matchLabels", {}).get(
        "app.kubernetes.io/name") == "tempo" for r in policy["egress"])
    ini = next(cm["data"]["grafana__grafana.ini"] for cm in g.of_kind("ConfigMap") if "grafana__grafana.ini" in cm["data"])
    assert "address = collector:4319" in ini
    if two_tier:
        assert all(p["port"] != 4319 for p in g.get("Service", "otel-sampler")["spec"]["ports"])


def test_kubernetes_without_the_debug_store_has_no_audit_port():
    import test_kubernetes as k8s_t
    k8s_t.install_mocks()
    g = k8s_t.graph("default")
    assert all(p["port"] != 4319 for p in g.get("Service", "collector")["spec"]["ports"])
    assert all(4319 not in _ports_of(r) for r in g.get("NetworkPolicy", "grafana")["spec"]["egress"])


def test_docker_keeps_the_audit_receiver_on_the_stack_network():
    import pulumi
    import test_docker_stack as docker_t   # installs the Docker mocks
    docker_t.MOCKS.resources.clear()
    pulumi.runtime.set_mocks(docker_t.MOCKS, preview=False)
    config = {"target": "docker", "debug": DEBUG}
    expected = render_all(validate(config))

    @pulumi.runtime.test
    def run():
        _, res = docker_t.deploy(config)

        def check(res):
            found = docker_t.containers(res)
            published = [p for p in found["llmobs-collector"]["ports"]]
            assert 4319 not in {p["internal"] for p in published} and {p["ip"] for p in published} == {"127.0.0.1"}
            collector = {u["file"].removeprefix("/etc/llmobs/"): u["content"] for u in found["llmobs-collector"]["uploads"]}
            assert "otlp/grafana" in collector["collector/config.yaml"]
            grafana = {u["file"].removeprefix("/etc/llmobs/"): u["content"] for u in found["llmobs-grafana"]["uploads"]}
            assert grafana["grafana/grafana.ini"] == expected["grafana/grafana.ini"]
            assert "address = collector:4319" in grafana["grafana/grafana.ini"]
        return res.apply(check)
    run()
