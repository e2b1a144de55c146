"""The debug sample store, the never-retain tenant policy and forwarding, through the real gateway."""
from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Callable

import pytest
from opentelemetry.sdk.resources import Resource

from corpus import SECRETS
from collector_harness import TOKEN, RunningCollector
from gateway_run import App, await_sentinel, settings_for, wait
from collector_config import debug
from sinks import OtlpGrpcSink, OtlpHttpSink, RemoteWriteSink
from telemetry import keys as k

VENDOR_TOKEN = "vendor-token-5f0c9a1e"
SAMPLED_RATE = 0.3


def tolerance(fraction: float, n: int) -> float:
    """5 binomial standard deviations of the sampled share (0.094 at 30% of 600)."""
    return 5 * (fraction * (1 - fraction) / n) ** 0.5


@contextlib.contextmanager
def run(vendor: OtlpHttpSink | None = None, **overrides):
    with OtlpGrpcSink() as traces, OtlpHttpSink() as logs, RemoteWriteSink() as metrics:
        collector = RunningCollector(settings_for(traces, logs, metrics, **overrides))
        token = Path(collector.dir.name) / "forward_vendor"
        token.write_text(VENDOR_TOKEN + "\n")
        token.chmod(0o600)
        with collector:
            yield collector, traces, logs


def _app(collector: RunningCollector, resource: dict | None = None) -> App:
    return App(collector.grpc_endpoint, Resource.create({"service.name": "test-app", **(resource or {})}), TOKEN)


def _call(app: App, tenant: str | None, feature: str, text: str) -> None:
    """One LLM call: a chat span with content, and two GenAI log events under it."""
    with app.tracer.start_as_current_span("chat gpt-4o-mini") as span:
        span.set_attribute(k.OPERATION, "chat")
        span.set_attribute(k.REQUEST_MODEL, "gpt-4o-mini")
        if tenant:
            span.set_attribute(k.TENANT, tenant)
        span.set_attribute(k.FEATURE, feature)
        span.set_attribute(k.INPUT_MESSAGES, text)
        attrs = {k.FEATURE: feature, **({k.TENANT: tenant} if tenant else {})}
        app.logger.emit(body=text, event_name="gen_ai.user.message", attributes=attrs)
        app.logger.emit(body={"content": "answer to " + text}, event_name="gen_ai.choice", attributes=attrs)


def _by_tenant_header(logs: OtlpHttpSink) -> dict[str, list[dict]]:
    """Log records per X-Scope-OrgID (the logs sink hears only logs: headers and requests align)."""
    out: dict[str, list[dict]] = {}
    with logs.lock:
        pairs = list(zip(logs.log_requests, logs.headers))
    for request, headers in pairs:
        one = OtlpHttpSink()
        one.log_requests = [request]
        out.setdefault(headers.get("x-scope-orgid", ""), []).extend(one.logs())
    return out


def _texts(records: list[dict]) -> str:
    return json.dumps(records, default=str)


SENTINEL = "sentinel-after-the-data"


def _no_sentinel(records: list[dict]) -> list[dict]:
    return [r for r in records if SENTINEL not in _texts([r])]


def _sentinel_in(logs: OtlpHttpSink, tenant: str) -> Callable[[], bool]:
    return lambda: any(SENTINEL in _texts([r]) for r in _by_tenant_header(logs).get(tenant, []))


ACME_CALLS, OTHER_CALLS = 600, 60
MARK = "initech-private-marker"


