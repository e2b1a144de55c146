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
# The debug store on: its access audit alert is routed (to security) like every other.
SETTINGS = validate({"target": "docker", "debug": {"enabled": True, "tenants": ["acme"], "viewers": ["alice"]}})


@pytest.fixture(scope="module")
def am(tmp_path_factory):
    d = tmp_path_factory.mktemp("am")
    _write(d, SETTINGS)
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
               "teams": [{"team": "finance", "critical": "email", "warning": "pagerduty"}]},
}
ROUTES = [   # (labels, receiver) for the "routed" settings
    ({"alertname": "LlmProviderErrorRateHigh", "severity": "critical", "team": "llm-platform"}, "pagerduty"),
    ({"alertname": "LlmLatencyP95High", "severity": "warning", "team": "llm-platform"}, "slack"),
    ({"alertname": "LlmLabelOverflow", "severity": "info", "team": "llm-platform"}, "null"),
    ({"alertname": "LlmSpendSpike", "severity": "critical", "team": "finance"}, "email"),    # team override
    ({"alertname": "LlmSpendOverDailyBudget", "severity": "warning", "team": "finance"}, "pagerduty"),
    ({"alertname": "LlmUnpricedModelCalls", "severity": "info", "team": "finance"}, "null"),  # not overridden
    ({"alertname": "SomethingElse"}, "email"),                                                # the default
    ({"alertname": "SomethingElse", "severity": "page"}, "email"),
]


def _write(directory: Path, settings) -> Path:
    """alertmanager/ as both targets mount it: the config and the template file next to it."""
    for key, text in alertmanager.render(settings).items():
        (directory / key.removeprefix("alertmanager/")).write_text(text)
    return directory / "alertmanager.yml"


def _config(tmp_path: Path, receivers: dict) -> Path:
    return _write(tmp_path, validate({"target": "docker", "alerts": {"receivers": receivers}}))


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
    ({"teams": [{"team": "finance", "info": "pagerduty"}, {"team": "finance"}]}, "duplicate team"),
    ({"teams": [{"team": "data", "info": "pagerduty"}]}, "llmobs:alerts.receivers.teams[0].team: unknown team 'data'"),
    ({"non_paging": "sms"}, "llmobs:alerts.receivers.non_paging"),
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
                                                               "teams": [{"team": "security", "info": "email"}],
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


# -- teams per alert family, paging environments, SLO inhibition ----------------------------------

TEAM_RECEIVERS = {"kind": "none", "critical": "pagerduty", "warning": "slack", "info": "none", "email": EMAIL,
                  "teams": [{"team": "finance", "critical": "email", "warning": "email"},
                            {"team": "ml-quality", "warning": "email"},
                            {"team": "security", "warning": "pagerduty"}]}
