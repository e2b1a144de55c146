"""Alertmanager routing and inhibition, on the real Alertmanager (127.0.0.1, free port)."""
from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import alerts
from backends import alertmanager
from collector_harness import free_port
from settings import validate

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
    routed = {m.split('"')[1] for r in alertmanager.routes() for m in r["matchers"]}
    assert severities <= routed
