"""Aliases written out by hand from the instrumentations' own conventions (OpenInference,
OpenLLMetry, OpenLIT, older GenAI semconv, opentelemetry-util-genai), not read from
telemetry/aliases.py: an alias renamed, dropped or sent to the wrong key fails a row here. Every
row goes through the real gateway on its own span, and the module is read only to check that
every alias, indexed pattern and mapped value has a row."""
from __future__ import annotations

import re

import pytest

from gateway_run import gateway, wait
from otlp_json import post, span, traces
from telemetry import aliases

C = "content"   # a content alias: it arrives as `<canonical>.hmac` and `.length` (content.mode hash)
# alias -> (canonical key, value sent, value that arrives)
ALIASES = {
    # provider / system
    "llm.provider": ("gen_ai.provider.name", "anthropic", "anthropic"),
    "gen_ai.system": ("gen_ai.provider.name", "anthropic", "anthropic"),
    "llm.system": ("gen_ai.provider.name", "anthropic", "anthropic"),
    "llm.vendor": ("gen_ai.provider.name", "anthropic", "anthropic"),
    # operation
    "openinference.span.kind": ("gen_ai.operation.name", "EMBEDDING", "embeddings"),
    "llm.request.type": ("gen_ai.operation.name", "chat", "chat"),
    "traceloop.span.kind": ("gen_ai.operation.name", "tool", "execute_tool"),
    # models
    "llm.request.model_name": ("gen_ai.request.model", "gpt-4o", "gpt-4o"),
    "llm.model_name": ("gen_ai.request.model", "gpt-4o", "gpt-4o"),
    "embedding.model_name": ("gen_ai.request.model", "text-embedding-3-small", "text-embedding-3-small"),
    "reranker.model_name": ("gen_ai.request.model", "rerank-english-v3.0", "rerank-english-v3.0"),
    "llm.request.model": ("gen_ai.request.model", "gpt-4o", "gpt-4o"),
    "llm.response.model_name": ("gen_ai.response.model", "gpt-4o-2024-08-06", "gpt-4o-2024-08-06"),
    "llm.response.model": ("gen_ai.response.model", "gpt-4o-2024-08-06", "gpt-4o-2024-08-06"),
    # tokens
    "llm.token_count.prompt": ("gen_ai.usage.input_tokens", 120, 120),
    "gen_ai.usage.prompt_tokens": ("gen_ai.usage.input_tokens", 121, 121),
    "llm.usage.prompt_tokens": ("gen_ai.usage.input_tokens", 122, 122),
    "llm.token_count.completion": ("gen_ai.usage.output_tokens", 30, 30),
    "gen_ai.usage.completion_tokens": ("gen_ai.usage.output_tokens", 31, 31),
    "llm.usage.completion_tokens": ("gen_ai.usage.output_tokens", 32, 32),
    "llm.token_count.prompt_details.cache_read": ("gen_ai.usage.cache_read.input_tokens", 64, 64),
    "gen_ai.usage.cache_read_input_tokens": ("gen_ai.usage.cache_read.input_tokens", 65, 65),
    "gen_ai.usage.prompt_tokens_details.cached_tokens": ("gen_ai.usage.cache_read.input_tokens", 66, 66),
    "llm.token_count.prompt_details.cache_write": ("gen_ai.usage.cache_creation.input_tokens", 16, 16),
    "gen_ai.usage.cache_creation_input_tokens": ("gen_ai.usage.cache_creation.input_tokens", 17, 17),
    "gen_ai.usage.cache_write.input_tokens": ("gen_ai.usage.cache_creation.input_tokens", 18, 18),
    "gen_ai.usage.prompt_tokens_details.cache_creation_tokens": ("gen_ai.usage.cache_creation.input_tokens", 19, 19),
    "llm.token_count.completion_details.reasoning": ("gen_ai.usage.reasoning.output_tokens", 10, 10),
    "gen_ai.usage.reasoning_tokens": ("gen_ai.usage.reasoning.output_tokens", 11, 11),
    "llm.usage.reasoning_tokens": ("gen_ai.usage.reasoning.output_tokens", 13, 13),
    "gen_ai.usage.completion_tokens_details.reasoning_tokens": ("gen_ai.usage.reasoning.output_tokens", 12, 12),
    "llm.token_count.total": ("llmobs.usage.total_tokens", 150, 150),
    "gen_ai.usage.total_tokens": ("llmobs.usage.total_tokens", 151, 151),
    "llm.usage.total_tokens": ("llmobs.usage.total_tokens", 152, 152),
    # cost, latency
    "llm.cost.total": ("llmobs.usage.cost", 0.0125, 0.0125),
    "gen_ai.usage.cost": ("llmobs.usage.cost", 0.0126, 0.0126),
    "gen_ai.server.time_to_first_token": ("gen_ai.response.time_to_first_chunk", 0.25, 0.25),
    # request parameters
    "llm.request.max_tokens": ("gen_ai.request.max_tokens", 512, 512),
    "llm.temperature": ("gen_ai.request.temperature", 0.2, 0.2),
    "llm.top_p": ("gen_ai.request.top_p", 0.9, 0.9),
    "llm.top_k": ("gen_ai.request.top_k", 40, 40),
    "llm.frequency_penalty": ("gen_ai.request.frequency_penalty", 0.5, 0.5),
    "llm.presence_penalty": ("gen_ai.request.presence_penalty", 0.1, 0.1),
    "llm.chat.stop_sequences": ("gen_ai.request.stop_sequences", "END", "END"),
    "gen_ai.request.n": ("gen_ai.request.choice.count", 2, 2),
    "gen_ai.is_streaming": ("gen_ai.request.stream", True, True),
    "llm.is_streaming": ("gen_ai.request.stream", True, True),
    "gen_ai.openai.request.seed": ("gen_ai.request.seed", 42, 42),
    "gen_ai.openai.request.response_format": ("gen_ai.output.type", "json_object", "json_object"),
    "gen_ai.openai.request.service_tier": ("openai.request.service_tier", "auto", "auto"),
    "gen_ai.openai.response.service_tier": ("openai.response.service_tier", "default", "default"),
    "gen_ai.openai.response.system_fingerprint": ("openai.response.system_fingerprint", "fp_44709d6fcb", "fp_44709d6fcb"),
    "gen_ai.openai.system_fingerprint": ("openai.response.system_fingerprint", "fp_44709d6fcc", "fp_44709d6fcc"),
    # response
    "llm.finish_reason": ("gen_ai.response.finish_reasons", "stop", ["stop"]),
    "gen_ai.response.finish_reason": ("gen_ai.response.finish_reasons", "length", ["length"]),
    "llm.response.finish_reason": ("gen_ai.response.finish_reasons", "tool_calls", ["tool_calls"]),
    "gen_ai.response.stop_reason": ("gen_ai.response.finish_reasons", "end_turn", ["end_turn"]),
    "llm.response.stop_reason": ("gen_ai.response.finish_reasons", "max_tokens", ["max_tokens"]),
    # resource-ish
    "deployment.environment": ("deployment.environment.name", "staging", "staging"),
    # identity
    "session.id": ("gen_ai.conversation.id", "conv-42", "conv-42"),
    "gen_ai.session.id": ("gen_ai.conversation.id", "conv-43", "conv-43"),
    "gen_ai.user": ("user.id", "u-1", "u-1"),
    "llm.user": ("user.id", "u-2", "u-2"),
    "gen_ai.request.user": ("user.id", "u-3", "u-3"),
    "gen_ai.user.id": ("user.id", "u-4", "u-4"),
    "agent.name": ("gen_ai.agent.name", "support-bot", "support-bot"),
    "traceloop.entity.name": ("gen_ai.agent.name", "refund-agent", "refund-agent"),
    "traceloop.workflow.name": ("gen_ai.workflow.name", "triage", "triage"),
    "llm.prompt_template.version": ("llmobs.prompt.version", "v7", "v7"),
    "traceloop.prompt.version": ("llmobs.prompt.version", "v8", "v8"),
    "gen_ai.prompt.version": ("llmobs.prompt.version", "v9", "v9"),
    # tools
    "tool.name": ("gen_ai.tool.name", "search_orders", "search_orders"),
    "tool_call.function.name": ("gen_ai.tool.name", "get_weather", "get_weather"),
    "tool.description": ("gen_ai.tool.description", "Looks up orders", "Looks up orders"),
    "tool.id": ("gen_ai.tool.call.id", "call_8f2", "call_8f2"),
    "tool_call.id": ("gen_ai.tool.call.id", "call_8f3", "call_8f3"),
    "tool.parameters": ("gen_ai.tool.call.arguments", C, C),
    "tool_call.function.arguments": ("gen_ai.tool.call.arguments", C, C),
    "gen_ai.tool.args": ("gen_ai.tool.call.arguments", C, C),
    "gen_ai.tool.input": ("gen_ai.tool.call.arguments", C, C),
    "gen_ai.tool.output": ("gen_ai.tool.call.result", C, C),
    "gen_ai.tool.result": ("gen_ai.tool.call.result", C, C),
    # content
    "input.value": ("gen_ai.input.messages", C, C),
    "output.value": ("gen_ai.output.messages", C, C),
    "traceloop.entity.input": ("gen_ai.input.messages", C, C),
    "traceloop.entity.output": ("gen_ai.output.messages", C, C),
    "gen_ai.prompt": ("gen_ai.input.messages", C, C),
    "gen_ai.completion": ("gen_ai.output.messages", C, C),
    "gen_ai.content.prompt": ("gen_ai.input.messages", C, C),
    "gen_ai.content.completion": ("gen_ai.output.messages", C, C),
    "gen_ai.workflow.input": ("gen_ai.input.messages", C, C),
    "gen_ai.workflow.output": ("gen_ai.output.messages", C, C),
    # retrieval
    "gen_ai.retrieval.document_count": ("llmobs.retrieval.returned_count", 5, 5),
    "gen_ai.retrieval.query": ("gen_ai.retrieval.query.text", C, C),
    "reranker.query": ("gen_ai.retrieval.query.text", C, C),
}
# Flattened per-item keys: example key -> the key it arrives under. Indexes 3 (item) and 1 (nested
# tool call or content part); `.hmac`: a content field, hashed (content.mode hash).
INDEXED = {
    "gen_ai.prompt.3.role": "gen_ai.input.messages.3.role",
    "llm.prompts.3.role": "gen_ai.input.messages.3.role",
    "gen_ai.prompt.3.content": "gen_ai.input.messages.3.content.hmac",
    "llm.prompts.3.content": "gen_ai.input.messages.3.content.hmac",
    "gen_ai.prompt.3.user": "gen_ai.input.messages.3.content.hmac",
    "llm.prompts.3.user": "gen_ai.input.messages.3.content.hmac",
    "gen_ai.prompt.3.tool_call_id": "gen_ai.input.messages.3.tool_call_response_id",
    "gen_ai.prompt.3.tool_calls.1.id": "gen_ai.input.messages.3.tool_call_id.1",
    "gen_ai.prompt.3.tool_calls.1.name": "gen_ai.input.messages.3.tool_call_name.1",
    "gen_ai.prompt.3.tool_calls.1.arguments": "gen_ai.input.messages.3.tool_call_arguments.1.hmac",
    "gen_ai.completion.3.role": "gen_ai.output.messages.3.role",
    "llm.completions.3.role": "gen_ai.output.messages.3.role",
    "gen_ai.completion.3.content": "gen_ai.output.messages.3.content.hmac",
    "llm.completions.3.content": "gen_ai.output.messages.3.content.hmac",
    "gen_ai.completion.3.finish_reason": "gen_ai.output.messages.3.finish_reason",
    "llm.completions.3.finish_reason": "gen_ai.output.messages.3.finish_reason",
    "gen_ai.completion.3.tool_calls.1.id": "gen_ai.output.messages.3.tool_call_id.1",
    "gen_ai.completion.3.tool_calls.1.name": "gen_ai.output.messages.3.tool_call_name.1",
    "gen_ai.completion.3.tool_calls.1.arguments": "gen_ai.output.messages.3.tool_call_arguments.1.hmac",
    "llm.completions.3.function_call.name": "gen_ai.output.messages.3.tool_call_name",
    "llm.completions.3.function_call.arguments": "gen_ai.output.messages.3.tool_call_arguments.hmac",
    "llm.request.functions.3.name": "gen_ai.tool.definitions.3.name",
    "llm.request.functions.3.description": "gen_ai.tool.definitions.3.description",
    "llm.request.functions.3.parameters": "gen_ai.tool.definitions.3.parameters",
    "llm.input_messages.3.message.role": "gen_ai.input.messages.3.role",
    "llm.input_messages.3.message.content": "gen_ai.input.messages.3.content.hmac",
    "llm.input_messages.3.message.name": "gen_ai.input.messages.3.name",
    "llm.input_messages.3.message.tool_call_id": "gen_ai.input.messages.3.tool_call_response_id",
    "llm.input_messages.3.message.contents.1.message_content.type": "gen_ai.input.messages.3.part_type.1",
    "llm.input_messages.3.message.contents.1.message_content.text": "gen_ai.input.messages.3.text.1.hmac",
    "llm.input_messages.3.message.tool_calls.1.tool_call.id": "gen_ai.input.messages.3.tool_call_id.1",
    "llm.input_messages.3.message.tool_calls.1.tool_call.function.name": "gen_ai.input.messages.3.tool_call_name.1",
    "llm.input_messages.3.message.tool_calls.1.tool_call.function.arguments": "gen_ai.input.messages.3.tool_call_arguments.1.hmac",
    "llm.input_messages.3.message.function_call_name": "gen_ai.input.messages.3.tool_call_name",
    "llm.input_messages.3.message.function_call_arguments_json": "gen_ai.input.messages.3.tool_call_arguments.hmac",
    "llm.output_messages.3.message.role": "gen_ai.output.messages.3.role",
    "llm.output_messages.3.message.content": "gen_ai.output.messages.3.content.hmac",
    "llm.output_messages.3.message.name": "gen_ai.output.messages.3.name",
    "llm.output_messages.3.message.contents.1.message_content.type": "gen_ai.output.messages.3.part_type.1",
    "llm.output_messages.3.message.contents.1.message_content.text": "gen_ai.output.messages.3.text.1.hmac",
    "llm.output_messages.3.message.tool_calls.1.tool_call.id": "gen_ai.output.messages.3.tool_call_id.1",
    "llm.output_messages.3.message.tool_calls.1.tool_call.function.name": "gen_ai.output.messages.3.tool_call_name.1",
    "llm.output_messages.3.message.tool_calls.1.tool_call.function.arguments": "gen_ai.output.messages.3.tool_call_arguments.1.hmac",
    "llm.output_messages.3.message.function_call_name": "gen_ai.output.messages.3.tool_call_name",
    "llm.output_messages.3.message.function_call_arguments_json": "gen_ai.output.messages.3.tool_call_arguments.hmac",
    "llm.prompts.3.prompt.text": "gen_ai.input.messages.3.content.hmac",
    "llm.choices.3.completion.text": "gen_ai.output.messages.3.content.hmac",
    "embedding.embeddings.3.embedding.text": "gen_ai.input.messages.3.text.hmac",
    "llm.tools.3.tool.json_schema": "gen_ai.tool.definitions.3.json_schema",
    "retrieval.documents.3.document.content": "gen_ai.retrieval.documents.3.document.content.hmac",
    "retrieval.documents.3.document.id": "gen_ai.retrieval.documents.3.document.id",
    "retrieval.documents.3.document.score": "gen_ai.retrieval.documents.3.document.score",
    "retrieval.documents.3.document.metadata": "gen_ai.retrieval.documents.3.document.metadata.hmac",
    "reranker.output_documents.3.document.content": "gen_ai.retrieval.documents.3.document.content.hmac",
    "reranker.output_documents.3.document.id": "gen_ai.retrieval.documents.3.document.id",
    "reranker.output_documents.3.document.score": "gen_ai.retrieval.documents.3.document.score",
}
# Mapped values: (key sent under, value sent) -> gen_ai.provider.name / gen_ai.operation.name value.
PROVIDER_VALUES = {
    # semconv GenAiSystemValues before 1.37 (gen_ai.system); OpenLIT < 1.35
    ("gen_ai.system", "vertex_ai"): "gcp.vertex_ai",
    ("gen_ai.system", "gemini"): "gcp.gemini",
    ("gen_ai.system", "az.ai.inference"): "azure.ai.inference",
    ("gen_ai.system", "az.ai.openai"): "azure.ai.openai",
    ("gen_ai.system", "xai"): "x_ai",
    ("gen_ai.system", "ibm.watson.ai"): "ibm.watsonx.ai",
    ("gen_ai.system", "google.ai.studio"): "gcp.gemini",
    # OpenInference llm.provider values (OpenInferenceLLMProviderValues), any case
    ("llm.provider", "mistralai"): "mistral_ai",
    ("llm.provider", "VertexAI"): "gcp.vertex_ai",
    ("llm.provider", "google"): "gcp.gen_ai",
    ("llm.provider", "aws"): "aws.bedrock",
    ("llm.provider", "Azure"): "azure.ai.openai",
    ("llm.provider", "anthropic"): "anthropic",   # already a semconv value: unchanged
}
OPERATION_VALUES = {
    # OpenInference span kinds (upper case as emitted)
    ("openinference.span.kind", "LLM"): "chat",
    ("openinference.span.kind", "EMBEDDING"): "embeddings",
    ("openinference.span.kind", "RETRIEVER"): "retrieval",
    ("openinference.span.kind", "RERANKER"): "retrieval",
    ("openinference.span.kind", "TOOL"): "execute_tool",
    ("openinference.span.kind", "AGENT"): "invoke_agent",
    ("openinference.span.kind", "CHAIN"): "invoke_workflow",
    # OpenLLMetry llm.request.type and traceloop.span.kind
    ("llm.request.type", "completion"): "text_completion",
    ("llm.request.type", "rerank"): "retrieval",
    ("llm.request.type", "embedding"): "embeddings",
    ("traceloop.span.kind", "workflow"): "invoke_workflow",
    ("traceloop.span.kind", "agent"): "invoke_agent",
    # OpenLIT < 1.35 under the canonical key itself
    ("gen_ai.operation.name", "retrieve"): "retrieval",
    ("gen_ai.operation.name", "graph_execution"): "invoke_workflow",
}
CONTENT_TEXT = "content under {}, long enough to be a prompt"


