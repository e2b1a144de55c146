"""Telemetry contract v2 through the real gateway: loadgen traffic with known counts in,
the derived metrics out, compared with loadgen's own tally per label set; every flavor
gives the same metrics; bounded labels stay bounded and the overflow counter counts."""
from __future__ import annotations

import math
from collections import Counter

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from collector_harness import TOKEN
from gateway_run import gateway, wait
from loadgen import flavors, run
from loadgen.runner import ENVIRONMENT
from test_bad_input import _post
from telemetry import keys as k
from telemetry.catalog import BY_NAME

PROM = {name: m.prometheus for name, m in BY_NAME.items()}
LABELS = {
    "tenant": {"allowed": ["acme", "globex", "initech", "umbrella"]},
    "feature": {"allowed": ["chat", "search", "summarize", "agent"]},
    "prompt_version": {"patterns": ["[a-z]+(-[a-z]+)*-v[0-9]+(-verbose)?"]},
    "environment": {"allowed": [ENVIRONMENT]},
    "retrieval_index": {"allowed": ["kb-docs", "kb-products"]},
    "index_version": {"patterns": ["kb-[a-z]+-20[0-9]{2}-[0-9]{2}"]},
}
REQUESTS = 150
SCENARIO = "fallback_storm"   # baseline traffic plus fallbacks, retries and failed requests


def label(key: str) -> str:
    return key.replace(".", "_")


def by(gw, metric: str, *keys: str, suffix: str = "") -> Counter:
    """Sum of the newest values of a metric, grouped by the given attribute keys."""
    out: Counter = Counter()
    for labels, value in gw.metrics.latest(PROM[metric] + suffix).items():
        d = dict(labels)
        out[tuple(d.get(label(key)) for key in keys)] += value
    return out


def total(gw, metric: str, suffix: str = "") -> float:
    return sum(by(gw, metric, suffix=suffix).values())


NEW_METRICS = ("llm.app.requests", "llm.retries", "llm.fallbacks", "llm.tokens.cache_write", "llm.truncated",
               "llm.tool.approvals", "llm.retrieval.requested", "llm.retrieval.returned", "llm.retrieval.empty",
               "llm.safety.checks", "llm.eval.results", "llm.eval.results.events", "llm.users.activity",
               "llm.sessions.activity")
NEW_HISTOGRAMS = ("llm.context.utilization", "llm.app.request.duration", "llm.agent.iterations",
                  "llm.tool.duration", "llm.retrieval.step.duration", "llm.retrieval.score")


def _run(flavor: str, scenario: str = SCENARIO, requests: int = REQUESTS):
    with gateway(labels=LABELS) as gw:
        summary = run(gw.collector.grpc_endpoint, scenario=scenario, rate=200, duration=requests / 200, seed=11,
                      flavor=flavor, token=TOKEN)
        t = summary.tally
        assert summary.spans_failed == 0 and summary.logs_failed == 0
        assert wait(lambda: total(gw, "llm.app.requests") == t.requests and total(gw, "llm.requests") == t.llm_calls
                    and total(gw, "llm.eval.results.events") == sum(t.eval_results.values())
                    and total(gw, "llm.tool.duration", "_count") == sum(t.tool_calls.values()), timeout=60), \
            (total(gw, "llm.app.requests"), t.requests, gw.collector.logs()[-2000:])
        snapshot = {m: by(gw, m, *BY_NAME[m].labels) for m in NEW_METRICS + ("llm.requests", "llm.label.overflow")}
        snapshot.update({m: by(gw, m, *BY_NAME[m].labels, suffix="_count") for m in NEW_HISTOGRAMS})
        snapshot.update({m + "_sum": by(gw, m, *BY_NAME[m].labels, suffix="_sum") for m in NEW_HISTOGRAMS})
        yield gw, t, snapshot


@pytest.fixture(scope="module")
def canonical():
    yield from _run(flavors.CANONICAL)


def test_requests_by_outcome(canonical):
    gw, t, _ = canonical
    assert by(gw, "llm.app.requests", k.OUTCOME) == Counter({(o,): n for o, n in t.outcomes.items()})
    assert len(t.outcomes) >= 3 and "error" in t.outcomes   # the scenario exercises the outcomes
    assert total(gw, "llm.app.request.duration", "_count") == t.requests
    envs = {key for key in by(gw, "llm.app.requests", k.ENVIRONMENT)}
    assert envs == {(ENVIRONMENT,)}


