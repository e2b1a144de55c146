"""Debug samples of the content that instrumentations put only in span attributes
(debug.span_content): the project's spanlogs connector, through the real gateway."""
from __future__ import annotations

import pytest

from corpus import SECRETS
from collector_config import debug
from gateway_run import await_sentinel, wait
from telemetry import keys as k
from test_debug_and_forwarding import (MARK, SENTINEL, _app, _by_tenant_header, _no_sentinel, _sentinel_in, _texts,
                                       run, tolerance)

RATE = 0.3
CALLS, OTHERS = 600, 40
PREVIEW = 300


def _call(app, tenant: str, feature: str, text: str, key: str = k.INPUT_MESSAGES, event: bool = False) -> None:
    """An agent step: a parent span without content, an LLM span that carries it under `key`,
    and optionally a GenAI log event with the same text (same trace)."""
    with app.tracer.start_as_current_span("invoke_agent support") as parent:
        parent.set_attribute(k.TENANT, tenant)
        parent.set_attribute(k.FEATURE, feature)
        with app.tracer.start_as_current_span("chat gpt-4o-mini") as span:
            span.set_attribute(k.OPERATION, "chat")
            span.set_attribute(k.REQUEST_MODEL, "gpt-4o-mini")
            span.set_attribute(k.TENANT, tenant)
            span.set_attribute(k.FEATURE, feature)
            span.set_attribute(key, text)
            if event:
                app.logger.emit(body=text, event_name="gen_ai.user.message",
                                attributes={k.TENANT: tenant, k.FEATURE: feature})


def test_span_content_sampled_once_per_span_opted_in_redacted_linked_and_only_in_the_debug_tenant():
    with run(content={"never_retain": {"tenants": ["initech"], "keep": "hash"}},
             debug={"enabled": True, "tenants": ["acme", "initech"], "features": ["chat"], "sample_rate": RATE,
                    "preview_chars": PREVIEW, "span_content": True}) as (collector, traces, logs):
        app = _app(collector)
        for i in range(CALLS):   # the canonical key and an instrumentation's own (Vercel AI SDK's ai.prompt)
            _call(app, "acme", "chat", f"acme call {i}: please help, " + SECRETS[i % len(SECRETS)][1],
                  key=k.INPUT_MESSAGES if i % 2 else "ai.prompt")
        for i in range(OTHERS):
            _call(app, "acme", "search", f"acme search {i}")
            _call(app, "globex", "chat", f"globex call {i}")
            _call(app, "initech", "chat", f"{MARK} {i} " + SECRETS[i % len(SECRETS)][1])
        app.flush()
        assert wait(lambda: len(traces.spans()) == 2 * (CALLS + 3 * OTHERS), timeout=60)
        # The debug pipeline batches on its own: a sampled sentinel span after the data, then check.
        assert await_sentinel(lambda i: (_call(app, "acme", "chat", f"{SENTINEL} {i}"), app.flush()),
                              _sentinel_in(logs, "debug"))
        app.close()
        by_header = {tenant: _no_sentinel(records) for tenant, records in _by_tenant_header(logs).items()}
        spans = {s["span_id"]: s for s in traces.spans()}
    # The app sent no logs: span records reach the debug tenant and nothing else.
    assert set(by_header) == {"debug"}, set(by_header)
    samples = by_header["debug"]
    assert {r["event_name"] for r in samples} == {debug.SPAN_EVENT}
    assert {(r["attributes"][k.TENANT], r["attributes"][k.FEATURE]) for r in samples} == {("acme", "chat")}
    # One record per sampled LLM span (the parent has no content), linked to it.
    per_trace: dict[str, int] = {}
    for r in samples:
        per_trace[r["trace_id"]] = per_trace.get(r["trace_id"], 0) + 1
        span = spans[r["span_id"]]
        assert span["trace_id"] == r["trace_id"] and span["name"] == "chat gpt-4o-mini"
        assert r["severity_number"] == 5 and r["resource"][debug.DEBUG_ATTRIBUTE] == "true"
        assert r["attributes"][debug.SAMPLE_ATTRIBUTE] is True
        content = r["attributes"].get(k.INPUT_MESSAGES) or r["attributes"]["ai.prompt"]
        assert "please help" in content and len(content) <= PREVIEW, content
    assert set(per_trace.values()) == {1}, per_trace
    share = len(per_trace) / CALLS
    print(f"\nspan debug samples: {len(per_trace)}/{CALLS} traces ({share:.3f}, configured {RATE}, "
          f"tolerance {tolerance(RATE, CALLS):.3f})")
    assert abs(share - RATE) <= tolerance(RATE, CALLS), share
    assert {"ai.prompt", k.INPUT_MESSAGES} <= {key for r in samples for key in r["attributes"]}
    # Every detector ran on the copies; the never-retain tenant is in no output at all.
    text = _texts(samples)
    assert [core for _, _, core in SECRETS if core in text] == [] and "[REDACTED:" in text
    assert MARK not in text + _texts(list(spans.values()))
    # The traces themselves keep only hashes, as without the store.
    assert not any(k.INPUT_MESSAGES in s["attributes"] or "ai.prompt" in s["attributes"] for s in spans.values())


