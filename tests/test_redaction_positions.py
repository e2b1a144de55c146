"""Every detector kind in every OTLP position the gateway redacts, on all three signals, sent as
raw OTLP/JSON (positions the SDK cannot produce: scope attributes, keys, nested kvlists, exemplar
attributes, histogram and summary points, bytes values) through the real collector; plus the
span links (dropped by default, redacted when kept)."""
from __future__ import annotations

import base64
import json

import pytest

from corpus import SECRETS
from gateway_run import gateway, wait
from otlp_json import NOW, TRACE_ID, kv as _kv, post as _post, s as _s
from sinks import attrs


def _b(text: str) -> dict:
    return {"bytesValue": base64.b64encode(text.encode()).decode()}


def _positions(text: str) -> list[dict]:
    """Attributes holding `text` as a value, inside a nested kvlist and a list, as a key, and as
    a bytes value (which the gateway turns into text before the detectors run)."""
    return [_kv("p.value", _s(text)),
            _kv("p.nested", {"kvlistValue": {"values": [_kv("inner", {"kvlistValue": {"values": [_kv("deep", _s(text))]}})]}}),
            _kv("p.list", {"arrayValue": {"values": [_s("ok"), _s(text)]}}),
            _kv(f"p.key {text}", _s("v")),
            _kv("p.bytes", _b(text))]


def _case(i: int) -> dict:
    return _kv("case", _s(str(i)))


def _traces() -> dict:
    out = []
    for i, (_kind, text, _core) in enumerate(SECRETS):
        span = {"traceId": TRACE_ID, "spanId": f"{i + 1:016x}", "name": f"op {text}",
                "startTimeUnixNano": str(NOW), "endTimeUnixNano": str(NOW + 10**9),
                "attributes": [_case(i)] + _positions(text),
                "events": [{"timeUnixNano": str(NOW), "name": f"ev {text}", "attributes": _positions(text)}],
                "status": {"code": 2, "message": f"failed: {text}"}}
        out.append({"resource": {"attributes": [_case(i), _kv("service.name", _s("raw-otlp"))] + _positions(text)},
                    "scopeSpans": [{"scope": {"name": f"scope-{i}", "attributes": _positions(text)}, "spans": [span]}]})
    return {"resourceSpans": out}


def _logs() -> dict:
    out = []
    for i, (_kind, text, _core) in enumerate(SECRETS):
        records = [{"timeUnixNano": str(NOW), "body": _s(f"debug {text}"), "attributes": [_case(i), _kv("shape", _s("string"))] + _positions(text)},
                   {"timeUnixNano": str(NOW), "body": {"kvlistValue": {"values": _positions(text)}},
                    "attributes": [_case(i), _kv("shape", _s("map"))]},
                   {"timeUnixNano": str(NOW), "body": _b(f"debug {text}"), "attributes": [_case(i), _kv("shape", _s("bytes"))]}]
        out.append({"resource": {"attributes": [_case(i), _kv("service.name", _s("raw-otlp"))] + _positions(text)},
                    "scopeLogs": [{"scope": {"name": f"scope-{i}", "attributes": _positions(text)}, "logRecords": records}]})
    return {"resourceLogs": out}