def test_llm_calls_by_prompt_version_and_environment(canonical):
    gw, t, _ = canonical
    chat = Counter()
    for (op, version, env), n in by(gw, "llm.requests", k.OPERATION, k.PROMPT_VERSION, k.ENVIRONMENT).items():
        assert env == ENVIRONMENT
        if op == "chat":
            chat[version] += n
    assert chat == t.calls_by_prompt_version
    assert len(chat) >= 3


def test_retries_fallbacks_cache_writes_truncation(canonical):
    gw, t, _ = canonical
    assert total(gw, "llm.retries") == t.retries > 0
    assert by(gw, "llm.fallbacks", k.FALLBACK_FROM, k.REQUEST_MODEL) == t.fallbacks
    assert sum(t.fallbacks.values()) > 0
    assert total(gw, "llm.tokens.cache_write") == t.cache_write_tokens > 0
    assert total(gw, "llm.truncated") == t.truncated


def test_context_utilization_from_the_model_table(canonical):
    gw, t, _ = canonical
    assert total(gw, "llm.context.utilization", "_count") == t.llm_ok_calls
    # Every value is input / window: a ratio, so the histogram sum is below the count.
    assert 0 < total(gw, "llm.context.utilization", "_sum") < t.llm_ok_calls


def test_tools_and_agents(canonical):
    gw, t, _ = canonical
    assert total(gw, "llm.tool.duration", "_count") == sum(t.tool_calls.values())
    assert by(gw, "llm.tool.approvals", k.TOOL_NAME, k.TOOL_APPROVAL) == t.approvals
    assert total(gw, "llm.agent.iterations", "_count") == sum(t.agent_iterations.values()) > 0
    assert total(gw, "llm.agent.iterations", "_sum") == sum(n * c for n, c in t.agent_iterations.items())


def test_retrieval(canonical):
    gw, t, _ = canonical
    assert total(gw, "llm.retrieval.requested") == t.retrieval_requested > 0
    assert total(gw, "llm.retrieval.returned") == t.retrieved_documents
    assert total(gw, "llm.retrieval.empty") == t.empty_retrievals
    assert total(gw, "llm.retrieval.score", "_count") == t.retrieval_scored
    assert by(gw, "llm.retrieval.step.duration", k.RETRIEVAL_METHOD, suffix="_count") == Counter(
        {(m,): n for m, n in t.retrieval_steps.items()})
    indexes = {i for i, _v in by(gw, "llm.retrieval.requested", k.RETRIEVAL_INDEX, k.RETRIEVAL_INDEX_VERSION)}
    assert indexes == {"kb-docs", "kb-products"}


def test_evals_safety(canonical):
    gw, t, _ = canonical
    assert by(gw, "llm.eval.results", k.EVAL_NAME, k.EVAL_LABEL) == t.eval_results
    assert by(gw, "llm.eval.results.events", k.EVAL_NAME, k.EVAL_LABEL) == t.eval_results
    models = {m for (m,) in by(gw, "llm.eval.score", k.REQUEST_MODEL, suffix="_count")}
    assert models and "unknown" not in models
    versions = {v for (v,) in by(gw, "llm.eval.score", k.RETRIEVAL_INDEX_VERSION, suffix="_count")}
    assert any(v.startswith("kb-") for v in versions)
    assert by(gw, "llm.safety.checks", k.SAFETY_STAGE) == Counter({(s,): n for s, n in t.safety_checks.items()})
    assert by(gw, "llm.safety.blocks", k.SAFETY_STAGE) == Counter({(s,): n for s, n in t.safety_blocks_by_stage.items()})


def estimate_distinct(occupied: int, buckets: int = 4096) -> float:
    """Linear counting: n ~ -B ln(empty / B). The recording rule computes the same in PromQL."""
    return -buckets * math.log(max(buckets - occupied, 1) / buckets)


def test_active_users_and_sessions_without_ids(canonical):
    gw, t, _ = canonical
    for metric, key, truth in (("llm.users.activity", k.USER_BUCKET, len(t.users)),
                               ("llm.sessions.activity", k.SESSION_BUCKET, len(t.sessions))):
        buckets = by(gw, metric, key)
        assert all(len(b) == 3 and int(b, 16) >= 0 for (b,) in buckets)
        estimate = estimate_distinct(len(buckets))
        # Linear counting's standard error at n << 4096 is under 2%; allow 4 sigma.
        assert abs(estimate - truth) / truth < 0.08, (metric, estimate, truth)
    for series in gw.metrics.series():
        assert "user_id" not in series["labels"] and "gen_ai_conversation_id" not in series["labels"]


