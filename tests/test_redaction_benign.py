"""The benign corpus (tests/benign_corpus.py, over 1,000 values) passes the real gateway unchanged
in span attributes, log bodies and metric data points; and a key=value token summary under an
unknown key of an LLM span is not taken for content by the free-text guard."""
from __future__ import annotations

import pytest

from benign_corpus import values
from gateway_run import gateway, wait
from otlp_json import NOW, TRACE_ID, kv, post

VALUES = values()
PER_SPAN = 100


def test_corpus_is_large_and_varied():
    assert len(VALUES) >= 1000
    for probe in ("git@github.com:acme/llm-gateway.git", "the bearer instrument is payable on demand",
                  "prompt_tokens=12 completion_tokens=30"):
        assert probe in VALUES


@pytest.fixture(scope="module")
def gw():
    chunks = [VALUES[i:i + PER_SPAN] for i in range(0, len(VALUES), PER_SPAN)]
    spans = [{"traceId": TRACE_ID, "spanId": f"{c + 1:016x}", "name": "benign", "startTimeUnixNano": str(NOW),
              "endTimeUnixNano": str(NOW + 1), "attributes": [kv("chunk", c)] + [kv(f"b.{j}", v) for j, v in enumerate(chunk)]}
             for c, chunk in enumerate(chunks)]
    records = [{"timeUnixNano": str(NOW), "body": {"stringValue": v}, "attributes": [kv("i", i)]} for i, v in enumerate(VALUES)]
    points = [{"asDouble": 1.0, "timeUnixNano": str(NOW), "attributes": [kv("i", str(i)), kv("v", v)]} for i, v in enumerate(VALUES)]
    metrics = {"resourceMetrics": [{"resource": {}, "scopeMetrics": [{"metrics": [
        {"name": "benign.values", "gauge": {"dataPoints": points}}]}]}]}
    llm = {"traceId": TRACE_ID, "spanId": "00000000000000ff", "name": "chat gpt-4o", "startTimeUnixNano": str(NOW),
           "endTimeUnixNano": str(NOW + 1),
           "attributes": [kv("gen_ai.operation.name", "chat"), kv("gen_ai.request.model", "gpt-4o"),
                          kv("app.usage", "prompt_tokens=1834 completion_tokens=402 total_tokens=2236 cached_tokens=1024"),
                          kv("app.note", "The user asked the assistant to summarise the quarterly report in three bullets.")]}
    with gateway() as g:
        assert post(g, "traces", {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": spans + [llm]}]}]}) == 200
        assert post(g, "logs", {"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": records}]}]}) == 200
        assert post(g, "metrics", metrics) == 200
        assert wait(lambda: len(g.traces.spans()) >= len(chunks) + 1 and len(g.logs.logs()) >= len(VALUES)
                    and len([s for s in g.metrics.series() if s["labels"]["__name__"] == "benign_values"]) >= len(VALUES),
                    timeout=60)
        yield g


def test_span_attributes_unchanged(gw):
    got = {(s["attributes"]["chunk"], k): v for s in gw.traces.spans() if s["name"] == "benign"
           for k, v in s["attributes"].items() if k.startswith("b.")}
    changed = [(v, got.get((i // PER_SPAN, f"b.{i % PER_SPAN}"))) for i, v in enumerate(VALUES)
               if got.get((i // PER_SPAN, f"b.{i % PER_SPAN}")) != v]
    assert changed == []
    assert not any("llmobs.redacted" in s["attributes"] for s in gw.traces.spans() if s["name"] == "benign")


def test_log_bodies_unchanged(gw):
    got = {r["attributes"]["i"]: r["body"] for r in gw.logs.logs() if "i" in r["attributes"]}
    assert [(v, got.get(i)) for i, v in enumerate(VALUES) if got.get(i) != v] == []


def test_metric_points_unchanged(gw):
    got = {s["labels"]["i"]: s["labels"].get("v") for s in gw.metrics.series() if s["labels"]["__name__"] == "benign_values"}
    assert [(v, got.get(str(i))) for i, v in enumerate(VALUES) if got.get(str(i)) != v] == []


def test_guard_leaves_a_token_summary_and_takes_prose(gw):
    (span,) = [s for s in gw.traces.spans() if s["name"] == "chat gpt-4o"]
    assert span["attributes"]["app.usage"] == "prompt_tokens=1834 completion_tokens=402 total_tokens=2236 cached_tokens=1024"
    assert span["attributes"]["app.note"].startswith("[CONTENT:hmac:")
