"""The rules of the Prometheus Operator mode, from the PrometheusRule objects themselves: their
groups written out as rule files pass `promtool check rules`, and every alert's unit test of
tests/test_alerts.py (fires on its example with full labels and annotations, not before its `for`,
not on the near misses) passes on them, with the `namespace` label the AlertmanagerConfig routes on.

The settings are the kube-prometheus-stack example's, with the default alerts.grafana_url (the
alert tests' expected links are written for it)."""
from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path

import pytest
import yaml

import alerts
from binaries import promtool
from components.kubernetes import external, manifests
from settings import validate
from test_alerts import _cases, _only_what

ROOT = Path(__file__).resolve().parent.parent


def _config() -> dict:
    config = yaml.safe_load((ROOT / "Pulumi.kube-prometheus.yaml").read_text())["config"]
    out = {k.removeprefix("llmobs:"): v for k, v in copy.deepcopy(config).items()}
    del out["alerts"]["grafana_url"]
    return out


SETTINGS = validate(_config())
ALL = alerts.all_alerts(SETTINGS)
NAMESPACE = {"namespace": SETTINGS.namespace}


def prometheus_rules() -> dict[str, dict]:
    return {m.body["metadata"]["name"]: m.body for group in manifests.stack_manifests(SETTINGS).values()
            for m in group if m.body["kind"] == "PrometheusRule"}


@pytest.fixture(scope="module")
def rule_dir(tmp_path_factory) -> Path:
    """The PrometheusRule objects' groups as the files the operator's Prometheus loads (it writes
    each object's spec as one rule file)."""
    d = tmp_path_factory.mktemp("operator-rules")
    objects = prometheus_rules()
    for name, file in ((external.RECORDING_RULES, "llm.rules.yml"), (external.ALERT_RULES, "llm.alerts.yml")):
        (d / file).write_text(yaml.safe_dump({"groups": objects[name]["spec"]["groups"]}, sort_keys=False, width=1000))
    return d


