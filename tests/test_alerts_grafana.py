"""The Grafana alerting file: Grafana's file loader's required fields (Grafana cannot run here),
its `$` expansion, and agreement with the Prometheus rendering of the same definitions."""
from __future__ import annotations

import re

import pytest
import yaml

from alerts import links

import alerts
from alerts import grafana
from alerts.prometheus import render_rules
from settings import validate
from stacks import KUBE

# With the debug store on: its audit alert's allowlist regex ends in `$`, which Grafana would expand.
SETTINGS = validate({**KUBE, "alerts": {"engine": "grafana", "receivers": {"kind": "webhook"}},
                     "debug": {"enabled": True, "tenants": ["acme"], "viewers": ["alice", "bob.smith"]}})


def grafana_expand(text: str, env: dict[str, str] | None = None) -> str:
    """Grafana's provisioning expansion (os.Expand): `$$` -> `$`, `$VAR`/`${VAR}` -> env value."""
    env = env or {}
    return re.sub(r"\$(\$|\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)",
                  lambda m: "$" if m.group(1) == "$" else env.get(m.group(1).strip("{}"), ""), text)


@pytest.fixture(scope="module")
def doc() -> dict:
    return yaml.safe_load(alerts.render(SETTINGS)[grafana.PROVISIONING_FILE])


def test_loader_required_fields(doc):
    assert doc["apiVersion"] == 1
    uids = set()
    for group in doc["groups"]:
        assert group["name"] and group["folder"] and re.fullmatch(r"\d+[smh]", group["interval"])
        for rule in group["rules"]:
            for key in ("uid", "title", "condition", "data", "noDataState", "execErrState", "for"):
                assert rule.get(key), (rule.get("title"), key)
            assert "grafana_alert" not in rule, "ruler-API shape: the file loader wants title etc. on the rule"
            assert len(rule["uid"]) <= 40 and rule["uid"] not in uids
            uids.add(rule["uid"])
            assert rule["noDataState"] in ("NoData", "Alerting", "OK")
            assert rule["execErrState"] in ("Error", "Alerting", "OK")
            assert rule["condition"] in {node["refId"] for node in rule["data"]}
            for node in rule["data"]:
                assert node["datasourceUid"]
                # The last 10 minutes up to now: a range ending before now would miss the newest points.
                assert node["relativeTimeRange"] == {"from": 600, "to": 0}


def test_no_variable_grafana_would_expand(doc):
    text = alerts.render(SETTINGS)[grafana.PROVISIONING_FILE]
    rules_part = text.split("\npolicies:")[0]
    # After Grafana's expansion with an empty environment, nothing of the rules is lost.
    assert "$labels" not in grafana_expand(rules_part.replace("$$", "")), "an unescaped $labels would expand to ''"
    assert "$$labels" in rules_part


def test_both_renderings_agree(doc):
    prom = yaml.safe_load(render_rules(alerts.groups(SETTINGS), SETTINGS.alerts.runbook_base_url,
                                       SETTINGS.alerts.grafana_url))
    prom_rules = {(r["alert"], r["labels"]["severity"]): r for g in prom["groups"] for r in g["rules"]}
    graf_rules = {(r["title"], r["labels"]["severity"]): r for g in doc["groups"] for r in g["rules"]}
    assert set(prom_rules) == set(graf_rules) == {(a.name, a.severity) for a in alerts.all_alerts(SETTINGS)}
    assert len({r["uid"] for r in graf_rules.values()}) == len(graf_rules), "an SLO's twins need their own uid"
    for (name, _), p in prom_rules.items():
        g = yaml.safe_load(grafana_expand(yaml.safe_dump(graf_rules[name, p["labels"]["severity"]])))
        query = next(n for n in g["data"] if n["refId"] == "A")
        assert query["model"]["expr"] == p["expr"], name
        assert g["for"] == p["for"] and g["labels"] == p["labels"], name
        assert g.get("keepFiringFor") == p.get("keep_firing_for"), name
        uid, panel = links.panel(name)   # Grafana links the panel natively as well
        assert g["annotations"] == {**{k: grafana.grafana_template(v) for k, v in p["annotations"].items()},
                                    "__dashboardUid__": uid, "__panelId__": str(panel)}, name


def test_contact_point_reads_the_secret_file(doc):
    url = doc["contactPoints"][0]["receivers"][0]["settings"]["url"]
    assert url == "$__file{/etc/llmobs/secrets/alert_webhook_url}"   # Grafana's own file expansion
    assert "http" not in yaml.safe_dump(doc["contactPoints"])   # links in annotations are not secrets


def _grafana_route(policy: dict, labels: dict) -> tuple[str, bool]:
    """(contact point, muted) for a label set: the first child policy whose matchers all hold
    (no `continue` is used), else the root."""
    def holds(name: str, op: str, value: str) -> bool:
        v = labels.get(name, "")   # a missing label reads as empty, as in Alertmanager
        return {"=": v == value, "!=": v != value, "=~": re.fullmatch(value, v) is not None,
                "!~": re.fullmatch(value, v) is None}[op]
    for route in policy["routes"]:
        if all(holds(*m) for m in route["object_matchers"]):
            return route["receiver"], bool(route.get("mute_time_intervals"))
    return policy["receiver"], False


