"""What the real Alertmanager delivers, read at the receivers: the generated config (routes,
group_by, inhibit rules) with each receiver's transport swapped for a webhook to a sink on
127.0.0.1 at /<receiver name>, and its waits shortened to a second; nothing else changed. Alerts
are posted, deliveries read; a sentinel posted after them, to every receiver, is awaited before
asserting that an inhibited alert was never delivered. Where each alert must land is written by
hand here."""
from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from backends import alertmanager
from collector_harness import free_port
from settings import validate

ROOT = Path(__file__).resolve().parent.parent
EMAIL = {"to": "oncall@example.invalid", "from_address": "alerts@example.invalid", "smarthost": "smtp.example.invalid:587"}
RECEIVERS = {"kind": "none", "critical": "pagerduty", "warning": "slack", "info": "none", "email": EMAIL,
             "teams": [{"team": "finance", "critical": "email", "warning": "email"},
                       {"team": "security", "warning": "pagerduty"}]}
SETTINGS = validate({"target": "docker", "alerts": {"receivers": RECEIVERS}})
RECEIVER_NAMES = ("pagerduty", "slack", "email", "null")

PROD = {"deployment_environment_name": "production", "service_name": "support-bot", "team": "llm-platform"}
OPENAI = {**PROD, "gen_ai_provider_name": "openai", "gen_ai_request_model": "gpt-4o"}
ANTHROPIC = {**PROD, "gen_ai_provider_name": "anthropic", "gen_ai_request_model": "claude-sonnet-4"}


