"""Tail sampling and the non-default content policies, through the real gateway."""
from __future__ import annotations

import time

from opentelemetry.trace import Status, StatusCode

from corpus import SECRETS
from collector_harness import content_hash
from gateway_run import await_sentinel, gateway, wait
from telemetry import keys as k
from telemetry.catalog import BY_NAME

NORMAL, ORDINARY, ERRORS, SLOW, SAFETY, DENIED = 600, 600, 40, 40, 20, 20
# Different fractions for healthy LLM traces and for the rest, so the test tells the two
# policies apart (swapped, or one ignored, moves a share by 0.4).
LLM_FRACTION, FRACTION = 0.5, 0.1


def tolerance(fraction: float, n: int) -> float:
    """5 binomial standard deviations of the kept share: keeps flakes out (0.10 at 50%, 0.06 at 10%)."""
    return 5 * (fraction * (1 - fraction) / n) ** 0.5


def _chat(tracer, name, **attrs):
    with tracer.start_as_current_span(name) as span:
        span.set_attribute(k.OPERATION, "chat")
        span.set_attribute(k.REQUEST_MODEL, "gpt-4o-mini")
        span.set_attribute(k.PROVIDER, "openai")
        for key, value in attrs.items():
            span.set_attribute(key, value)
        return span


def test_tail_sampling_keeps_what_matters_and_metrics_count_everything():
    with gateway(sampling={"keep_fraction": FRACTION, "llm_keep_fraction": LLM_FRACTION, "slow_threshold_ms": 500,
                           "decision_wait_s": 1}) as gw:
        app = gw.app()
        tracer = app.tracer
        for i in range(NORMAL):
            _chat(tracer, "normal")
        for i in range(ORDINARY):
            with tracer.start_as_current_span("ordinary") as span:   # no LLM call in the trace
                span.set_attribute("http.route", "/orders")
        for i in range(ERRORS):
            with tracer.start_as_current_span("error") as span:
                span.set_attribute(k.OPERATION, "chat")
                span.set_status(Status(StatusCode.ERROR, "provider 500"))
        now = time.time_ns()
        for i in range(SLOW):
            span = tracer.start_span("slow", start_time=now - 2_000_000_000)
            span.set_attribute(k.OPERATION, "chat")
            span.end(end_time=now)
        for i in range(SAFETY):
            with tracer.start_as_current_span("request"):
                with tracer.start_as_current_span("safety") as span:
                    span.set_attribute(k.SAFETY_BLOCKED, True)
        for i in range(DENIED):
            with tracer.start_as_current_span("request"):
                with tracer.start_as_current_span("execute_tool rm") as span:
                    span.set_attribute(k.OPERATION, "execute_tool")
                    span.set_attribute(k.TOOL_OUTCOME, "denied")
        app.flush()
        total_llm = NORMAL + ERRORS + SLOW
        requests = BY_NAME["llm.requests"].prometheus
        assert wait(lambda: gw.sum_of(requests) == total_llm, timeout=30)
        kept = lambda name: len({s["trace_id"] for s in gw.traces.spans() if s["name"] == name})  # noqa: E731
        assert wait(lambda: kept("error") == ERRORS and kept("slow") == SLOW and kept("safety") == SAFETY
                    and kept("execute_tool rm") == DENIED, timeout=30), \
            (kept("error"), kept("slow"), kept("safety"), kept("execute_tool rm"))
        # decision_wait is 1s: an error trace (always kept) after the data is awaited, so every
        # earlier trace's decision is made and its spans exported before counting.
        def sentinel(i: int) -> None:
            with tracer.start_as_current_span(f"sentinel {i}") as span:
                span.set_status(Status(StatusCode.ERROR, "sentinel"))
            app.flush()
        assert await_sentinel(sentinel, lambda: any(s["name"].startswith("sentinel") for s in gw.traces.spans()), every=10)
        app.close()
        share, ordinary = kept("normal") / NORMAL, kept("ordinary") / ORDINARY
        print(f"\nsampling: kept {kept('normal')}/{NORMAL} healthy LLM traces ({share:.3f}, configured {LLM_FRACTION}), "
              f"{kept('ordinary')}/{ORDINARY} other traces ({ordinary:.3f}, configured {FRACTION}); "
              f"errors {kept('error')}/{ERRORS}, slow {kept('slow')}/{SLOW}, safety {kept('safety')}/{SAFETY}, "
              f"denied {kept('execute_tool rm')}/{DENIED}; metrics counted {gw.sum_of(requests):.0f}/{total_llm}")
        assert abs(share - LLM_FRACTION) <= tolerance(LLM_FRACTION, NORMAL), share
        assert abs(ordinary - FRACTION) <= tolerance(FRACTION, ORDINARY), ordinary
        assert gw.sum_of(requests) == total_llm


