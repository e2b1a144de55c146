"""Prompt and completion text under the canonical content keys and the keys of instrumentations the
alias table does not rename (written out by hand in tests/content_keys.py; the gateway takes them
from telemetry/aliases.py CONTENT_KEYS and EVENT_CONTENT, checked in ALIAS_SOURCES.md) under each
content mode, and the unknown-key guard on and off, through the real gateway."""
from __future__ import annotations

import json

import pytest

from collector_harness import content_hash
from content_keys import CANONICAL, INSTRUMENTATIONS
from gateway_run import gateway, wait
from otlp_json import NOW, kv, logs, post, span, traces
from telemetry import aliases, keys as k
from telemetry.catalog import BY_NAME

PROMPT = json.dumps([{"role": "user", "content": [{"type": "text", "text": "Why was order 48213 refunded twice last week?"}]}])
SECRET = "my card is 4111 1111 1111 1111"
PREVIEW = 40
LLM = {k.OPERATION: "chat", k.REQUEST_MODEL: "gpt-4o"}
# Logfire's content keys are plain words (renaming them everywhere would hit other apps): the guard's job.
LOGFIRE = {"request_data": json.dumps({"messages": [{"role": "user", "content": f"Please check this, {SECRET}."}], "model": "gpt-4o"}),
           "response_data": json.dumps({"message": {"role": "assistant", "content": "The refund was issued twice by mistake."}}),
           "events": json.dumps([{"event.name": "gen_ai.user.message", "content": "Why was order 48213 refunded twice?"}])}
EVENTS = [  # (event name, field, value): semconv message events (Strands legacy mode), LlamaIndex events
    ("gen_ai.user.message", "content", PROMPT), ("gen_ai.choice", "message", "The refund was issued twice by mistake."),
    ("LLMChatStartEvent", "messages", PROMPT), ("QueryStartEvent", "query", "why was order 48213 refunded twice"),
    ("LLMCompletionEndEvent", "response.text", "The refund was issued twice by mistake."),
]
# Hand-written (tests/content_keys.py): the canonical content keys and other instrumentations' ones.
CONTENT_KEYS = CANONICAL + INSTRUMENTATIONS
BENIGN_LONG = "this is a long sentence under a key the operator allowlisted on purpose"


# Lists and maps under content keys (the conventions allow structured values): a canonical key,
# an instrumentation's exact key, a map.
STRUCTURED = {"gen_ai.input.messages": ["hello there, this is a long enough prompt", SECRET],
              "llm.prompts": ["a prompt that is long enough to be cut", "and a second"],
              "ai.prompt": {"text": "a prompt in a map, long enough to be cut " + SECRET}}


def _otlp(value) -> dict:
    if isinstance(value, list):
        return {"arrayValue": {"values": [{"stringValue": v} for v in value]}}
    return {"kvlistValue": {"values": [kv(key, v) for key, v in value.items()]}}


def _send(gw) -> None:
    spans = [span(f"content {key}", {**LLM, key: PROMPT + " " + SECRET}, i + 1) for i, key in enumerate(CONTENT_KEYS)]
    spans.append(span("events", {**LLM}, 900, [{"name": n, "attributes": {f: v}} for n, f, v in EVENTS]))
    spans.append(span("logfire", {**LLM, **LOGFIRE, "exception.message": BENIGN_LONG, "app.short": "ok then",
                                  "app.single": "x" * 80}, 901))
    spans.append(span("not llm", {"app.story": BENIGN_LONG}, 902))
    spans.append(span("structured", {**LLM, **{key: _otlp(v) for key, v in STRUCTURED.items()}}, 903))
    record = {"timeUnixNano": str(NOW), "eventName": "gen_ai.user.message",
              "body": {"kvlistValue": {"values": [kv("content", "hi"), kv("app.extra", LOGFIRE["response_data"])]}},
              "attributes": [kv("app.note", LOGFIRE["request_data"])]}
    assert post(gw, "traces", traces(spans)) == 200
    assert post(gw, "logs", logs([record])) == 200
    assert wait(lambda: len(gw.traces.spans()) >= len(spans) and gw.logs.logs())


@pytest.fixture(scope="module", params=["hash", "preview", "drop"])
def run(request):
    mode = request.param
    with gateway(content={"mode": mode, "preview_chars": PREVIEW}) as gw:
        _send(gw)
        yield mode, gw


def _span(gw, name: str) -> dict:
    (found,) = [s for s in gw.traces.spans() if s["name"] == name]
    return found["attributes"] | {"__events__": found["events"]}


