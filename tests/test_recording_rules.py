"""Every recording rule in the generated prometheus/rules/llm.rules.yml, evaluated by the real
`promtool test rules` on series whose rates and quantiles are worked out by hand below.

The inputs carry labels the rules must aggregate away (instance, tenant, feature, error_type) and
two provider/model pairs with different numbers, so an inverted ratio, a quantile that drops `le`,
or a rule grouped by the wrong label gives a different or an empty result and the test fails."""
from __future__ import annotations

import math
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
# Per-model rules keep where the calls ran (environment and service): the result label sets below carry them.
OPENAI = ('gen_ai_provider_name="openai", gen_ai_request_model="gpt-4o", deployment_environment_name="production", '
          'service_name="chat-api"')
CHAT, SEARCH = 'llmobs_feature_bounded="chat"', 'llmobs_feature_bounded="search"'
ANTHROPIC = ('gen_ai_provider_name="anthropic", gen_ai_request_model="claude-sonnet-4", '
             'deployment_environment_name="staging", service_name="chat-api"')


def _counter(per_minute: float) -> str:
    return f"0+{per_minute}x180"


# Counter series: (series selector, increase per minute). Rates below are per second (÷ 60).
COUNTERS = [
    (f'llm_requests_total{{{OPENAI}, instance="a", llmobs_tenant_bounded="acme", {CHAT}}}', 120),
    (f'llm_requests_total{{{OPENAI}, instance="b", llmobs_tenant_bounded="globex", {SEARCH}}}', 60),
    (f'llm_requests_total{{{ANTHROPIC}, instance="a", llmobs_tenant_bounded="acme", {CHAT}}}', 60),
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
    (f'llm_cost_total{{{OPENAI}, instance="a", llmobs_tenant_bounded="acme", {CHAT}}}', 0.6),
    (f'llm_cost_total{{{OPENAI}, instance="b", llmobs_tenant_bounded="globex", {SEARCH}}}', 1.2),
    (f'llm_cost_total{{{ANTHROPIC}, instance="a", llmobs_tenant_bounded="acme", {CHAT}}}', 0.3),
    ('llm_redacted_spans_total{service_name="chat-api", instance="a"}', 3),
    ('llm_redacted_spans_total{service_name="chat-api", instance="b"}', 3),
    ('llm_redacted_spans_total{service_name="batch", instance="a"}', 12),
    # User-visible requests: chat 60/min (48 answered, 6 unanswered, 6 failed), search 30/min answered.
    (f'llm_app_requests_total{{{CHAT}, llmobs_request_outcome="answered", instance="a"}}', 48),
    (f'llm_app_requests_total{{{CHAT}, llmobs_request_outcome="unanswered", instance="a"}}', 6),
    (f'llm_app_requests_total{{{CHAT}, llmobs_request_outcome="error", instance="b"}}', 6),
    (f'llm_app_requests_total{{{SEARCH}, llmobs_request_outcome="answered", instance="a"}}', 30),
    (f'llm_retries_total{{{OPENAI}, instance="a"}}', 30),
    (f'llm_retries_total{{{ANTHROPIC}, instance="b"}}', 6),
    (f'llm_fallbacks_total{{{ANTHROPIC}, llmobs_fallback_from_model="gpt-4o", instance="a"}}', 12),
    # Eval means by prompt version: v1 (27 + 15) / (30 + 30) = 0.7 over two instances; v2 9 / 10 = 0.9.
    ('llm_eval_score_sum{llmobs_prompt_version="v1", gen_ai_evaluation_name="faithfulness", instance="a"}', 27),
    ('llm_eval_score_count{llmobs_prompt_version="v1", gen_ai_evaluation_name="faithfulness", instance="a"}', 30),
    ('llm_eval_score_sum{llmobs_prompt_version="v1", gen_ai_evaluation_name="faithfulness", instance="b"}', 15),
    ('llm_eval_score_count{llmobs_prompt_version="v1", gen_ai_evaluation_name="faithfulness", instance="b"}', 30),
    ('llm_eval_score_sum{llmobs_prompt_version="v2", gen_ai_evaluation_name="faithfulness", instance="a"}', 9),
    ('llm_eval_score_count{llmobs_prompt_version="v2", gen_ai_evaluation_name="faithfulness", instance="a"}', 10),
]
# Hash buckets: three users active all along, a fourth only in the first 30 minutes (outside the
# last hour at the evaluation minute, inside the last day); two sessions all along.
ACTIVE = [('llm_users_activity_total{llmobs_user_bucket="0a1"}', _counter(1)),
          ('llm_users_activity_total{llmobs_user_bucket="0a2"}', _counter(2)),
          ('llm_users_activity_total{llmobs_user_bucket="fff"}', _counter(1)),
          ('llm_users_activity_total{llmobs_user_bucket="123"}', "1+1x30"),
          ('llm_sessions_activity_total{llmobs_session_bucket="abc"}', _counter(1)),
          ('llm_sessions_activity_total{llmobs_session_bucket="def"}', _counter(3))]
