"""External backends (issue 31) under Pulumi mocks and as pure objects: each external mode renders
what it promises, the bundled service of an external backend is not deployed, bad input fails
before any resource with the key named, credentials stay in Secrets, and the NetworkPolicies of an
external mode allow egress only to the configured endpoints.

The real-binary checks are elsewhere: the PrometheusRule contents under promtool
(test_external_rules), the operator objects on a real API server with the real CRDs
(test_apiserver's variants)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pulumi
import pytest
import yaml

import test_kubernetes as tk   # its mocks (installed per test), records and checks
from test_kubernetes import MOCKS, K8S

import alerts
import backends.rules
from backends import alertmanager
from collector_config import render as render_collector
from components.kubernetes import KubernetesStack, external, manifests
from settings import SettingsError, validate
from settings.load import load_stack_file
from stacks import KUBE, drop_none as _drop_none, with_backends as _with

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _our_mocks():
    tk.install_mocks()
    yield


def _stack_file(name: str) -> dict:
    config = yaml.safe_load((ROOT / name).read_text())["config"]
    return {k.removeprefix("llmobs:"): v for k, v in config.items()}


KPS = _stack_file("Pulumi.kube-prometheus.yaml")
PROM_SVC = "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
OPERATOR = {"mode": "external", "remote_write_url": f"{PROM_SVC}/api/v1/write", "query_url": PROM_SVC,
            "rules": "prometheus-operator", "selector_labels": {"release": "kube-prometheus-stack"}}
# Every secret an external mode reads, with values to look for where they must never be.
SECRETS = {**tk.SECRETS, "alert_pagerduty_routing_key": "PdKey-4e1a-secret", "metrics_token": "MetricsTok-71b2-secret",
           "traces_token": "TracesTok-0c93-secret", "logs_token": "LogsTok-ad54-secret",
           "grafana_token": "glsa_GrafanaTok-19fe-secret"}

OPTIONS = {
    "kube-prometheus": KPS,
    "podmonitor-one-tier": {**KUBE, "kubernetes": {"two_tier": {"enabled": False}},
                            "collector": {**KUBE["collector"], "replicas_min": 1, "replicas_max": 1},
                            "backends": {"metrics": {**OPERATOR, "monitor": "podmonitor"},
                                         "alerting": {"mode": "external", "kind": "team"}}},
    # Mixed: the operator's Prometheus, the bundled Grafana reading it, bundled Tempo, external Loki.
    "mixed": {**KUBE, "backends": {
        "metrics": OPERATOR, "alerting": {"mode": "external", "kind": "alertmanager-config"},
        "logs": {"mode": "external", "endpoint": "http://loki-gateway.logging.svc:80/otlp",
                 "headers": {"X-Scope-OrgID": "llm"}, "query_url": "http://loki-gateway.logging.svc:80"}},
        "alerts": {"receivers": {"kind": "webhook"}}},
}

PUSH = {
    "traces": {"mode": "external", "endpoint": "tempo-distributor.tracing.svc:4317", "insecure": True,
               "headers": {"X-Scope-OrgID": "llm"}, "query_url": "http://tempo-query.tracing.svc:3200"},
    "logs": {"mode": "external", "endpoint": "https://logs-prod.grafana.example/otlp", "auth": "basic",
             "query_url": "https://logs-prod.grafana.example"},
}
OPTIONS["push"] = {**KUBE, "kubernetes": {"two_tier": {"enabled": False}},
                   "collector": {**KUBE["collector"], "replicas_min": 1, "replicas_max": 1}, "backends": PUSH}

CLOUD = _stack_file("Pulumi.grafana-cloud.yaml")
OPTIONS["grafana-cloud"] = CLOUD
# A self-hosted Grafana without data sources for the stack's signals: the stack creates them.
OPTIONS["grafana-api-created-datasources"] = {
    **KUBE, "alerts": {"engine": "grafana"},
    "backends": {"metrics": {**OPERATOR, "rules": "none", "query_url": "https://mimir.example/prometheus"},
                 "alerting": {"mode": "external", "kind": "grafana"},
                 "dashboards": {"mode": "external", "kind": "grafana-api", "url": "https://grafana.example"},
                 "traces": {"mode": "external", "endpoint": "tempo.example:4317", "query_url": "https://tempo.example"},
                 "logs": {"mode": "external", "endpoint": "https://loki.example/otlp", "query_url": "https://loki.example"}}}


def build(config: dict, secrets: dict | None = None) -> tk.Graph:
    MOCKS.records.clear()
    MOCKS.parents.clear()
    holder: dict = {}

    @pulumi.runtime.test
    def run():
        stack = KubernetesStack("llmobs", {"config": config, **(secrets or {})})
        holder["stack"] = stack
        # Every child's id: the test returns once each one is registered (the Grafana API's rule groups
        # wait on its data sources).
        children = [r.id for svc in stack.services.values() for r in svc.resources.values()]
        api = stack.grafana_api
        if api is not None:
            children += [r.id for group in (api.folders, api.datasources, api.dashboards, api.rule_groups,
                                            api.contact_points) for r in group.values()]
            if api.notification_policy is not None:
                children.append(api.notification_policy.id)
        return pulumi.Output.all(stack.namespace, stack.otlp_grpc_endpoint, *children).apply(
            lambda values: holder.__setitem__("outputs", dict(zip(["namespace", "otlp_grpc_endpoint"], values))))

    run()
    return tk.Graph(validate(config), list(MOCKS.records), holder["stack"], holder["outputs"])


_CACHE: dict[str, tk.Graph] = {}


def graph(option: str) -> tk.Graph:
    if option not in _CACHE:
        _CACHE[option] = build(OPTIONS[option], SECRETS)
    return _CACHE[option]


def workloads(g: tk.Graph) -> set[str]:
    return {o["metadata"]["name"] for o in g.objects() if o["kind"] in tk.WORKLOADS}


def custom(g: tk.Graph) -> list[dict]:
    """Custom resources as placed: kubernetes:<group>/<version>:<Kind> with apiVersion, kind, metadata, spec."""
    return [r.inputs for r in g.records if r.typ.startswith("kubernetes:monitoring.coreos.com/")]


# -- under mocks: what each mode places ---------------------------------------------------

def test_kube_prometheus_places_operator_objects_and_sidecar_dashboards_not_the_bundled_backends():
    g = graph("kube-prometheus")
    assert workloads(g) == {"collector", "otel-sampler", "tempo", "loki"}
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in custom(g))
    assert kinds == [("AlertmanagerConfig", "llmobs"), ("PrometheusRule", "llm-alert-rules"),
                     ("PrometheusRule", "llm-recording-rules"), ("ServiceMonitor", "llm-gateway")]
    for o in custom(g):
        if o["kind"] != "AlertmanagerConfig":
            assert o["metadata"]["labels"]["release"] == "kube-prometheus-stack", o["metadata"]
    # Each CRD is read from the cluster before anything is placed (preview fails without the operator).
    reads = sorted(r.read_id for r in g.records if r.read_id)
    assert reads == ["alertmanagerconfigs.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com",
                     "servicemonitors.monitoring.coreos.com"]
    sidecar = [o for o in g.of_kind("ConfigMap") if o["metadata"]["name"].startswith(external.DASHBOARD_PREFIX)]
    assert len(sidecar) == len(__import__("dashboards").entries(g.settings))
    types = {r.typ for r in g.records}
    assert "llmobs:index:PrometheusOperatorObjects" in types and "llmobs:index:SidecarDashboards" in types
    assert not {"llmobs:index:Prometheus", "llmobs:index:Alertmanager", "llmobs:index:Grafana"} & types


def test_operator_objects_are_parented_by_their_component():
    g = graph("kube-prometheus")
    by_name = {r.name: r for r in g.records}
    for r in g.records:
        if r.typ.startswith("kubernetes:monitoring.coreos.com/"):
            assert r.name.startswith("llmobs-operator-"), r.name
            assert r.parent.endswith("llmobs:index:PrometheusOperatorObjects::llmobs-operator"), r.parent
    assert by_name["llmobs-operator"].parent.endswith("llmobs:index:KubernetesStack::llmobs")


def _expected_groups(settings, namespace_label: bool) -> list[dict]:
    """The bundled Prometheus's rule files, parsed again: recording groups, then alert groups."""
    def load(text):
        return [{k: v for k, v in g.items() if v is not None} for g in yaml.safe_load(text)["groups"]]
    groups = load(backends.rules.render(settings)["prometheus/rules/llm.rules.yml"])
    alert_groups = load(alerts.render(settings)[alerts.RULES_FILE])
    for group in alert_groups:
        for rule in group["rules"]:
            if namespace_label:
                rule["labels"]["namespace"] = settings.namespace
    return groups + alert_groups