@pytest.mark.parametrize("name", ["routed", "by-severity", "pagerduty", "email-auth"])
def test_notification_policies_follow_the_alertmanager_routes(name, tmp_path):
    """Same settings, same destination: Grafana's policy tree against the real amtool's answer."""
    from test_alert_routing import RECEIVER_SETTINGS, ROUTES, _config, _route
    receivers = RECEIVER_SETTINGS[name]
    settings = validate({**KUBE, "alerts": {"engine": "grafana", "receivers": receivers}})
    doc = yaml.safe_load(alerts.render(settings)[grafana.PROVISIONING_FILE])
    config = _config(tmp_path, receivers)
    points = {p["name"]: p for p in doc["contactPoints"]}
    muted_always = {m["name"] for m in doc.get("muteTimes", [])
                    if m["time_intervals"] == [{"times": [{"start_time": "00:00", "end_time": "24:00"}]}]}
    assert doc["policies"][0]["receiver"] in points
    for labels, _ in ROUTES:
        am = _route(config, labels)
        point, muted = _grafana_route(doc["policies"][0], labels)
        assert point in points, (labels, point)
        if am == "null":
            assert muted and set(next(r for r in doc["policies"][0]["routes"]
                                      if r["receiver"] == point and r.get("mute_time_intervals"))
                                 ["mute_time_intervals"]) <= muted_always, labels
        else:
            assert not muted and point == f"llmobs-{am}" and points[point]["receivers"][0]["type"] == am, labels


def test_contact_point_credentials_are_files():
    receivers = {"critical": "pagerduty", "warning": "email", "info": "slack",
                 "email": {"to": "a@example.invalid, b@example.invalid", "from_address": "al@example.invalid",
                           "smarthost": "smtp.example.invalid:465", "auth_username": "al"}}
    settings = validate({**KUBE, "alerts": {"engine": "grafana", "receivers": receivers}})
    doc = yaml.safe_load(alerts.render(settings)[grafana.PROVISIONING_FILE])
    points = {p["receivers"][0]["type"]: p["receivers"][0]["settings"] for p in doc["contactPoints"]}
    assert points == {"slack": {"url": "$__file{/etc/llmobs/secrets/alert_webhook_url}"},
                      "pagerduty": {"integrationKey": "$__file{/etc/llmobs/secrets/alert_pagerduty_routing_key}"},
                      "email": {"addresses": "a@example.invalid; b@example.invalid", "singleEmail": True}}
    from backends import grafana as grafana_backend
    ini = grafana_backend.render(settings)["grafana/grafana.ini"]
    assert "[smtp]\nenabled = true\nhost = smtp.example.invalid:465" in ini
    assert "password = $__file{/etc/llmobs/secrets/alert_email_password}" in ini
    # Without the Grafana engine Grafana sends nothing, so it gets no SMTP section.
    assert "[smtp]" not in grafana_backend.render(validate({**KUBE, "alerts": {"receivers": receivers}}))[
        "grafana/grafana.ini"]


def test_no_receiver_no_policy():
    """Nothing to notify: no contact point and no policy naming one that does not exist."""
    doc = yaml.safe_load(alerts.render(validate({"target": "docker", "alerts": {"engine": "grafana"}}))[
        grafana.PROVISIONING_FILE])
    assert "policies" not in doc and "contactPoints" not in doc


def test_engine_selects_one_file():
    prom = alerts.render(validate({"target": "docker"}))
    graf = alerts.render(SETTINGS)
    assert set(prom) == {alerts.RULES_FILE} and set(graf) == {grafana.PROVISIONING_FILE}


def test_grafana_template_names_the_query_value():
    assert grafana.grafana_template("{{ $value | humanize }}") == "{{ $values.A.Value | humanize }}"


def test_a_receiver_kind_grafana_has_no_contact_point_for_is_refused_by_name():
    """Settings refuse unknown kinds first; this guards a kind added to the schema but not here."""
    with pytest.raises(ValueError) as caught:
        grafana.contact_point("opsgenie", validate({**KUBE, "alerts": {"engine": "grafana"}}))
    assert str(caught.value) == "no Grafana contact point for receiver kind 'opsgenie'"


def test_the_grafana_policy_groups_as_the_bundled_alertmanager():
    """By hand: one notification per alert name and severity, whichever engine sends it."""
    from backends import alertmanager
    settings = validate({**KUBE, "alerts": {"engine": "grafana", "receivers": {"kind": "slack"}}})
    _, [policy], _ = grafana.notification_policies(settings)
    assert policy["group_by"] == ["alertname", "severity"]
    assert alertmanager.config(validate(KUBE))["route"]["group_by"] == ["alertname", "severity"]
