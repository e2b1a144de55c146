"""GenAI log events (semconv message events) carry content in their body, a map: each content field
of it, written here by hand from the conventions' event bodies, leaves the body and arrives only as
its hash (content.mode hash) under `llmobs.body.<field>`, through the real gateway."""
from __future__ import annotations

import pytest

from gateway_run import gateway, wait

# gen_ai.{user,assistant,tool}.message and gen_ai.choice bodies: content, message (choice), tool_calls
# (assistant), and a tool call's arguments and result.
FIELDS = ("content", "message", "tool_calls", "arguments", "result")


@pytest.fixture(scope="module")
def records():
    with gateway() as gw:
        app = gw.app()
        for field in FIELDS:
            app.logger.emit(body={field: f"{field} text long enough to be content", "role": "assistant"},
                            event_name="gen_ai.assistant.message", attributes={"which": field})
        app.close()
        assert wait(lambda: len(gw.logs.logs()) >= len(FIELDS), timeout=60)
        yield {r["attributes"]["which"]: r for r in gw.logs.logs()}


@pytest.mark.parametrize("field", FIELDS)
def test_a_content_field_of_an_event_body_arrives_only_hashed(records, field):
    record = records[field]
    assert field not in record["body"] and record["body"].get("role") == "assistant", record
    assert f"llmobs.body.{field}.hmac" in record["attributes"], record