@pytest.mark.parametrize("option, namespace_label", [("kube-prometheus", True), ("podmonitor-one-tier", False)])
def test_prometheus_rules_hold_the_bundled_rule_files_groups(option, namespace_label):
    g = graph(option)
    rules = {o["metadata"]["name"]: o["spec"]["groups"] for o in custom(g) if o["kind"] == "PrometheusRule"}
    assert rules[external.RECORDING_RULES] + rules[external.ALERT_RULES] == _expected_groups(g.settings,
                                                                                             namespace_label)
    alert_rules = [r for grp in rules[external.ALERT_RULES] for r in grp["rules"]]
    assert len(alert_rules) == len(alerts.all_alerts(g.settings)) and all("alert" in r for r in alert_rules)


# The operator's CRDs each option needs, by hand: their names as the CRD files of
# prometheus-operator v0.86.1 (example/prometheus-operator-crd/) spell them.
NEEDS_CRDS = {
    "kube-prometheus": ["alertmanagerconfigs.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com",
                        "servicemonitors.monitoring.coreos.com"],
    "podmonitor-one-tier": ["podmonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com"],
    "mixed": ["alertmanagerconfigs.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com"],
    "push": [], "grafana-cloud": [], "grafana-api-created-datasources": [],
}


@pytest.mark.parametrize("option", list(OPTIONS))
def test_each_operator_crd_the_objects_need_is_read_from_the_cluster_first(option):
    """`pulumi preview` fails on the read of a missing CRD, before anything changes (stack.py)."""
    g = graph(option)
    reads = sorted(r.read_id for r in g.records if r.read_id)
    assert reads == NEEDS_CRDS[option]
    assert all(r.typ == "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition" and
               r.name == f"llmobs-needs-crd-{r.read_id}" for r in g.records if r.read_id)


def test_service_monitor_scrapes_each_collector_pod_once_as_the_bundled_jobs():
    g = graph("kube-prometheus")
    sm = next(o for o in custom(g) if o["kind"] == "ServiceMonitor")
    spec = sm["spec"]
    selected = [o for o in g.of_kind("Service")
                if tk.selects(spec["selector"]["matchLabels"], o["metadata"]["labels"])
                and o["metadata"]["labels"]["app.kubernetes.io/name"] in spec["selector"]["matchExpressions"][0]["values"]]
    # The headless Services that list every pod of a tier; the `collector` Service (same pods) is not scraped.
    assert sorted(o["metadata"]["name"] for o in selected) == ["collector-pods", "otel-sampler"]
    assert all(any(p["name"] == "metrics" for p in o["spec"]["ports"]) for o in selected)
    assert spec["namespaceSelector"] == {"matchNames": ["llmobs"]}
    # The endpoint whole: the bundled Prometheus' 15s scrape interval, so the alerts' windows mean the same.
    assert spec["endpoints"] == [{"port": "metrics", "interval": "15s", "path": "/metrics", "scheme": "http",
                                  "relabelings": [{"sourceLabels": ["__meta_kubernetes_service_label_app_kubernetes_io_name"],
                                                   "targetLabel": "job", "action": "replace"}]}]
    assert {o["metadata"]["labels"]["app.kubernetes.io/name"] for o in selected} == {"collector", "otel-sampler"}


def test_pod_monitor_selects_the_gateway_pods():
    g = graph("podmonitor-one-tier")
    pm = next(o for o in custom(g) if o["kind"] == "PodMonitor")
    labels = [pod["metadata"]["labels"] for _, pod in tk.pods(g.objects())]
    selected = [lab for lab in labels if tk.selects(pm["spec"]["selector"]["matchLabels"], lab)
                and lab["app.kubernetes.io/name"] in pm["spec"]["selector"]["matchExpressions"][0]["values"]]
    assert [lab["app.kubernetes.io/name"] for lab in selected] == ["collector"]
    assert pm["spec"]["podMetricsEndpoints"] == [{"port": "metrics", "interval": "15s", "path": "/metrics", "scheme": "http",
                                                  "relabelings": [{"sourceLabels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
                                                                   "targetLabel": "job", "action": "replace"}]}]
    assert not [o for o in custom(g) if o["kind"] == "AlertmanagerConfig"]   # kind team: left to the team


