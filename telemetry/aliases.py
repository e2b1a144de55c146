"""Attribute aliases: what instrumentation libraries emit -> canonical GenAI keys. Checked against the packages listed in SOURCES."""
from __future__ import annotations
from dataclasses import dataclass

# Conventions for whoever applies this table:
# - ALIASES keys are exact attribute keys. Several keys may share one canonical; when more than
#   one is present on a record, the one listed FIRST in ALIASES wins.
# - INDEXED patterns are RE2 (Go regexp) and anchored; group 1 is the item index (message,
#   document, tool definition). Where a pattern has a group 2 it is the index of the nested
#   item (tool call or content part) inside that message.
# - VALUE_MAPS source values are lower-case; compare case-insensitively ("LLM", "OpenAI").
# - Canonical keys follow keys.py: official gen_ai.* names, plus the project's llmobs.* keys
#   for time to first token, total tokens, app-reported cost, retrieved documents, prompt version.
#   ALIAS_SOURCES.md lists where these `llmobs.*` choices now differ from the newest semconv.


@dataclass(frozen=True)
class Source:
    name: str          # "otel-genai", "openllmetry", "openlit", "openinference"
    package: str       # PyPI package checked
    version: str       # version checked


# Several packages per source name: old and new releases both emit in the field.
SOURCES: tuple[Source, ...] = (
    Source("otel-genai", "opentelemetry-semantic-conventions", "0.66b2"),
    Source("otel-genai", "opentelemetry-instrumentation-openai-v2", "2.4b0"),
    Source("otel-genai", "opentelemetry-util-genai", "1.3b0"),
    Source("openllmetry", "opentelemetry-semantic-conventions-ai", "0.5.1"),
    Source("openllmetry", "opentelemetry-semantic-conventions-ai", "0.4.16"),
    Source("openllmetry", "opentelemetry-semantic-conventions-ai", "0.4.0"),
    Source("openllmetry", "opentelemetry-semantic-conventions-ai", "0.1.1"),
    Source("openllmetry", "opentelemetry-instrumentation-openai", "0.62.4"),
    Source("openllmetry", "opentelemetry-instrumentation-openai", "0.47.5"),
    Source("openllmetry", "opentelemetry-instrumentation-openai", "0.15.0"),
    Source("openlit", "openlit", "1.45.0"),
    Source("openlit", "openlit", "1.34.43"),
    Source("openinference", "openinference-semantic-conventions", "0.1.42"),
)
# Content keys only (ALIAS_SOURCES.md, "Content under other instrumentations' keys"): read from
# their source, not checked against constants (several define none, one is an npm package).
CONTENT_SOURCES: tuple[Source, ...] = (
    Source("vercel-ai", "ai (npm)", "6.0.326"),
    Source("haystack", "haystack-ai", "3.4.1"),
    Source("google-adk", "google-adk", "2.13.0"),
    Source("langsmith", "langsmith", "0.15.1"),
    Source("strands", "strands-agents", "1.62.0"),
    Source("llamaindex", "llama-index-observability-otel", "0.7.0"),
    Source("llamaindex", "llama-index-core", "0.14.25"),
    Source("logfire", "logfire-sdk", "5.4.0"),
    Source("openai-agents", "openai-agents", "0.24.0"),
    Source("crewai", "crewai", "1.15.30"),
)
# Content-key sources whose keys tests/test_alias_sources.py checks against the wheels' string
# literals and keyword names (logfire-style spans take attributes as keyword arguments).
CHECKED_CONTENT_SOURCES: tuple[Source, ...] = (
    Source("mlflow", "mlflow-tracing", "3.17.2"),
    Source("langfuse", "langfuse", "3.2.1"),
    Source("langfuse", "langfuse", "5.2.0"),
    Source("pydantic-ai", "pydantic-ai-slim", "0.0.20"),
    Source("pydantic-ai", "pydantic-ai-slim", "0.4.0"),
    Source("pydantic-ai", "pydantic-ai-slim", "2.78.0"),
)


@dataclass(frozen=True)
class Alias:
    key: str        # exact key as emitted
    canonical: str  # canonical key it becomes
    sources: tuple[str, ...]  # Source.name values that emit it