def _metrics() -> dict:
    out = []
    for i, (_kind, text, _core) in enumerate(SECRETS):
        point = {"attributes": [_case(i)] + _positions(text)[:1] + _positions(text)[3:], "timeUnixNano": str(NOW),
                 "startTimeUnixNano": str(NOW - 10**9)}
        exemplar = {"timeUnixNano": str(NOW), "asDouble": 1.0, "traceId": TRACE_ID, "spanId": f"{i + 1:016x}",
                    "filteredAttributes": [_kv("ex.value", _s(text))]}
        metrics = [
            {"name": f"raw.sum{i}", "sum": {"aggregationTemporality": 2, "isMonotonic": True,
                                            "dataPoints": [{**point, "asDouble": 1.0, "exemplars": [exemplar]}]}},
            {"name": f"raw.gauge{i}", "gauge": {"dataPoints": [{**point, "asDouble": 2.0}]}},
            {"name": f"raw.hist{i}", "histogram": {"aggregationTemporality": 2, "dataPoints": [
                {**point, "count": "1", "sum": 1.0, "bucketCounts": ["1", "0"], "explicitBounds": [5.0],
                 "exemplars": [exemplar]}]}},
            {"name": f"raw.exphist{i}", "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": [
                {**point, "count": "1", "sum": 1.0, "scale": 0, "zeroCount": "0",
                 "positive": {"offset": 0, "bucketCounts": ["1"]}}]}},
            {"name": f"raw.summary{i}", "summary": {"dataPoints": [
                {**point, "count": "1", "sum": 1.0, "quantileValues": [{"quantile": 0.5, "value": 1.0}]}]}},
        ]
        out.append({"resource": {"attributes": [_case(i), _kv("service.name", _s("raw-otlp"))] + _positions(text)[:1]},
                    "scopeMetrics": [{"scope": {"name": f"scope-{i}", "attributes": _positions(text)[:1]}, "metrics": metrics}]})
    return {"resourceMetrics": out}


@pytest.fixture(scope="module")
def run(request):
    with gateway() as gw:
        for signal, body in (("traces", _traces()), ("logs", _logs()), ("metrics", _metrics())):
            assert _post(gw, signal, body) == 200
        n = len(SECRETS)
        assert wait(lambda: len([s for s in gw.traces.spans() if "case" in s["attributes"]]) >= n), gw.collector.logs()[-2000:]
        assert wait(lambda: len([r for r in gw.logs.logs() if "case" in r["attributes"]]) >= 3 * n)
        assert wait(lambda: len({s["labels"]["__name__"] for s in gw.metrics.series()
                                 if s["labels"]["__name__"].startswith("raw_")}) >= 5 * n)
        yield gw


def _tag(kind: str) -> str:
    return f"[REDACTED:{kind}]"


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, bytes):
        return [value.decode("utf-8", "replace")]
    return [value] if isinstance(value, str) else []


def _check(where: str, kind: str, core: str, strings: list[str], problems: list) -> None:
    """The secret is gone, the detector's tag is there, and a key-name tag shows where it was a key."""
    joined = "\n".join(strings)
    if core in joined:
        problems.append((where, kind, "leaked"))
    elif _tag(kind) not in joined:
        problems.append((where, kind, "no tag"))
    elif _tag("key") not in joined:
        problems.append((where, kind, "key not rewritten"))


def test_no_secret_leaves_the_gateway_on_any_signal(run):
    leaks = [(type(sink).__name__, kind, s[:80]) for sink in (run.traces, run.logs, run.metrics)
             for s in sink.all_strings() for kind, _text, core in SECRETS if core in s]
    assert leaks == []


def _bytes_values(msg) -> list[bytes]:
    out = []
    for field, value in msg.ListFields():
        for item in value if field.is_repeated else [value]:
            if field.type == field.TYPE_MESSAGE:
                if type(item).__name__ == "AnyValue" and item.WhichOneof("value") == "bytes_value":
                    out.append(item.bytes_value)
                out += _bytes_values(item)
    return out


def test_bytes_values_arrive_as_redacted_text(run):
    """No bytes value leaves the gateway: each became text and went through the detectors."""
    requests = [*run.traces.trace_requests, *run.logs.log_requests]
    assert [v[:40] for req in requests for v in _bytes_values(req)] == []
    spans = [s for s in run.traces.spans() if "case" in s["attributes"]]
    converted = [(kind, where[k]["p.bytes"]) for s in spans for kind, _t, _c in [SECRETS[int(s["attributes"]["case"])]]
                 for where, k in ((s, "attributes"), (s["events"][0], "attributes"), (s, "resource"))]
    assert len(converted) == 3 * len(SECRETS)
    assert [(kind, v) for kind, v in converted if not isinstance(v, str) or _tag(kind) not in v] == []