def test_instrumentation_content_keys_follow_the_mode(run):
    mode, gw = run
    for key in CONTENT_KEYS:
        a = _span(gw, f"content {key}")
        value = PROMPT + " " + SECRET
        assert key not in a and "4111" not in str(a), (key, a)
        assert a[key + ".length"] == len(value)
        assert (a.get(key + ".hmac") == content_hash(value)) is (mode != "drop"), key
        if mode == "preview":
            assert a[key + ".preview"] == value[:PREVIEW], key   # cut to preview_chars after the detectors
        else:
            assert key + ".preview" not in a


def test_span_event_content_follows_the_mode(run):
    mode, gw = run
    events = {e["name"]: e["attributes"] for e in _span(gw, "events")["__events__"]}
    for name, field, value in EVENTS:
        a = events[name]
        assert field not in a and a[field + ".length"] == len(value), (name, a)
        assert (a.get(field + ".hmac") == content_hash(value)) is (mode != "drop"), name
        assert (a.get(field + ".preview") == value[:PREVIEW]) is (mode == "preview"), name


def test_guard_treats_unknown_free_text_as_content(run):
    mode, gw = run
    a = _span(gw, "logfire")
    expected = {"hash": lambda v: f"[CONTENT:hmac:{content_hash(v)}]", "drop": lambda v: "[CONTENT:dropped]",
                "preview": lambda v: "[CONTENT:preview] " + v[:PREVIEW]}[mode]
    for key, value in LOGFIRE.items():
        # The guard runs after the detectors: it hashes or previews the redacted text.
        assert a[key] == expected(value.replace("4111 1111 1111 1111", "[REDACTED:credit_card]")), (key, a[key])
    assert "4111" not in str(a)
    # Allowlisted, short, single-word values and spans that are not LLM calls are left alone.
    assert a["exception.message"] == BENIGN_LONG and a["app.short"] == "ok then" and a["app.single"] == "x" * 80
    assert _span(gw, "not llm")["app.story"] == BENIGN_LONG
    # The first key in key order names the span for the counter.
    assert a[k.CONTENT_GUARDED] == "events"
    prom = BY_NAME["llm.content.guarded"].prometheus
    assert wait(lambda: gw.sum_of(prom, llmobs_content_guarded="events") == 1)


def test_guard_on_genai_log_events(run):
    mode, gw = run
    (record,) = gw.logs.logs()
    assert record["attributes"]["app.note"].startswith("[CONTENT:") and "4111" not in str(record)
    assert record["body"]["app.extra"].startswith("[CONTENT:")
    assert record["attributes"][k.CONTENT_GUARDED] == "app.extra" or record["attributes"][k.CONTENT_GUARDED] == "app.note"
    prom = BY_NAME["llm.content.guarded.logs"].prometheus
    assert wait(lambda: gw.sum_of(prom) == 1)


def test_guard_off_leaves_unknown_keys_to_the_detectors():
    with gateway(content={"guard": {"enabled": False}}) as gw:
        _send(gw)
        a = _span(gw, "logfire")
        assert a["response_data"] == LOGFIRE["response_data"]
        assert "[REDACTED:credit_card]" in a["request_data"] and "4111" not in a["request_data"]
        assert k.CONTENT_GUARDED not in a
        assert not gw.metrics.latest(BY_NAME["llm.content.guarded"].prometheus)


def test_guard_allowlist_and_threshold_are_settings():
    with gateway(content={"guard": {"allowlist": ["response_data"], "min_chars": 200}}) as gw:
        _send(gw)
        a = _span(gw, "logfire")
        assert a["response_data"] == LOGFIRE["response_data"]          # allowlisted
        assert a["events"] == LOGFIRE["events"]                          # shorter than 200 characters
        assert a["request_data"].startswith("[CONTENT:hmac:") is (len(LOGFIRE["request_data"]) >= 200)


def test_structured_content_follows_the_mode_as_json_text(run):
    """A list or map is content as much as a string: hashed, cut or dropped as its JSON text,
    never kept whole under `.hmac` or `.preview`."""
    mode, gw = run
    a = _span(gw, "structured")
    assert "4111" not in str(a) and "second" not in str(a), a
    for key, value in STRUCTURED.items():
        text = json.dumps(value, separators=(",", ":"))
        assert key not in a and a[key + ".length"] == len(text), (key, a)
        assert (a.get(key + ".hmac") == content_hash(text)) is (mode != "drop"), (key, a)
        assert (a.get(key + ".preview") == text[:PREVIEW]) is (mode == "preview"), (key, a)