def test_debug_samples_only_opted_in_sampled_redacted_linked_and_separate():
    with run(content={"mode": "preview", "preview_chars": 40,
                      "never_retain": {"tenants": ["initech"], "keep": "hash"}},
             debug={"enabled": True, "tenants": ["acme", "initech"], "features": ["chat"],
                    "sample_rate": SAMPLED_RATE, "preview_chars": 300}) as (collector, traces, logs):
        app = _app(collector)
        for i in range(ACME_CALLS):
            _call(app, "acme", "chat", f"acme call {i}: please help, " + SECRETS[i % len(SECRETS)][1])
        for i in range(OTHER_CALLS):
            _call(app, "acme", "search", f"acme search {i}")
            _call(app, "globex", "chat", f"globex call {i}")
            _call(app, "initech", "chat", f"{MARK} {i} " + SECRETS[i % len(SECRETS)][1])
        app.flush()
        total = (ACME_CALLS + 3 * OTHER_CALLS) * 2
        assert wait(lambda: len(_by_tenant_header(logs).get(debug.NORMAL_TENANT, [])) == total, timeout=60)
        assert wait(lambda: len(traces.spans()) == ACME_CALLS + 3 * OTHER_CALLS, timeout=60)
        # The debug pipeline batches on its own: a sampled sentinel call after the data, then check.
        assert await_sentinel(lambda i: (_call(app, "acme", "chat", f"{SENTINEL} {i}"), app.flush()),
                              _sentinel_in(logs, "debug"))
        app.close()
        by_header = {tenant: _no_sentinel(records) for tenant, records in _by_tenant_header(logs).items()}
        spans = {s["span_id"]: s for s in traces.spans()}
    assert set(by_header) == {debug.NORMAL_TENANT, "debug"}, set(by_header)
    samples = by_header["debug"]
    # Only the opted-in tenant and feature; the never-retain tenant is never sampled though listed.
    assert {(r["attributes"][k.TENANT], r["attributes"][k.FEATURE]) for r in samples} == {("acme", "chat")}
    # Whole traces: both events of a sampled call, or neither (sampling by trace id).
    per_trace: dict[str, int] = {}
    for r in samples:
        per_trace[r["trace_id"]] = per_trace.get(r["trace_id"], 0) + 1
    assert set(per_trace.values()) == {2}, per_trace
    share = len(per_trace) / ACME_CALLS
    print(f"\ndebug samples: {len(per_trace)}/{ACME_CALLS} traces ({share:.3f}, configured {SAMPLED_RATE}, "
          f"tolerance {tolerance(SAMPLED_RATE, ACME_CALLS):.3f})")
    assert abs(share - SAMPLED_RATE) <= tolerance(SAMPLED_RATE, ACME_CALLS), share
    for r in samples:
        # Linked to the LLM call's span, marked, and carrying content (not a hash), cut to preview_chars.
        assert spans[r["span_id"]]["trace_id"] == r["trace_id"] and spans[r["span_id"]]["name"] == "chat gpt-4o-mini"
        assert r["resource"][debug.DEBUG_ATTRIBUTE] == "true" and r["attributes"][debug.SAMPLE_ATTRIBUTE] is True
        body = r["body"] if isinstance(r["body"], str) else r["body"]["content"]
        assert "please help" in body and len(body) <= 300, body
    # Every detector ran: no secret of the corpus in any debug record, and the markers show it.
    text = _texts(samples)
    leaks = [core for _, _, core in SECRETS if core in text]
    assert leaks == [] and "[REDACTED:" in text
    # Ordinary logs keep only previews (40 chars) of acme's content; initech's is in no output.
    ordinary = by_header[debug.NORMAL_TENANT]
    assert not any(r["resource"].get(debug.DEBUG_ATTRIBUTE) for r in ordinary)
    initech_logs = [r for r in ordinary if r["attributes"].get(k.TENANT) == "initech"]
    assert len(initech_logs) == 2 * OTHER_CALLS
    assert {r["body"] for r in initech_logs if isinstance(r["body"], str)} == {"[CONTENT:hash]"}
    assert all(r["attributes"]["llmobs.body.hmac"] for r in initech_logs if r["event_name"] == "gen_ai.user.message")
    everything = _texts(samples + ordinary) + _texts(list(spans.values()))
    assert MARK not in everything and "initech" in everything
    initech_spans = [s for s in spans.values() if s["attributes"].get(k.TENANT) == "initech"]
    assert all(k.INPUT_MESSAGES + ".hmac" in s["attributes"] and not any(key.endswith(".preview") for key in s["attributes"])
               for s in initech_spans)
    acme_previews = [s for s in spans.values() if s["attributes"].get(k.TENANT) == "acme"
                     and any(key.endswith(".preview") for key in s["attributes"])]
    assert acme_previews, "the never-retain check must not pass by dropping everyone's previews"


def test_debug_store_off_writes_no_debug_record():
    with run(content={"mode": "preview"}) as (collector, traces, logs):
        app = _app(collector)
        for i in range(20):
            _call(app, "acme", "chat", f"acme call {i}")
        app.flush()
        assert wait(lambda: len(logs.logs()) == 40, timeout=30)
        # No debug pipeline to send a sentinel down: one after the data on the only logs path.
        assert await_sentinel(lambda i: (_call(app, "acme", "chat", f"{SENTINEL} {i}"), app.flush()),
                              _sentinel_in(logs, ""))
        app.close()
        by_header = _by_tenant_header(logs)
    assert set(by_header) == {""}   # single-tenant Loki: no org header at all, as before
    assert not any(debug.DEBUG_ATTRIBUTE in r["resource"] or debug.SAMPLE_ATTRIBUTE in r["attributes"]
                   for r in by_header[""])


# Long enough for the whole secret: preview mode cuts before the detectors run, so a secret
# across the cut would leave its first characters.
PREVIEW = 80