@dataclass(frozen=True)
class IndexedAlias:
    # flattened per-item keys, e.g. "gen_ai.prompt.{i}.content"; `pattern` is an RE2 regex (Go regexp syntax, no lookaround) matching the full key with the index as group 1
    pattern: str
    canonical: str   # the canonical aggregate key, e.g. "gen_ai.input.messages"
    field: str       # "content", "role", "tool_call_arguments", ... what the item field is
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ValueMap:
    # value normalisation for a canonical key, e.g. provider "openai"/"OpenAI" -> "openai", operation "LLM" -> "chat"
    canonical: str
    values: tuple[tuple[str, str], ...]  # (emitted value, lower-case) -> canonical value


OTEL = "otel-genai"
OLLM = "openllmetry"
OLIT = "openlit"
OINF = "openinference"
VAI = "vercel-ai"
HAY = "haystack"
MLF, LFU, PAI = "mlflow", "langfuse", "pydantic-ai"
ADK = "google-adk"

ALIASES: tuple[Alias, ...] = (
    # --- provider / system ---
    Alias("llm.provider", "gen_ai.provider.name", (OINF,)),        # hosting provider: preferred over llm.system
    Alias("gen_ai.system", "gen_ai.provider.name", (OTEL, OLLM, OLIT)),  # deprecated; openai-v2 default mode still emits it
    Alias("llm.system", "gen_ai.provider.name", (OINF,)),          # "AI product"; fallback only
    Alias("llm.vendor", "gen_ai.provider.name", (OLLM,)),          # semconv-ai <= 0.1.x

    # --- operation ---
    Alias("openinference.span.kind", "gen_ai.operation.name", (OINF,)),   # values: VALUE_MAPS
    Alias("llm.request.type", "gen_ai.operation.name", (OLLM,)),          # LLM spans
    Alias("traceloop.span.kind", "gen_ai.operation.name", (OLLM,)),       # workflow/task/agent/tool spans

    # --- models ---
    Alias("llm.request.model_name", "gen_ai.request.model", (OINF,)),
    Alias("llm.model_name", "gen_ai.request.model", (OINF,)),      # approximate: often the response model
    Alias("embedding.model_name", "gen_ai.request.model", (OINF,)),
    Alias("reranker.model_name", "gen_ai.request.model", (OINF,)),
    Alias("llm.request.model", "gen_ai.request.model", (OLLM,)),    # semconv-ai <= 0.1.x
    Alias("llm.response.model_name", "gen_ai.response.model", (OINF,)),
    Alias("llm.response.model", "gen_ai.response.model", (OLLM,)), # semconv-ai <= 0.1.x

    # --- token usage ---
    Alias("llm.token_count.prompt", "gen_ai.usage.input_tokens", (OINF,)),
    Alias("gen_ai.usage.prompt_tokens", "gen_ai.usage.input_tokens", (OTEL, OLLM)),  # deprecated semconv name
    Alias("llm.usage.prompt_tokens", "gen_ai.usage.input_tokens", (OLLM,)),
    Alias("llm.token_count.completion", "gen_ai.usage.output_tokens", (OINF,)),
    Alias("gen_ai.usage.completion_tokens", "gen_ai.usage.output_tokens", (OTEL, OLLM)),  # deprecated semconv name
    Alias("llm.usage.completion_tokens", "gen_ai.usage.output_tokens", (OLLM,)),
    Alias("llm.token_count.prompt_details.cache_read", "gen_ai.usage.cache_read.input_tokens", (OINF,)),
    Alias("gen_ai.usage.cache_read_input_tokens", "gen_ai.usage.cache_read.input_tokens", (OLLM,)),  # semconv-ai 0.4.x spelling
    Alias("gen_ai.usage.prompt_tokens_details.cached_tokens", "gen_ai.usage.cache_read.input_tokens", (OLIT,)),
    Alias("llm.token_count.prompt_details.cache_write", "gen_ai.usage.cache_creation.input_tokens", (OINF,)),
    Alias("gen_ai.usage.cache_creation_input_tokens", "gen_ai.usage.cache_creation.input_tokens", (OLLM,)),  # semconv-ai 0.4.x spelling
    Alias("gen_ai.usage.cache_write.input_tokens", "gen_ai.usage.cache_creation.input_tokens", (OTEL,)),  # util-genai 1.3b0 spelling
    Alias("gen_ai.usage.prompt_tokens_details.cache_creation_tokens", "gen_ai.usage.cache_creation.input_tokens", (OLIT,)),
    Alias("llm.token_count.completion_details.reasoning", "gen_ai.usage.reasoning.output_tokens", (OINF,)),
    Alias("gen_ai.usage.reasoning_tokens", "gen_ai.usage.reasoning.output_tokens", (OLLM, OLIT)),
    Alias("llm.usage.reasoning_tokens", "gen_ai.usage.reasoning.output_tokens", (OLLM,)),
    Alias("gen_ai.usage.completion_tokens_details.reasoning_tokens", "gen_ai.usage.reasoning.output_tokens", (OLIT,)),
    # total tokens: semconv has no key
    Alias("llm.token_count.total", "llmobs.usage.total_tokens", (OINF,)),
    Alias("gen_ai.usage.total_tokens", "llmobs.usage.total_tokens", (OLLM, OLIT)),
    Alias("llm.usage.total_tokens", "llmobs.usage.total_tokens", (OLLM,)),

    # --- cost and latency (app-reported; the gateway computes its own cost) ---
    Alias("llm.cost.total", "llmobs.usage.cost", (OINF,)),         # USD
    Alias("gen_ai.usage.cost", "llmobs.usage.cost", (OLIT,)),      # USD, OpenLIT price table
    Alias("gen_ai.server.time_to_first_token", "gen_ai.response.time_to_first_chunk", (OLIT,)),  # seconds (time.time() deltas)

    # --- request parameters ---
    Alias("llm.request.max_tokens", "gen_ai.request.max_tokens", (OLLM,)),
    Alias("llm.temperature", "gen_ai.request.temperature", (OLLM,)),
    Alias("llm.top_p", "gen_ai.request.top_p", (OLLM,)),
    Alias("llm.top_k", "gen_ai.request.top_k", (OLLM,)),
    Alias("llm.frequency_penalty", "gen_ai.request.frequency_penalty", (OLLM,)),
    Alias("llm.presence_penalty", "gen_ai.request.presence_penalty", (OLLM,)),
    Alias("llm.chat.stop_sequences", "gen_ai.request.stop_sequences", (OLLM,)),
    Alias("gen_ai.request.n", "gen_ai.request.choice.count", (OLLM, OLIT)),
    Alias("gen_ai.is_streaming", "gen_ai.request.stream", (OLLM,)),
    Alias("llm.is_streaming", "gen_ai.request.stream", (OLLM,)),
    Alias("gen_ai.openai.request.seed", "gen_ai.request.seed", (OTEL,)),          # deprecated semconv name
    Alias("gen_ai.openai.request.response_format", "gen_ai.output.type", (OTEL,)),  # openai-v2 default mode
    Alias("gen_ai.openai.request.service_tier", "openai.request.service_tier", (OTEL,)),
    Alias("gen_ai.openai.response.service_tier", "openai.response.service_tier", (OTEL,)),
    Alias("gen_ai.openai.response.system_fingerprint", "openai.response.system_fingerprint", (OTEL,)),
    Alias("gen_ai.openai.system_fingerprint", "openai.response.system_fingerprint", (OLLM,)),

    # --- response ---
    # single string emitted; canonical is string[] (LIST_KEYS wraps it)
    Alias("llm.finish_reason", "gen_ai.response.finish_reasons", (OINF,)),
    Alias("gen_ai.response.finish_reason", "gen_ai.response.finish_reasons", (OLLM,)),
    Alias("llm.response.finish_reason", "gen_ai.response.finish_reasons", (OLLM,)),
    Alias("gen_ai.response.stop_reason", "gen_ai.response.finish_reasons", (OLLM,)),
    Alias("llm.response.stop_reason", "gen_ai.response.finish_reasons", (OLLM,)),

    # --- resource ---
    Alias("deployment.environment", "deployment.environment.name", (OTEL, OLIT)),  # deprecated semconv name; OpenLIT's `environment`

    # --- identity / session ---
    Alias("session.id", "gen_ai.conversation.id", (OINF,)),
    Alias("gen_ai.session.id", "gen_ai.conversation.id", (OLIT,)),
    Alias("gen_ai.user", "user.id", (OLLM,)),               # OpenAI `user` request param = end-user id
    Alias("llm.user", "user.id", (OLLM,)),
    Alias("gen_ai.request.user", "user.id", (OLIT,)),
    Alias("gen_ai.user.id", "user.id", (OLIT,)),
    Alias("agent.name", "gen_ai.agent.name", (OINF,)),
    Alias("traceloop.entity.name", "gen_ai.agent.name", (OLLM,)),  # approximate: name of any workflow/task/agent/tool span
    Alias("traceloop.workflow.name", "gen_ai.workflow.name", (OLLM,)),
    Alias("llm.prompt_template.version", "llmobs.prompt.version", (OINF,)),
    Alias("traceloop.prompt.version", "llmobs.prompt.version", (OLLM,)),
    Alias("gen_ai.prompt.version", "llmobs.prompt.version", (OTEL,)),  # util-genai 1.3b0, see ALIAS_SOURCES.md

    # --- tools ---
    Alias("tool.name", "gen_ai.tool.name", (OINF,)),
    Alias("tool_call.function.name", "gen_ai.tool.name", (OINF,)),   # usually nested in messages
    Alias("tool.description", "gen_ai.tool.description", (OINF,)),
    Alias("tool.id", "gen_ai.tool.call.id", (OINF,)),
    Alias("tool_call.id", "gen_ai.tool.call.id", (OINF,)),
    # approximate: spec says "parameters of the tool" (JSON); instrumentations put the call's
    # arguments or the parameter schema there. Treated as arguments so it is handled as content.
    Alias("tool.parameters", "gen_ai.tool.call.arguments", (OINF,)),
    Alias("tool_call.function.arguments", "gen_ai.tool.call.arguments", (OINF,)),
    Alias("gen_ai.tool.args", "gen_ai.tool.call.arguments", (OLIT,)),
    Alias("gen_ai.tool.input", "gen_ai.tool.call.arguments", (OLIT,)),
    Alias("gen_ai.tool.output", "gen_ai.tool.call.result", (OLIT,)),
    Alias("gen_ai.tool.result", "gen_ai.tool.call.result", (OLIT,)),

    # --- content (scalar). Canonical is JSON messages; these carry raw text/JSON instead. ---
    # approximate: raw request/response payload of any span kind (on TOOL spans it is the
    # tool input/output, on RETRIEVER spans the query/documents).
    Alias("input.value", "gen_ai.input.messages", (OINF,)),
    Alias("output.value", "gen_ai.output.messages", (OINF,)),
    # approximate: JSON of the decorated function's args / return value
    Alias("traceloop.entity.input", "gen_ai.input.messages", (OLLM,)),
    Alias("traceloop.entity.output", "gen_ai.output.messages", (OLLM,)),
    # OpenLIT < 1.35 put the prompt/completion text here; removed from semconv with no replacement
    Alias("gen_ai.prompt", "gen_ai.input.messages", (OTEL, OLIT)),
    Alias("gen_ai.completion", "gen_ai.output.messages", (OTEL, OLIT)),
    # OpenLIT span-event NAMES (their attribute is gen_ai.prompt / gen_ai.input.messages);
    # only matter where events are flattened into attributes
    Alias("gen_ai.content.prompt", "gen_ai.input.messages", (OLIT,)),
    Alias("gen_ai.content.completion", "gen_ai.output.messages", (OLIT,)),
    # approximate: chain/workflow input and output text
    Alias("gen_ai.workflow.input", "gen_ai.input.messages", (OLIT,)),
    Alias("gen_ai.workflow.output", "gen_ai.output.messages", (OLIT,)),

    # --- retrieval ---
    Alias("gen_ai.retrieval.document_count", "llmobs.retrieval.returned_count", (OLIT,)),
    Alias("gen_ai.retrieval.query", "gen_ai.retrieval.query.text", (OLIT,)),
    Alias("reranker.query", "gen_ai.retrieval.query.text", (OINF,)),
)