def test_alertmanager_config_routes_as_the_bundled_alertmanager_with_secret_references():
    g = graph("kube-prometheus")
    amc = next(o for o in custom(g) if o["kind"] == "AlertmanagerConfig")
    plain = alertmanager.config(g.settings)
    routes = amc["spec"]["route"]["routes"]
    assert [(r["receiver"], [f'{m["name"]}{m["matchType"]}"{m["value"]}"' for m in r["matchers"]])
            for r in routes] == [(r["receiver"], r["matchers"]) for r in plain["route"]["routes"]]
    assert [r["name"] for r in amc["spec"]["receivers"]] == [r["name"] for r in plain["receivers"]]
    by_name = {r["name"]: r for r in amc["spec"]["receivers"]}
    assert by_name["slack"]["slackConfigs"][0]["apiURL"] == {"name": external.RECEIVER_SECRET, "key": "alert_webhook_url"}
    assert by_name["pagerduty"]["pagerdutyConfigs"][0]["routingKey"] == {
        "name": external.RECEIVER_SECRET, "key": "alert_pagerduty_routing_key"}
    # The project's templates inlined (an AlertmanagerConfig cannot load template files).
    assert "{{ template" not in json.dumps(amc) and ".Annotations.runbook_url" in json.dumps(amc)
    secret = g.get("Secret", external.RECEIVER_SECRET)
    assert set(secret["stringData"]) == {"alert_webhook_url", "alert_pagerduty_routing_key"}
    assert tk.check_secret_objects_marked(g.records) == []


def _unmarked_credentials(record: tk.Record, values: list[str]) -> list[str]:
    """Paths of a resource's inputs that hold a credential outside every input marked secret."""
    found = []

    def walk(value, path):
        if any(path == p or path.startswith((f"{p}.", f"{p}[")) for p in record.secret_paths):
            return
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else k)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        elif isinstance(value, str) and any(v in value for v in values):
            found.append(f"{record.typ} {record.name}: {path}")
    walk(record.inputs, "")
    return found


@pytest.mark.parametrize("option", list(OPTIONS))
def test_no_credential_outside_secrets(option):
    """Kubernetes objects: credentials in Secrets only (never a ConfigMap, an env literal or an
    annotation); every placed resource (the Grafana provider and contact points too): a credential
    only in an input marked secret."""
    g = graph(option)
    assert tk.check_no_secret_leaks(g.objects(), list(SECRETS.values())) == []
    assert tk.check_secret_objects_marked(g.records) == []
    assert [p for r in g.records for p in _unmarked_credentials(r, list(SECRETS.values()))] == []


@pytest.mark.parametrize("option", list(OPTIONS))
def test_core_objects_pass_the_strict_schema_and_the_stack_checks(option):
    g = graph(option)
    objects = g.objects()
    assert tk.check_schema(objects, g.settings.kubernetes.version) == []
    assert tk.check_containers(objects) == []
    assert tk.check_network_policies(objects) == []
    assert tk.check_policy_pairs(objects) == []
    assert tk.check_metadata_blocked(objects) == []


@pytest.mark.parametrize("option", list(OPTIONS))
def test_placed_objects_are_the_pure_cores(option):
    g = graph(option)
    core = [tk_plain(m.body) for group in manifests.stack_manifests(g.settings).values() for m in group]
    placed = [o for o in g.objects()]
    key = lambda o: (o["kind"], o["metadata"]["name"])   # noqa: E731
    assert sorted(map(key, placed)) == sorted(map(key, core))


def tk_plain(value):
    if isinstance(value, manifests.SecretValue):
        return "placeholder"
    if isinstance(value, dict):
        return {k: tk_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [tk_plain(v) for v in value]
    return value


# -- NetworkPolicies: egress only to the configured endpoints ---------------------------

def _egress(g, name):
    return g.get("NetworkPolicy", name)["spec"]["egress"]


def _namespace_ports(rules) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for rule in rules:
        for peer in rule["to"]:
            ns = peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            if ns and "podSelector" not in peer:
                out.setdefault(ns, []).extend(p["port"] for p in rule["ports"])
    return out


def _blocks(rules) -> list[list[int]]:
    """The ports of each egress rule to address blocks (the API server's, then the outside's)."""
    return [sorted(p["port"] for p in rule["ports"]) for rule in rules if any("ipBlock" in peer for peer in rule["to"])]


def test_gateway_egress_reaches_the_operator_prometheus_namespace_only_on_its_port():
    g = graph("kube-prometheus")
    for tier in ("collector", "otel-sampler"):
        rules = _egress(g, tier)
        assert _namespace_ports(rules) == {"monitoring": [9090]}, tier
        pod_peers = {p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for r in rules for p in r["to"]
                     if "podSelector" in p and "namespaceSelector" not in p}
        # No bundled Prometheus to call: the agent tier calls the sampler tier and Loki, the sampler Tempo.
        assert pod_peers == ({"otel-sampler", "loki"} if tier == "collector" else {"tempo"}), tier
        blocks = _blocks(rules)
        assert blocks == ([[443, 6443]] if tier == "collector" else []), tier   # the API server (two tier) only
    ingress = g.get("NetworkPolicy", "collector")["spec"]["ingress"]
    scrape = [r for r in ingress if r["ports"] == [{"protocol": "TCP", "port": 8888}]]
    assert scrape and scrape[0]["from"] == [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "monitoring"}}}]


def test_mixed_stack_egress_goes_to_each_external_endpoint_and_the_bundled_peers():
    g = graph("mixed")
    assert workloads(g) == {"collector", "otel-sampler", "tempo", "grafana"}
    assert _namespace_ports(_egress(g, "collector")) == {"logging": [80], "monitoring": [9090]}
    assert _namespace_ports(_egress(g, "otel-sampler")) == {"monitoring": [9090]}
    # The bundled Grafana reads the external Prometheus and Loki by their query URLs, Tempo in the namespace.
    assert _namespace_ports(_egress(g, "grafana")) == {"logging": [80], "monitoring": [9090]}
    ds = yaml.safe_load(g.get("ConfigMap", "grafana-provisioning")["data"]["grafana__provisioning__datasources__datasources.yaml"])
    urls = {d["uid"]: d["url"] for d in ds["datasources"]}
    assert urls == {"prometheus": PROM_SVC, "traces": "http://tempo:3200",
                    "logs": "http://loki-gateway.logging.svc:80"}   # no Alertmanager data source: it is external
    # No ingress rule open to every source where no bundled Prometheus scrapes.
    for policy in g.of_kind("NetworkPolicy"):
        assert all(rule["from"] for rule in policy["spec"].get("ingress", [])), policy["metadata"]["name"]