def test_every_trace_position(run):
    spans = {s["attributes"]["case"]: s for s in run.traces.spans() if "case" in s["attributes"]}
    scopes = {ss.scope.name: attrs(ss.scope.attributes) for req in run.traces.trace_requests
              for rs in req.resource_spans for ss in rs.scope_spans}
    problems: list = []
    for i, (kind, _text, core) in enumerate(SECRETS):
        span = spans[str(i)]
        event = span["events"][0]
        for where, strings in (("span attributes", _strings(span["attributes"])), ("event attributes", _strings(event["attributes"])),
                               ("resource attributes", _strings(span["resource"])), ("scope attributes", _strings(scopes[f"scope-{i}"]))):
            _check(where, kind, core, strings, problems)
        for where, text in (("span name", span["name"]), ("status", span["status_message"]), ("event name", event["name"])):
            if core in text or _tag(kind) not in text:
                problems.append((where, kind, text))
        # Nested maps and lists are flattened where they hid a secret.
        assert not any(core in s for s in _strings(span["attributes"]))
    assert problems == []


def test_every_log_position(run):
    records = {(r["attributes"]["case"], r["attributes"]["shape"]): r for r in run.logs.logs() if "case" in r["attributes"]}
    scopes = {sl.scope.name: attrs(sl.scope.attributes) for req in run.logs.log_requests
              for rl in req.resource_logs for sl in rl.scope_logs}
    problems: list = []
    for i, (kind, _text, core) in enumerate(SECRETS):
        plain, mapped, raw = records[(str(i), "string")], records[(str(i), "map")], records[(str(i), "bytes")]
        for where, strings in (("log attributes", _strings(plain["attributes"])), ("map body", _strings(mapped["body"])),
                               ("resource attributes", _strings(plain["resource"])), ("scope attributes", _strings(scopes[f"scope-{i}"]))):
            _check(where, kind, core, strings, problems)
        for where, body in (("string body", plain["body"]), ("bytes body", raw["body"])):
            if not isinstance(body, str) or core in body or _tag(kind) not in body:
                problems.append((where, kind, body))
    assert problems == []


def _named(series: dict, metric: str) -> bool:
    name = series["labels"]["__name__"]
    return name == metric or name.startswith(metric + "_")


def test_every_metric_position(run):
    """Data-point attributes of every metric type and exemplar attributes arrive as remote-write
    labels; resource attributes as target_info labels. (Remote write drops scope attributes, so
    the no-leak test is what covers them there.)"""
    series = run.metrics.series()
    problems: list = []
    for i, (kind, _text, core) in enumerate(SECRETS):
        for metric in (f"raw_sum{i}", f"raw_gauge{i}", f"raw_hist{i}", f"raw_exphist{i}", f"raw_summary{i}"):
            mine = [s for s in series if _named(s, metric)]
            if not mine:
                problems.append((metric, kind, "missing"))
                continue
            for s in mine:
                values = [v for k, v in s["labels"].items() if k != "__name__"]
                if core in " ".join(values) or not any(_tag(kind) in v for v in values):
                    problems.append((metric, kind, s["labels"]))
                if _tag(kind) not in s["labels"].get("p_bytes", ""):
                    problems.append((metric, kind, "bytes value", s["labels"].get("p_bytes")))
                if not any("REDACTED_key" in k for k in s["labels"]):
                    problems.append((metric, kind, "key not rewritten", sorted(s["labels"])))
        # Remote write drops an exemplar's labels past 128 characters (Prometheus' limit).
        exemplar_labels = [e["labels"]["ex.value"] for s in series if _named(s, f"raw_sum{i}") or _named(s, f"raw_hist{i}")
                           for e in s["exemplars"] if "ex.value" in e["labels"]]
        if exemplar_labels and (core in " ".join(exemplar_labels) or not any(_tag(kind) in v for v in exemplar_labels)):
            problems.append(("exemplar", kind, exemplar_labels))
    assert problems == []