def _spans() -> list[dict]:
    spans = []
    for alias, (canonical, sent, _) in ALIASES.items():
        value = CONTENT_TEXT.format(alias) if sent == C else sent
        # An operation marker keeps the span an LLM span without setting the canonical key tested.
        marker = {} if canonical == "gen_ai.operation.name" else {"gen_ai.operation.name": "chat"}
        spans.append(span(f"alias {alias}", {**marker, alias: value}, len(spans) + 1))
    for key in INDEXED:
        spans.append(span(f"indexed {key}", {"gen_ai.operation.name": "chat", key: CONTENT_TEXT.format(key)}, len(spans) + 1))
    for (key, value) in PROVIDER_VALUES:
        spans.append(span(f"provider {key}={value}", {"gen_ai.operation.name": "chat", key: value}, len(spans) + 1))
    for (key, value) in OPERATION_VALUES:
        spans.append(span(f"operation {key}={value}", {key: value}, len(spans) + 1))
    return spans


@pytest.fixture(scope="module")
def arrived():
    spans = _spans()
    with gateway() as gw:
        assert post(gw, "traces", traces(spans)) == 200
        assert wait(lambda: len(gw.traces.spans()) >= len(spans))
        yield {s["name"]: s["attributes"] for s in gw.traces.spans()}


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_alias_arrives_as_its_canonical_key(arrived, alias):
    canonical, _, expected = ALIASES[alias]
    a = arrived[f"alias {alias}"]
    assert alias not in a, a
    if expected == C:
        assert canonical + ".hmac" in a and canonical + ".length" in a and canonical not in a, a
    else:
        assert a.get(canonical) == expected, a


