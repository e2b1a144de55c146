"""collector.metrics_engine native (the project's llmmetrics connector) against ottl
(signal_to_metrics): two real gateways get the same traffic, and what Prometheus would store
from each must be the same series with the same values. The traffic is loadgen's (seeded, with
planned timestamps: durations are the same in both runs) in several scenarios and flavors, plus
spans and events that reach every rule's edge: bad numbers, numeric text, lists, folded labels.
"""
from __future__ import annotations

import contextlib
import time

import pytest
from opentelemetry.trace import Status, StatusCode

from collector_harness import TOKEN
from gateway_run import OWN_IMAGE, gateway
from loadgen import run as loadgen_run
from telemetry import keys as k
from telemetry.catalog import CATALOG

ENGINE_LABELS = {"otel_scope_name", "otel_scope_version", "otel_scope_schema_url", "llmobs_gateway_instance"}
LOADGEN = [("baseline", "canonical", 3), ("fallback_storm", "openllmetry", 4), ("context_saturation", "openlit", 5),
           ("secret_leak_attempts", "openinference", 6), ("retrieval_empty", "canonical", 7),
           ("tool_loop_runaway", "canonical", 8), ("tenant_cost_spike", "canonical", 9)]
T0 = 1_700_000_000_000_000_000  # spans below carry their own times: durations identical in both runs


def _span(tracer, name: str, attrs: dict, millis: int, error: bool = False, parent=None):
    ctx = None
    if parent is not None:
        from opentelemetry import trace
        ctx = trace.set_span_in_context(parent)
    span = tracer.start_span(name, context=ctx, start_time=T0, attributes=attrs)
    if error:
        span.set_status(Status(StatusCode.ERROR, "boom"))
    return span, T0 + millis * 1_000_000


def _edges(app) -> None:
    """Every rule's edges, one request each: the root span, then its children."""
    tracer, logger = app.tracer, app.logger
    llm = {k.OPERATION: "chat", k.PROVIDER: "openai", k.REQUEST_MODEL: "gpt-4o"}
    children = [
        ({**llm, k.INPUT_TOKENS: 1000, k.OUTPUT_TOKENS: 10, k.CACHE_WRITE_TOKENS: 300, k.RETRY_ATTEMPT: 2,
          k.FINISH_REASONS: ["length"], k.TTFT: 0.4}, 700, False),
        ({**llm, k.INPUT_TOKENS: "250", k.OUTPUT_TOKENS: -5, k.RETRY_ATTEMPT: "0", k.FINISH_REASONS: "stop",
          k.FALLBACK: True, k.FALLBACK_FROM: "gpt-4.1"}, 90, True),
        ({**llm, k.INPUT_TOKENS: float("nan"), k.OUTPUT_TOKENS: "many", k.TTFT: "fast", k.CONTEXT_WINDOW: 0}, 5, False),
        ({**llm, k.REQUEST_MODEL: "acme-private-llm", k.PROVIDER: "acme", k.INPUT_TOKENS: 10, k.CONTEXT_WINDOW: 100,
          k.TENANT: "initech", k.FEATURE: "unlisted", k.PROMPT_VERSION: "v999"}, 61_000, False),
        ({k.OPERATION: "execute_tool", k.TOOL_NAME: "refund", k.TOOL_APPROVAL_REQUIRED: True,
          k.TOOL_APPROVAL: "denied", k.TOOL_OUTCOME: "denied"}, 30, False),
        ({k.OPERATION: "execute_tool", k.TOOL_NAME: "search", k.TOOL_APPROVAL_REQUIRED: "true"}, 3, True),
        ({k.OPERATION: "retrieval", k.RETRIEVAL_RETURNED: 0, k.RETRIEVAL_TOP_K: 8, k.RETRIEVAL_SCORES: [0.91, 0.2],
          k.RETRIEVAL_INDEX: "kb", k.RETRIEVAL_METHOD: "hybrid"}, 120, False),
        ({k.OPERATION: "retrieval", k.RETRIEVAL_RETURNED: "3", k.RETRIEVAL_SCORES: "0.5"}, 40, False),
        ({k.RETRIEVAL_METHOD: "rerank"}, 15, False),
        ({k.SAFETY_BLOCKED: True, k.SAFETY_STAGE: "output", k.SAFETY_CATEGORY: "pii"}, 2, False),
        ({k.SAFETY_BLOCKED: "no", k.SAFETY_STAGE: "sideways"}, 2, False),
        ({k.EVAL_NAME: "faithfulness", k.EVAL_SCORE: 0.35, k.EVAL_LABEL: "fail"}, 1, False),
        ({k.EVAL_NAME: "faithfulness", k.EVAL_SCORE: "high"}, 1, False),
        ({"app.note": "card 4111 1111 1111 1111", "app.summary": "a long free text answer " * 6}, 1, False),
        # context windows: a dated name by pattern, the response model first, a model that is a number
        ({**llm, k.REQUEST_MODEL: "gpt-4o-2024-08-06", k.INPUT_TOKENS: 500}, 80, False),
        ({**llm, k.RESPONSE_MODEL: "gpt-4o-mini-2024-07-18", k.INPUT_TOKENS: 700}, 80, False),
        ({**llm, k.OPERATION: "embeddings", k.REQUEST_MODEL: 7, k.INPUT_TOKENS: 3}, 8, False),
        # bounded labels: set directly without their source, a number, on the record beside the resource
        ({**llm, k.TENANT_LABEL: "sneaky", k.FEATURE_LABEL: "chat", k.INPUT_TOKENS: 1}, 9, False),
        ({**llm, k.TENANT: 3, k.PROMPT_VERSION: 2, k.INPUT_TOKENS: 1}, 9, False),
        ({**llm, k.ENVIRONMENT: "production", k.USER_ID: 12345, k.INPUT_TOKENS: 1}, 9, False),
        ({k.ENVIRONMENT: "qa", k.OUTCOME: "answered", k.RETRIEVAL_INDEX: "other"}, 9, True),
    ]
    for i in range(3):
        root, end = _span(tracer, "request", {k.TENANT: ["acme", "globex", "initech"][i], k.FEATURE: "chat",
                                              k.USER_ID: f"user-{i}", k.CONVERSATION_ID: f"conv-{i % 2}",
                                              k.AGENT_ITERATIONS: [3, "7", -1][i],
                                              k.OUTCOME: ["answered", "strange", "refused"][i]}, 2_500, error=i == 2)
        for attrs, millis, error in children:
            child, child_end = _span(tracer, "step", attrs, millis, error, parent=root)
            child.end(end_time=child_end)
        root.end(end_time=end)
    for attrs in ({k.FEEDBACK: "up", k.FEATURE: "chat"}, {k.FEEDBACK: "down", k.TENANT: "initech"},
                  {k.EVAL_NAME: "answer_relevance", k.EVAL_SCORE: 0.9, k.EVAL_LABEL: "pass"},
                  {k.EVAL_NAME: "answer_relevance", k.EVAL_SCORE: "NaN"},
                  {"note": "token sk-proj-" + "a1B2" * 12, "app.summary": "a long free text answer " * 6}):
        logger.emit(body="event", attributes=attrs, event_name="gen_ai.evaluation.result")
    app.flush()