def test_external_logs_exporter_carries_headers_and_no_bundled_loki():
    g = graph("mixed")
    cfg = yaml.safe_load(g.get("ConfigMap", "collector-config")["data"]["collector__agent.yaml"])
    assert cfg["exporters"]["otlp_http/logs"]["endpoint"] == "http://loki-gateway.logging.svc:80/otlp"
    assert cfg["exporters"]["otlp_http/logs"]["headers"] == {"X-Scope-OrgID": "llm"}
    assert not [o for o in g.objects() if o["metadata"]["name"].startswith("loki")]


# -- bad input: before any resource, the key named -----------------------------------------

BAD = [
    (_with(KUBE, metrics={"mode": "external"}), ("llmobs:backends.metrics.remote_write_url: required when backends.metrics.mode is "
      "external")),
    (_with(KUBE, alerting={"mode": "external"}), ("llmobs:backends.alerting.kind: required when backends.alerting.mode is external")),
    (_with(KUBE, dashboards={"mode": "external"}), ("llmobs:backends.dashboards.kind: required when backends.dashboards.mode is external")),
    (_with(KUBE, traces={"mode": "external"}), ("llmobs:backends.traces.endpoint: required when backends.traces.mode is external")),
    (_with(KUBE, logs={"mode": "external"}), ("llmobs:backends.logs.endpoint: required when backends.logs.mode is external")),
    (_with(KUBE, metrics={**OPERATOR, "selector_labels": {}}, alerting={"mode": "external", "kind": "team"}),
     ("llmobs:backends.metrics.selector_labels: required with rules prometheus-operator or a "
      "monitor: the labels the operator's Prometheus selects PrometheusRule, ServiceMonitor and"
      " PodMonitor objects by, e.g. {release: kube-prometheus-stack}")),
    (_with(KUBE, metrics={**OPERATOR, "rules": "none", "monitor": "podmonitor", "selector_labels": {}},
           alerting={"mode": "external", "kind": "team"}), ("llmobs:backends.metrics.selector_labels: required with rules prometheus-operator or a "
      "monitor: the labels the operator's Prometheus selects PrometheusRule, ServiceMonitor and"
      " PodMonitor objects by, e.g. {release: kube-prometheus-stack}")),
    (_with(KUBE, metrics=OPERATOR), ("llmobs:backends.alerting.mode: external is required with external metrics: the "
      "Prometheus you run evaluates the alert rules and sends to its own Alertmanager (kind "
      "alertmanager-config or team), or Grafana does (kind grafana)")),
    (_with(KUBE, metrics={**OPERATOR, "rules": "none"}, alerting={"mode": "external", "kind": "alertmanager-config"}),
     ("llmobs:backends.alerting.kind: alertmanager-config needs backends.metrics.rules "
      "prometheus-operator (the operator's Prometheus evaluates the alert rules and sends to "
      "the Alertmanager it configures)")),
    (_with(KUBE, metrics={**OPERATOR, "query_url": None}, alerting={"mode": "external", "kind": "team"}),
     ("llmobs:backends.metrics.query_url: required: the bundled Grafana's data source reads it")),
    (_with(KUBE, alerting={"mode": "external", "kind": "team"}),
     ("llmobs:backends.alerting.kind: team needs backends.metrics.mode external: the bundled "
      "Prometheus evaluates the rules and sends to the bundled Alertmanager")),
    (_with(KUBE, metrics={"mode": "bundled", "rules": "prometheus-operator"}),
     "llmobs:backends.metrics.rules: 'prometheus-operator' needs backends.metrics.mode external"),
    (_with({"target": "docker"}, metrics={**OPERATOR}, alerting={"mode": "external", "kind": "team"}),
     ("llmobs:backends.metrics.rules: prometheus-operator is for the Kubernetes target "
      "(Prometheus Operator objects)")),
    (_with({**KUBE, "endpoints": {"metrics": "http://x:9090/api/v1/write"}}, metrics=OPERATOR,
           alerting={"mode": "external", "kind": "team"}), ("llmobs:endpoints.metrics: backends.metrics is external; set "
      "backends.metrics.remote_write_url instead")),
    (_with({**KUBE, "debug": {"enabled": True, "tenants": ["acme"]}},
           logs={"mode": "external", "endpoint": "https://logs.example/otlp", "query_url": "https://logs.example"}),
     "llmobs:debug.enabled: the debug sample store is a tenant of the bundled Loki, read through the bundled "
     "Grafana; it needs backends.logs and backends.dashboards bundled"),
    (_with(KUBE, traces={"mode": "external", "endpoint": "tempo.tracing.svc:4317", "insecure": True, "auth": "bearer",
                         "query_url": "http://tempo.tracing.svc:3200"}),
     ("llmobs:backends.traces.insecure: true with auth: gRPC sends no credentials over "
      "plaintext; use TLS (insecure false) or protocol http")),
    (_with(KUBE, traces={"mode": "external", "endpoint": "tempo.tracing.svc:4317", "auth": "bearer",
                         "auth_header": "X-Scope-OrgID", "query_url": "http://tempo.tracing.svc:3200"}),
     "llmobs:backends.traces.auth_header: auth bearer is sent in Authorization; use auth raw for another header"),
    (_with(KUBE, logs={"mode": "external", "endpoint": "https://logs.example/otlp", "auth": "basic",
                       "auth_header": "X-Api-Key", "query_url": "https://logs.example"}),
     "llmobs:backends.logs.auth_header: auth basic is sent in Authorization; use auth raw for another header"),
    (_with(KUBE, metrics={**OPERATOR, "selector_labels": {"release": "bad value!"}},
           alerting={"mode": "external", "kind": "team"}), ("llmobs:backends.metrics.selector_labels.release: 'bad value!' does not match "
      "'^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$'")),
]


@pytest.mark.parametrize("config, message", BAD, ids=[m[:70] for _, m in BAD])
def test_bad_input_names_the_key(config, message):
    config = _drop_none(config)
    with pytest.raises(SettingsError) as exc:
        validate(config)
    assert str(exc.value) == message   # the whole message: it is what the user reads