def test_promtool_check_rules(rule_dir):
    out = subprocess.run([promtool(), "check", "rules", str(rule_dir / "llm.rules.yml"), str(rule_dir / "llm.alerts.yml")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(ALL)} rules found" in out.stdout
    recording = sum(len(g["rules"]) for g in prometheus_rules()[external.RECORDING_RULES]["spec"]["groups"])
    assert f"{recording} rules found" in out.stdout


def _spec(rule_dir: Path, alert, tmp_path: Path, alerts_file: str = "llm.alerts.yml") -> dict:
    """tests/test_alerts.py's unit test of the alert (its examples, full labels and annotations), on
    the alert's own rules and the recording rules they read (test_alerts._only_what), each firing
    alert expected with the namespace label."""
    tests = []
    for ex, at, expected in _cases(alert):
        for exp in expected:
            exp["exp_labels"] = {**exp["exp_labels"], **NAMESPACE}
        tests.append({"name": f"{alert.name}/{alert.severity}: {ex.note} @ {at}m", "interval": "1m",
                      "input_series": [{"series": s, "values": v} for s, v in ex.series.items()],
                      "alert_rule_test": [{"eval_time": f"{at}m", "alertname": alert.name, "exp_alerts": expected}]})
    files = _only_what(alert.name, rule_dir, alerts_file, tmp_path)
    return {"rule_files": [str(f) for f in files], "evaluation_interval": "1m",
            "group_eval_order": [g["name"] for f in files for g in yaml.safe_load(f.read_text())["groups"]],
            "tests": tests}


def _run(spec: dict, path: Path) -> subprocess.CompletedProcess:
    path.write_text(yaml.safe_dump(spec, sort_keys=False, width=1000))
    return subprocess.run([promtool(), "test", "rules", str(path)], capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("alert", ALL, ids=[f"{a.name}-{a.severity}" for a in ALL])
def test_every_alert_unit_test_passes_on_the_prometheus_rule(alert, rule_dir, tmp_path):
    out = _run(_spec(rule_dir, alert, tmp_path), tmp_path / "test.yml")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_a_rule_without_the_namespace_label_fails_the_unit_test(rule_dir, tmp_path):
    """The namespace label is asserted: the bundled file (without it) fails the same test."""
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    (bundled / "llm.rules.yml").write_text((rule_dir / "llm.rules.yml").read_text())
    (bundled / "llm.alerts.yml").write_text(alerts.render(SETTINGS)[alerts.RULES_FILE])
    alert = next(a for a in ALL if a.name == "LlmProviderErrorRateHigh")
    out = _run(_spec(bundled, alert, tmp_path), tmp_path / "test.yml")
    assert out.returncode != 0 and "namespace" in out.stdout + out.stderr, out.stdout[-2000:]


def _amtool_render(glob: Path, text: str) -> str:
    from binaries import binary
    run = subprocess.run([binary("amtool"), "template", "render", f"--template.glob={glob}", f"--template.text={text}"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_inlined_notification_templates_render_as_the_template_file(tmp_path):
    """An AlertmanagerConfig cannot add template files: its receivers carry the templates' bodies in
    place of each `{{ template "llmobs.x" . }}`. amtool renders both on its example alerts: the same text."""
    from backends import alertmanager
    settings = validate({**_config(), "alerts": {"receivers": {
        "kind": "slack", "critical": "pagerduty", "info": "email",
        "email": {"to": "oncall@example.com", "from_address": "llmobs@example.com", "smarthost": "smtp.example.com:587"}}}})
    (tmp_path / "llmobs.tmpl").write_text(alertmanager.TEMPLATES)
    (tmp_path / "none.tmpl").write_text("")
    pairs = []
    for kind in ("slack", "pagerduty", "email"):
        plain = alertmanager.receiver(kind, settings)
        mine = external.receiver(kind, settings)
        if kind == "slack":
            c, m = plain["slack_configs"][0], mine["slackConfigs"][0]
            pairs += [(c["title"], m["title"]), (c["title_link"], m["titleLink"]), (c["text"], m["text"])]
        elif kind == "pagerduty":
            c, m = plain["pagerduty_configs"][0], mine["pagerdutyConfigs"][0]
            pairs += [(c["description"], m["description"])]
            pairs += [(c["details"][d["key"]], d["value"]) for d in m["details"]]
            pairs += [(link["href"], m_link["href"]) for link, m_link in zip(c["links"], m["pagerDutyLinkConfigs"])]
        else:
            c, m = plain["email_configs"][0], mine["emailConfigs"][0]
            pairs += [(c["html"], m["html"]), (c["text"], m["text"]), (c["headers"]["Subject"], m["headers"][0]["value"])]
    assert len(pairs) == 12
    for original, inlined in pairs:
        assert "{{ template" in original and "{{ template" not in inlined
        assert _amtool_render(tmp_path / "none.tmpl", inlined) == _amtool_render(tmp_path / "llmobs.tmpl", original), original


def _team_rules_settings():
    """backends.alerting kind team: PrometheusRule objects without the namespace label."""
    config = _config()
    config["backends"]["alerting"] = {"mode": "external", "kind": "team"}
    return validate(config)


@pytest.mark.parametrize("source", ["prometheusrule-team", "grafana-cloud-rules-file"])
def test_promtool_checks_the_rules_of_the_other_external_modes(source, tmp_path):
    """kind team: the PrometheusRule objects, as the operator's Prometheus loads them; the Grafana Cloud
    example (rules none): the recording rule file `stackctl render` writes for the team to load."""
    if source == "prometheusrule-team":
        settings = _team_rules_settings()
        objects = {m.body["metadata"]["name"]: m.body for group in manifests.stack_manifests(settings).values()
                   for m in group if m.body["kind"] == "PrometheusRule"}
        docs = {name: {"groups": body["spec"]["groups"]} for name, body in objects.items()}
        assert set(docs) == {external.RECORDING_RULES, external.ALERT_RULES}
        expected = len(alerts.all_alerts(settings)) + sum(len(g["rules"]) for g in docs[external.RECORDING_RULES]["groups"])
        assert not any("namespace" in r.get("labels", {}) for g in docs[external.ALERT_RULES]["groups"] for r in g["rules"])
    else:
        from artifacts import render_all
        from settings.load import load_stack_file
        rendered = render_all(load_stack_file(ROOT / "Pulumi.grafana-cloud.yaml"))
        docs = {"llm.rules": yaml.safe_load(rendered["prometheus/rules/llm.rules.yml"])}
        expected = sum(len(g["rules"]) for g in docs["llm.rules"]["groups"])
        assert all("record" in r for g in docs["llm.rules"]["groups"] for r in g["rules"])
    files = []
    for name, doc in docs.items():
        files.append(tmp_path / f"{name}.yml")
        files[-1].write_text(yaml.safe_dump(doc, sort_keys=False, width=1000))
    out = subprocess.run([promtool(), "check", "rules", *map(str, files)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    found = sum(int(n) for n in re.findall(r"SUCCESS: (\d+) rules found", out.stdout))
    assert found == expected, out.stdout