def _stored(gw) -> dict:
    """What Prometheus would hold: each series' newest value, without the engine's own labels."""
    out: dict = {}
    for series in gw.metrics.series():
        labels = series["labels"]
        if not labels["__name__"].startswith(("llm_", "gen_ai_")):
            continue
        key = frozenset((n, v) for n, v in labels.items() if n not in ENGINE_LABELS)
        for value, ts in series["samples"]:
            if key not in out or ts >= out[key][1]:
                out[key] = (value, ts)
    return {key: value for key, (value, _) in out.items()}


def _settled(gateways, timeout: float = 60.0) -> list[dict]:
    """Poll until neither gateway's stored values change for 3 s (bounded)."""
    deadline, last, since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        now = [_stored(gw) for gw in gateways]
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= 3.0 and all(now):
            return now
        time.sleep(0.5)
    raise AssertionError("metrics did not settle")


@pytest.fixture(scope="module")
def stored():
    engines = {name: {"collector": {"image": OWN_IMAGE, "metrics_engine": name}} for name in ("ottl", "native")}
    with contextlib.ExitStack() as stack:
        gws = {name: stack.enter_context(gateway(labels={"tenant": {"allowed": ["acme", "globex"]},
                                                         "feature": {"allowed": ["chat", "search"]},
                                                         "prompt_version": {"allowed": ["v1", "v2"]}}, **o))
               for name, o in engines.items()}
        for gw in gws.values():
            for resource in ({k.ENVIRONMENT: "staging"}, {k.ENVIRONMENT: "qa-7"}, {}):
                app = gw.app(resource)
                _edges(app)
                app.close()
            for scenario, flavor, seed in LOADGEN:
                summary = loadgen_run(gw.collector.grpc_endpoint, scenario=scenario, flavor=flavor, seed=seed,
                                      rate=10_000, duration=0.006, token=TOKEN)
                assert summary.spans_failed == 0
        ottl, native = _settled([gws["ottl"], gws["native"]])
        yield {"ottl": ottl, "native": native, "gateways": gws}


def test_native_stores_what_ottl_stores(stored):
    ottl, native = stored["ottl"], stored["native"]
    only_ottl = {dict(key).get("__name__"): dict(key) for key in ottl.keys() - native.keys()}
    only_native = {dict(key).get("__name__"): dict(key) for key in native.keys() - ottl.keys()}
    assert not only_ottl and not only_native, (only_ottl, only_native)
    differ = {dict(key)["__name__"]: (ottl[key], native[key]) for key in ottl
              if ottl[key] != pytest.approx(native[key], rel=1e-9, abs=1e-12)}
    assert not differ, differ


def test_the_traffic_reaches_every_metric(stored):
    # Without this the comparison above could pass on two empty sets.
    names = {dict(key)["__name__"] for key in stored["ottl"]}
    missing = [m.name for m in CATALOG if m.prometheus + ("_count" if m.kind == "histogram" else "") not in names]
    assert not missing
    assert len(stored["ottl"]) > 500


def test_each_engine_names_itself_and_its_replica(stored):
    instances = {}
    for engine, scope in (("ottl", "signaltometricsconnector"), ("native", "llmmetricsconnector")):
        derived = [s["labels"] for s in stored["gateways"][engine].metrics.series()
                   if s["labels"]["__name__"].startswith(("llm_", "gen_ai_client_operation"))]
        assert derived, engine
        for labels in derived:
            assert labels["otel_scope_name"].endswith(scope), (engine, labels)
        # Replicas of a gateway write distinct series: each point names the process that made it.
        instances[engine] = {labels.get("llmobs_gateway_instance") for labels in derived}
        assert len(instances[engine]) == 1 and None not in instances[engine], (engine, instances[engine])
    assert instances["ottl"] != instances["native"]


def test_labels_set_directly_are_bounded_too(stored):
    """A client that sets a bounded label's key itself (not its source) writes no new series."""
    for engine in ("ottl", "native"):
        values = {value for key in stored[engine] for _, value in key}
        assert values.isdisjoint({"sneaky", "qa", "qa-7"}), engine
        assert "other" in values, engine