@pytest.mark.parametrize("config, secrets, message", [
    (_with(KUBE, metrics={**OPERATOR, "auth": "bearer"}, alerting={"mode": "external", "kind": "team"}),
     tk.SECRETS, "llmobs:metrics_token"),
    (_with(KUBE, traces={"mode": "external", "endpoint": "tempo.tracing.svc:4317", "auth": "basic",
                         "query_url": "http://tempo.tracing.svc:3200"}), tk.SECRETS, "llmobs:traces_token"),
    (KPS, {k: v for k, v in SECRETS.items() if k != "alert_pagerduty_routing_key"}, "llmobs:alert_pagerduty_routing_key"),
    (_with(KUBE, metrics={"mode": "external"}), SECRETS, "llmobs:backends.metrics.remote_write_url"),
])
def test_missing_credential_or_setting_fails_before_any_resource(config, secrets, message):
    MOCKS.records.clear()

    @pulumi.runtime.test
    def run():
        KubernetesStack("llmobs", {"config": config, **secrets})
    with pytest.raises(SettingsError, match=message.replace(".", r"\.")) as exc:
        run()
    assert MOCKS.records == []
    assert not any(v in str(exc.value) for v in SECRETS.values())   # errors never print a credential


def test_duplicate_rule_group_or_alert_is_refused():
    groups = [{"name": "a", "rules": [{"alert": "X", "labels": {"severity": "critical"}}]},
              {"name": "b", "rules": [{"alert": "X", "labels": {"severity": "warning"}}]}]
    external.check_unique_rules(groups, "here")   # a page and a ticket of one name: fine
    with pytest.raises(SettingsError, match="two rule groups named 'a'"):
        external.check_unique_rules(groups + [{"name": "a", "rules": []}], "here")
    with pytest.raises(SettingsError, match="two alert rules 'X' of severity 'critical'"):
        external.check_unique_rules(groups + [{"name": "c", "rules": [{"alert": "X", "labels": {"severity": "critical"}}]}],
                                    "here")


def test_duplicate_dashboard_uid_or_title_in_a_folder_is_refused():
    ok = [("LLM cost", "a", "Cost"), ("LLM quality", "b", "Cost")]   # one title in two folders: fine
    external.check_unique_dashboards(ok)
    with pytest.raises(SettingsError, match="uid 'a' is used twice"):
        external.check_unique_dashboards(ok + [("LLM quality", "a", "Other")])
    with pytest.raises(SettingsError, match="two dashboards titled 'Cost' in the folder 'LLM cost'"):
        external.check_unique_dashboards(ok + [("LLM cost", "c", "Cost")])


def test_the_registry_has_no_duplicate_and_the_check_runs_on_render(monkeypatch):
    import dashboards
    settings = load_stack_file(ROOT / "Pulumi.kube-prometheus.yaml")
    external.dashboard_documents(settings)   # the real registry passes
    twin = dashboards.REGISTRY[0]
    monkeypatch.setattr(dashboards, "REGISTRY", dashboards.REGISTRY + (twin,))
    with pytest.raises(SettingsError, match="is used twice"):
        external.dashboard_documents(settings)


def test_gateway_config_of_external_backends_names_token_files_never_tokens():
    settings = validate(_with(KUBE, metrics={**OPERATOR, "auth": "basic"}, alerting={"mode": "external", "kind": "team"},
                              traces={"mode": "external", "protocol": "http", "endpoint": "https://otlp.example/otlp",
                                      "auth": "bearer", "query_url": "https://tempo.example"}))
    for tier in ("agent", "sampler"):
        cfg = render_collector(settings, tier=tier)
        auth = {name: ext for name, ext in cfg["extensions"].items() if name.startswith("bearertokenauth/")}
        used = {c["auth"]["authenticator"] for c in cfg["exporters"].values() if "auth" in c}
        assert set(auth) == used and set(cfg["service"]["extensions"]) >= used, tier
        assert auth["bearertokenauth/metrics"] == {"header": "Authorization", "scheme": "Basic",
                                                   "filename": "/etc/llmobs/secrets/metrics_token"}
    sampler = render_collector(settings, tier="sampler")
    assert sampler["exporters"]["otlp_http/traces"]["auth"] == {"authenticator": "bearertokenauth/traces"}
    assert sampler["service"]["pipelines"]["traces/sampled"]["exporters"] == ["otlp_http/traces"]
    objects = {(m.body["kind"], m.body["metadata"]["name"]): m.body
               for group in manifests.stack_manifests(settings).values() for m in group}
    keys = set(objects[("Secret", "collector-secrets")]["stringData"])
    assert {"metrics_token", "traces_token"} <= keys


# -- the Grafana dashboard sidecar ----------------------------------------------------------

def test_sidecar_configmaps_hold_the_bundled_dashboard_json_with_label_and_folder():
    import dashboards
    g = graph("kube-prometheus")
    rendered = dashboards.render(g.settings)   # what bundled provisioning mounts
    maps = {o["metadata"]["name"]: o for o in g.of_kind("ConfigMap") if o["metadata"]["name"].startswith("llm-dashboard-")}
    assert len(maps) == len(dashboards.entries(g.settings))   # the debug store's audit only with debug.enabled
    for entry in dashboards.entries(g.settings):
        cm = maps[f"llm-dashboard-{entry.slug}"]
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert cm["metadata"]["annotations"] == {"grafana_folder": dashboards.FOLDERS[entry.folder]}
        assert cm["data"] == {f"{entry.slug}.json": rendered[dashboards.path(entry)]}


def test_sidecar_label_and_folder_annotation_from_settings():
    config = _with(KUBE, dashboards={"mode": "external", "kind": "sidecar", "sidecar_labels": {"dash": "llm"},
                                     "folder_annotation": "k8s-sidecar-target-directory"})
    objects = [m.body for m in manifests.stack_manifests(validate(config))["dashboards"]]
    assert {o["metadata"]["labels"]["dash"] for o in objects} == {"llm"}
    assert all("grafana_dashboard" not in o["metadata"]["labels"] for o in objects)
    assert {tuple(o["metadata"]["annotations"]) for o in objects} == {("k8s-sidecar-target-directory",)}


def test_sidecar_grafana_namespace_may_query_the_bundled_trace_and_log_stores():
    g = graph("kube-prometheus")
    for name in ("tempo", "loki"):
        sources = [peer for rule in g.get("NetworkPolicy", name)["spec"]["ingress"] for peer in rule["from"]]
        assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}} in sources, name