def test_span_and_event_records_of_a_trace_are_sampled_together():
    with run(debug={"enabled": True, "tenants": ["acme"], "sample_rate": 0.5, "span_content": True}) \
            as (collector, traces, logs):
        app = _app(collector)
        for i in range(200):
            _call(app, "acme", "chat", f"acme call {i}", event=True)
        app.flush()
        assert wait(lambda: len(_by_tenant_header(logs).get(debug.NORMAL_TENANT, [])) == 200, timeout=60)
        # Both records of a sampled sentinel trace after the data, then check.
        assert await_sentinel(lambda i: (_call(app, "acme", "chat", f"{SENTINEL} {i}", event=True), app.flush()),
                              lambda: len([r for r in _by_tenant_header(logs).get("debug", []) if SENTINEL in _texts([r])]) >= 2)
        app.close()
        samples = _no_sentinel(_by_tenant_header(logs)["debug"])
    kinds: dict[str, set[str]] = {}
    for r in samples:
        kinds.setdefault(r["trace_id"], set()).add(r["event_name"])
    # Both sources hash the same trace id with the same seed: a sampled trace has both records.
    assert set(map(frozenset, kinds.values())) == {frozenset({debug.SPAN_EVENT, "gen_ai.user.message"})}, kinds
    assert len(samples) == 2 * len(kinds)


def test_span_events_with_content_become_one_record_each_with_the_spans_tenant_and_model():
    with run(debug={"enabled": True, "tenants": ["acme"], "features": ["chat"], "sample_rate": 1.0,
                    "preview_chars": PREVIEW, "span_content": True}) as (collector, traces, logs):
        app = _app(collector)
        for i, tenant in enumerate(("acme", "acme", "globex")):
            with app.tracer.start_as_current_span("chat gpt-4o-mini") as span:
                span.set_attribute(k.OPERATION, "chat")
                span.set_attribute(k.REQUEST_MODEL, "gpt-4o-mini")
                span.set_attribute(k.TENANT, tenant)
                span.set_attribute(k.FEATURE, "chat")
                # OpenLIT: gen_ai.prompt on a gen_ai.content.prompt event (normalized to gen_ai.input.messages)
                span.add_event("gen_ai.content.prompt", {"gen_ai.prompt": f"{tenant} {i}: " + SECRETS[i][1]})
                # Semconv <= 1.36 message events as span events (Strands' legacy mode): plain `content`
                span.add_event("gen_ai.choice", {"content": f"answer {i} for {tenant}", "index": 0})
                span.add_event("retry", {"attempt": 1})   # no content: never copied
        app.flush()
        assert wait(lambda: len(traces.spans()) == 3, timeout=30)

        def sentinel(i: int) -> None:   # a copied event after the data (sample_rate 1)
            with app.tracer.start_as_current_span("chat gpt-4o-mini") as span:
                span.set_attributes({k.OPERATION: "chat", k.TENANT: "acme", k.FEATURE: "chat"})
                span.add_event("gen_ai.choice", {"content": f"{SENTINEL} {i}"})
            app.flush()
        assert await_sentinel(sentinel, _sentinel_in(logs, "debug"))
        app.close()
        samples = _no_sentinel(_by_tenant_header(logs)["debug"])
        spans = {s["span_id"]: s for s in traces.spans() if SENTINEL not in _texts([s])}
    names = sorted(r["event_name"] for r in samples)
    assert names == ["gen_ai.choice", "gen_ai.choice", "gen_ai.content.prompt", "gen_ai.content.prompt"], names
    for r in samples:
        a = r["attributes"]
        assert (a[k.TENANT], a[k.FEATURE], a[k.REQUEST_MODEL], a[k.OPERATION]) == ("acme", "chat", "gpt-4o-mini", "chat")
        assert spans[r["span_id"]]["trace_id"] == r["trace_id"] and r["severity_number"] == 5
        assert (a.get(k.INPUT_MESSAGES) or a["content"]).startswith(("acme", "answer"))
    text = _texts(samples)
    assert SECRETS[0][2] not in text and SECRETS[1][2] not in text and "[REDACTED:" in text
    assert "globex" not in text and "attempt" not in text
    # The events on the spans themselves keep only hashes, as without the store.
    assert not any("gen_ai.input.messages" in e["attributes"] for s in spans.values() for e in s.get("events", []))


def test_without_span_content_no_span_is_copied():
    with run(debug={"enabled": True, "tenants": ["acme"], "sample_rate": 1.0}) as (collector, traces, logs):
        app = _app(collector)
        for i in range(20):
            _call(app, "acme", "chat", f"acme call {i}", event=i % 2 == 0)
        app.flush()
        assert wait(lambda: len(_by_tenant_header(logs).get("debug", [])) == 10, timeout=30)
        # A sentinel event after the data: a span copy would have come down the same debug pipeline first.
        assert await_sentinel(lambda i: (_call(app, "acme", "chat", f"{SENTINEL} {i}", event=True), app.flush()),
                              _sentinel_in(logs, "debug"))
        app.close()
        samples = _no_sentinel(_by_tenant_header(logs)["debug"])
    assert len(samples) == 10 and {r["event_name"] for r in samples} == {"gen_ai.user.message"}
    assert "spanlogs" not in collector.config_text and "traces/debug" not in collector.config_text
