"""Each external mode, one at a time, against the bundled stack it replaces (issue 31):

- what leaves the rendered artifacts and the deployed services is exactly the external backend's
  own (written by hand below), and nothing is added; the dashboards and the rules stay, since the
  sidecar, the Grafana API, the PrometheusRule objects and the team's own Prometheus take them;
- `stackctl render` of the Grafana Cloud example writes the rule files the team loads;
- bad input names its key, on the Kubernetes target before any resource: each missing setting,
  each missing credential, a duplicate dashboard uid (sidecar and API kinds) and a duplicate
  Grafana alert rule uid in one folder.

tests/test_external_backends.py holds the per-mode objects under mocks; test_external_docker the
docker target."""
from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
import yaml

import test_kubernetes as tk
from test_external_backends import CLOUD, KPS, OPERATOR, SECRETS
from test_kubernetes import MOCKS

import alerts
import dashboards
from artifacts import render_all
from backends.services import services
from components.kubernetes import KubernetesStack, manifests
from settings import SettingsError, validate
from settings.load import load_stack_file
from stacks import KUBE

ROOT = Path(__file__).resolve().parent.parent
TEAM = {"mode": "external", "kind": "team"}
EXT_TRACES = {"mode": "external", "endpoint": "tempo.tracing.svc:4317", "insecure": True,
              "query_url": "http://tempo.tracing.svc:3200"}
EXT_LOGS = {"mode": "external", "endpoint": "http://loki.logging.svc:3100/otlp", "query_url": "http://loki.logging.svc:3100"}


@pytest.fixture(autouse=True)
def _mocks():
    tk.install_mocks()
    MOCKS.records.clear()
    yield


def _with(base: dict, **backends) -> dict:
    out = copy.deepcopy(base)
    out["backends"] = {**out.get("backends", {}), **backends}
    return out


# mode -> (config, files that leave render_all, services that are not deployed), by hand from
# docs/external-backends.md: an external backend's own config is not rendered and its service not run.
MODES = {
    "metrics+team": (_with(KUBE, metrics={**OPERATOR, "rules": "none"}, alerting=TEAM),
                     {"prometheus/prometheus.yml", "alertmanager/alertmanager.yml", "alertmanager/llmobs.tmpl"},
                     {"prometheus", "alertmanager"}),
    "metrics+alertmanager-config": (_with(KUBE, metrics=OPERATOR, alerting={"mode": "external",
                                                                            "kind": "alertmanager-config"}),
                                    {"prometheus/prometheus.yml", "alertmanager/alertmanager.yml",
                                     "alertmanager/llmobs.tmpl"}, {"prometheus", "alertmanager"}),
    "traces-tempo": (_with(KUBE, traces=EXT_TRACES), {"tempo/tempo.yaml"}, {"tempo"}),
    "traces-jaeger": (_with({**KUBE, "traces": {"backend": "jaeger"}}, traces=EXT_TRACES),
                      {"jaeger/config.yaml"}, {"jaeger"}),
    "logs": (_with(KUBE, logs=EXT_LOGS), {"loki/loki.yaml"}, {"loki"}),
    "dashboards-sidecar": (_with(KUBE, dashboards={"mode": "external", "kind": "sidecar"}),
                           {"grafana/grafana.ini", "grafana/provisioning/dashboards/dashboards.yaml",
                            "grafana/provisioning/datasources/datasources.yaml"}, {"grafana"}),
}


def _bundled(config: dict) -> dict:
    out = copy.deepcopy(config)
    out.pop("backends")
    return out


@pytest.mark.parametrize("mode", list(MODES))
def test_an_external_backend_takes_out_its_own_config_and_service_only(mode):
    config, files, gone = MODES[mode]
    bundled, external = validate(_bundled(config)), validate(config)
    before, after = render_all(bundled), render_all(external)
    assert set(before) - set(after) == files
    assert set(after) <= set(before)
    # The dashboards and the rule files stay: the sidecar, the Grafana API or the team's Prometheus take them.
    for path in after:
        if path.startswith(("grafana/dashboards/", "prometheus/rules/")):
            assert after[path] == before[path], path
    assert {s.name for s in services(bundled)} - {s.name for s in services(external)} == gone
    assert {s.name for s in services(external)} <= {s.name for s in services(bundled)}


def test_stackctl_render_of_the_grafana_cloud_example_writes_the_rules_the_team_loads(tmp_path):
    """The example's comment: `stackctl render --config Pulumi.grafana-cloud.yaml --out out`, then
    `mimirtool rules load ... out/prometheus/rules/llm.rules.yml`."""
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "stackctl", "render", "--config", "Pulumi.grafana-cloud.yaml",
                          "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    settings = load_stack_file(ROOT / "Pulumi.grafana-cloud.yaml")
    written = {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()}
    expected = render_all(settings)
    assert written == expected
    rules = yaml.safe_load(written["prometheus/rules/llm.rules.yml"])
    assert rules["groups"] and all(r.get("record") for g in rules["groups"] for r in g["rules"])
    # Grafana evaluates the alerts there: no Prometheus alert file, no Prometheus or Alertmanager config.
    assert not {"prometheus/rules/llm.alerts.yml", "prometheus/prometheus.yml", "alertmanager/alertmanager.yml"} & set(written)
    assert "rules load" in (ROOT / "Pulumi.grafana-cloud.yaml").read_text()
    assert "out/prometheus/rules/llm.rules.yml" in (ROOT / "Pulumi.grafana-cloud.yaml").read_text()


# -- bad input --------------------------------------------------------------------------

API = {"mode": "external", "kind": "grafana-api", "url": "https://grafana.example",
       "datasources": {"metrics": "prom", "traces": "tempo", "logs": "loki"}}