# Message prefixes, OpenLLMetry: "gen_ai.prompt"/"gen_ai.completion" (semconv-ai 0.2-0.4.x,
# checked in instrumentation-openai 0.47.5) and "llm.prompts"/"llm.completions" (semconv-ai
# <= 0.1.x, checked in instrumentation-openai 0.15.0). Alternation only for fields seen in both.
_OL_IN = r"(?:gen_ai\.prompt|llm\.prompts)"
_OL_OUT = r"(?:gen_ai\.completion|llm\.completions)"

INDEXED: tuple[IndexedAlias, ...] = (
    # --- OpenLLMetry input messages ---
    IndexedAlias(rf"^{_OL_IN}\.(\d+)\.role$", "gen_ai.input.messages", "role", (OLLM,)),
    IndexedAlias(rf"^{_OL_IN}\.(\d+)\.content$", "gen_ai.input.messages", "content", (OLLM,)),
    # completions API: prompt text under ".user" (role user implied)
    IndexedAlias(rf"^{_OL_IN}\.(\d+)\.user$", "gen_ai.input.messages", "content", (OLLM,)),
    IndexedAlias(r"^gen_ai\.prompt\.(\d+)\.tool_call_id$", "gen_ai.input.messages", "tool_call_response_id", (OLLM,)),
    IndexedAlias(r"^gen_ai\.prompt\.(\d+)\.tool_calls\.(\d+)\.id$", "gen_ai.input.messages", "tool_call_id", (OLLM,)),
    IndexedAlias(r"^gen_ai\.prompt\.(\d+)\.tool_calls\.(\d+)\.name$", "gen_ai.input.messages", "tool_call_name", (OLLM,)),
    IndexedAlias(r"^gen_ai\.prompt\.(\d+)\.tool_calls\.(\d+)\.arguments$", "gen_ai.input.messages", "tool_call_arguments", (OLLM,)),
    # --- OpenLLMetry output messages ---
    IndexedAlias(rf"^{_OL_OUT}\.(\d+)\.role$", "gen_ai.output.messages", "role", (OLLM,)),
    IndexedAlias(rf"^{_OL_OUT}\.(\d+)\.content$", "gen_ai.output.messages", "content", (OLLM,)),
    IndexedAlias(rf"^{_OL_OUT}\.(\d+)\.finish_reason$", "gen_ai.output.messages", "finish_reason", (OLLM,)),
    IndexedAlias(r"^gen_ai\.completion\.(\d+)\.tool_calls\.(\d+)\.id$", "gen_ai.output.messages", "tool_call_id", (OLLM,)),
    IndexedAlias(r"^gen_ai\.completion\.(\d+)\.tool_calls\.(\d+)\.name$", "gen_ai.output.messages", "tool_call_name", (OLLM,)),
    IndexedAlias(r"^gen_ai\.completion\.(\d+)\.tool_calls\.(\d+)\.arguments$", "gen_ai.output.messages", "tool_call_arguments", (OLLM,)),
    # legacy single function call (0.15.0 puts the first tool call here too)
    IndexedAlias(r"^llm\.completions\.(\d+)\.function_call\.name$", "gen_ai.output.messages", "tool_call_name", (OLLM,)),
    IndexedAlias(r"^llm\.completions\.(\d+)\.function_call\.arguments$", "gen_ai.output.messages", "tool_call_arguments", (OLLM,)),
    # --- OpenLLMetry tool definitions ---
    IndexedAlias(r"^llm\.request\.functions\.(\d+)\.name$", "gen_ai.tool.definitions", "name", (OLLM,)),
    IndexedAlias(r"^llm\.request\.functions\.(\d+)\.description$", "gen_ai.tool.definitions", "description", (OLLM,)),
    IndexedAlias(r"^llm\.request\.functions\.(\d+)\.parameters$", "gen_ai.tool.definitions", "parameters", (OLLM,)),

    # --- OpenInference input messages ---
    IndexedAlias(r"^llm\.input_messages\.(\d+)\.message\.role$", "gen_ai.input.messages", "role", (OINF,)),
    IndexedAlias(r"^llm\.input_messages\.(\d+)\.message\.content$", "gen_ai.input.messages", "content", (OINF,)),
    IndexedAlias(r"^llm\.input_messages\.(\d+)\.message\.name$", "gen_ai.input.messages", "name", (OINF,)),
    IndexedAlias(r"^llm\.input_messages\.(\d+)\.message\.tool_call_id$", "gen_ai.input.messages", "tool_call_response_id", (OINF,)),
    IndexedAlias(r"^llm\.input_messages\.(\d+)\.message\.contents\.(\d+)\.message_content\.type$", "gen_ai.input.messages", "part_type", (OINF,)),
    IndexedAlias(r"^llm\.input_messages\.(\d+)\.message\.contents\.(\d+)\.message_content\.text$", "gen_ai.input.messages", "text", (OINF,)),
    IndexedAlias(r"^llm\.input_messages\.(\d+)\.message\.tool_calls\.(\d+)\.tool_call\.id$", "gen_ai.input.messages", "tool_call_id", (OINF,)),
    IndexedAlias(r"^llm\.input_messages\.(\d+)\.message\.tool_calls\.(\d+)\.tool_call\.function\.name$", "gen_ai.input.messages", "tool_call_name", (OINF,)),
    IndexedAlias(r"^llm\.input_messages\.(\d+)\.message\.tool_calls\.(\d+)\.tool_call\.function\.arguments$", "gen_ai.input.messages", "tool_call_arguments", (OINF,)),
    IndexedAlias(r"^llm\.input_messages\.(\d+)\.message\.function_call_name$", "gen_ai.input.messages", "tool_call_name", (OINF,)),
    IndexedAlias(r"^llm\.input_messages\.(\d+)\.message\.function_call_arguments_json$", "gen_ai.input.messages", "tool_call_arguments", (OINF,)),
    # --- OpenInference output messages ---
    IndexedAlias(r"^llm\.output_messages\.(\d+)\.message\.role$", "gen_ai.output.messages", "role", (OINF,)),
    IndexedAlias(r"^llm\.output_messages\.(\d+)\.message\.content$", "gen_ai.output.messages", "content", (OINF,)),
    IndexedAlias(r"^llm\.output_messages\.(\d+)\.message\.name$", "gen_ai.output.messages", "name", (OINF,)),
    IndexedAlias(r"^llm\.output_messages\.(\d+)\.message\.contents\.(\d+)\.message_content\.type$", "gen_ai.output.messages", "part_type", (OINF,)),
    IndexedAlias(r"^llm\.output_messages\.(\d+)\.message\.contents\.(\d+)\.message_content\.text$", "gen_ai.output.messages", "text", (OINF,)),
    IndexedAlias(r"^llm\.output_messages\.(\d+)\.message\.tool_calls\.(\d+)\.tool_call\.id$", "gen_ai.output.messages", "tool_call_id", (OINF,)),
    IndexedAlias(r"^llm\.output_messages\.(\d+)\.message\.tool_calls\.(\d+)\.tool_call\.function\.name$", "gen_ai.output.messages", "tool_call_name", (OINF,)),
    IndexedAlias(r"^llm\.output_messages\.(\d+)\.message\.tool_calls\.(\d+)\.tool_call\.function\.arguments$", "gen_ai.output.messages", "tool_call_arguments", (OINF,)),
    IndexedAlias(r"^llm\.output_messages\.(\d+)\.message\.function_call_name$", "gen_ai.output.messages", "tool_call_name", (OINF,)),
    IndexedAlias(r"^llm\.output_messages\.(\d+)\.message\.function_call_arguments_json$", "gen_ai.output.messages", "tool_call_arguments", (OINF,)),
    # completions API
    IndexedAlias(r"^llm\.prompts\.(\d+)\.prompt\.text$", "gen_ai.input.messages", "content", (OINF,)),
    IndexedAlias(r"^llm\.choices\.(\d+)\.completion\.text$", "gen_ai.output.messages", "content", (OINF,)),
    # approximate: embedding input text is not a chat message, but it is input content
    IndexedAlias(r"^embedding\.embeddings\.(\d+)\.embedding\.text$", "gen_ai.input.messages", "text", (OINF,)),
    # --- OpenInference tool definitions ---
    IndexedAlias(r"^llm\.tools\.(\d+)\.tool\.json_schema$", "gen_ai.tool.definitions", "json_schema", (OINF,)),
    # --- OpenInference retrieved documents ---
    IndexedAlias(r"^retrieval\.documents\.(\d+)\.document\.content$", "gen_ai.retrieval.documents", "document.content", (OINF,)),
    IndexedAlias(r"^retrieval\.documents\.(\d+)\.document\.id$", "gen_ai.retrieval.documents", "document.id", (OINF,)),
    IndexedAlias(r"^retrieval\.documents\.(\d+)\.document\.score$", "gen_ai.retrieval.documents", "document.score", (OINF,)),
    IndexedAlias(r"^retrieval\.documents\.(\d+)\.document\.metadata$", "gen_ai.retrieval.documents", "document.metadata", (OINF,)),
    # reranker output = the documents finally returned (input_documents deliberately not aliased)
    IndexedAlias(r"^reranker\.output_documents\.(\d+)\.document\.content$", "gen_ai.retrieval.documents", "document.content", (OINF,)),
    IndexedAlias(r"^reranker\.output_documents\.(\d+)\.document\.id$", "gen_ai.retrieval.documents", "document.id", (OINF,)),
    IndexedAlias(r"^reranker\.output_documents\.(\d+)\.document\.score$", "gen_ai.retrieval.documents", "document.score", (OINF,)),
)

