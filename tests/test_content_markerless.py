"""Issue 34, content: instrumentations whose spans carry no gen_ai.* marker (MLflow, Langfuse's
OTel SDK, pydantic-ai) and log events named only by the `event.name` attribute, through the real
gateway under `content.mode: hash`. Span shapes as those packages write them (ALIAS_SOURCES.md)."""
from __future__ import annotations

import json

import pytest

from collector_harness import content_hash
from gateway_run import gateway, wait
from otlp_json import NOW, kv, logs, post, span, traces

PROMPT = json.dumps({"question": "Why was order 48213 refunded twice last week?"})
ANSWER = "The refund was issued twice by mistake; the second one has been reversed."
NOTE = "free text the operator never named, long enough and with several words in it"

SPANS = {  # name: attributes, as each package sets them (no gen_ai.* key)
    "mlflow": {"mlflow.spanType": "CHAIN", "mlflow.spanInputs": PROMPT, "mlflow.spanOutputs": json.dumps(ANSWER),
               "app.note": NOTE},
    "langfuse": {"langfuse.observation.type": "span", "langfuse.observation.input": PROMPT,
                 "langfuse.observation.output": ANSWER, "langfuse.trace.input": PROMPT, "langfuse.trace.output": ANSWER},
    "pydantic-ai run": {"agent_name": "support", "model_name": "gpt-4o", "prompt": "Why was order 48213 refunded twice?",
                        "all_messages_events": json.dumps([{"content": ANSWER}]), "final_result": ANSWER},
    "pydantic-ai v2 run": {"agent_name": "support", "pydantic_ai.all_messages": json.dumps([{"content": ANSWER}])},
    "running tool": {"gen_ai.tool.name": "refunds", "tool_arguments": json.dumps({"order": 48213}), "tool_response": ANSWER},
    "plain": {"app.note": NOTE},
}
CONTENT = {"mlflow": ("mlflow.spanInputs", "mlflow.spanOutputs"),
           "langfuse": ("langfuse.observation.input", "langfuse.observation.output", "langfuse.trace.input", "langfuse.trace.output"),
           "pydantic-ai run": ("prompt", "all_messages_events", "final_result"),
           "pydantic-ai v2 run": ("pydantic_ai.all_messages",), "running tool": ("tool_arguments", "tool_response")}


@pytest.fixture(scope="module")
def gw():
    with gateway() as g:
        assert post(g, "traces", traces([span(n, a, i + 1) for i, (n, a) in enumerate(SPANS.items())])) == 200
        record = {"timeUnixNano": str(NOW), "body": {"stringValue": ANSWER},
                  "attributes": [kv("event.name", "gen_ai.choice"), kv("app.note", NOTE)]}
        assert post(g, "logs", logs([record])) == 200
        assert wait(lambda: len(g.traces.spans()) >= len(SPANS) and g.logs.logs())
        yield g


def _attrs(gw, name: str) -> dict:
    (found,) = [s for s in gw.traces.spans() if s["name"] == name]
    return found["attributes"]


@pytest.mark.parametrize("name", list(CONTENT))
def test_content_keys_are_hashed_without_a_gen_ai_marker(gw, name):
    a = _attrs(gw, name)
    for key in CONTENT[name]:
        sent = SPANS[name][key]
        assert key not in a and a[f"{key}.hmac"] == content_hash(sent), (key, a)
    assert not gw.traces.contains("refunded twice") and not gw.traces.contains("issued twice")


def test_the_guard_covers_spans_with_an_instrumentation_content_key(gw):
    """Decision (docs/gateway.md, Content): a span that carried a content key is an LLM span for the free-text guard."""
    assert _attrs(gw, "mlflow")["app.note"].startswith("[CONTENT:hmac:")
    assert _attrs(gw, "plain")["app.note"] == NOTE   # no content key, no marker: not an LLM span


def test_log_event_named_by_the_event_name_attribute(gw):
    (record,) = gw.logs.logs()
    assert record["body"] == "[CONTENT:hash]", record
    assert record["attributes"]["llmobs.body.hmac"] == content_hash(ANSWER)
    assert record["attributes"]["app.note"].startswith("[CONTENT:hmac:")
