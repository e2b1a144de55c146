"""The cross-field rules of settings/load.py that no other settings test reached (found by running
the settings tests under coverage): each bad input is refused with its whole message, naming the
key; each good neighbour is accepted. Messages are written out here, not read from the code."""
from __future__ import annotations

import copy

import pytest
import yaml

import settings.load as load
from settings import SettingsError, validate
from settings.load import default_prices, load_stack_file
from stacks import KUBE, drop_none as _drop_none, with_backends as _with

DOCKER = {"target": "docker"}
GRAFANA_URL = "https://grafana.example.invalid"
PROM = {"mode": "external", "remote_write_url": "https://prom.example.invalid/api/v1/write",
        "query_url": "https://prom.example.invalid"}


API = {"mode": "external", "kind": "grafana-api", "url": GRAFANA_URL,
       "datasources": {"metrics": "prom-uid", "traces": "tempo-uid", "logs": "loki-uid"}}
BAD = [
    # Grafana-managed alerting goes through the Grafana API.
    (_with(KUBE, alerting={"mode": "external", "kind": "grafana"}),
     "llmobs:backends.alerting.kind: grafana needs backends.dashboards kind grafana-api: the alert rules, contact "
     "points and notification policies go through the Grafana API"),
    # The engine that evaluates the rules follows the alerting kind, both ways.
    (_with(KUBE, alerting={"mode": "external", "kind": "grafana"}, dashboards=API),
     "llmobs:alerts.engine: 'prometheus' with backends.alerting kind grafana; use grafana"),
    (_with(KUBE, {"engine": "grafana"}, metrics=PROM, alerting={"mode": "external", "kind": "team"}),
     "llmobs:alerts.engine: 'grafana' with backends.alerting kind team; use prometheus"),
    (_with(KUBE, {"engine": "grafana"}, dashboards=API),
     "llmobs:alerts.engine: grafana with bundled alerting needs the bundled Grafana; with an external Grafana "
     "use backends.alerting kind grafana"),
    # alertmanager-config on Docker: refused through the prometheus-operator rules it needs.
    (_with(DOCKER, metrics={**PROM, "rules": "prometheus-operator", "selector_labels": {"release": "kps"}},
           alerting={"mode": "external", "kind": "alertmanager-config"}),
     "llmobs:backends.metrics.rules: prometheus-operator is for the Kubernetes target (Prometheus Operator objects)"),
    # Dashboards elsewhere.
    (_with(DOCKER, dashboards={"mode": "external", "kind": "sidecar"}),
     "llmobs:backends.dashboards.kind: sidecar is for the Kubernetes target (ConfigMaps the Grafana sidecar reads)"),
    (_with(KUBE, dashboards={**API, "url": None}),
     "llmobs:backends.dashboards.url: required with kind grafana-api: the Grafana base URL"),
    (_with(KUBE, dashboards={**API, "datasources": {"traces": "tempo-uid", "logs": "loki-uid"}}),
     "llmobs:backends.dashboards.datasources.metrics: required: backends.metrics is bundled, in the cluster, where "
     "the external Grafana cannot reach it; give the uid of a data source that can"),
    (_with(KUBE, dashboards={**API, "datasources": {"metrics": "prom-uid", "traces": "tempo-uid"}}),
     "llmobs:backends.dashboards.datasources.logs: required: backends.logs is bundled, in the cluster, where "
     "the external Grafana cannot reach it; give the uid of a data source that can"),
    # A trace endpoint's form follows its protocol.
    (_with(KUBE, traces={"mode": "external", "protocol": "http", "endpoint": "tempo.tracing.svc:4318",
                         "query_url": "http://tempo.tracing.svc:3200"}),
     "llmobs:backends.traces.endpoint: protocol http needs an http(s):// URL"),
    (_with(KUBE, traces={"mode": "external", "protocol": "grpc", "endpoint": "https://tempo.example.invalid",
                         "query_url": "http://tempo.tracing.svc:3200"}),
     "llmobs:backends.traces.endpoint: protocol grpc needs host:port"),
    # A receiver override for a team that owns no alert.
    ({**KUBE, "alerts": {"receivers": {"kind": "slack", "teams": [{"team": "payments", "critical": "pagerduty"}]}}},
     "llmobs:alerts.receivers.teams[0].team: unknown team 'payments'; no alert carries it. Teams owning alerts "
     "(alerts.teams): finance, llm-platform, ml-quality, security"),
    # Two overrides for one team: the later one is named.
    ({**KUBE, "alerts": {"receivers": {"kind": "slack", "teams": [{"team": "finance", "critical": "pagerduty"},
                                                                  {"team": "finance", "warning": "pagerduty"}]}}},
     "llmobs:alerts.receivers.teams[1].team: duplicate team 'finance'"),
]
GOOD = [
    # The neighbours of the refused ones.
    _with(KUBE, {"engine": "grafana"}, alerting={"mode": "external", "kind": "grafana"}, dashboards=API),
    _with(KUBE, metrics=PROM, alerting={"mode": "external", "kind": "team"}),
    _with(KUBE, dashboards={"mode": "external", "kind": "sidecar"}),
    _with(KUBE, traces={"mode": "external", "protocol": "http", "endpoint": "http://tempo.tracing.svc:4318",
                        "query_url": "http://tempo.tracing.svc:3200"}),
    _with(KUBE, traces={"mode": "external", "protocol": "grpc", "endpoint": "tempo.tracing.svc:4317",
                        "query_url": "http://tempo.tracing.svc:3200"}),
    {**KUBE, "alerts": {"receivers": {"kind": "slack", "teams": [{"team": "finance", "critical": "pagerduty"}]}}},
]