# Keys whose conventional value is a list: a single string there becomes a one-item list
# (the finish-reason aliases above are single strings). Not on data points: labels are strings.
LIST_KEYS: tuple[str, ...] = ("gen_ai.response.finish_reasons",)

VALUE_MAPS: tuple[ValueMap, ...] = (
    ValueMap("gen_ai.provider.name", (
        # deprecated gen_ai.system values (semconv GenAiSystemValues), also OpenLIT < 1.35
        ("vertex_ai", "gcp.vertex_ai"),
        ("gemini", "gcp.gemini"),
        ("az.ai.inference", "azure.ai.inference"),
        ("az.ai.openai", "azure.ai.openai"),       # also OpenLLMetry GenAISystem.AZURE
        ("xai", "x_ai"),                           # also OpenInference llm.provider
        ("ibm.watson.ai", "ibm.watsonx.ai"),       # OpenLIT spelling
        ("google.ai.studio", "gcp.gemini"),        # OpenLIT < 1.35; 1.45 emits gcp.gemini
        # OpenInference llm.provider / llm.system values
        ("mistralai", "mistral_ai"),
        ("vertexai", "gcp.vertex_ai"),
        ("google", "gcp.gen_ai"),                  # "any Google generative AI endpoint"
        ("aws", "aws.bedrock"),                    # approximate: AWS-hosted models are Bedrock in practice
        ("azure", "azure.ai.openai"),              # approximate: could be azure.ai.inference
    )),
    ValueMap("gen_ai.operation.name", (
        # openinference.span.kind (upper case in the wild)
        ("llm", "chat"),                           # approximate: also plain completions
        ("embedding", "embeddings"),               # also OpenLLMetry llm.request.type
        ("retriever", "retrieval"),
        ("reranker", "retrieval"),                 # approximate
        ("tool", "execute_tool"),                  # also traceloop.span.kind
        ("agent", "invoke_agent"),                 # also traceloop.span.kind
        ("chain", "invoke_workflow"),              # gen_ai_normalizer uses invoke_agent
        # OpenLLMetry llm.request.type / traceloop.span.kind
        ("completion", "text_completion"),
        ("rerank", "retrieval"),                   # approximate
        ("workflow", "invoke_workflow"),           # also OpenLIT < 1.35 framework spans
        # OpenLIT < 1.35 gen_ai.operation.name values
        ("retrieve", "retrieval"),
        ("graph_execution", "invoke_workflow"),
    )),
)