# -- traces and logs pushed to existing stores ---------------------------------------------



def test_external_traces_and_logs_are_pushed_there_and_not_deployed():
    g = graph("push")
    assert workloads(g) == {"collector", "prometheus", "alertmanager", "grafana"}
    cfg = yaml.safe_load(g.get("ConfigMap", "collector-config")["data"]["collector__config.yaml"])
    traces, logs = cfg["exporters"]["otlp_grpc/traces"], cfg["exporters"]["otlp_http/logs"]
    assert (traces["endpoint"], traces["tls"], traces["headers"]) == (
        "tempo-distributor.tracing.svc:4317", {"insecure": True}, {"X-Scope-OrgID": "llm"})
    assert "auth" not in traces
    assert (logs["endpoint"], logs["auth"]) == ("https://logs-prod.grafana.example/otlp",
                                                {"authenticator": "bearertokenauth/logs"})
    assert cfg["extensions"]["bearertokenauth/logs"]["filename"] == "/etc/llmobs/secrets/logs_token"
    assert g.get("Secret", "collector-secrets")["stringData"].keys() >= {"logs_token"}
    # Egress: the tracing namespace on 4317, outside on 443 (the logs endpoint) and nothing else.
    rules = _egress(g, "collector")
    assert _namespace_ports(rules) == {"tracing": [4317]}
    assert _blocks(rules) == [[443]]
    ds = yaml.safe_load(g.get("ConfigMap", "grafana-provisioning")["data"]["grafana__provisioning__datasources__datasources.yaml"])
    assert {d["uid"]: d["url"] for d in ds["datasources"]}["traces"] == "http://tempo-query.tracing.svc:3200"
    # Prometheus no longer scrapes a Tempo or Loki of its own.
    prom = yaml.safe_load(g.get("ConfigMap", "prometheus-config")["data"]["prometheus__prometheus.yml"])
    assert not {"tempo", "loki"} & {job["job_name"] for job in prom["scrape_configs"]}


def test_bundled_grafana_egress_to_outside_query_urls_keeps_the_metadata_block():
    g = graph("push")
    rules = _egress(g, "grafana")
    assert _namespace_ports(rules) == {"tracing": [3200]}
    blocks = [peer["ipBlock"] for rule in rules for peer in rule["to"] if "ipBlock" in peer]
    assert blocks and all(b.get("except") == ["169.254.169.254/32"] for b in blocks if b["cidr"] == "0.0.0.0/0")


# -- an existing Grafana through its API (pulumiverse-grafana) --------------------------------

def grafana_records(g: tk.Graph, typ: str) -> list:
    return [r for r in g.records if r.typ == typ]


def test_grafana_cloud_deploys_the_gateway_only():
    g = graph("grafana-cloud")
    assert workloads(g) == {"collector", "otel-sampler"}
    assert not custom(g)
    assert not [o for o in g.of_kind("ConfigMap") if o["metadata"]["name"].startswith("llm-dashboard-")]
    # Every export leaves the cluster on 443, authenticated from the secrets.
    for tier in ("collector", "otel-sampler"):
        rules = _egress(g, tier)
        assert _blocks(rules) == ([[443, 6443], [443]] if tier == "collector" else [[443]]), tier
        assert _namespace_ports(rules) == {}, tier


def test_gateway_egress_of_a_stack_with_every_backend_elsewhere_is_each_endpoint_on_its_port():
    """Remote write to the operator's Prometheus (monitoring:9090), logs to https://loki.example (443,
    outside), traces to tempo.example:4317 (outside): the agent tier sends the logs and its metrics, the
    sampler tier the sampled traces and the derived metrics; nothing else but DNS and the API server."""
    g = graph("grafana-api-created-datasources")
    assert workloads(g) == {"collector", "otel-sampler"}
    agent, sampler = _egress(g, "collector"), _egress(g, "otel-sampler")
    assert _namespace_ports(agent) == _namespace_ports(sampler) == {"monitoring": [9090]}
    assert _blocks(agent) == [[443, 6443], [443]]    # the API server (the sampler's endpoints), the logs endpoint
    assert _blocks(sampler) == [[4317]]
    pod_peers = {p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for r in agent for p in r["to"]
                 if "podSelector" in p and "namespaceSelector" not in p}
    assert pod_peers == {"otel-sampler"}


@pytest.mark.parametrize("option", ["grafana-cloud", "grafana-api-created-datasources"])
def test_grafana_api_dashboards_get_the_bundled_provisioning_json(option):
    import dashboards
    g = graph(option)
    bundled_files = dashboards.render(g.settings)   # what bundled provisioning mounts, byte for byte
    placed = {r.name.removeprefix("llmobs-grafana-api-dashboard-"): r for r in
              grafana_records(g, "grafana:oss/dashboard:Dashboard")}
    assert set(placed) == {e.slug for e in dashboards.entries(g.settings)}
    folders = {r.inputs["uid"]: r.inputs["title"] for r in grafana_records(g, "grafana:oss/folder:Folder")}
    for entry in dashboards.entries(g.settings):
        r = placed[entry.slug]
        assert r.inputs["configJson"] == bundled_files[dashboards.path(entry)], entry.slug
        assert folders[r.inputs["folder"]] == dashboards.FOLDERS[entry.folder]
        assert r.inputs["overwrite"] is True


def test_grafana_api_provider_authenticates_with_the_secret_token_and_every_resource_uses_it():
    g = graph("grafana-cloud")
    provider = [r for r in g.records if r.typ == "pulumi:providers:grafana"]
    assert len(provider) == 1
    assert provider[0].inputs["url"] == "https://acme.grafana.net"
    assert provider[0].inputs["auth"] == SECRETS["grafana_token"] and "auth" in provider[0].secret_paths
    grafana_typed = [r for r in g.records if r.typ.startswith("grafana:")]
    assert grafana_typed and all(r.parent.endswith("llmobs:index:GrafanaApi::llmobs-grafana-api") for r in grafana_typed)
    assert not [r for r in g.records if r.typ.startswith("kubernetes:") and SECRETS["grafana_token"] in json.dumps(r.inputs)
                and r.typ != "kubernetes:core/v1:Secret"]


def test_grafana_api_uses_given_datasource_uids_and_creates_none():
    g = graph("grafana-cloud")
    assert grafana_records(g, "grafana:oss/dataSource:DataSource") == []
    groups = grafana_records(g, "grafana:alerting/ruleGroup:RuleGroup")
    nodes = [d for r in groups for rule in r.inputs["rules"] for d in rule["datas"]]
    assert {d["datasourceUid"] for d in nodes} == {"grafanacloud-prom", "-100"}


