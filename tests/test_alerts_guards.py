"""Volume guards and where a call ran (issue 29, items 1 and 2), on the real promtool.

Every ratio alert fires only when its denominator counted `alerts.volume_floors.<family>` events
in its window: each has a promtool example of one bad event out of one that does not fire (in
test_alerts.py, with all the others), and here the floor is shown to come from settings. Every
LLM-call alert keeps `deployment_environment_name` and `service_name` in its labels."""
from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest
import yaml

import alerts
import backends.rules
from binaries import promtool
from settings import validate
from stacks import KUBE

# Ratio alerts and the floor family each reads, written out by hand.
FLOORS = {"LlmProviderErrorRateHigh": "calls", "LlmRateLimitedOrTimingOut": "calls", "LlmRetryRateHigh": "calls",
          "LlmPromptBloat": "calls", "LlmPromptShrink": "calls", "LlmFallbackStorm": "fallbacks",
          "LlmSafetyBlocksHigh": "safety", "LlmThumbsDownHigh": "feedback", "LlmEvalScoreLow": "evaluations",
          "LlmEvalScoreLowForPromptVersion": "evaluations", "LlmEvalScoreLowForModel": "evaluations",
          "LlmContextRecallLow": "evaluations", "LlmEmptyRetrievals": "retrievals",
          "LlmAvailabilityBudgetBurn": "requests", "LlmLatencyBudgetBurn": "requests"}
DEFAULT_FLOORS = {"calls": 20, "fallbacks": 50, "safety": 50, "feedback": 20, "evaluations": 10, "retrievals": 20,
                  "requests": 20, "traffic": 20}
# Alerts about LLM calls or user requests: they keep where the calls ran.
LLM_CALL_ALERTS = ("LlmProviderErrorRateHigh", "LlmRateLimitedOrTimingOut", "LlmTimeToFirstTokenSlow",
                   "LlmLatencyP95High", "LlmRetryRateHigh", "LlmFallbackStorm", "LlmContextWindowSaturated",
                   "LlmPromptBloat", "LlmPromptShrink", "LlmAvailabilityBudgetBurn", "LlmLatencyBudgetBurn")
DEFAULTS = validate({**KUBE})


def _by_name(settings) -> dict[str, list]:
    out: dict[str, list] = {}
    for a in alerts.all_alerts(settings):
        out.setdefault(a.name, []).append(a)
    return out


def test_default_floors():
    assert dataclasses.asdict(DEFAULTS.alerts.volume_floors) == DEFAULT_FLOORS


@pytest.mark.parametrize("name", FLOORS)
def test_every_ratio_alert_is_guarded_by_its_familys_floor(name):
    family = FLOORS[name]
    custom = validate({**KUBE, "alerts": {"volume_floors": {family: 4321}}})
    for alert in _by_name(custom)[name]:
        assert ">= 4321" in alert.expr, alert.expr
    for alert in _by_name(DEFAULTS)[name]:
        assert f">= {DEFAULT_FLOORS[family]}" in alert.expr and "4321" not in alert.expr
        under = [e for e in alert.examples if "under the volume floor" in e.note]
        assert under and not any(e.fires for e in under), f"{name}: no example below the floor that stays silent"


@pytest.mark.parametrize("name", LLM_CALL_ALERTS)
def test_llm_call_alerts_say_where_the_calls_ran(name):
    for alert in _by_name(DEFAULTS)[name]:
        firing = [e for e in alert.examples if e.fires]
        assert firing and all(e.labels.get("deployment_environment_name") in ("production", "staging")
                              and e.labels.get("service_name") == "support-bot" for e in firing), name


def _rules(tmp_path: Path, settings) -> Path:
    (tmp_path / "llm.alerts.yml").write_text(alerts.render(settings)[alerts.RULES_FILE])
    (tmp_path / "llm.rules.yml").write_text(backends.rules.render(settings)["prometheus/rules/llm.rules.yml"])
    return tmp_path