@dataclass(frozen=True)
class EventContent:
    """Span events whose attributes carry content under plain field names (`content`,
    `messages`, ...): by event name, not by key, because those names are too common to
    rename everywhere. `event` is an anchored RE2 regex over the span event's name."""
    event: str
    fields: tuple[str, ...]
    sources: tuple[str, ...]


EVENT_CONTENT: tuple[EventContent, ...] = (
    # Semconv <= 1.36 message events as span events (Strands' legacy mode, openai-v2 via the
    # event-to-span bridge): gen_ai.{system,user,assistant,tool}.message and gen_ai.choice.
    EventContent(r"^gen_ai\.(?:system|user|assistant|tool)\.message$|^gen_ai\.choice$",
                 ("content", "message", "tool_calls", "arguments", "result"), (OTEL, "strands")),
    # LlamaIndex OTel: the instrumentation event's class name, its model_dump flattened.
    EventContent(r"^(?:LLM|Embedding|Query|Retrieval|Synthesize|Rerank|ReRank|AgentRun|AgentChat|AgentToolCall|GetResponse)[A-Za-z]*Event$",
                 ("messages", "prompt", "response", "response.text", "response.message.content", "response.response",
                  "query", "query.query_str", "str_or_query_bundle", "str_or_query_bundle.query_str", "nodes",
                  "chunks", "text", "arguments", "tool.output", "response.message.blocks", "output"), ("llamaindex",)),
)