# One alert of each family, with the labels its rule gives it (team and severity) and the place it
# came from; where it must land, written out by hand.
PROD = {"deployment_environment_name": "production", "service_name": "support-bot"}
FAMILY_ROUTES = [
    ({"alertname": "LlmProviderErrorRateHigh", "severity": "critical", "team": "llm-platform", **PROD}, "pagerduty"),
    ({"alertname": "LlmLatencyP95High", "severity": "warning", "team": "llm-platform", **PROD}, "slack"),
    ({"alertname": "LlmBackendDown", "severity": "critical", "team": "llm-platform", "job": "loki"}, "pagerduty"),
    ({"alertname": "LlmSpendOverDailyBudget", "severity": "warning", "team": "finance"}, "email"),
    ({"alertname": "LlmUnpricedModelCalls", "severity": "info", "team": "finance"}, "null"),
    ({"alertname": "LlmEvalScoreLow", "severity": "warning", "team": "ml-quality"}, "email"),
    ({"alertname": "LlmDeniedToolCallsHigh", "severity": "warning", "team": "security"}, "pagerduty"),
    ({"alertname": "LlmDebugStoreAccessOutsideAllowlist", "severity": "warning", "team": "security", "user": "mallory"},
     "pagerduty"),
    # Environments that do not page: the non-paging receiver (default none), whatever the team.
    ({"alertname": "LlmProviderErrorRateHigh", "severity": "critical", "team": "llm-platform",
      "deployment_environment_name": "staging", "service_name": "support-bot"}, "null"),
    ({"alertname": "LlmAvailabilityBudgetBurn", "severity": "critical", "team": "llm-platform",
      "deployment_environment_name": "development", "service_name": "loadgen"}, "null"),
    # The agent, quality, safety and cost alerts keep where the traffic ran too (issue 29, 2): staging's
    # loop, score drop or spend spike reaches nobody's pager, production's reaches its team.
    ({"alertname": "LlmAgentLoopRunaway", "severity": "warning", "team": "llm-platform", "gen_ai_agent_name": "ops-agent",
      "deployment_environment_name": "staging", "service_name": "support-bot"}, "null"),
    ({"alertname": "LlmEvalScoreLow", "severity": "warning", "team": "ml-quality",
      "gen_ai_evaluation_name": "faithfulness", "deployment_environment_name": "staging",
      "service_name": "support-bot"}, "null"),
    ({"alertname": "LlmEvalScoreLow", "severity": "warning", "team": "ml-quality",
      "gen_ai_evaluation_name": "faithfulness", **PROD}, "email"),
    ({"alertname": "LlmDeniedToolCallsHigh", "severity": "warning", "team": "security",
      "gen_ai_tool_name": "delete_account", "deployment_environment_name": "staging",
      "service_name": "support-bot"}, "null"),
    ({"alertname": "LlmSpendSpike", "severity": "warning", "team": "finance",
      "deployment_environment_name": "staging", "service_name": "support-bot"}, "null"),
    ({"alertname": "LlmTenantCostSpike", "severity": "warning", "team": "finance", "llmobs_tenant_bounded": "acme",
      **PROD}, "email"),
    # Safety, feedback, retrieval, unpriced and no-traffic alerts too: staging's reaches no pager.
    ({"alertname": "LlmSafetyBlocksHigh", "severity": "warning", "team": "security",
      "deployment_environment_name": "staging", "service_name": "support-bot"}, "null"),
    ({"alertname": "LlmSafetyBlocksHigh", "severity": "warning", "team": "security", **PROD}, "pagerduty"),
    ({"alertname": "LlmThumbsDownHigh", "severity": "warning", "team": "ml-quality",
      "deployment_environment_name": "staging", "service_name": "support-bot"}, "null"),
    ({"alertname": "LlmEmptyRetrievals", "severity": "warning", "team": "ml-quality",
      "deployment_environment_name": "development", "service_name": "support-bot"}, "null"),
    ({"alertname": "LlmEmptyRetrievals", "severity": "warning", "team": "ml-quality", **PROD}, "email"),
    ({"alertname": "LlmNoTraffic", "severity": "warning", "team": "llm-platform",
      "deployment_environment_name": "development", "service_name": "support-bot"}, "null"),
    ({"alertname": "LlmNoTraffic", "severity": "warning", "team": "llm-platform", **PROD}, "slack"),
]
# The team each family's alerts carry by default, written out: platform/on-call, finance/cost,
# ML quality, security/safety.
FAMILY_TEAM = {"LlmProviderErrorRateHigh": "llm-platform", "LlmAvailabilityBudgetBurn": "llm-platform",
               "LlmBackendDown": "llm-platform", "LlmSpendSpike": "finance", "LlmTenantCostSpike": "finance",
               "LlmEvalScoreLow": "ml-quality", "LlmThumbsDownHigh": "ml-quality", "LlmContextRecallLow": "ml-quality",
               "LlmSafetyBlocksHigh": "security", "LlmDeniedToolCallsHigh": "security", "LlmRedactionSpike": "security",
               "LlmDebugStoreAccessOutsideAllowlist": "security"}


def test_each_family_has_its_owning_team():
    by_name = {a.name: a for a in alerts.all_alerts(SETTINGS)}
    for name, team in FAMILY_TEAM.items():
        assert by_name[name].labels()["team"] == team, name
    from alerts import families
    assert set(families.FAMILY) == set(by_name), "every alert, and only alerts, has a family"


def test_teams_are_overridable_in_settings():
    settings = validate({"target": "docker", "alerts": {"teams": {"finance": "fin-ops", "security": "secops"}}})
    labels = {a.name: a.labels()["team"] for a in alerts.all_alerts(settings)}
    assert labels["LlmSpendSpike"] == "fin-ops" and labels["LlmSafetyBlocksHigh"] == "secops"
    assert labels["LlmProviderErrorRateHigh"] == "llm-platform"


def test_amtool_routes_each_family_by_team_and_severity(tmp_path):
    config = _config(tmp_path, TEAM_RECEIVERS)
    for labels, expected in FAMILY_ROUTES:
        assert _route(config, labels) == expected, labels


def test_amtool_routes_every_real_alert_to_its_teams_receiver(tmp_path):
    """Every alert with the labels its rule gives it (in production) reaches its team's receiver."""
    config = _config(tmp_path, TEAM_RECEIVERS)
    want = {("llm-platform", "critical"): "pagerduty", ("llm-platform", "warning"): "slack",
            ("llm-platform", "info"): "null", ("finance", "critical"): "email", ("finance", "warning"): "email",
            ("finance", "info"): "null", ("ml-quality", "warning"): "email", ("security", "warning"): "pagerduty"}
    for alert in alerts.all_alerts(SETTINGS):
        labels = {"alertname": alert.name, **alert.labels(), **PROD}
        assert _route(config, labels) == want[labels["team"], labels["severity"]], alert.name