def test_grafana_api_creates_missing_datasources_linked_by_their_uids():
    g = graph("grafana-api-created-datasources")
    ds = {r.inputs["uid"]: r.inputs for r in grafana_records(g, "grafana:oss/dataSource:DataSource")}
    assert {uid: (d["type"], d["url"]) for uid, d in ds.items()} == {
        "llmobs-metrics": ("prometheus", "https://mimir.example/prometheus"),
        "llmobs-traces": ("tempo", "https://tempo.example"), "llmobs-logs": ("loki", "https://loki.example")}
    links = json.loads(ds["llmobs-metrics"]["jsonDataEncoded"])["exemplarTraceIdDestinations"]
    assert links == [{"name": "trace_id", "datasourceUid": "llmobs-traces"}]
    derived = json.loads(ds["llmobs-logs"]["jsonDataEncoded"])["derivedFields"]
    assert {f["datasourceUid"] for f in derived} == {"llmobs-traces"} and "$$" not in json.dumps(derived)


def _unescaped(value):
    """A bundled provisioning value as the Grafana API takes it: no $$ escape (provisioning expands $VAR)."""
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, dict):
        return {k: _unescaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescaped(v) for v in value]
    return value


def _node_as_api(node: dict, metrics_uid: str) -> dict:
    """A bundled rule's query node, reading the metrics data source by its uid in that Grafana."""
    out = _unescaped(node)
    if out["datasourceUid"] == "prometheus":   # backends/grafana.py METRICS_UID, written here by hand
        out["datasourceUid"] = metrics_uid
        out["model"] = {**out["model"], "datasource": metrics_uid}
    return {"refId": out["refId"], "datasourceUid": out["datasourceUid"], "queryType": out.get("queryType", ""),
            "relativeTimeRange": out["relativeTimeRange"], "model": out["model"]}


def test_grafana_api_rule_groups_are_the_bundled_grafana_engines():
    """One RuleGroup per bundled group, keyed by name: Grafana evaluates each group on its own and
    keeps no order between the groups of a folder (the mock engine registers them in whatever order
    their inputs resolve), but the rules inside a group are evaluated in order, so those lists
    compare in order, every field of every rule."""
    from alerts import grafana as grafana_alerts
    g = graph("grafana-cloud")
    metrics_uid = g.settings.backends.dashboards.datasources.metrics
    doc = grafana_alerts.provisioning(alerts.groups(g.settings), g.settings)
    placed = grafana_records(g, "grafana:alerting/ruleGroup:RuleGroup")
    assert sorted(r.inputs["name"] for r in placed) == sorted(grp["name"] for grp in doc["groups"])   # each once
    groups = {r.inputs["name"]: r.inputs for r in placed}
    for grp in doc["groups"]:
        group = groups[grp["name"]]
        assert (group["folderUid"], group["intervalSeconds"]) == ("llmobs-alerts", 60), grp["name"]
        rules = [{"uid": r["uid"], "name": r["name"], "condition": r["condition"], "for": r["for"],
                  "noDataState": r["noDataState"], "execErrState": r["execErrState"], "labels": r["labels"],
                  "annotations": r["annotations"], "keepFiringFor": r.get("keepFiringFor"),
                  "data": [{"refId": d["refId"], "datasourceUid": d["datasourceUid"], "queryType": d.get("queryType", ""),
                            "relativeTimeRange": d["relativeTimeRange"], "model": json.loads(d["model"])}
                           for d in r["datas"]]} for r in group["rules"]]
        expected = [{"uid": r["uid"], "name": r["title"], "condition": r["condition"], "for": r["for"],
                     "noDataState": r["noDataState"], "execErrState": r["execErrState"], "labels": r["labels"],
                     "annotations": _unescaped(r["annotations"]), "keepFiringFor": r.get("keepFiringFor"),
                     "data": [_node_as_api(d, metrics_uid) for d in r["data"]]} for r in grp["rules"]]
        assert rules == expected, grp["name"]
    assert sum(len(g_["rules"]) for g_ in groups.values()) == len(alerts.all_alerts(g.settings))


def test_grafana_api_refuses_duplicate_rules_in_a_folder():
    from components import grafana_api
    rules = [{"uid": "a", "title": "X", "labels": {"severity": "critical"}},
             {"uid": "b", "title": "X", "labels": {"severity": "warning"}}]
    grafana_api.check_unique_rules("LLM alerts", rules)
    with pytest.raises(SettingsError, match="uid 'a' is used twice"):
        grafana_api.check_unique_rules("LLM alerts", rules + [{"uid": "a", "title": "Y", "labels": {}}])
    with pytest.raises(SettingsError, match="two rules titled 'X' of severity 'critical'"):
        grafana_api.check_unique_rules("LLM alerts", rules + [{"uid": "c", "title": "X",
                                                               "labels": {"severity": "critical"}}])


def test_grafana_api_without_its_token_fails_before_any_resource():
    MOCKS.records.clear()

    @pulumi.runtime.test
    def run():
        KubernetesStack("llmobs", {"config": CLOUD, **{k: v for k, v in SECRETS.items() if k != "grafana_token"}})
    with pytest.raises(SettingsError, match=r"llmobs:grafana_token"):
        run()
    assert MOCKS.records == []


def test_grafana_api_contact_points_carry_the_secret_credentials_and_the_policy_routes_as_bundled():
    from backends.alertmanager import route_table
    g = graph("grafana-cloud")
    points = {r.inputs["name"]: r for r in grafana_records(g, "grafana:alerting/contactPoint:ContactPoint")}
    assert set(points) == {"llmobs-slack", "llmobs-pagerduty"}
    assert points["llmobs-slack"].inputs["slacks"][0]["url"] == SECRETS["alert_webhook_url"]
    assert "slacks[0].url" in points["llmobs-slack"].secret_paths or any(
        p.startswith("slacks") for p in points["llmobs-slack"].secret_paths)
    assert points["llmobs-pagerduty"].inputs["pagerduties"][0]["integrationKey"] == SECRETS["alert_pagerduty_routing_key"]
    assert any(p.startswith("pagerduties") for p in points["llmobs-pagerduty"].secret_paths)
    [policy] = grafana_records(g, "grafana:alerting/notificationPolicy:NotificationPolicy")
    routes = policy.inputs["policies"]
    table = route_table(g.settings)
    assert [[(m["label"], m["match"], m["value"]) for m in r["matchers"]] for r in routes][:len(table)] == \
        [[tuple(m) for m in matchers] for matchers, _, _ in table]
    # A `none` route (the Watchdog and non-paging environments here) is muted, never a real notification.
    for route, (_, kind, _) in zip(routes, table):
        assert (route.get("muteTimings") == ["llmobs-never"]) == (kind == "none"), route
        if kind != "none":
            assert route["contactPoint"] == f"llmobs-{kind}"
    [mute] = grafana_records(g, "grafana:alerting/muteTiming:MuteTiming")
    # "never": muted all day, every day (no weekdays, months or years narrow it).
    assert (mute.inputs["name"], mute.inputs["intervals"]) == ("llmobs-never", [{"times": [{"start": "00:00", "end": "24:00"}]}])