def _content_span(gw, text):
    app = gw.app()
    with app.tracer.start_as_current_span("content") as span:
        span.set_attribute(k.INPUT_MESSAGES, text)
        span.set_attribute("gen_ai.completion.0.content", text)   # OpenLLMetry indexed alias
        span.set_attribute("output.value", text)                  # OpenInference alias
    app.logger.emit(body=text, event_name="gen_ai.assistant.message")
    app.close()
    assert wait(lambda: gw.traces.spans() and gw.logs.logs())
    return gw.traces.spans()[0]["attributes"], gw.logs.logs()[0]


def test_preview_mode_keeps_a_redacted_truncated_preview():
    text = "My card is 4111 1111 1111 1111 and I need help with a refund for order 48213, thanks a lot."
    with gateway(content={"mode": "preview", "preview_chars": 40}) as gw:
        attrs, log = _content_span(gw, text)
    assert attrs[k.INPUT_MESSAGES + ".hmac"] == content_hash(text)
    assert attrs[k.INPUT_MESSAGES + ".length"] == len(text)
    assert k.INPUT_MESSAGES not in attrs
    preview = attrs["gen_ai.output.messages.0.content.preview"]
    assert preview.startswith("My card is [REDACTED:credit_card]") and "4111" not in preview
    assert len(preview) <= 40 + len("[REDACTED:credit_card]")
    assert "4111" not in str(attrs) and "4111" not in str(log)
    assert log["body"].startswith("My card is [REDACTED:credit_card]")
    # The whole body's hash and length beside its preview, as for a content key's value.
    assert log["attributes"]["llmobs.body.hmac"] == content_hash(text)
    assert log["attributes"]["llmobs.body.length"] == len(text)


def test_a_secret_across_the_preview_cut_leaves_nothing_of_itself():
    """The preview is cut after the detectors ran: cut first, `sk-proj-A...` lost its length
    and its first characters survived in the preview (found by the forwarding test)."""
    key = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7CD0ef"
    text = "a" * 33 + " " + key + " and the rest of the message"
    with gateway(content={"mode": "preview", "preview_chars": 40}) as gw:
        attrs, log = _content_span(gw, text)
    preview = attrs["gen_ai.output.messages.0.content.preview"]
    assert preview.startswith("a" * 33 + " [REDAC") and len(preview) == 40, preview
    assert "sk-pro" not in str(attrs) and "sk-pro" not in str(log)
    assert log["body"].startswith("a" * 33 + " [REDAC") and len(log["body"]) == 40


def test_drop_mode_keeps_only_the_length():
    text = "Please summarise: " + SECRETS[0][1]
    with gateway(content={"mode": "drop"}) as gw:
        attrs, log = _content_span(gw, text)
    assert attrs[k.INPUT_MESSAGES + ".length"] == len(text)
    assert not [key for key in attrs if key.endswith((".hmac", ".sha256", ".preview"))]
    assert not [key for key in attrs if key.startswith((k.INPUT_MESSAGES, k.OUTPUT_MESSAGES)) and not key.endswith(".length")]
    assert log["body"] == "[CONTENT:drop]"