# Alerts on application traffic keep the environment and the service (safety blocks and checks, feedback,
# retrievals and unpriced calls carry the environment too, issue 29 item 2; LlmNoTraffic judges each
# environment on its own); the redaction canary reads the gateway's own counter, which knows the service
# only. Written out, not derived.
KEEP_ENVIRONMENT = {"LlmAgentLoopRunaway", "LlmDeniedToolCallsHigh", "LlmEvalScoreLow", "LlmEvalScoreLowForPromptVersion",
                    "LlmEvalScoreLowForModel", "LlmContextRecallLow", "LlmSpendSpike", "LlmTenantCostSpike",
                    "LlmThumbsDownHigh", "LlmSafetyBlocksHigh", "LlmSafetyChecksSilent", "LlmEmptyRetrievals",
                    "LlmUnpricedModelCalls", "LlmNoTraffic"}
KEEP_SERVICE = {"LlmRedactionSpike"}


def test_agent_quality_safety_and_cost_alerts_keep_where_the_traffic_ran():
    """Every firing example of these alerts carries the environment and service (or the service), so the
    routing above sees them; and the by clauses of their expressions keep them."""
    by_name = {a.name: a for a in alerts.all_alerts(SETTINGS)}
    for name in KEEP_ENVIRONMENT | KEEP_SERVICE:
        alert = by_name[name]
        for ex in (e for e in alert.examples if e.fires):
            assert "service_name" in ex.labels, (name, ex.note)
            assert ("deployment_environment_name" in ex.labels) == (name in KEEP_ENVIRONMENT), (name, ex.note)
        groupings = re.findall(r"\b(?:by|on) \(([^)]*)\)", alert.expr)
        assert groupings or name == "LlmRedactionSpike", name   # the canary reads a per-service recording rule
        for grouping in groupings:
            assert "service_name" in grouping, (name, grouping)
            assert ("deployment_environment_name" in grouping) == (name in KEEP_ENVIRONMENT), (name, grouping)


def test_paging_environments_setting(tmp_path):
    settings = validate({"target": "docker", "alerts": {"paging_environments": ["production", "staging"],
                                                          "receivers": {"kind": "pagerduty", "non_paging": "email",
                                                                        "email": EMAIL}}})
    path = _write(tmp_path, settings)
    page = {"alertname": "LlmProviderErrorRateHigh", "severity": "critical", "team": "llm-platform",
            "service_name": "support-bot"}
    assert _route(path, {**page, "deployment_environment_name": "staging"}) == "pagerduty"
    assert _route(path, {**page, "deployment_environment_name": "production"}) == "pagerduty"
    assert _route(path, {**page, "deployment_environment_name": "development"}) == "email"
    assert _route(path, {**page, "deployment_environment_name": "staging-eu"}) == "email"   # whole value only
    assert _route(path, page) == "pagerduty"   # no environment label (e.g. the pipeline's alerts): pages


