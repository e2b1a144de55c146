"""Canonical attribute keys: OpenTelemetry GenAI semantic conventions, plus `llmobs.*`
for what the conventions do not name yet. Loadgen, the collector config and the
metric catalog all take keys from here."""
from __future__ import annotations

# GenAI semantic conventions
PROVIDER = "gen_ai.provider.name"
OPERATION = "gen_ai.operation.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"   # includes cached input tokens
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
CACHED_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
CACHE_WRITE_TOKENS = "gen_ai.usage.cache_creation.input_tokens"  # written to the provider's prompt cache
CONVERSATION_ID = "gen_ai.conversation.id"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
EVAL_NAME = "gen_ai.evaluation.name"
EVAL_SCORE = "gen_ai.evaluation.score.value"
EVAL_LABEL = "gen_ai.evaluation.score.label"  # pass | fail | hallucinated | ...: boolean flags
AGENT_NAME = "gen_ai.agent.name"
ENVIRONMENT = "deployment.environment.name"   # resource attribute
ERROR_TYPE = "error.type"
USER_ID = "user.id"
SERVICE_NAME = "service.name"

# Content: never leaves the gateway as is (see settings `content`).
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_RESULT = "gen_ai.tool.call.result"
RETRIEVED_DOCUMENTS = "gen_ai.retrieval.documents"
RETRIEVAL_QUERY = "gen_ai.retrieval.query.text"
CONTENT_KEYS = (INPUT_MESSAGES, OUTPUT_MESSAGES, SYSTEM_INSTRUCTIONS, TOOL_ARGUMENTS, TOOL_RESULT,
                RETRIEVED_DOCUMENTS, RETRIEVAL_QUERY)
# Flattened per-item forms (`gen_ai.input.messages.3.content`) of the content keys,
# as indexed aliases are normalized; only these fields carry content.
CONTENT_FIELDS = ("content", "text", "tool_call_arguments", "document.content", "document.metadata")

# Project keys (no convention yet)
TENANT = "llmobs.tenant"
FEATURE = "llmobs.feature"
PROMPT_VERSION = "llmobs.prompt.version"
TTFT = "gen_ai.response.time_to_first_chunk"  # seconds (semconv 1.40+)
COST = "llmobs.cost.usd"                     # set by the gateway only
UNPRICED = "llmobs.cost.unpriced"            # true when the model has no price
TOOL_OUTCOME = "llmobs.tool.outcome"          # ok | error | denied
SAFETY_BLOCKED = "llmobs.safety.blocked"      # bool
SAFETY_CATEGORY = "llmobs.safety.category"
RETRIEVAL_RETURNED = "llmobs.retrieval.returned_count"
RETRIEVAL_TOP_K = "llmobs.retrieval.top_k"            # documents requested
RETRIEVAL_METHOD = "llmobs.retrieval.method"          # vector | bm25 | rerank | hybrid
RETRIEVAL_INDEX = "llmobs.retrieval.index"
RETRIEVAL_INDEX_VERSION = "llmobs.retrieval.index_version"
RETRIEVAL_SCORES = "llmobs.retrieval.scores"          # double[], best first
RETRY_ATTEMPT = "llmobs.retry.attempt"                # 0 on the first try, 1.. on retries
FALLBACK = "llmobs.fallback"                          # true on a call to the fallback model
FALLBACK_FROM = "llmobs.fallback.from_model"          # the model it replaced
CONTEXT_WINDOW = "llmobs.context_window.tokens"       # the model's window; the gateway fills it from the model table
AGENT_ITERATION = "llmobs.agent.iteration"            # on each LLM call of an agent loop: 1, 2, ...
AGENT_ITERATIONS = "llmobs.agent.iterations"          # on the request's root span: the loop's total
TOOL_APPROVAL_REQUIRED = "llmobs.tool.approval_required"  # bool
TOOL_APPROVAL = "llmobs.tool.approval"                # auto | approved | denied
SAFETY_STAGE = "llmobs.safety.stage"                  # input | output
OUTCOME = "llmobs.request.outcome"                    # root span: answered | unanswered | refused | error
FEEDBACK = "llmobs.feedback"                  # up | down
REDACTED = "llmobs.redacted"                  # true when a detector fired on the record
INVALID = "llmobs.invalid"                    # set by the gateway: the numeric key it dropped (bad value)
# Metric-only copies of tenant/feature, bounded to the allowed values.
TENANT_LABEL = "llmobs.tenant_bounded"
FEATURE_LABEL = "llmobs.feature_bounded"
# Set by the gateway on the metric path only (never on exported traces or logs).
GATEWAY_INSTANCE = "llmobs.gateway.instance"   # the gateway process that derived the point (its service.instance.id)
OVERFLOW_LABEL = "llmobs.label"                # which bounded label folded a value into `other`
USER_BUCKET = "llmobs.user_bucket"            # 3 hex digits of sha256(user.id): 4096 buckets
SESSION_BUCKET = "llmobs.session_bucket"      # the same of gen_ai.conversation.id
OUTCOMES = ("answered", "unanswered", "refused", "error")
SAFETY_STAGES = ("input", "output")

# gen_ai.operation.name values
LLM_OPERATIONS = ("chat", "text_completion", "generate_content", "embeddings")
TOOL_OPERATION = "execute_tool"
RETRIEVAL_OPERATION = "retrieval"
CONTENT_GUARDED = "llmobs.content.guarded"    # set by the gateway: the (first) unknown key the content guard hashed
