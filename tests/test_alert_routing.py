"""Alertmanager routing and inhibition, on the real Alertmanager (127.0.0.1, free port); the receivers\nchosen in settings, checked by the real amtool (`check-config`, `config routes test`)."""
from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

import alerts
from backends import alertmanager
from backends.common import SECRETS_DIR
from binaries import amtool
from collector_harness import free_port
from settings import SettingsError, validate
from settings.load import SECRET_KEYS
from stacks import KUBE

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = validate({"target": "docker"})


@pytest.fixture(scope="module")
def am(tmp_path_factory):
    d = tmp_path_factory.mktemp("am")
    (d / "alertmanager.yml").write_text(alertmanager.render(SETTINGS)["alertmanager/alertmanager.yml"])
    port = free_port()
    proc = subprocess.Popen([str(ROOT / ".bin/alertmanager"), f"--config.file={d / 'alertmanager.yml'}",
                             f"--storage.path={d / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
                             "--cluster.listen-address="], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v2"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/status", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("alertmanager did not start")
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def _post(base: str, *labelsets: dict) -> None:
    now = datetime.now(timezone.utc)
    body = [{"labels": labels, "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}
            for labels in labelsets]
    req = urllib.request.Request(f"{base}/alerts", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5)


def _inhibited(base: str, alertname: str, **labels: str) -> bool | None:
    for a in json.loads(urllib.request.urlopen(f"{base}/alerts", timeout=5).read()):
        if a["labels"]["alertname"] == alertname and all(a["labels"].get(k) == v for k, v in labels.items()):
            return bool(a["status"]["inhibitedBy"])
    return None


def _eventually(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_provider_outage_inhibits_that_providers_latency_alerts_only(am):
    _post(am, {"alertname": "LlmProviderErrorRateHigh", "severity": "critical", "gen_ai_provider_name": "openai"},
          {"alertname": "LlmLatencyP95High", "severity": "warning", "gen_ai_provider_name": "openai"},
          {"alertname": "LlmLatencyP95High", "severity": "warning", "gen_ai_provider_name": "anthropic"})
    assert _eventually(lambda: _inhibited(am, "LlmLatencyP95High", gen_ai_provider_name="openai") is True)
    assert _inhibited(am, "LlmLatencyP95High", gen_ai_provider_name="anthropic") is False


def test_collector_down_inhibits_no_traffic(am):
    _post(am, {"alertname": "LlmBackendDown", "severity": "critical", "job": "collector"},
          {"alertname": "LlmNoTraffic", "severity": "warning"})
    assert _eventually(lambda: _inhibited(am, "LlmNoTraffic") is True)


def test_a_backend_other_than_the_collector_does_not_hide_no_traffic(tmp_path):
    rules = alertmanager.inhibit_rules()
    no_traffic = [r for r in rules if "LlmNoTraffic" in " ".join(r["target_matchers"])]
    assert all(any(m in ('job="collector"', 'alertname="LlmCollectorRefusingData"') for m in r["source_matchers"])
               for r in no_traffic)


def test_inhibition_rules_name_real_alerts():
    names = {a.name for a in alerts.all_alerts(SETTINGS)}
    for rule in alertmanager.inhibit_rules():
        for matcher in rule["source_matchers"] + rule["target_matchers"]:
            if matcher.startswith("alertname"):
                for name in re.findall(r"Llm[A-Za-z0-9]+", matcher):
                    assert name in names, name


def test_every_severity_has_a_route():
    severities = {a.severity for a in alerts.all_alerts(SETTINGS)}
    routed = {m.split('"')[1] for r in alertmanager.routes(SETTINGS) for m in r["matchers"]}
    assert severities <= routed


# -- receivers chosen in settings, checked by the real amtool -------------------------------

EMAIL = {"to": "oncall@example.invalid", "from_address": "alerts@example.invalid", "smarthost": "smtp.example.invalid:587"}
RECEIVER_SETTINGS = {
    "none": {},
    "webhook": {"kind": "webhook"},
    "slack": {"kind": "slack"},
    "pagerduty": {"kind": "pagerduty"},
    "email-auth": {"kind": "email", "email": {**EMAIL, "auth_username": "alerts"}},
    "email-relay": {"kind": "email", "email": {**EMAIL, "require_tls": False}},
    "by-severity": {"critical": "pagerduty", "warning": "slack", "info": "none"},
    # The routing table below: every severity, a team override, and the default (no or unknown severity).
    "routed": {"kind": "email", "critical": "pagerduty", "warning": "slack", "info": "none", "email": EMAIL,
               "teams": [{"team": "data", "critical": "email", "warning": "pagerduty"}]},
}
ROUTES = [   # (labels, receiver) for the "routed" settings
    ({"alertname": "LlmProviderErrorRateHigh", "severity": "critical", "team": "llm-platform"}, "pagerduty"),
    ({"alertname": "LlmLatencyP95High", "severity": "warning", "team": "llm-platform"}, "slack"),
    ({"alertname": "LlmLabelOverflow", "severity": "info", "team": "llm-platform"}, "null"),
    ({"alertname": "LlmBackendDown", "severity": "critical", "team": "data"}, "email"),      # team override
    ({"alertname": "LlmExporterQueueNearFull", "severity": "warning", "team": "data"}, "pagerduty"),
    ({"alertname": "LlmUnpricedModelCalls", "severity": "info", "team": "data"}, "null"),    # not overridden
    ({"alertname": "SomethingElse"}, "email"),                                                # the default
    ({"alertname": "SomethingElse", "severity": "page"}, "email"),
]


def _config(tmp_path: Path, receivers: dict) -> Path:
    settings = validate({"target": "docker", "alerts": {"receivers": receivers}})
    path = tmp_path / "alertmanager.yml"
    path.write_text(alertmanager.render(settings)["alertmanager/alertmanager.yml"])
    return path


def _route(config: Path, labels: dict) -> str:
    out = subprocess.run([amtool(), "config", "routes", "test", f"--config.file={config}",
                          *(f"{k}={v}" for k, v in labels.items())], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize("name", RECEIVER_SETTINGS)
def test_amtool_check_config(name, tmp_path):
    config = _config(tmp_path, RECEIVER_SETTINGS[name])
    out = subprocess.run([amtool(), "check-config", str(config)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    text = config.read_text()
    assert "example.invalid:587" in text if "email" in name or name == "routed" else "smtp" not in text
    # Credentials only as files from the secrets directory, never in the text.
    doc = yaml.safe_load(text)
    for rec in doc["receivers"]:
        for kind, field in (("webhook_configs", "url"), ("slack_configs", "api_url"),
                            ("pagerduty_configs", "routing_key"), ("email_configs", "auth_password")):
            for cfg in rec.get(kind, []):
                assert field not in cfg, (rec["name"], field)
                if field + "_file" in cfg:
                    assert cfg[field + "_file"].startswith(SECRETS_DIR + "/"), cfg
    assert {r["name"] for r in doc["receivers"]} == {alertmanager.receiver_name(k) for k in
                                                     validate({"target": "docker", "alerts": {"receivers": RECEIVER_SETTINGS[name]}}).alerts.receivers.in_use()}


def test_amtool_routes_the_table(tmp_path):
    config = _config(tmp_path, RECEIVER_SETTINGS["routed"])
    receivers = validate({"target": "docker", "alerts": {"receivers": RECEIVER_SETTINGS["routed"]}}).alerts.receivers
    for labels, expected in ROUTES:
        assert _route(config, labels) == expected, labels
        # The settings' own reading agrees (it also builds the Grafana notification policies).
        if labels.get("severity") in alertmanager.SEVERITIES:
            assert alertmanager.receiver_name(receivers.for_(labels["severity"], labels.get("team"))) == expected


def test_amtool_routes_every_alert_by_its_labels(tmp_path):
    """Every real alert, with the labels its rule gives it, reaches its severity's receiver."""
    config = _config(tmp_path, RECEIVER_SETTINGS["by-severity"])
    want = {"critical": "pagerduty", "warning": "slack", "info": "null"}
    for alert in alerts.all_alerts(SETTINGS):
        assert _route(config, {"alertname": alert.name, **alert.labels()}) == want[alert.severity], alert.name


@pytest.mark.parametrize("receivers, message", [
    ({"warning": "webhook", "critical": "slack"}, "alert_webhook_url"),
    ({"kind": "email"}, "llmobs:alerts.receivers.email.to"),
    ({"teams": [{"team": "data", "info": "pagerduty"}, {"team": "data"}]}, "duplicate team"),
    ({"critical": "sms"}, "llmobs:alerts.receivers.critical"),
])
def test_bad_receiver_settings_name_the_key(receivers, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        validate({"target": "docker", "alerts": {"receivers": receivers}})


def test_secret_files_follow_the_receivers_in_use():
    def files(receivers: dict) -> set[str]:
        return {f for f, _ in alertmanager.secret_files(validate({"target": "docker", "alerts": {"receivers": receivers}}))}
    assert files({}) == set()
    assert files(RECEIVER_SETTINGS["routed"]) == {"alert_webhook_url", "alert_pagerduty_routing_key"}
    assert files(RECEIVER_SETTINGS["email-auth"]) == {"alert_email_password"}
    assert files(RECEIVER_SETTINGS["email-relay"]) == set()
    assert set(SECRET_KEYS) >= {k for _, k in alertmanager.secret_files(
        validate({"target": "docker", "alerts": {"receivers": {**RECEIVER_SETTINGS["by-severity"],
                                                               "teams": [{"team": "x", "info": "email"}],
                                                               "email": {**EMAIL, "auth_username": "u"}}}}))}


def test_both_targets_mount_the_receivers_secrets():
    """backends.services is what the Kubernetes and Docker components mount (and refuse to deploy
    without); Grafana gets the same files only when it evaluates the alerts."""
    from backends import services
    receivers = {"critical": "pagerduty", "warning": "email", "email": {**EMAIL, "auth_username": "alerts"}}
    for engine, grafana_files in (("prometheus", set()), ("grafana", {"alert_pagerduty_routing_key", "alert_email_password"})):
        stack = validate({**KUBE, "alerts": {"engine": engine, "receivers": receivers}})
        by_name = {s.name: s for s in services.services(stack)}
        assert {f for f, _ in by_name["alertmanager"].secret_files} == {"alert_pagerduty_routing_key", "alert_email_password"}
        assert {f for f, _ in by_name["grafana"].secret_files} - {"grafana_admin_password", "grafana_secret_key"} == grafana_files
