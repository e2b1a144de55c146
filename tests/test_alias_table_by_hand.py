"""Aliases written out by hand from the instrumentations' own conventions (OpenInference,
OpenLLMetry, older GenAI semconv, LangSmith), not read from telemetry/aliases.py: an alias dropped
from the table (so the gateway stops renaming it) fails a row here. Each goes through the real
gateway on its own span beside an LLM marker; the canonical key arrives, the alias does not."""
from __future__ import annotations

import pytest

from gateway_run import gateway, wait
from otlp_json import post, span, traces

# alias -> (canonical key, value sent)
ALIASES = {
    # OpenInference
    "llm.model_name": ("gen_ai.request.model", "gpt-4o"),
    "llm.provider": ("gen_ai.provider.name", "openai"),
    "llm.system": ("gen_ai.provider.name", "openai"),
    "llm.token_count.prompt": ("gen_ai.usage.input_tokens", 120),
    "llm.token_count.completion": ("gen_ai.usage.output_tokens", 30),
    "llm.token_count.prompt_details.cache_read": ("gen_ai.usage.cache_read.input_tokens", 64),
    "tool.name": ("gen_ai.tool.name", "search_orders"),
    "tool.description": ("gen_ai.tool.description", "Looks up orders"),
    "tool.id": ("gen_ai.tool.call.id", "call_8f2"),          # the id of the tool call's result
    "tool_call.id": ("gen_ai.tool.call.id", "call_8f2"),
    "session.id": ("gen_ai.conversation.id", "conv-42"),
    "llm.prompt_template.version": ("llmobs.prompt.version", "v7"),
    "agent.name": ("gen_ai.agent.name", "support-bot"),
    # OpenLLMetry (traceloop)
    "llm.request.model": ("gen_ai.request.model", "gpt-4o"),
    "llm.response.model": ("gen_ai.response.model", "gpt-4o-2024-08-06"),
    "llm.request.type": ("gen_ai.operation.name", "chat"),
    "llm.request.max_tokens": ("gen_ai.request.max_tokens", 512),
    "llm.is_streaming": ("gen_ai.request.stream", True),
    "llm.usage.prompt_tokens": ("gen_ai.usage.input_tokens", 120),
    "llm.usage.completion_tokens": ("gen_ai.usage.output_tokens", 30),
    "gen_ai.usage.cache_read_input_tokens": ("gen_ai.usage.cache_read.input_tokens", 64),
    "traceloop.prompt.version": ("llmobs.prompt.version", "v7"),
    "traceloop.workflow.name": ("gen_ai.workflow.name", "triage"),
    # GenAI semantic conventions before 1.37 (and OpenLIT)
    "gen_ai.system": ("gen_ai.provider.name", "openai"),
    "gen_ai.usage.prompt_tokens": ("gen_ai.usage.input_tokens", 120),
    "gen_ai.usage.completion_tokens": ("gen_ai.usage.output_tokens", 30),
    # opentelemetry-util-genai's prompt version (1.3b0)
    "gen_ai.prompt.version": ("llmobs.prompt.version", "v7"),
    # OpenLIT's reasoning tokens (OpenAI's completion_tokens_details.reasoning_tokens)
    "gen_ai.usage.completion_tokens_details.reasoning_tokens": ("gen_ai.usage.reasoning.output_tokens", 12),
    # OpenLLMetry's stop sequences
    "llm.chat.stop_sequences": ("gen_ai.request.stop_sequences", "END"),
}
# Provider names: the old value under the old key arrives as the new value under gen_ai.provider.name.
PROVIDER_VALUES = {"xai": "x_ai"}   # gen_ai.system (semconv before 1.37), also OpenInference llm.provider
# Content aliases: the canonical content key arrives hashed (content.mode hash), the alias not at all.
CONTENT_ALIASES = {
    "input.value": "gen_ai.input.messages",       # OpenInference
    "output.value": "gen_ai.output.messages",
    "gen_ai.prompt": "gen_ai.input.messages",     # LangSmith, OpenLIT
    "gen_ai.completion": "gen_ai.output.messages",
    "reranker.query": "gen_ai.retrieval.query.text",   # OpenInference reranker spans
}


@pytest.fixture(scope="module")
def arrived():
    rows = list(ALIASES) + list(CONTENT_ALIASES)
    spans = []
    for i, alias in enumerate(rows):
        value = ALIASES[alias][1] if alias in ALIASES else f"content under {alias}, long enough to be a prompt"
        # A provider marker keeps the span an LLM span without setting any of the canonical keys tested.
        marker = {} if ALIASES.get(alias, ("",))[0] == "gen_ai.operation.name" else {"gen_ai.operation.name": "chat"}
        spans.append(span(f"alias {alias}", {**marker, alias: value}, i + 1))
    for j, old in enumerate(PROVIDER_VALUES):
        spans.append(span(f"provider {old}", {"gen_ai.operation.name": "chat", "gen_ai.system": old}, len(rows) + j + 1))
    with gateway() as gw:
        assert post(gw, "traces", traces(spans)) == 200
        assert wait(lambda: len(gw.traces.spans()) >= len(spans))
        yield {s["name"].removeprefix("alias "): s["attributes"] for s in gw.traces.spans()}


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_alias_arrives_as_its_canonical_key(arrived, alias):
    canonical, value = ALIASES[alias]
    a = arrived[alias]
    assert alias not in a and a.get(canonical) == value, a


@pytest.mark.parametrize("alias", sorted(CONTENT_ALIASES))
def test_content_alias_arrives_as_the_canonical_content_key(arrived, alias):
    a = arrived[alias]
    canonical = CONTENT_ALIASES[alias]
    assert alias not in a and canonical + ".hmac" in a and canonical + ".length" in a, a


@pytest.mark.parametrize("old", sorted(PROVIDER_VALUES))
def test_an_old_provider_name_arrives_as_the_new_one(arrived, old):
    a = arrived[f"provider {old}"]
    assert "gen_ai.system" not in a and a.get("gen_ai.provider.name") == PROVIDER_VALUES[old], a
