"""End to end on up-local: each loadgen failure scenario makes its alerts (alerts/scenarios.py)
fire in the real Alertmanager, read from its API (/api/v2/alerts), within BOUND_S seconds;
`baseline` fires none in the same time. One stack of its own, with the test profile
settings/profiles/alerts-e2e.yaml (short windows, `for` and evaluation intervals; never the
defaults).

Traffic is continuous, as an application's is: loadgen runs `baseline` at RATE requests per
second, switches to one scenario until its alerts are in Alertmanager, then back. Scenarios run
one after another in ORDER; before each, baseline traffic runs until none of its alerts is still
active from an earlier scenario (bounded), so an alert is only counted when this scenario raised it.
The seconds from the switch to each alert's arrival in Alertmanager are printed (`pytest -s`) and
written to <tmp>/alerts-e2e-report.json. Wall time: 5m43s measured on 2 shared cores
(15 scenarios, 11-35s each, after a 45s baseline watch and an 18s stack start).
"""
from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest
import yaml

import alerts
import backends.rules
from alerts.scenarios import FIRES
from alerts.selfmon import WATCHDOG
from backends import timing
from binaries import promtool
from conftest import ROOT
from loadgen import run, scenarios, world
from settings import validate
from up_local_run import UpLocal, get_json, install_binaries, stack_file_for_tests

PROFILE = ROOT / "settings/profiles/alerts-e2e.yaml"
RATE = 40.0          # requests per second, all the time
BOUND_S = 45.0       # a scenario's alerts reach Alertmanager within this; baseline is watched as long
CLEAR_S = 90.0       # longest wait for an earlier scenario's alerts to resolve
SERVICE = "llm-app-alerts"
# Run order: a scenario's alerts should not be left active by the one before (e.g. rate limits
# raise the error ratio, so provider_errors goes first and rate_limited waits for it to clear).
ORDER = ("secret_leak_attempts", "latency_regression", "provider_errors", "ttft_regression", "safety_block_spike",
         "dangerous_tool_denied_spike", "tool_loop_runaway", "rate_limited", "quality_drop", "context_recall_drop",
         "retrieval_empty", "fallback_storm", "tenant_cost_spike", "prompt_bloat", "context_saturation")
REPORT: dict = {}
# What loadgen's world has on purpose, declared as an operator would, so that `baseline` has no
# reason to alert: its long-tail tenants (else LlmLabelOverflow: folded into `other`) and its
# self-hosted model, priced at zero (else LlmUnpricedModelCalls).
_DEV = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
DECLARED = {
    "labels": {**_DEV["llmobs:labels"], "tenant": {"allowed": [*world.TENANT_WEIGHTS, *world.LONG_TAIL]}},
    "pricing": {"models": [{"model": m.name, "input": 0, "output": 0} for m in world.MODELS.values()
                           if m.provider == "vllm"]},
}


def profile() -> dict:
    return yaml.safe_load(PROFILE.read_text())


class Traffic:
    """loadgen in a thread, at RATE, switching scenarios without a gap."""

    def __init__(self, endpoint: str, token: str | None):
        self.endpoint, self.token = endpoint, token
        self.scenario, self.closed, self.runs = "baseline", False, []
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        seed = 0
        while not self.closed:
            name, seed = self.scenario, seed + 1
            summary = run(self.endpoint, scenario=name, rate=RATE, duration=3600, seed=seed, token=self.token,
                          service=SERVICE, stop=lambda: self.closed or self.scenario != name)
            self.runs.append((name, summary.tally.requests, summary.spans_failed))

    def switch(self, scenario: str) -> None:
        self.scenario = scenario

    def close(self) -> None:
        self.closed = True
        self.thread.join(timeout=60)


def in_alertmanager(base: str) -> dict[str, str]:
    """alertname -> state (active, or suppressed by an inhibition) of the alerts Alertmanager holds."""
    return {a["labels"]["alertname"]: a["status"]["state"] for a in get_json(f"{base}/api/v2/alerts")}


def active_in_prometheus(base: str) -> set[str]:
    return {a["labels"]["alertname"] for a in get_json(f"{base}/api/v1/alerts")["data"]["alerts"]}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    install_binaries()
    tmp = tmp_path_factory.mktemp("alerts-e2e")
    up = UpLocal(stack_file_for_tests(tmp, alerts=profile()["alerts"], **DECLARED), tmp / "work")
    up.tmp = tmp
    yield up
    up.stop()