def test_forwarding_reaches_the_vendor_normalized_redacted_in_its_mode_without_excluded_tenants():
    secret = SECRETS[0]
    with OtlpHttpSink(token=VENDOR_TOKEN) as vendor:
        with run(content={"never_retain": {"tenants": ["initech"], "keep": "hash"}, "never_forward": ["umbrella"]},
                 forwarding=[{"name": "vendor", "endpoint": vendor.endpoint, "auth": "bearer", "content": "preview",
                              "preview_chars": PREVIEW, "exclude_tenants": ["globex"]}]) as (collector, traces, logs):
            app, globex = _app(collector), _app(collector, {k.TENANT: "globex"})   # globex on the resource
            for i in range(10):
                for tenant in ("acme", "umbrella", "initech"):
                    with app.tracer.start_as_current_span(f"chat {tenant}") as span:
                        span.set_attribute(k.TENANT, tenant)
                        span.set_attribute("llm.request.model", "gpt-4o-mini")   # an alias: normalized to gen_ai.*
                        span.set_attribute(k.OPERATION, "chat")
                        span.set_attribute("gen_ai.prompt.0.content", f"{tenant} asks: {secret[1]}")
                with globex.tracer.start_as_current_span("chat globex") as span:
                    span.set_attribute(k.OPERATION, "chat")
                    span.set_attribute("gen_ai.prompt.0.content", "globex asks")
            globex.close()
            app.flush()
            assert wait(lambda: len(traces.spans()) == 40, timeout=60)
            assert wait(lambda: len(vendor.spans()) == 20, timeout=30)

            def sentinel(i: int) -> None:   # forwarded: an acme span after the data
                with app.tracer.start_as_current_span(f"{SENTINEL} {i}") as span:
                    span.set_attribute(k.TENANT, "acme")
                app.flush()
            assert await_sentinel(sentinel, lambda: any(s["name"].startswith(SENTINEL) for s in vendor.spans()))
            app.close()
            forwarded = [s for s in vendor.spans() if not s["name"].startswith(SENTINEL)]
            kept = [s for s in traces.spans() if not s["name"].startswith(SENTINEL)]
    assert vendor.rejected == 0 and vendor.headers[0]["authorization"] == f"Bearer {VENDOR_TOKEN}"
    assert sorted({s["name"] for s in forwarded}) == ["chat acme", "chat initech"]
    assert sorted({s["name"] for s in kept}) == ["chat acme", "chat globex", "chat initech", "chat umbrella"]
    assert secret[2] not in _texts(forwarded) and secret[2] not in _texts(kept)
    for s in forwarded:
        a = s["attributes"]
        assert a[k.REQUEST_MODEL] == "gpt-4o-mini" and "llm.request.model" not in a   # normalized
        previews = [v for key, v in a.items() if key.endswith(".preview")]
        if s["name"] == "chat acme":   # the forwarder's own mode: a redacted preview
            assert len(previews) == 1 and previews[0] == "acme asks: using key [REDACTED:openai_key]", a
        else:                          # never retained wins over the forwarder's preview
            assert previews == [] and any(key.endswith(".hmac") for key in a), a
    # The gateway's own stores keep its own mode (hash): no preview at all.
    assert not any(key.endswith(".preview") for s in kept for key in s["attributes"])
    # One key for the stack: a forwarder's hashes are the gateway's own, so they join across stores.
    hashes = lambda spans: {v for s in spans if s["name"] == "chat initech"  # noqa: E731
                            for key, v in s["attributes"].items() if key.endswith(".hmac")}
    assert hashes(forwarded) and hashes(forwarded) <= hashes(kept)


def test_never_retain_drop_keeps_only_lengths_while_other_tenants_keep_hashes():
    with run(content={"never_retain": {"tenants": ["initech"], "keep": "drop"}}) as (collector, traces, logs):
        app = _app(collector)
        for tenant in ("acme", "initech"):
            _call(app, tenant, "chat", f"{tenant} writes a long enough message for the guard to consider it")
        app.close()
        assert wait(lambda: len(logs.logs()) == 4 and len(traces.spans()) == 2, timeout=30)
        spans = {s["attributes"][k.TENANT]: s["attributes"] for s in traces.spans()}
        records = logs.logs()
    assert k.INPUT_MESSAGES + ".hmac" in spans["acme"] and k.INPUT_MESSAGES + ".length" in spans["acme"]
    assert k.INPUT_MESSAGES + ".length" in spans["initech"]
    assert not [key for key in spans["initech"] if key.endswith((".hmac", ".sha256", ".preview"))], spans["initech"]
    initech = [r for r in records if r["attributes"][k.TENANT] == "initech"]
    acme = [r for r in records if r["attributes"][k.TENANT] == "acme"]
    assert [r["body"] for r in initech if r["event_name"] == "gen_ai.user.message"] == ["[CONTENT:drop]"]
    assert not [key for r in initech for key in r["attributes"] if key.endswith((".hmac", ".sha256"))]
    assert all(r["attributes"]["llmobs.body.length"] for r in initech if r["event_name"] == "gen_ai.user.message")
    assert any(key.endswith(".hmac") for r in acme for key in r["attributes"])
    assert "initech writes" not in _texts(records + list(spans.values()))