# Context utilization: openai le 0.5: 10, 0.75: 20 (of 20) -> p95 rank 19: 0.5 + 0.25*(19-10)/10 = 0.725;
# anthropic all 40 in (0.9, 0.95] -> rank 38: 0.9 + 0.05*38/40 = 0.9475.
UTILIZATION = [(OPENAI, {"0.5": 10, "0.75": 20, "1": 20, "+Inf": 20}),
               (ANTHROPIC, {"0.9": 0, "0.95": 40, "1": 40, "+Inf": 40})]

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
    # Per tenant and where the calls ran: acme's production and staging spend apart.
    prod, staging = 'deployment_environment_name="production"', 'deployment_environment_name="staging"'
    out[f"tenant:llm_cost:rate{window}"] = [(f'llmobs_tenant_bounded="acme", {prod}, service_name="chat-api"', 0.01),
                                            (f'llmobs_tenant_bounded="acme", {staging}, service_name="chat-api"', 0.005),
                                            (f'llmobs_tenant_bounded="globex", {prod}, service_name="chat-api"', 0.02)]
    out[f"service:llm_redacted_spans:rate{window}"] = [('service_name="chat-api"', 0.1),  # (3+3)/60
                                                       ('service_name="batch"', 0.2)]     # 12/60
    # Per user-visible request (chat 1/s, search 0.5/s; answered chat 0.8/s):
    out[f"feature:llm_app_requests:rate{window}"] = [(CHAT, 1.0), (SEARCH, 0.5)]
    # input tokens chat 6000/60 = 100/s, search 3000/60 = 50/s; output tokens carry no feature
    out[f"feature:llm_tokens_per_request:ratio_rate{window}"] = [(CHAT, 100.0), (SEARCH, 100.0)]
    out[f"feature:llm_cost_per_request:ratio_rate{window}"] = [(CHAT, 0.015), (SEARCH, 0.04)]     # (0.6+0.3)/60, 1.2/60/0.5
    out[f"feature:llm_cost_per_answer:ratio_rate{window}"] = [(CHAT, 0.01875), (SEARCH, 0.04)]    # 0.015/0.8
    out[f"feature:llm_calls_per_request:ratio_rate{window}"] = [(CHAT, 3.0), (SEARCH, 2.0)]       # (120+60)/60, 1/0.5
    out[f"feature:llm_app_requests_answered:ratio_rate{window}"] = [(CHAT, 0.8), (SEARCH, 1.0)]
    out[f"feature:llm_app_requests_unanswered:ratio_rate{window}"] = [(CHAT, 0.1)]
    out[f"provider_model:llm_retries:rate{window}"] = [(OPENAI, 0.5), (ANTHROPIC, 0.1)]
    out[f"provider_model:llm_fallbacks:rate{window}"] = [(ANTHROPIC, 0.2)]
    out[f"provider_model:llm_cache_hit:ratio_rate{window}"] = [(OPENAI, 0.2), (ANTHROPIC, 0.0)]   # 30/150, 0/20
    out[f"provider_model:llm_retries:ratio_rate{window}"] = [(OPENAI, 0.5 / 3), (ANTHROPIC, 0.1)]
    out[f"provider_model:llm_fallbacks:ratio_rate{window}"] = [(ANTHROPIC, 0.2)]
    out[f"provider_model:llm_context_utilization:p95_rate{window}"] = [(OPENAI, 0.725), (ANTHROPIC, 0.9475)]
    out[f"prompt_version_eval:llm_eval_score:mean_rate{window}"] = [
        ('llmobs_prompt_version="v1", gen_ai_evaluation_name="faithfulness"', 0.7),
        ('llmobs_prompt_version="v2", gen_ai_evaluation_name="faithfulness"', 0.9)]
    if window == backends.rules.WINDOWS[0]:   # the active-user rules have their own windows
        for what, occupied in (("users", {"1h": 3, "1d": 4}), ("sessions", {"1h": 2, "1d": 2})):
            for w, v in occupied.items():
                out[f":llm_active_{what}:estimate{w}"] = [("", -4096 * math.log((4096 - v) / 4096))]
    return out


def input_series() -> list[dict]:
    series = [{"series": s, "values": _counter(n)} for s, n in COUNTERS]
    series += [{"series": s, "values": v} for s, v in ACTIVE]
    for pair, buckets in UTILIZATION:
        series += [{"series": f'llm_context_utilization_bucket{{{pair}, instance="a", le="{le}"}}', "values": _counter(n)}
                   for le, n in buckets.items()]
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