def test_grafana_api_resource_names_are_stable():
    """Pulumi names are identities: renaming one replaces the object in Grafana on the next `pulumi up`
    (a rule group's alert state and silences go with it)."""
    from alerts import grafana as grafana_alerts
    g = graph("grafana-cloud")
    doc = grafana_alerts.provisioning(alerts.groups(g.settings), g.settings)
    groups = {r.name for r in grafana_records(g, "grafana:alerting/ruleGroup:RuleGroup")}
    assert groups == {f"llmobs-grafana-api-rules-{grp['name']}" for grp in doc["groups"]}
    assert {r.name for r in grafana_records(g, "grafana:alerting/contactPoint:ContactPoint")} == {
        "llmobs-grafana-api-contact-point-slack", "llmobs-grafana-api-contact-point-pagerduty"}
    assert [r.name for r in grafana_records(g, "grafana:alerting/muteTiming:MuteTiming")] == ["llmobs-grafana-api-mute-timing-llmobs-never"]


def test_grafana_api_contact_point_without_its_secret_fails_before_any_resource():
    MOCKS.records.clear()

    @pulumi.runtime.test
    def run():
        KubernetesStack("llmobs", {"config": CLOUD, **{k: v for k, v in SECRETS.items()
                                                       if k != "alert_pagerduty_routing_key"}})
    with pytest.raises(SettingsError, match=r"llmobs:alert_pagerduty_routing_key"):
        run()
    assert MOCKS.records == []


# The bundled Alertmanager's receiver fields -> the AlertmanagerConfig CRD's (prometheus-operator
# monitoring.coreos.com/v1alpha1), written by hand; credentials become Secret references.
EMAIL_FIELDS = {"to": "to", "from": "from", "smarthost": "smarthost", "require_tls": "requireTLS",
                "send_resolved": "sendResolved", "html": "html", "text": "text", "auth_username": "authUsername"}


def test_an_email_receiver_is_the_bundled_one_in_the_crds_field_names():
    email = {"to": "oncall@example.invalid", "from_address": "alerts@example.invalid",
             "smarthost": "smtp.example.invalid:587", "auth_username": "alerts"}
    settings = validate({**KUBE, "alerts": {"receivers": {"critical": "email", "email": email}}})
    plain = alertmanager.receiver("email", settings)["email_configs"][0]
    [crd] = external.receiver("email", settings)["emailConfigs"]
    expected = {EMAIL_FIELDS[k]: external.inline(v) if isinstance(v, str) else v
                for k, v in plain.items() if k in EMAIL_FIELDS}
    expected["headers"] = [{"key": k, "value": external.inline(v)} for k, v in plain["headers"].items()]
    expected["authPassword"] = {"name": external.RECEIVER_SECRET, "key": "alert_email_password"}
    assert crd == expected
    assert "{{ template" not in json.dumps(crd) and crd["html"] != crd["text"]


def test_templates_that_call_themselves_are_refused(monkeypatch):
    monkeypatch.setattr(external, "definitions", lambda: {"llmobs.loop": '{{ template "llmobs.loop" . }}0123456789'})
    with pytest.raises(ValueError) as caught:
        external.inline('{{ template "llmobs.loop" . }}')
    # Ten expansions, then the message shows the first 80 characters of what they had reached.
    assert str(caught.value) == "templates nest too deep: " + ('{{ template "llmobs.loop" . }}' + "0123456789" * 10)[:80]


@pytest.mark.parametrize("depth, expands", [(8, True), (9, False)])
def test_templates_expand_nine_calls_deep(monkeypatch, depth, expands):
    """llmobs.0 calls llmobs.1 ... up to llmobs.<depth>, which is plain text: nine calls in a chain
    (llmobs.0 to llmobs.8) are expanded, ten are refused; the project's own templates nest two deep."""
    chain = {f"llmobs.{i}": f'{{{{ template "llmobs.{i + 1}" . }}}}' for i in range(depth)}
    monkeypatch.setattr(external, "definitions", lambda: {**chain, f"llmobs.{depth}": "end"})
    if expands:
        assert external.inline('{{ template "llmobs.0" . }}') == "end"
    else:
        with pytest.raises(ValueError, match="templates nest too deep"):
            external.inline('{{ template "llmobs.0" . }}')


def test_grafana_api_webhook_and_email_contact_points():
    """The two kinds the reference stacks do not use: the webhook's URL is the secret; email names the
    addresses (Grafana's own SMTP server sends), one message per group."""
    receivers = {"critical": "webhook", "warning": "email", "info": "email",
                 "email": {"to": "oncall@example.invalid, ml@example.invalid", "from_address": "alerts@example.invalid",
                           "smarthost": "smtp.example.invalid:587"}}
    config = copy.deepcopy(CLOUD)
    config["alerts"] = {**config.get("alerts", {}), "receivers": receivers}
    g = build(config, {**SECRETS, "alert_webhook_url": "https://hooks.example.invalid/T0-secret"})
    points = {r.inputs["name"]: r for r in grafana_records(g, "grafana:alerting/contactPoint:ContactPoint")}
    assert set(points) >= {"llmobs-webhook", "llmobs-email"}
    assert points["llmobs-webhook"].inputs["webhooks"] == [{"url": "https://hooks.example.invalid/T0-secret"}]
    assert any(p.startswith("webhooks") for p in points["llmobs-webhook"].secret_paths)
    assert points["llmobs-email"].inputs["emails"] == [{"addresses": ["oncall@example.invalid", "ml@example.invalid"],
                                                        "singleEmail": True}]