def test_exemplars_reach_remote_write(run):
    """Guards the exemplar check above against passing because no exemplar label arrived."""
    tagged = {s["labels"]["__name__"] for s in run.metrics.series() if s["labels"]["__name__"].startswith("raw_sum")
              for e in s["exemplars"] if "[REDACTED:" in e["labels"].get("ex.value", "")}
    assert len(tagged) >= len(SECRETS) // 2, sorted(tagged)


def _gap_span(gw, name: str, text: str) -> dict:
    span = {"traceId": TRACE_ID, "spanId": "00000000000000aa", "name": name, "startTimeUnixNano": str(NOW),
            "endTimeUnixNano": str(NOW + 1), "droppedLinksCount": 1,
            "attributes": [_kv("b", _b(text)), _kv("empty", {}), _kv("n", {"intValue": "3"}),
                           _kv("bad", {"bytesValue": base64.b64encode(b"\xff\xfe" + text.encode()).decode()})],
            "links": [{"traceId": TRACE_ID, "spanId": "00000000000000ab", "attributes": [_kv("note", _s(text))]},
                      {"traceId": TRACE_ID, "spanId": "00000000000000ac"}]}
    assert _post(gw, "traces", {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [span]}]}]}) == 200
    assert wait(lambda: any(s["name"] == name for s in gw.traces.spans()))
    (got,) = [s for s in gw.traces.spans() if s["name"] == name]
    return got


def test_span_links_are_dropped_and_counted_by_default():
    """span_links: drop (the default): the links go, added to the count of dropped links the SDK sent."""
    text = "password=hunter2-Tr0ub4dor"
    with gateway() as gw:
        got = _gap_span(gw, "links", text)
    assert got["links"] == [] and got["dropped_links_count"] == 3
    assert "hunter2" not in json.dumps(got["links"])


def test_kept_links_are_redacted():
    """span_links: keep: link attributes pass, redacted like the span's."""
    text = "password=hunter2-Tr0ub4dor"
    with gateway(redaction={"span_links": "keep"}) as gw:
        got = _gap_span(gw, "kept", text)
    note = got["links"][0]["attributes"]["note"]
    assert "hunter2" not in note and "[REDACTED:credential_pair]" in note and got["dropped_links_count"] == 1


def test_bytes_next_to_an_empty_value_and_invalid_utf8():
    """Bytes values become UTF-8 text and are redacted; an empty value beside them stays; invalid
    UTF-8 arrives as U+FFFD; other types keep theirs."""
    text = "password=hunter2-Tr0ub4dor"
    with gateway() as gw:
        got = _gap_span(gw, "bytes", text)
    a = got["attributes"]
    assert isinstance(a["b"], str) and "hunter2" not in a["b"] and "[REDACTED:" in a["b"], a
    assert isinstance(a["bad"], str) and a["bad"].startswith("\ufffd\ufffd") and "hunter2" not in a["bad"], a
    assert a["n"] == 3 and "empty" in a, a


def test_bytes_content_follows_the_content_mode():
    """Content sent as bytes is content: hashed under the default mode, like a string."""
    from collector_harness import content_hash
    text = "Summarise the contract for me, please"
    span = {"traceId": TRACE_ID, "spanId": "00000000000000bb", "name": "chat m", "startTimeUnixNano": str(NOW),
            "endTimeUnixNano": str(NOW + 1),
            "attributes": [_kv("gen_ai.operation.name", _s("chat")), _kv("gen_ai.input.messages", _b(text))]}
    with gateway() as gw:
        assert _post(gw, "traces", {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [span]}]}]}) == 200
        assert wait(lambda: any(s["name"] == "chat m" for s in gw.traces.spans()))
        (got,) = [s for s in gw.traces.spans() if s["name"] == "chat m"]
        assert not gw.traces.contains("contract")
    a = got["attributes"]
    assert "gen_ai.input.messages" not in a and a["gen_ai.input.messages.length"] == len(text), a
    assert a["gen_ai.input.messages.hmac"] == content_hash(text), a