BAD = [
    (_with(KUBE, dashboards={"mode": "external", "kind": "grafana-api", "datasources": API["datasources"]}),
     "llmobs:backends.dashboards.url: required with kind grafana-api"),
    (_with(KUBE, dashboards={**API, "datasources": {"metrics": "prom", "logs": "loki"}}),
     "llmobs:backends.dashboards.datasources.traces: required: backends.traces is bundled"),
    (_with({"target": "docker"}, dashboards={"mode": "external", "kind": "sidecar"}),
     "llmobs:backends.dashboards.kind: sidecar is for the Kubernetes target"),
    (_with(KUBE, metrics={**OPERATOR, "rules": "none"}, alerting={"mode": "external", "kind": "grafana"},
           dashboards={"mode": "external", "kind": "sidecar"}), "llmobs:backends.alerting.kind: grafana needs"),
    (_with({**KUBE, "alerts": {"engine": "prometheus"}}, metrics={**OPERATOR, "rules": "none"},
           alerting={"mode": "external", "kind": "grafana"}, dashboards=API),
     "llmobs:alerts.engine: 'prometheus' with backends.alerting kind grafana; use grafana"),
    (_with({**KUBE, "alerts": {"engine": "grafana"}}, dashboards=API),
     "llmobs:alerts.engine: grafana with bundled alerting needs the bundled Grafana"),
    (_with(KUBE, logs={**EXT_LOGS, "auth": "bearer", "auth_header": "X-Api-Key"}),
     "llmobs:backends.logs.auth_header: auth bearer is sent in Authorization; use auth raw"),
    (_with(KUBE, traces={**EXT_TRACES, "protocol": "http"}),
     "llmobs:backends.traces.endpoint: protocol http needs an http(s):// URL"),
    (_with(KUBE, traces={**EXT_TRACES, "endpoint": "https://tempo.example/otlp"}),
     "llmobs:backends.traces.endpoint: protocol grpc needs host:port"),
    (_with(KUBE, logs={"mode": "external", "endpoint": "http://loki.logging.svc:3100/otlp"}),
     "llmobs:backends.logs.query_url: required"),
    (_with(KUBE, dashboards={"mode": "external", "kind": "sidecar", "sidecar_labels": {}}),
     "llmobs:backends.dashboards.sidecar_labels"),
    (_with(KUBE, metrics={**OPERATOR, "remote_write_url": "prometheus:9090"}, alerting=TEAM),
     "llmobs:backends.metrics.remote_write_url"),
]


@pytest.mark.parametrize("config, message", BAD, ids=[f"{i}-{m.split(':')[1]}" for i, (_, m) in enumerate(BAD)])
def test_bad_input_is_refused_before_any_resource_naming_the_key(config, message):
    with pytest.raises(SettingsError) as exc:
        validate(config)
    assert str(exc.value).startswith(message), str(exc.value)
    if config["target"] == "kubernetes":
        @pulumi.runtime.test
        def attempt():
            with pytest.raises(SettingsError, match=message.split(":")[1]):
                KubernetesStack("llmobs", {"config": config, **SECRETS})
        attempt()
        assert MOCKS.records == []


def _without(key: str) -> dict:
    return {k: v for k, v in SECRETS.items() if k != key}


@pytest.mark.parametrize("config, secrets, key", [
    (_with(KUBE, logs={**EXT_LOGS, "auth": "bearer"}), tk.SECRETS, "logs_token"),
    (CLOUD, _without("metrics_token"), "metrics_token"),
    (CLOUD, _without("traces_token"), "traces_token"),
    (CLOUD, _without("logs_token"), "logs_token"),
    (CLOUD, _without("alert_webhook_url"), "alert_webhook_url"),
    (KPS, _without("alert_webhook_url"), "alert_webhook_url"),
], ids=["logs_token", "cloud-metrics_token", "cloud-traces_token", "cloud-logs_token", "cloud-slack",
        "kube-prometheus-slack"])
def test_a_missing_credential_is_named_before_any_resource(config, secrets, key):
    @pulumi.runtime.test
    def attempt():
        with pytest.raises(SettingsError, match=f"llmobs:{key}") as exc:
            KubernetesStack("llmobs", {"config": config, **secrets})
        assert not any(v in str(exc.value) for v in SECRETS.values())
    attempt()
    assert MOCKS.records == []


@pytest.mark.parametrize("config", [KPS, CLOUD], ids=["sidecar", "grafana-api"])
def test_a_duplicate_dashboard_uid_is_refused_before_any_resource(config, monkeypatch):
    monkeypatch.setattr(dashboards, "REGISTRY", dashboards.REGISTRY + (dashboards.REGISTRY[0],))
    manifests.stack_manifests.cache_clear()   # renders again with the doubled registry

    @pulumi.runtime.test
    def attempt():
        with pytest.raises(SettingsError, match=f"dashboards: uid '{dashboards.REGISTRY[0].uid}' is used twice"):
            KubernetesStack("llmobs", {"config": config, **SECRETS})
    try:
        attempt()
    finally:
        manifests.stack_manifests.cache_clear()
    assert MOCKS.records == []


def test_a_duplicate_grafana_alert_rule_in_the_folder_is_refused_before_any_resource(monkeypatch):
    groups = alerts.groups
    monkeypatch.setattr(alerts, "groups", lambda settings: (lambda g: g + g[:1])(list(groups(settings))))

    @pulumi.runtime.test
    def attempt():
        with pytest.raises(SettingsError, match=r"alert rules in 'LLM alerts': uid '[\w-]+' is used twice"):
            KubernetesStack("llmobs", {"config": CLOUD, **SECRETS})
    attempt()
    assert MOCKS.records == []