class Sink:
    """A webhook receiver: every notification, by path (the receiver's name)."""

    def __init__(self):
        self.received: list[tuple[str, dict]] = []
        lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    sink.received.append((self.path.strip("/"), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def notifications(self, receiver: str | None = None) -> list[dict]:
        return [b for r, b in list(self.received) if receiver in (None, r)]

    def alerts(self, receiver: str | None) -> list[dict]:
        return [a for n in self.notifications(receiver) for a in n["alerts"]]

    def __repr__(self) -> str:
        return "\n".join(f"{r}: {_names(n['alerts'])}" for r, n in list(self.received))


def _config(sink_url: str) -> dict:
    doc = yaml.safe_load(alertmanager.render(SETTINGS)["alertmanager/alertmanager.yml"])
    assert {r["name"] for r in doc["receivers"]} == set(RECEIVER_NAMES)
    doc["receivers"] = [{"name": r["name"], "webhook_configs": [{"url": f"{sink_url}/{r['name']}", "send_resolved": False}]}
                        for r in doc["receivers"]]
    doc.pop("templates", None)

    def fast(route: dict) -> None:
        for key in ("group_wait", "group_interval"):
            if key in route:
                route[key] = "1s"
        for child in route.get("routes", []):
            fast(child)
    fast(doc["route"])
    doc["route"]["group_wait"] = doc["route"]["group_interval"] = "1s"
    return doc


@pytest.fixture(scope="module")
def am(tmp_path_factory):
    sink = Sink()
    d = tmp_path_factory.mktemp("am-delivery")
    (d / "alertmanager.yml").write_text(yaml.safe_dump(_config(sink.url)))
    port = free_port()
    proc = subprocess.Popen([str(ROOT / ".bin/alertmanager"), f"--config.file={d / 'alertmanager.yml'}",
                             f"--storage.path={d / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
                             "--cluster.listen-address="], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v2"
    if not _until(lambda: _get(f"{base}/status") is not None, 30):
        proc.kill()
        pytest.fail("alertmanager did not start")
    yield base, sink
    proc.terminate()
    proc.wait(timeout=10)
    sink.server.shutdown()


def _get(url: str):
    try:
        return json.loads(urllib.request.urlopen(url, timeout=2).read())
    except OSError:
        return None


def _post(base: str, *labelsets: dict) -> None:
    now = datetime.now(timezone.utc)
    body = [{"labels": labels, "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}
            for labels in labelsets]
    req = urllib.request.Request(f"{base}/alerts", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5)


def _until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _names(alerts: list[dict]) -> list[tuple]:
    return sorted((a["labels"]["alertname"], a["labels"].get("severity"), a["labels"].get("gen_ai_provider_name", ""),
                   a["labels"].get("gen_ai_request_model", ""), a["labels"].get("instance", "")) for a in alerts)


# Causes first (an inhibitor must be active when its targets' group flushes), then the rest.
CAUSES = [
    {"alertname": "LlmProviderErrorRateHigh", "severity": "critical", **OPENAI},
]
SYMPTOMS = [
    # Inhibited: the critical twin of the same alert, environment, service, provider and model is firing.
    {"alertname": "LlmProviderErrorRateHigh", "severity": "warning", **OPENAI},
    # Inhibited: the failing provider explains its latency and time-to-first-token.
    {"alertname": "LlmLatencyP95High", "severity": "warning", **OPENAI},
    {"alertname": "LlmTimeToFirstTokenSlow", "severity": "warning", **OPENAI},
    # Not inhibited: another provider.
    {"alertname": "LlmLatencyP95High", "severity": "warning", **ANTHROPIC},
    # Not inhibited: the warning twin of another model.
    {"alertname": "LlmProviderErrorRateHigh", "severity": "warning", **OPENAI, "gen_ai_request_model": "gpt-4o-mini"},
    # Grouping: two instances of one alert about the same thing share a notification; another
    # model is another group.
    {"alertname": "LlmRetryRateHigh", "severity": "warning", **ANTHROPIC, "instance": "a"},
    {"alertname": "LlmRetryRateHigh", "severity": "warning", **ANTHROPIC, "instance": "b"},
    {"alertname": "LlmRetryRateHigh", "severity": "warning", **ANTHROPIC, "gen_ai_request_model": "claude-haiku-4"},
    # Routing by team, severity and environment.
    {"alertname": "LlmSpendOverDailyBudget", "severity": "warning", "team": "finance"},
    {"alertname": "LlmDeniedToolCallsHigh", "severity": "warning", "team": "security"},
    {"alertname": "LlmUnpricedModelCalls", "severity": "info", "team": "finance"},
    {"alertname": "LlmProviderErrorRateHigh", "severity": "critical", "team": "llm-platform",
     "deployment_environment_name": "staging", "service_name": "support-bot", "gen_ai_provider_name": "openai"},
]
# Where each lands, by hand: (receiver, alertname, severity, provider, model, instance).
EXPECTED = {
    "pagerduty": [("LlmProviderErrorRateHigh", "critical", "openai", "gpt-4o", ""),
                  ("LlmDeniedToolCallsHigh", "warning", "", "", "")],
    "slack": [("LlmLatencyP95High", "warning", "anthropic", "claude-sonnet-4", ""),
              ("LlmProviderErrorRateHigh", "warning", "openai", "gpt-4o-mini", ""),
              ("LlmRetryRateHigh", "warning", "anthropic", "claude-haiku-4", ""),
              ("LlmRetryRateHigh", "warning", "anthropic", "claude-sonnet-4", "a"),
              ("LlmRetryRateHigh", "warning", "anthropic", "claude-sonnet-4", "b")],
    "email": [("LlmSpendOverDailyBudget", "warning", "", "", "")],
    "null": [("LlmProviderErrorRateHigh", "critical", "openai", "", ""),
             ("LlmUnpricedModelCalls", "info", "", "", "")],
}
# One per receiver, each its own alert name (a critical Sentinel would silence a warning one).
SENTINELS = [{"alertname": "SentinelPagerduty", "severity": "critical", **PROD},
             {"alertname": "SentinelSlack", "severity": "warning", **PROD},
             {"alertname": "SentinelEmail", "severity": "warning", "team": "finance"},
             {"alertname": "SentinelNull", "severity": "info", **PROD}]


@pytest.fixture(scope="module")
def delivered(am):
    base, sink = am
    _post(base, *CAUSES)
    assert _until(lambda: any(a["status"]["state"] == "active" for a in _get(f"{base}/alerts") or []), 10)
    _post(base, *SYMPTOMS)
    want = sum(len(v) for v in EXPECTED.values())
    assert _until(lambda: sum(len(sink.alerts(r)) for r in RECEIVER_NAMES) >= want, 30), sink
    _post(base, *SENTINELS)
    assert _until(lambda: all(any(a["labels"]["alertname"].startswith("Sentinel") for a in sink.alerts(r))
                              for r in RECEIVER_NAMES), 30), sink
    return base, sink


def test_each_alert_reaches_its_receiver_and_no_other(delivered):
    _, sink = delivered
    got = {r: [n for n in _names(sink.alerts(r)) if not n[0].startswith("Sentinel")] for r in RECEIVER_NAMES}
    assert got == {r: sorted(v) for r, v in EXPECTED.items()}


def test_inhibited_alerts_are_never_delivered_and_shown_suppressed(delivered):
    base, sink = delivered
    states = {(a["labels"]["alertname"], a["labels"]["severity"], a["labels"].get("gen_ai_provider_name"),
               a["labels"].get("gen_ai_request_model")): a["status"]["state"] for a in _get(f"{base}/alerts")}
    for name, severity in (("LlmProviderErrorRateHigh", "warning"), ("LlmLatencyP95High", "warning"),
                           ("LlmTimeToFirstTokenSlow", "warning")):
        assert states[name, severity, "openai", "gpt-4o"] == "suppressed", name
        assert all(not (a["labels"]["alertname"] == name and a["labels"]["severity"] == severity
                        and a["labels"].get("gen_ai_request_model") == "gpt-4o") for a in sink.alerts(None)), name
    assert states["LlmLatencyP95High", "warning", "anthropic", "claude-sonnet-4"] == "active"


def test_alerts_about_the_same_thing_share_one_notification(delivered):
    _, sink = delivered
    retry = [n for n in sink.notifications("slack") if n["commonLabels"].get("alertname") == "LlmRetryRateHigh"]
    by_model = {n["groupLabels"]["gen_ai_request_model"]: sorted(a["labels"].get("instance", "") for a in n["alerts"])
                for n in retry}
    assert by_model == {"claude-sonnet-4": ["a", "b"], "claude-haiku-4": [""]}
    assert len(retry) == 2
    assert all(set(n["groupLabels"]) <= set(alertmanager.GROUP_BY) for n in sink.notifications(None))
