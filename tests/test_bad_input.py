"""Bad input sent to the real gateway: it answers with an error or drops the value, never crashes,
and a counter shows what was dropped; cost and token counters never go negative, NaN or infinite."""
from __future__ import annotations

import math
import urllib.error
import urllib.request

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from collector_harness import TOKEN
from gateway_run import gateway, wait
from telemetry import keys as k
from telemetry.catalog import BY_NAME

PROM = {name: m.prometheus for name, m in BY_NAME.items()}


def _post(gw, body: bytes) -> int:
    req = urllib.request.Request(f"{gw.collector.http_endpoint}/v1/traces", data=body, method="POST",
                                 headers={"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def _request(name: str, attributes: list[KeyValue]) -> ExportTraceServiceRequest:
    span = Span(trace_id=bytes(range(16)), span_id=bytes(range(8)), name=name, attributes=attributes,
                start_time_unix_nano=1_700_000_000_000_000_000, end_time_unix_nano=1_700_000_001_000_000_000)
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])])


def _healthy(gw) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{gw.collector.listen.health_port}/", timeout=5) as r:
        return r.status == 200


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field, by hand: Python's protobuf refuses 64 nesting levels."""
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                return bytes(out)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def _deep_request(depth: int) -> bytes:
    value = _field(1, b"leaf")                                                 # AnyValue.string_value
    for i in range(depth):
        key_value = _field(1, f"l{i}".encode()) + _field(2, value)             # KeyValue{key, value}
        value = _field(6, _field(1, key_value))                                # AnyValue.kvlist_value{values}
    attribute = _field(9, _field(1, b"app.deep") + _field(2, value))          # Span.attributes
    span = _request("deep", []).resource_spans[0].scope_spans[0].spans[0].SerializeToString() + attribute
    return _field(1, _field(2, _field(2, span)))                               # request{rs{scope_spans{spans}}}


@pytest.fixture
def gw(request):
    """One gateway per test: a batch the Python test sink cannot parse (64 nesting levels)
    would keep being retried and hold up the next test's spans."""
    with gateway() as g:
        yield g


def test_malformed_otlp_is_rejected_and_the_gateway_lives(gw):
    assert _post(gw, b"\x0a\xff\xff\xff\xff this is not protobuf") == 400
    assert _healthy(gw)


def test_invalid_utf8_is_replaced_before_it_reaches_a_backend(gw):
    body = _request("utf8 PLACEHOLDER", [KeyValue(key="app.note", value=AnyValue(string_value="ok PLACEHOLDER ok"))]
                    ).SerializeToString()
    assert body.count(b"PLACEHOLDER") == 2
    assert _post(gw, body.replace(b"PLACEHOLDER", b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5")) == 200
    # The Python sink parses only valid UTF-8: the span arriving at all proves it was repaired.
    assert wait(lambda: any(s["name"].startswith("utf8") for s in gw.traces.spans()), timeout=30)
    span = next(s for s in gw.traces.spans() if s["name"].startswith("utf8"))
    assert span["attributes"]["app.note"] == "ok " + "\ufffd" * 11 + " ok"
    assert span["name"] == "utf8 " + "\ufffd" * 11
    assert _healthy(gw)


def test_a_1_mib_value_passes_without_harm(gw):
    request = _request("huge", [KeyValue(key="app.huge", value=AnyValue(string_value="a" * (1 << 20)))])
    assert _post(gw, request.SerializeToString()) == 200
    assert wait(lambda: any(s["name"] == "huge" for s in gw.traces.spans()), timeout=30)
    assert _healthy(gw)


def test_64_level_nested_maps_are_accepted(gw):
    """The gateway accepts and processes it; the test's Python sink cannot parse 64 levels
    (protobuf's recursion limit), so acceptance is read from the gateway's own counter."""
    accepted = lambda: _metric(gw, "otelcol_receiver_accepted_spans")  # noqa: E731
    before = accepted()
    assert _post(gw, _deep_request(64)) == 200
    assert wait(lambda: accepted() >= before + 1, timeout=30)
    assert _healthy(gw)


def _metric(gw, name: str) -> float:
    url = f"http://127.0.0.1:{gw.collector.listen.telemetry_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


BAD = ((k.INPUT_TOKENS, -500), (k.OUTPUT_TOKENS, float("nan")), (k.CACHED_INPUT_TOKENS, "lots"), (k.TTFT, float("inf")),
       (k.EVAL_SCORE, True), (k.RETRIEVAL_RETURNED, [3, 4]))


def _chat(app, name: str, **attributes) -> None:
    with app.tracer.start_as_current_span(name) as span:
        span.set_attribute(k.OPERATION, "chat")
        span.set_attribute(k.PROVIDER, "openai")
        span.set_attribute(k.REQUEST_MODEL, "gpt-4o")
        for key, value in attributes.items():
            span.set_attribute(key, value)


def test_bad_numbers_are_dropped_and_counted(gw):
    app = gw.app()
    for key, value in BAD:   # one bad value per span: each is counted under its key
        _chat(app, f"chat bad {key}", **{key: value, k.OUTPUT_TOKENS if key != k.OUTPUT_TOKENS else k.INPUT_TOKENS: 10})
    _chat(app, "chat good", **{k.INPUT_TOKENS: 1000, k.OUTPUT_TOKENS: 100})
    app.close()
    invalid = PROM["llm.invalid.values"]
    assert wait(lambda: gw.sum_of(invalid) == len(BAD), timeout=30), gw.metrics.latest(invalid)
    assert {dict(labels)[k.INVALID.replace(".", "_")] for labels in gw.metrics.latest(invalid)} == {key for key, _ in BAD}
    assert wait(lambda: gw.sum_of(PROM["llm.requests"]) == len(BAD) + 1, timeout=30)
    for name in ("llm.tokens.input", "llm.tokens.output", "llm.cost"):
        values = gw.metrics.latest(PROM[name]).values()
        assert values and all(math.isfinite(v) and v >= 0 for v in values), (name, values)
    # The good span's tokens plus the valid companions (10 each) of the bad spans; nothing of the bad values.
    assert gw.sum_of(PROM["llm.tokens.input"]) == 1000 + 10
    assert gw.sum_of(PROM["llm.tokens.output"]) == 100 + 10 * (len(BAD) - 1)
    assert wait(lambda: sum(s["name"].startswith("chat bad") for s in gw.traces.spans()) == len(BAD), timeout=30)
    spans = {s["name"]: s for s in gw.traces.spans()}
    for key, _ in BAD:
        attrs = spans[f"chat bad {key}"]["attributes"]
        assert key not in attrs and attrs[k.INVALID] == key
        assert math.isfinite(attrs.get(k.COST, 0.0)) and attrs.get(k.COST, 0.0) >= 0


def test_invalid_utf8_in_the_span_name_alone_is_replaced(gw):
    body = _request("name PLACEHOLDER", [KeyValue(key="app.note", value=AnyValue(string_value="clean"))]
                    ).SerializeToString()
    assert _post(gw, body.replace(b"PLACEHOLDER", b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5")) == 200
    assert wait(lambda: any(s["name"].startswith("name ") for s in gw.traces.spans()), timeout=30)
    span = next(s for s in gw.traces.spans() if s["name"].startswith("name "))
    assert span["name"] == "name " + "\ufffd" * 11 and span["attributes"]["app.note"] == "clean"