@pytest.mark.parametrize("config, message", BAD, ids=[m[:60] for _, m in BAD])
def test_a_rule_refuses_with_its_whole_message(config, message):
    with pytest.raises(SettingsError) as caught:
        validate(_drop_none(config))
    assert str(caught.value) == message


@pytest.mark.parametrize("config", GOOD, ids=range(len(GOOD)))
def test_its_neighbour_is_accepted(config):
    validate(config)


def test_a_team_override_routes_only_its_own_team_and_severity():
    s = validate({**KUBE, "alerts": {"receivers": {"kind": "slack", "warning": "email",
                                                   "email": {"to": "a@example.invalid", "from_address": "b@example.invalid",
                                                             "smarthost": "smtp.example.invalid:587"},
                                                   "teams": [{"team": "finance", "critical": "pagerduty"}]}}})
    r = s.alerts.receivers
    assert (r.for_("critical", "finance"), r.for_("warning", "finance"), r.for_("critical", "ml-quality"),
            r.for_("info", None)) == ("pagerduty", "email", "slack", "slack")
    assert r.in_use() == {"slack", "email", "pagerduty", "none"}
    assert s.alerts.teams.names() == {"llm-platform", "finance", "ml-quality", "security"}


def test_the_stack_config_and_its_file_must_be_mappings(tmp_path):
    with pytest.raises(SettingsError) as caught:
        validate(["target", "kubernetes"])
    assert str(caught.value) == "llmobs: the stack config must be a mapping of llmobs:* keys, got list"
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(yaml.safe_dump(["config"]))
    with pytest.raises(SettingsError) as caught:
        load_stack_file(path)
    assert str(caught.value) == f"{path}: not a Pulumi stack file (expected a mapping)"


def test_a_broken_default_price_table_is_refused_by_its_file(monkeypatch):
    real = load._yaml

    def broken(name: str):
        table = real(name)
        if name == "prices.yaml":
            table = copy.deepcopy(table)
            table["models"][0]["input"] = -1   # a negative price
        return table
    monkeypatch.setattr(load, "_yaml", broken)
    with pytest.raises(SettingsError) as caught:
        default_prices()
    assert str(caught.value) == "settings/prices.yaml: models[0].input: -1 is less than the minimum of 0"


# Every secret the stack reads, by hand: Pulumi secret config only, never plain text in a stack file.
SECRETS = ("grafana_admin_password", "ingest_token", "alert_webhook_url", "remote_write_password", "grafana_secret_key",
           "forward_tokens", "alert_pagerduty_routing_key", "alert_email_password", "registry_password",
           "content_hash_key", "metrics_token", "traces_token", "logs_token", "grafana_token")


@pytest.mark.parametrize("key", SECRETS)
def test_a_secret_in_plain_text_is_refused_with_how_to_set_it(key):
    with pytest.raises(SettingsError) as caught:
        load.split_stack_config({"llmobs:target": "docker", f"llmobs:{key}": "plain-text-value"})
    assert str(caught.value) == f"llmobs:{key}: must be a secret; set it with `pulumi config set --secret {key} ...`"
    settings, secrets = load.split_stack_config({"llmobs:target": "docker", f"llmobs:{key}": {"secure": "v1:abc"}})
    assert (settings, secrets) == ({"target": "docker"}, {key: {"secure": "v1:abc"}})


WEBHOOK_AND_SLACK = "llmobs:alerts.receivers: webhook and slack both read the secret llmobs:alert_webhook_url; route to one of them"


@pytest.mark.parametrize("receivers", [
    {"kind": "slack", "critical": "slack", "warning": "slack", "info": "webhook", "non_paging": "slack",
     "dead_mans_switch": "webhook"},    # the two and nothing else
    {"kind": "slack", "info": "webhook"},
    {"kind": "slack", "teams": [{"team": "finance", "info": "webhook"}]},
], ids=["only-the-two", "info", "a-teams-info"])
def test_webhook_and_slack_are_refused_wherever_each_is_routed(receivers):
    with pytest.raises(SettingsError) as caught:
        validate({**KUBE, "alerts": {"receivers": receivers}})
    assert str(caught.value) == WEBHOOK_AND_SLACK


def test_several_replicas_behind_one_tier_are_refused_with_the_whole_reason():
    with pytest.raises(SettingsError) as caught:
        validate({**KUBE, "kubernetes": {"two_tier": {"enabled": False}},
                  "collector": {**KUBE["collector"], "replicas_min": 1, "replicas_max": 3}})
    assert str(caught.value) == (
        "llmobs:kubernetes.two_tier.enabled: false with llmobs:collector.replicas_max = 3: tail sampling behind "
        "several replicas splits traces (errors and slow traces would be kept partially); enable two_tier, or set "
        "collector.replicas_min and replicas_max to 1")


@pytest.mark.parametrize("auth", ["bearer", "basic"])
def test_a_forwarder_sends_bearer_and_basic_only_in_authorization(auth):
    fwd = {"name": "v", "endpoint": "https://otlp.vendor.example", "protocol": "http", "auth": auth}
    validate({**KUBE, "forwarding": [{**fwd, "auth_header": "authorization"}]})   # any case
    with pytest.raises(SettingsError) as caught:
        validate({**KUBE, "forwarding": [{**fwd, "auth_header": "x-api-key"}]})
    assert str(caught.value) == (f"llmobs:forwarding[0].auth_header: auth {auth} is sent in Authorization; "
                                 "use auth raw for another header")


def test_two_tiers_are_a_kubernetes_setting():
    assert validate(KUBE).two_tier is True
    assert validate({**KUBE, "kubernetes": {"two_tier": {"enabled": False}},
                     "collector": {**KUBE["collector"], "replicas_min": 1, "replicas_max": 1}}).two_tier is False
    assert validate({**DOCKER, "kubernetes": {"two_tier": {"enabled": True}}}).two_tier is False
