"""Content keys written out by hand, from the conventions and the instrumentations' own sources
(telemetry/ALIAS_SOURCES.md cites the files), never read from telemetry/keys.py or
telemetry/aliases.py: a key dropped from those tables (the retrieval query text) must fail a test
that sends it, not shrink the test with it."""
from __future__ import annotations

# OpenTelemetry GenAI semantic conventions: the attributes that carry prompt, completion, tool
# and retrieval content.
CANONICAL = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "gen_ai.retrieval.documents",
    "gen_ai.retrieval.query.text",
)

# Other instrumentations' keys that hold content under their own names.
INSTRUMENTATIONS = (
    # OpenLLMetry legacy whole-list keys
    "llm.prompts", "llm.completions",
    # Vercel AI SDK (ai 6.x, dist/index.mjs)
    "ai.prompt", "ai.prompt.messages", "ai.values", "ai.value", "ai.response.text", "ai.response.object",
    "ai.response.toolCalls", "ai.response.reasoning", "ai.toolCall.args", "ai.toolCall.result",
    # Haystack (HAYSTACK_CONTENT_TRACING_ENABLED)
    "haystack.component.input", "haystack.component.output", "haystack.pipeline.input_data",
    "haystack.pipeline.output_data", "haystack.agent.input", "haystack.agent.output",
    "haystack.agent.step.llm.input", "haystack.agent.step.llm.output", "haystack.agent.step.tool.input",
    "haystack.agent.step.tool.output",
    # Google ADK legacy keys
    "gcp.vertex.agent.llm_request", "gcp.vertex.agent.llm_response", "gcp.vertex.agent.data",
    "gcp.vertex.agent.tool_call_args", "gcp.vertex.agent.tool_response",
    # MLflow tracing (SpanAttributeKey.INPUTS/OUTPUTS)
    "mlflow.spanInputs", "mlflow.spanOutputs",
    # Langfuse OTel SDK (LangfuseOtelSpanAttributes)
    "langfuse.observation.input", "langfuse.observation.output", "langfuse.trace.input", "langfuse.trace.output",
    # pydantic-ai (run span prompt, message history, result, tool spans)
    "prompt", "all_messages_events", "pydantic_ai.all_messages", "final_result", "tool_arguments", "tool_response",
)