@pytest.fixture(scope="module")
def fired(stack):
    """Baseline, then every scenario in ORDER; what reached Alertmanager, and when."""
    ep = stack.endpoints
    am, prom = ep["alertmanager"].rstrip("/"), ep["prometheus"].rstrip("/")
    t_start = time.monotonic()
    traffic = Traffic(f"http://{ep['otlp_grpc']}", ep.get("ingest_token"))
    try:
        seen: set[str] = set()
        deadline = time.monotonic() + BOUND_S
        while time.monotonic() < deadline:
            seen |= set(in_alertmanager(am)) | active_in_prometheus(prom)
            time.sleep(0.5)
        REPORT["baseline"] = {"watched_s": BOUND_S, "alerts": sorted(seen)}
        for name in ORDER:
            want = FIRES[name]
            t_clear = time.monotonic()
            while (set(want) & (set(in_alertmanager(am)) | active_in_prometheus(prom))
                   and time.monotonic() - t_clear < CLEAR_S):
                time.sleep(0.5)
            waited = time.monotonic() - t_clear
            leftover = sorted(set(want) & (set(in_alertmanager(am)) | active_in_prometheus(prom)))
            t0 = time.monotonic()
            traffic.switch(name)
            at: dict[str, float] = {}
            while len(at) < len(want) and time.monotonic() - t0 < BOUND_S:
                now = in_alertmanager(am)
                for alert in want:
                    if alert in now and alert not in at:
                        at[alert] = round(time.monotonic() - t0, 1)
                time.sleep(0.5)
            traffic.switch("baseline")
            REPORT[name] = {"seconds_to_fire": at, "missing": [a for a in want if a not in at],
                            "cleared_after_s": round(waited, 1), "left_over": leftover,
                            "also_in_alertmanager": sorted(set(in_alertmanager(am)) - set(want))}
    finally:
        traffic.close()
        REPORT["wall_s"] = round(time.monotonic() - t_start, 1)
        REPORT["ready_s"] = stack.endpoints.get("ready_s")
        REPORT["runs"] = traffic.runs
        (stack.tmp / "alerts-e2e-report.json").write_text(json.dumps(REPORT, indent=2))
        print("\nalerts e2e:", json.dumps({k: v for k, v in REPORT.items() if k != "runs"}, indent=1))
    assert all(failed == 0 for _, _, failed in traffic.runs), traffic.runs
    return REPORT


# -- without a stack ------------------------------------------------------------------------

def test_every_failure_scenario_has_alerts():
    names = {a.name for a in alerts.all_alerts(validate({"target": "docker"}))}
    assert set(FIRES) == set(scenarios.SCENARIOS) - {"baseline"}
    assert set(ORDER) == set(FIRES) and len(ORDER) == len(FIRES)
    for scenario, fired_alerts in FIRES.items():
        assert fired_alerts and set(fired_alerts) <= names, scenario


def test_the_profile_shortens_timing_and_the_defaults_do_not():
    default = validate({"target": "docker"})
    tested = validate({"target": "docker", **profile()})
    assert default.alerts.timing.windows == () and default.alerts.timing.max_for == ""
    assert alerts.render(default) == alerts.render(validate({"target": "docker", "alerts": {"timing": {}}}))
    short = {a.name: a for a in alerts.all_alerts(tested)}
    for a in alerts.all_alerts(default):
        assert short[a.name].for_ in ("10s", "5s") or a.for_ == short[a.name].for_, a.name
        assert "[7d]" not in short[a.name].expr and "[1h]" not in short[a.name].expr, a.name
    for stack_file in ("Pulumi.dev.yaml", "Pulumi.prod.yaml"):
        assert "timing" not in (ROOT / stack_file).read_text(), f"{stack_file}: the test profile is not for stacks"


def test_timing_rewrites_ranges_steps_and_offsets():
    t = validate({"target": "docker", "alerts": {"timing": {"windows": {"5m": "20s", "7d": "5m", "1h": "30s"},
                                                             "max_for": "5s"}}}).alerts.timing
    expr = "rate(x[5m]) > 3 * avg_over_time((sum(rate(x[5m])))[7d:1h] offset 1h) unless y[10m]"
    assert timing.expr(expr, t) == "rate(x[20s]) > 3 * avg_over_time((sum(rate(x[20s])))[5m:30s] offset 30s) unless y[10m]"
    assert timing.pending("10m", t) == "5s" and timing.pending("3s", t) == "3s" and timing.pending("", t) == ""
    assert timing.expr(expr, validate({"target": "docker"}).alerts.timing) == expr


def test_profile_rules_pass_promtool(tmp_path):
    tested = validate({"target": "docker", **profile()})
    (tmp_path / "a.yml").write_text(alerts.render(tested)[alerts.RULES_FILE])
    (tmp_path / "r.yml").write_text(backends.rules.render(tested)["prometheus/rules/llm.rules.yml"])
    out = subprocess.run([promtool(), "check", "rules", str(tmp_path / "a.yml"), str(tmp_path / "r.yml")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert all(g["interval"] == "2s" for f in ("a.yml", "r.yml")
               for g in yaml.safe_load((tmp_path / f).read_text())["groups"])


# -- on up-local -----------------------------------------------------------------------------

def test_baseline_fires_none(fired):
    """Nothing but the Watchdog, which always fires: its heartbeat reaches the real Alertmanager."""
    assert fired["baseline"]["alerts"] == [WATCHDOG], fired["baseline"]


@pytest.mark.parametrize("scenario", ORDER)
def test_scenario_fires_its_alerts_in_alertmanager(fired, scenario):
    got = fired[scenario]
    assert got["left_over"] == [], f"still active from an earlier scenario: {got}"
    assert got["missing"] == [], f"not in Alertmanager within {BOUND_S}s: {got}"
    assert all(0 < s <= BOUND_S for s in got["seconds_to_fire"].values()), got