@pytest.mark.parametrize("key", sorted(INDEXED))
def test_indexed_key_arrives_under_its_item(arrived, key):
    a = arrived[f"indexed {key}"]
    assert key not in a and INDEXED[key] in a, a


@pytest.mark.parametrize("sent", sorted(PROVIDER_VALUES))
def test_a_provider_value_arrives_as_its_semconv_name(arrived, sent):
    key, value = sent
    a = arrived[f"provider {key}={value}"]
    assert key == "gen_ai.provider.name" or key not in a, a
    assert a.get("gen_ai.provider.name") == PROVIDER_VALUES[sent], a


@pytest.mark.parametrize("sent", sorted(OPERATION_VALUES))
def test_an_operation_value_arrives_as_its_semconv_name(arrived, sent):
    key, value = sent
    a = arrived[f"operation {key}={value}"]
    assert a.get("gen_ai.operation.name") == OPERATION_VALUES[sent], a


def test_every_alias_pattern_and_mapped_value_has_a_row_here():
    """Completeness only: the rows above are the expectations; this finds a table entry without one."""
    assert {a.key for a in aliases.ALIASES} == set(ALIASES)
    for indexed in aliases.INDEXED:
        assert any(re.fullmatch(indexed.pattern.strip("^$"), key) for key in INDEXED), indexed.pattern
    sent = {v.lower() for _, v in PROVIDER_VALUES} | {v.lower() for _, v in OPERATION_VALUES}
    for value_map in aliases.VALUE_MAPS:
        assert {v for v, _ in value_map.values} <= sent, value_map.canonical