@pytest.mark.parametrize("flavor", [f for f in flavors.FLAVORS if f != flavors.CANONICAL])
def test_every_flavor_gives_the_same_metrics(canonical, flavor):
    _, _, expected = canonical
    for _gw, _t, got in _run(flavor):
        for metric, series in expected.items():
            if metric.endswith("_sum"):  # floats summed in arrival order
                assert got[metric].keys() == series.keys(), (flavor, metric)
                assert all(got[metric][key] == pytest.approx(v, rel=1e-9) for key, v in series.items()), (flavor, metric)
            else:
                assert got[metric] == series, (flavor, metric)


def _span(i: int, attrs: dict) -> Span:
    return Span(trace_id=i.to_bytes(16, "big"), span_id=(i + 1).to_bytes(8, "big"), name="chat m",
                start_time_unix_nano=1_700_000_000_000_000_000, end_time_unix_nano=1_700_000_001_000_000_000,
                attributes=[KeyValue(key=key, value=AnyValue(string_value=v)) for key, v in attrs.items()])


def test_bounds_hold_under_10k_distinct_values():
    n = 10_000
    bounds = {"tenant": {"allowed": ["acme"]}, "prompt_version": {"patterns": ["keep-v[0-2]"]},
              "environment": {"allowed": ["production"]}}
    with gateway(labels=bounds) as gw:
        for start in range(0, n, 2000):
            resources = [ResourceSpans(
                resource=Resource(attributes=[KeyValue(key=k.ENVIRONMENT, value=AnyValue(string_value=f"env-{i}"))]),
                scope_spans=[ScopeSpans(spans=[_span(i, {
                    k.OPERATION: "chat", k.PROVIDER: "openai", k.REQUEST_MODEL: "gpt-4o",
                    k.TENANT: f"tenant-{i}", k.PROMPT_VERSION: f"keep-v{i % 3}" if i < 30 else f"support-v{i}"})])])
                for i in range(start, start + 2000)]
            assert _post(gw, ExportTraceServiceRequest(resource_spans=resources).SerializeToString()) == 200
        assert wait(lambda: total(gw, "llm.requests") == n, timeout=60)
        requests = by(gw, "llm.requests", k.TENANT_LABEL, k.PROMPT_VERSION, k.ENVIRONMENT)
        assert {t for t, _, _ in requests} == {"other"}
        assert {v for _, v, _ in requests} == {"keep-v0", "keep-v1", "keep-v2", "other"}
        assert {e for _, _, e in requests} == {"other"}
        overflow = by(gw, "llm.label.overflow", k.OVERFLOW_LABEL)
        assert overflow == Counter({("tenant",): n, ("environment",): n, ("prompt_version",): n - 30})


def test_application_metrics_get_the_same_bounds_and_no_ids():
    with gateway(labels={"tenant": {"allowed": ["acme"]}, "feature": {"allowed": ["chat"]}}) as gw:
        app = gw.app()
        counter = app.meter.create_counter("app.requests")
        for i, tenant in enumerate(("acme", "hooli", "initech", "acme")):
            counter.add(1, {k.TENANT: tenant, k.FEATURE: "chat" if i % 2 else f"feature-{i}", k.USER_ID: f"user-{i}",
                            k.CONVERSATION_ID: f"conv-{i}", "http.route": "/v1/chat"})
        app.close()
        assert wait(lambda: gw.sum_of("app_requests_total") == 4)
        series = gw.metrics.latest("app_requests_total")
        assert {dict(s)["llmobs_tenant"] for s in series} == {"acme", "other"}
        assert {dict(s)["llmobs_feature"] for s in series} == {"chat", "other"}
        assert all("user_id" not in dict(s) and "gen_ai_conversation_id" not in dict(s) for s in series)
        assert {dict(s)["http_route"] for s in series} == {"/v1/chat"}   # other labels pass


def test_truncation_and_saturation_under_context_saturation():
    for gw, t, _ in _run(flavors.CANONICAL, scenario="context_saturation", requests=60):
        assert total(gw, "llm.truncated") == t.truncated > 0
        assert total(gw, "llm.context.utilization", "_count") == t.llm_ok_calls
        saturated = sum(v for (le,), v in by(gw, "llm.context.utilization", "le", suffix="_bucket").items()
                        if le == "0.8")
        assert saturated < t.llm_ok_calls   # some calls above 80% of the window