@dataclass(frozen=True)
class ContentKey:
    """A key that holds prompt or completion content but is not renamed: the content policy
    hashes, previews or drops it under its own name (`ai.prompt.hmac`). Renaming these would
    cost two statements per context each and would merge several keys of one span into one."""
    key: str
    kind: str   # the canonical content key it corresponds to
    sources: tuple[str, ...]


CONTENT_KEYS: tuple[ContentKey, ...] = (
    # OpenLLMetry semconv-ai <= 0.1.x whole-list keys (the per-item forms are in INDEXED)
    ContentKey("llm.prompts", "gen_ai.input.messages", (OLLM,)),
    ContentKey("llm.completions", "gen_ai.output.messages", (OLLM,)),
    # Vercel AI SDK: ai.prompt is {system, prompt, messages} JSON
    ContentKey("ai.prompt.messages", "gen_ai.input.messages", (VAI,)),
    ContentKey("ai.prompt", "gen_ai.input.messages", (VAI,)),
    ContentKey("ai.values", "gen_ai.input.messages", (VAI,)),   # embedMany input texts
    ContentKey("ai.value", "gen_ai.input.messages", (VAI,)),    # embed input text
    ContentKey("ai.response.text", "gen_ai.output.messages", (VAI,)),
    ContentKey("ai.response.object", "gen_ai.output.messages", (VAI,)),
    ContentKey("ai.response.toolCalls", "gen_ai.output.messages", (VAI,)),
    ContentKey("ai.response.reasoning", "gen_ai.output.messages", (VAI,)),
    ContentKey("ai.toolCall.args", "gen_ai.tool.call.arguments", (VAI,)),
    ContentKey("ai.toolCall.result", "gen_ai.tool.call.result", (VAI,)),
    # Haystack content tracing (HAYSTACK_CONTENT_TRACING_ENABLED)
    ContentKey("haystack.component.input", "gen_ai.input.messages", (HAY,)),
    ContentKey("haystack.pipeline.input_data", "gen_ai.input.messages", (HAY,)),
    ContentKey("haystack.agent.input", "gen_ai.input.messages", (HAY,)),
    ContentKey("haystack.agent.step.llm.input", "gen_ai.input.messages", (HAY,)),
    ContentKey("haystack.component.output", "gen_ai.output.messages", (HAY,)),
    ContentKey("haystack.pipeline.output_data", "gen_ai.output.messages", (HAY,)),
    ContentKey("haystack.agent.output", "gen_ai.output.messages", (HAY,)),
    ContentKey("haystack.agent.step.llm.output", "gen_ai.output.messages", (HAY,)),
    ContentKey("haystack.agent.step.tool.input", "gen_ai.tool.call.arguments", (HAY,)),
    ContentKey("haystack.agent.step.tool.output", "gen_ai.tool.call.result", (HAY,)),
    # Google ADK legacy span content
    ContentKey("gcp.vertex.agent.llm_request", "gen_ai.input.messages", (ADK,)),
    ContentKey("gcp.vertex.agent.data", "gen_ai.input.messages", (ADK,)),
    ContentKey("gcp.vertex.agent.llm_response", "gen_ai.output.messages", (ADK,)),
    ContentKey("gcp.vertex.agent.tool_call_args", "gen_ai.tool.call.arguments", (ADK,)),
    ContentKey("gcp.vertex.agent.tool_response", "gen_ai.tool.call.result", (ADK,)),
    # MLflow tracing: a span's inputs and outputs as JSON (SpanAttributeKey.INPUTS/OUTPUTS)
    ContentKey("mlflow.spanInputs", "gen_ai.input.messages", (MLF,)),
    ContentKey("mlflow.spanOutputs", "gen_ai.output.messages", (MLF,)),
    # Langfuse OTel SDK (v3+): observation and trace input/output as JSON
    ContentKey("langfuse.observation.input", "gen_ai.input.messages", (LFU,)),
    ContentKey("langfuse.observation.output", "gen_ai.output.messages", (LFU,)),
    ContentKey("langfuse.trace.input", "gen_ai.input.messages", (LFU,)),
    ContentKey("langfuse.trace.output", "gen_ai.output.messages", (LFU,)),
    # pydantic-ai (through Logfire or plain OTel): the run's prompt (0.0.x), message history
    # (all_messages_events up to instrumentation version 1, pydantic_ai.all_messages after),
    # final result, and tool spans' arguments/response (version-1 names; later ones use gen_ai.*)
    ContentKey("prompt", "gen_ai.input.messages", (PAI,)),
    ContentKey("all_messages_events", "gen_ai.input.messages", (PAI,)),
    ContentKey("pydantic_ai.all_messages", "gen_ai.input.messages", (PAI,)),
    ContentKey("final_result", "gen_ai.output.messages", (PAI,)),
    ContentKey("tool_arguments", "gen_ai.tool.call.arguments", (PAI,)),
    ContentKey("tool_response", "gen_ai.tool.call.result", (PAI,)),
)