def _fires(tmp_path: Path, settings, series: dict[str, str], at: str, expected: list[dict]) -> subprocess.CompletedProcess:
    d = _rules(tmp_path, settings)
    order = [g["name"] for f in ("llm.rules.yml", "llm.alerts.yml")
             for g in yaml.safe_load((d / f).read_text())["groups"]]
    spec = {"rule_files": [str(d / "llm.rules.yml"), str(d / "llm.alerts.yml")], "evaluation_interval": "1m",
            "group_eval_order": order,
            "tests": [{"interval": "1m", "input_series": [{"series": s, "values": v} for s, v in series.items()],
                       "alert_rule_test": [{"eval_time": at, "alertname": "LlmProviderErrorRateHigh",
                                            "exp_alerts": expected}]}]}
    (d / "test.yml").write_text(yaml.safe_dump(spec, sort_keys=False, width=1000))
    return subprocess.run([promtool(), "test", "rules", str(d / "test.yml")], capture_output=True, text=True,
                          timeout=120)


WHERE = 'gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o",deployment_environment_name="production",' \
        'service_name="support-bot"'
# 10 calls a minute, every one failing: 50 calls in 5m.
TEN_A_MINUTE = {f"llm_requests_total{{{WHERE}}}": "0+10x40",
                f'llm_errors_total{{{WHERE},error_type="server_error"}}': "0+10x40"}
FIRING = [{"exp_labels": {"severity": "critical", "team": "llm-platform", "gen_ai_provider_name": "openai",
                          "gen_ai_request_model": "gpt-4o", "deployment_environment_name": "production",
                          "service_name": "support-bot"}}]


@pytest.mark.parametrize("floor, fires", [(20, True), (60, False)])
def test_floor_setting_on_promtool(floor, fires, tmp_path):
    settings = validate({**KUBE, "alerts": {"volume_floors": {"calls": floor}}})
    from test_alerts import expected_links   # the links, expanded for these labels (not what this test is about)
    links = expected_links(_by_name(settings)["LlmProviderErrorRateHigh"][0], FIRING[0]["exp_labels"])
    annotations = {"summary": "An LLM provider is failing a large share of calls.",
                   "description": "openai gpt-4o in production (support-bot): 100% of calls failed over 5m "
                                  "(threshold 5%).", **links}
    out = _fires(tmp_path, settings, TEN_A_MINUTE, "20m",
                 [{**FIRING[0], "exp_annotations": annotations}] if fires else [])
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]


def test_prometheus_loads_the_alert_and_recording_rule_files():
    """By hand: the files the bundled Prometheus' rule_files glob picks up; a rules file it does not
    match is never evaluated (no alert fires), and nothing else says so."""
    import fnmatch
    from artifacts import render_all
    from backends.prometheus import RULES_GLOB
    from settings import REFERENCE_CONFIG, validate as validate_settings
    rendered = render_all(validate_settings(REFERENCE_CONFIG))
    rule_files = sorted(path for path in rendered if path.startswith("prometheus/rules/"))
    assert rule_files == ["prometheus/rules/llm.alerts.yml", "prometheus/rules/llm.rules.yml"]
    assert RULES_GLOB == "prometheus/rules/*.yml" and all(fnmatch.fnmatch(p, RULES_GLOB) for p in rule_files)


def test_rule_group_names_and_intervals_by_hand():
    """Group names are identities: Prometheus' rule-group metrics (the pipeline dashboard's failures by
    group) and the Grafana API's rule groups (renaming one replaces it, with its alert state) carry them."""
    from settings import REFERENCE_CONFIG, validate as validate_settings
    groups = alerts.groups(validate_settings(REFERENCE_CONFIG))
    assert [(g.name, g.interval) for g in groups] == [(name, "1m") for name in (
        "llm-provider", "llm-latency", "llm-spend", "llm-slo", "llm-calls", "llm-quality", "llm-safety",
        "llm-agents-rag", "llm-operations", "llm-pipeline", "llm-self-monitoring", "llm-debug-audit")]
