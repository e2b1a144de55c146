"""Property-based: hypothesis draws secrets of every detector's kind (one of the hand-written
rows of tests/credentials.py per detector, chosen by a seed hypothesis draws; not loadgen's
generators, which share the detector table's view of each format) with random surrounding text, and places each in every position; nothing of them
may leave the real gateway. A pure check runs many more examples: every gate stays a necessary
condition of its detector on the JSON text the gateway scans."""
from __future__ import annotations

import base64
import random
import string

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gateway_run import gateway, wait
from credentials import SAMPLES
from otlp_json import NOW, TRACE_ID, kv, post
from telemetry.detectors import DETECTORS
from test_redaction_cost import _search, gateway_text

WORDS = st.text(alphabet=string.ascii_letters + string.digits + " ", max_size=24)
# By-key detectors (header attributes) have no text sample: tests/test_detector_tables.py covers them.
TEXT_DETECTORS = tuple(d for d in DETECTORS if not d.by_key)
DRAWS = st.tuples(st.integers(0, 2**32), st.lists(st.tuples(WORDS, WORDS), min_size=len(TEXT_DETECTORS),
                                                  max_size=len(TEXT_DETECTORS)))


def _texts(seed: int, around: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(detector, text, sensitive) for every detector, one of its hand-written rows wrapped in random words."""
    rng = random.Random(seed)
    chosen = [rng.choice([(n, t, s) for n, t, s in SAMPLES if n == d.name]) for d in TEXT_DETECTORS]
    return [(name, f"{before} {text} {after}", secret) for (name, text, secret), (before, after) in zip(chosen, around)]


@settings(max_examples=300, deadline=None, database=None)
@given(DRAWS)
def test_gates_stay_necessary_on_generated_secrets(draw):
    seed, around = draw
    for (name, text, _), detector in zip(_texts(seed, around), TEXT_DETECTORS):
        assert name == detector.name
        assert _search(detector.regex, text), (name, text)
        for scanned in (text, gateway_text({"app.note": text}), gateway_text({f"k {text}": 1})):
            assert not _search(detector.regex, scanned) or any(_search(g, scanned) for g in detector.checks), (name, scanned)


def _positions(text: str) -> list[dict]:
    return [kv("p.value", text), kv(f"p.key {text}", "v"), kv("p.list", {"arrayValue": {"values": [{"stringValue": text}]}}),
            kv("p.nested", {"kvlistValue": {"values": [kv("inner", text)]}}),
            kv("p.bytes", {"bytesValue": base64.b64encode(text.encode()).decode()})]


def _requests(texts: list[tuple[str, str, str]], example: int) -> dict[str, dict]:
    spans, records, metrics, resources = [], [], [], []
    for i, (_, text, _) in enumerate(texts):
        sid = f"{example * 1000 + i + 1:016x}"
        spans.append({"traceId": TRACE_ID, "spanId": sid, "name": f"op {text}", "startTimeUnixNano": str(NOW),
                      "endTimeUnixNano": str(NOW + 1), "attributes": [kv("example", example)] + _positions(text),
                      "events": [{"timeUnixNano": str(NOW), "name": text, "attributes": _positions(text)}]})
        records.append({"timeUnixNano": str(NOW), "body": {"stringValue": text}, "attributes": [kv("example", example)] + _positions(text)})
        records.append({"timeUnixNano": str(NOW), "body": {"kvlistValue": {"values": _positions(text)}}, "attributes": [kv("example", example)]})
        metrics.append({"name": f"prop.m{example}.{i}", "sum": {"aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [
            {"asDouble": 1.0, "timeUnixNano": str(NOW), "attributes": [kv("p.value", text), kv(f"p.key {text}", "v")],
             "exemplars": [{"timeUnixNano": str(NOW), "asDouble": 1.0, "traceId": TRACE_ID, "spanId": sid,
                            "filteredAttributes": [kv("x", text)]}]}]}})
        resources.append(_positions(text))
    scope = {"name": f"prop-{example}", "attributes": [kv(f"s{i}", t) for i, (_, t, _) in enumerate(texts)]}
    resource = {"attributes": [kv("service.name", "prop")] + [kv(f"r{i}", t) for i, (_, t, _) in enumerate(texts)]}
    return {"traces": {"resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": scope, "spans": spans}]}]},
            "logs": {"resourceLogs": [{"resource": resource, "scopeLogs": [{"scope": scope, "logRecords": records}]}]},
            "metrics": {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"scope": scope, "metrics": metrics}]}]}}


@pytest.fixture(scope="module")
def gw():
    with gateway() as g:
        yield g


EXAMPLES = iter(range(1, 10_000))


@settings(max_examples=6, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                              HealthCheck.too_slow])
@given(DRAWS)
def test_generated_secrets_never_leave_the_gateway(gw, draw):
    seed, around = draw
    texts, example = _texts(seed, around), next(EXAMPLES)
    for signal, body in _requests(texts, example).items():
        assert post(gw, signal, body) == 200
    n = len(texts)
    assert wait(lambda: sum(1 for s in gw.traces.spans() if s["attributes"].get("example") == example) >= n
                and sum(1 for r in gw.logs.logs() if r["attributes"].get("example") == example) >= 2 * n
                and sum(1 for s in gw.metrics.series() if s["labels"]["__name__"].startswith(f"prop_m{example}_")) >= n)
    leaks = [(name, s[:80]) for sink in (gw.traces, gw.logs, gw.metrics) for s in sink.all_strings()
             for name, _, sensitive in texts if sensitive in s]
    assert leaks == []
    redacted = [s for s in gw.traces.spans() if s["attributes"].get("example") == example]
    assert all("[REDACTED:" in s["name"] for s in redacted)


