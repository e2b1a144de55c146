"""Every recording rule in the generated prometheus/rules/llm.rules.yml, evaluated by the real
`promtool test rules` on series whose rates and quantiles are worked out by hand below.

The inputs carry labels the rules must aggregate away (instance, tenant, feature, error_type) and
two provider/model pairs with different numbers, so an inverted ratio, a quantile that drops `le`,
or a rule grouped by the wrong label gives a different or an empty result and the test fails."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

import backends.rules
from settings import load_stack_file
from binaries import promtool

ROOT = Path(__file__).resolve().parent.parent
RULES_FILE = "prometheus/rules/llm.rules.yml"
EVAL_MINUTE = 120     # series run 0..180 minutes at 1m steps: both windows (5m, 1h) are full
OPENAI = 'gen_ai_provider_name="openai", gen_ai_request_model="gpt-4o"'
ANTHROPIC = 'gen_ai_provider_name="anthropic", gen_ai_request_model="claude-sonnet-4"'


def _counter(per_minute: float) -> str:
    return f"0+{per_minute}x180"


# Counter series: (series selector, increase per minute). Rates below are per second (÷ 60).
COUNTERS = [
    (f'llm_requests_total{{{OPENAI}, instance="a", llmobs_tenant_bounded="acme"}}', 120),
    (f'llm_requests_total{{{OPENAI}, instance="b", llmobs_tenant_bounded="globex"}}', 60),
    (f'llm_requests_total{{{ANTHROPIC}, instance="a", llmobs_tenant_bounded="acme"}}', 60),
    (f'llm_errors_total{{{OPENAI}, instance="a", error_type="timeout"}}', 12),
    (f'llm_errors_total{{{OPENAI}, instance="b", error_type="rate_limited"}}', 6),
    (f'llm_errors_total{{{ANTHROPIC}, instance="a", error_type="timeout"}}', 30),
    (f'llm_tokens_input_total{{{OPENAI}, instance="a", llmobs_feature_bounded="chat"}}', 6000),
    (f'llm_tokens_input_total{{{OPENAI}, instance="b", llmobs_feature_bounded="search"}}', 3000),
    (f'llm_tokens_input_total{{{ANTHROPIC}, instance="a"}}', 1200),
    (f'llm_tokens_output_total{{{OPENAI}, instance="a"}}', 600),
    (f'llm_tokens_output_total{{{ANTHROPIC}, instance="a"}}', 240),
    (f'llm_tokens_output_total{{{ANTHROPIC}, instance="b"}}', 120),
    (f'llm_tokens_cached_input_total{{{OPENAI}, instance="a"}}', 1800),
    (f'llm_tokens_cached_input_total{{{ANTHROPIC}, instance="b"}}', 0),
    (f'llm_cost_total{{{OPENAI}, instance="a", llmobs_tenant_bounded="acme"}}', 0.6),
    (f'llm_cost_total{{{OPENAI}, instance="b", llmobs_tenant_bounded="globex"}}', 1.2),
    (f'llm_cost_total{{{ANTHROPIC}, instance="a", llmobs_tenant_bounded="acme"}}', 0.3),
    ('llm_redacted_spans_total{service_name="chat-api", instance="a"}', 3),
    ('llm_redacted_spans_total{service_name="chat-api", instance="b"}', 3),
    ('llm_redacted_spans_total{service_name="batch", instance="a"}', 12),
]

# Histogram buckets: cumulative increase per minute by `le`, one row per instance.
# Summed, openai has le 0.5: 30, 1: 60, 2: 120, +Inf: 120 per minute, so
#   p50: rank 0.5*120 = 60 reaches le=1 exactly -> 0.5 + 0.5*(60-30)/(60-30) = 1.0
#   p95: rank 0.95*120 = 114 in (1, 2] -> 1 + 1*(114-60)/(120-60) = 1.9
# Anthropic has every observation in (0.5, 1]: le 0.5: 0, 1: 40, 2: 40, +Inf: 40, so
#   p50: 0.5 + 0.5*20/40 = 0.75,  p95: 0.5 + 0.5*38/40 = 0.975
BUCKETS = [
    (OPENAI, "a", {"0.5": 30, "1": 30, "2": 30, "+Inf": 30}),
    (OPENAI, "b", {"0.5": 0, "1": 30, "2": 90, "+Inf": 90}),
    (ANTHROPIC, "a", {"0.5": 0, "1": 40, "2": 40, "+Inf": 40}),
]
HISTOGRAMS = ("gen_ai_client_operation_duration_seconds", "llm_time_to_first_token_seconds")

RATES = {  # rule metric part -> {provider/model labels: per-second rate}
    "llm_requests": {OPENAI: 3.0, ANTHROPIC: 1.0},                # (120+60)/60, 60/60
    "llm_errors": {OPENAI: 0.3, ANTHROPIC: 0.5},                  # (12+6)/60, 30/60
    "llm_tokens_input": {OPENAI: 150.0, ANTHROPIC: 20.0},         # (6000+3000)/60, 1200/60
    "llm_tokens_output": {OPENAI: 10.0, ANTHROPIC: 6.0},          # 600/60, (240+120)/60
    "llm_tokens_cached_input": {OPENAI: 30.0, ANTHROPIC: 0.0},    # 1800/60, 0
    "llm_cost": {OPENAI: 0.03, ANTHROPIC: 0.005},                 # (0.6+1.2)/60, 0.3/60
}


def expected(window: str) -> dict[str, list[tuple[str, float]]]:
    """record name -> [(label set, value)], written out by hand for one window."""
    out = {f"provider_model:{m}:rate{window}": list(v.items()) for m, v in RATES.items()}
    out[f"provider_model:llm_errors:ratio_rate{window}"] = [(OPENAI, 0.1), (ANTHROPIC, 0.5)]   # errors / requests
    for h in HISTOGRAMS:
        out[f"provider_model:{h}:p50_rate{window}"] = [(OPENAI, 1.0), (ANTHROPIC, 0.75)]
        out[f"provider_model:{h}:p95_rate{window}"] = [(OPENAI, 1.9), (ANTHROPIC, 0.975)]
    out[f"tenant:llm_cost:rate{window}"] = [('llmobs_tenant_bounded="acme"', 0.015),      # (0.6+0.3)/60
                                            ('llmobs_tenant_bounded="globex"', 0.02)]     # 1.2/60
    out[f"service:llm_redacted_spans:rate{window}"] = [('service_name="chat-api"', 0.1),  # (3+3)/60
                                                       ('service_name="batch"', 0.2)]     # 12/60
    return out


def input_series() -> list[dict]:
    series = [{"series": s, "values": _counter(n)} for s, n in COUNTERS]
    for h in HISTOGRAMS:
        for pair, instance, buckets in BUCKETS:
            series += [{"series": f'{h}_bucket{{{pair}, instance="{instance}", le="{le}"}}', "values": _counter(n)}
                       for le, n in buckets.items()]
    return series


def spec(rule_file: Path) -> dict:
    # promtool compares floats exactly and rate() leaves rounding noise (0.030000000000000002):
    # compare in millionths, rounded by PromQL; the rules' own results are what is rounded.
    cases = [{"expr": f"round({record} * 1000000)", "eval_time": f"{EVAL_MINUTE}m",
              "exp_samples": [{"labels": f"{{{labels}}}", "value": round(value * 1_000_000)} for labels, value in samples]}
             for window in backends.rules.WINDOWS for record, samples in expected(window).items()]
    return {"rule_files": [str(rule_file)], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": input_series(), "promql_expr_test": cases}]}


@pytest.fixture(scope="module")
def rule_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("recording") / "llm.rules.yml"
    path.write_text(backends.rules.render(load_stack_file(ROOT / "Pulumi.prod.yaml"))[RULES_FILE])
    return path


def test_every_recording_rule_has_expected_values(rule_file):
    generated = {r["record"] for g in yaml.safe_load(rule_file.read_text())["groups"] for r in g["rules"]}
    tested = {record for w in backends.rules.WINDOWS for record in expected(w)}
    assert generated == tested, {"untested": generated - tested, "not generated": tested - generated}


def test_promtool_evaluates_every_recording_rule(rule_file, tmp_path):
    path = tmp_path / "recording-test.yml"
    path.write_text(yaml.safe_dump(spec(rule_file), sort_keys=False, width=1000))
    out = subprocess.run([promtool(), "test", "rules", str(path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