@pytest.mark.parametrize("alerts_, message", [
    ({"paging_environments": ["prod"]}, "llmobs:alerts.paging_environments[0]: 'prod' is not kept by labels.environment"),
    ({"paging_environments": []}, "llmobs:alerts.paging_environments"),
    ({"teams": {"ops": "x"}}, "llmobs:alerts.teams.ops: unknown key"),
    ({"teams": {"finance": "Finance Team"}}, "llmobs:alerts.teams.finance"),
    ({"volume_floors": {"calls": 0}}, "llmobs:alerts.volume_floors.calls: 0 is less than the minimum of 1"),
    ({"volume_floors": {"requests": 2.5}}, "llmobs:alerts.volume_floors.requests"),
])
def test_bad_alert_settings_name_the_key(alerts_, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        validate({"target": "docker", "alerts": alerts_})


def test_slo_page_inhibits_its_ticket_on_the_real_alertmanager(am):
    """One alert name per SLO, told apart by severity: the critical burn suppresses the warning burn of
    the same environment and service, and both are read back from the real Alertmanager's API."""
    where = {"deployment_environment_name": "production", "service_name": "support-bot", "team": "llm-platform"}
    other = {**where, "service_name": "batch"}
    _post(am, {"alertname": "LlmAvailabilityBudgetBurn", "severity": "critical", **where},
          {"alertname": "LlmAvailabilityBudgetBurn", "severity": "warning", **where},
          {"alertname": "LlmAvailabilityBudgetBurn", "severity": "warning", **other})
    assert _eventually(lambda: _inhibited(am, "LlmAvailabilityBudgetBurn", severity="warning",
                                          service_name="support-bot") is True)
    assert _inhibited(am, "LlmAvailabilityBudgetBurn", severity="critical", service_name="support-bot") is False
    assert _inhibited(am, "LlmAvailabilityBudgetBurn", severity="warning", service_name="batch") is False
    states = {(a["labels"]["severity"], a["labels"]["service_name"]): a["status"]["state"]
              for a in json.loads(urllib.request.urlopen(f"{am}/alerts", timeout=5).read())
              if a["labels"]["alertname"] == "LlmAvailabilityBudgetBurn"}
    assert states == {("critical", "support-bot"): "active", ("warning", "support-bot"): "suppressed",
                      ("warning", "batch"): "active"}


# -- notification templates, rendered by the real amtool --------------------------------------------

FIRING_ALERT = {
    "status": "firing",
    "labels": {"alertname": "LlmProviderErrorRateHigh", "severity": "critical", "team": "llm-platform",
               "deployment_environment_name": "production", "gen_ai_request_model": "gpt-4o"},
    "annotations": {"summary": "An LLM provider is failing a large share of calls.",
                    "description": "openai gpt-4o in production (support-bot): 10% of calls failed over 5m.",
                    "runbook_url": "http://127.0.0.1:3000/d/llm-runbooks?viewPanel=7",
                    "dashboard_url": "http://127.0.0.1:3000/d/llm-overview?viewPanel=9&var-environment=production"},
    "startsAt": "2026-12-07T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "1"}
DATA = {"receiver": "pagerduty", "status": "firing", "alerts": [FIRING_ALERT],
        "groupLabels": {"alertname": "LlmProviderErrorRateHigh"}, "commonLabels": FIRING_ALERT["labels"],
        "commonAnnotations": FIRING_ALERT["annotations"], "externalURL": "http://127.0.0.1:9093"}
# What every notification must say, written out.
MUST_SAY = ("An LLM provider is failing a large share of calls.",
            "openai gpt-4o in production (support-bot): 10% of calls failed over 5m.",
            "Runbook: http://127.0.0.1:3000/d/llm-runbooks?viewPanel=7",
            "Dashboard: http://127.0.0.1:3000/d/llm-overview?viewPanel=9&var-environment=production",
            "Labels: alertname=LlmProviderErrorRateHigh deployment_environment_name=production "
            "gen_ai_request_model=gpt-4o severity=critical team=llm-platform")


def _render(tmp_path: Path, text: str) -> str:
    _write(tmp_path, SETTINGS)
    (tmp_path / "data.json").write_text(json.dumps(DATA))
    out = subprocess.run([amtool(), "template", "render", f"--template.glob={tmp_path / 'llmobs.tmpl'}",
                          f"--template.text={text}", f"--template.data={tmp_path / 'data.json'}"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_amtool_renders_the_title(tmp_path):
    assert _render(tmp_path, '{{ template "llmobs.title" . }}').strip() == \
        "[FIRING:1] LlmProviderErrorRateHigh critical in production for llm-platform"


def test_amtool_renders_the_body_with_summary_description_links_and_labels(tmp_path):
    body = _render(tmp_path, '{{ template "llmobs.text" . }}')
    assert body.startswith("Firing:\n")
    for line in MUST_SAY:
        assert line in body, (line, body)


@pytest.mark.parametrize("kind, fields", [
    ("slack", ("title", "title_link", "text")),
    ("pagerduty", ("description", "details", "links")),
    ("email", ("headers", "html", "text")),
])
def test_every_receiver_uses_the_templates(kind, fields, tmp_path):
    """Each receiver's fields as configured, rendered by amtool: the body carries everything MUST_SAY."""
    settings = validate({"target": "docker", "alerts": {"receivers": {"kind": kind, "email": EMAIL}}})
    doc = yaml.safe_load(alertmanager.render(settings)["alertmanager/alertmanager.yml"])
    config = next(r for r in doc["receivers"] if r["name"] == kind)[f"{kind}_configs"][0]
    def leaves(value) -> list[str]:   # every template string of a field (details, links and headers nest)
        if isinstance(value, str):
            return [value]
        items = value.values() if isinstance(value, dict) else value
        return [leaf for item in items for leaf in leaves(item)]
    rendered = {f: "\n".join(_render(tmp_path, leaf) for leaf in leaves(config[f])) for f in fields}
    body = rendered.get("text") or rendered["details"]
    for line in MUST_SAY:
        assert line in body.replace("\\n", "\n"), (kind, line)
    title = rendered.get("title") or rendered.get("description") or rendered["headers"]
    assert "[FIRING:1] LlmProviderErrorRateHigh critical in production" in title
    if kind == "pagerduty":
        assert "http://127.0.0.1:3000/d/llm-runbooks?viewPanel=7" in rendered["links"]
    if kind == "slack":
        assert rendered["title_link"].strip() == FIRING_ALERT["annotations"]["dashboard_url"]
