"""The synthetic application's world: tenants, features, models, prompts, indexes, tools.

Plain data; `loadgen.app` draws from it with a seeded random generator. Attribute keys
that telemetry/keys.py does not name (HTTP, retrieval details, approvals, ...) are
the loadgen's own and live in `X` below.
"""
from __future__ import annotations

from dataclasses import dataclass

from telemetry import keys as k


class X:
    """Attribute keys of the synthetic app: semconv where one exists, else `llmobs.*`. Those the
    gateway derives metrics from are telemetry/keys.py's (referenced here by the loadgen's names)."""
    HTTP_METHOD = "http.request.method"
    HTTP_ROUTE = "http.route"
    HTTP_STATUS = "http.response.status_code"
    REQUEST_ID = "llmobs.request.id"
    ENDPOINT = "llmobs.endpoint"
    PHASE = "llmobs.loadgen.phase"              # baseline | scenario: which side of the switch
    SCENARIO = "llmobs.loadgen.scenario"
    PROMPT_TEMPLATE = "llmobs.prompt.template"
    MAX_TOKENS = "gen_ai.request.max_tokens"
    TEMPERATURE = "gen_ai.request.temperature"
    STREAM = "gen_ai.request.stream"
    RESPONSE_ID = "gen_ai.response.id"
    AGENT_NAME = k.AGENT_NAME
    DATA_SOURCE = "gen_ai.data_source.id"
    EMBED_DIMENSIONS = "gen_ai.embeddings.dimension.count"
    RETRY_ATTEMPT = k.RETRY_ATTEMPT
    FALLBACK = k.FALLBACK                # true on a call to the fallback model
    FALLBACK_FROM = k.FALLBACK_FROM
    CONTEXT_WINDOW = k.CONTEXT_WINDOW
    CONTEXT_UTILIZATION = "llmobs.context_window.utilization"
    INDEX_NAME = k.RETRIEVAL_INDEX
    INDEX_VERSION = k.RETRIEVAL_INDEX_VERSION
    TOP_K = k.RETRIEVAL_TOP_K
    SCORES = k.RETRIEVAL_SCORES
    DOC_IDS = "llmobs.retrieval.document_ids"
    RETRIEVAL_METHOD = k.RETRIEVAL_METHOD  # vector | bm25 | rerank | hybrid
    DB_SYSTEM = "db.system.name"
    AGENT_ITERATION = k.AGENT_ITERATION
    APPROVAL_REQUIRED = k.TOOL_APPROVAL_REQUIRED
    APPROVAL = k.TOOL_APPROVAL           # auto | approved | denied
    SAFETY_STAGE = k.SAFETY_STAGE        # input | output
    SAFETY_SCORE = "llmobs.safety.score"
    EVAL_LABEL = k.EVAL_LABEL
    EVAL_EXPLANATION = "gen_ai.evaluation.explanation"
    EXCEPTION_MESSAGE = "exception.message"
    EXCEPTION_TYPE = "exception.type"
    DEBUG_RAW_PROMPT = "app.debug.raw_prompt"   # what a careless debug statement attaches
    TOKEN_TYPE = "gen_ai.token.type"            # app-side gen_ai.client.token.usage metric


@dataclass(frozen=True)
class Model:
    name: str
    provider: str
    response: str          # the dated snapshot the provider reports (priced by pattern)
    context_window: int
    tokens_per_s: float    # generation speed
    ttft_s: float          # time to first token at a small prompt
    kind: str = "chat"     # chat | embeddings


MODELS: dict[str, Model] = {m.name: m for m in (
    Model("gpt-4o", "openai", "gpt-4o-2024-08-06", 128_000, 85, 0.45),
    Model("gpt-4o-mini", "openai", "gpt-4o-mini-2024-07-18", 128_000, 120, 0.30),
    Model("gpt-4.1", "openai", "gpt-4.1-2025-04-14", 1_047_576, 80, 0.50),
    Model("gpt-4.1-mini", "openai", "gpt-4.1-mini-2025-04-14", 1_047_576, 110, 0.30),
    Model("claude-sonnet-4", "anthropic", "claude-sonnet-4-20250514", 200_000, 70, 0.60),
    Model("claude-opus-4", "anthropic", "claude-opus-4-20250514", 200_000, 40, 0.90),
    Model("claude-3-5-haiku", "anthropic", "claude-3-5-haiku-20241022", 200_000, 120, 0.35),
    Model("gemini-2.5-flash", "gcp.gemini", "gemini-2.5-flash", 1_048_576, 150, 0.35),
    Model("text-embedding-3-small", "openai", "text-embedding-3-small", 8_191, 0, 0.0, kind="embeddings"),
    # Self-hosted, not in the price table: the gateway counts it as unpriced, never guesses.
    Model("llama-3.1-8b-instruct", "vllm", "llama-3.1-8b-instruct", 131_072, 140, 0.15),
)}


@dataclass(frozen=True)
class Feature:
    name: str
    route: str
    primary: str
    fallback: str | None
    prompt: str            # prompt template name; versions below
    streaming: bool
    rag: bool              # rewrite + retrieval before the answer
    index: str | None
    agent: bool = False
    self_hosted_share: float = 0.0   # share of calls routed to the unpriced self-hosted model


FEATURES: dict[str, Feature] = {f.name: f for f in (
    Feature("chat", "/v1/chat", "gpt-4o", "claude-sonnet-4", "support-chat", True, True, "kb-docs"),
    Feature("search", "/v1/search", "gpt-4o-mini", "gemini-2.5-flash", "answer-search", False, True, "kb-products"),
    Feature("summarize", "/v1/summarize", "claude-3-5-haiku", "gemini-2.5-flash", "summarize-doc", False, False, None,
            self_hosted_share=0.08),
    Feature("agent", "/v1/agent", "gpt-4.1", "claude-sonnet-4", "ops-agent", True, False, "kb-docs", agent=True),
    # Fallback models serve no feature as primary, so their share of calls shows fallbacks.
)}
FEATURE_WEIGHTS = {"chat": 0.40, "search": 0.25, "summarize": 0.15, "agent": 0.20}

# Tenants in the Pulumi.dev.yaml label bound, plus a long tail that the gateway folds into `other`.
TENANT_WEIGHTS = {"acme": 0.38, "globex": 0.30, "initech": 0.20, "umbrella": 0.09}
LONG_TAIL_SHARE = 0.03
LONG_TAIL = tuple(f"smallco-{i:02d}" for i in range(12))
PREMIUM_TENANT = "umbrella"      # the one whose cost spikes in `tenant_cost_spike`

REWRITE_MODEL = "gpt-4.1-mini"
EMBED_MODEL = "text-embedding-3-small"
PREMIUM_MODEL = "claude-opus-4"

# Prompt template versions: (baseline, after a change). `quality_drop` ships the second.
PROMPT_VERSIONS = {
    "support-chat": ("support-chat-v7", "support-chat-v8"),
    "answer-search": ("answer-search-v3", "answer-search-v4"),
    "summarize-doc": ("summarize-doc-v2", "summarize-doc-v3"),
    "ops-agent": ("ops-agent-v5", "ops-agent-v6"),
    "query-rewrite": ("query-rewrite-v2", "query-rewrite-v2"),
}
BLOATED_SUFFIX = "-verbose"      # `prompt_bloat` ships "<version>-verbose"
SYSTEM_TOKENS = {"support-chat": 850, "answer-search": 420, "summarize-doc": 300, "ops-agent": 1400,
                 "query-rewrite": 120}

# Retrieval indexes: (current version, stale version served in `context_recall_drop`).
INDEXES = {"kb-docs": ("kb-docs-2025-06", "kb-docs-2024-11"), "kb-products": ("kb-products-2025-06", "kb-products-2024-11")}
TOP_K = {"kb-docs": 8, "kb-products": 5}


@dataclass(frozen=True)
class Tool:
    name: str
    approval_required: bool = False
    dangerous: bool = False


SAFE_TOOLS = (Tool("search_kb"), Tool("get_order"), Tool("lookup_customer"), Tool("check_inventory"),
              Tool("create_ticket"), Tool("send_email", approval_required=True))
DANGEROUS_TOOLS = (Tool("issue_refund", approval_required=True, dangerous=True),
                   Tool("delete_account", approval_required=True, dangerous=True),
                   Tool("run_sql", approval_required=True, dangerous=True))
TOOLS = {t.name: t for t in SAFE_TOOLS + DANGEROUS_TOOLS}

EVALS = ("faithfulness", "answer_relevance", "context_recall", "hallucination")
SAFETY_CATEGORIES = ("prompt_injection", "jailbreak", "self_harm", "hate", "pii")

# Text the synthetic users and model produce. No digits in runs that look like phone
# numbers, no addresses: baseline content must not trip a detector.
TOPICS = ("refund policy", "shipping to Canada", "password reset flow", "invoice export", "API rate limits",
          "SSO setup", "data retention", "mobile app crashes", "team billing", "webhook retries",
          "audit logs", "plan upgrade", "usage dashboard", "CSV import", "two factor login")
PRODUCTS = ("trail running shoes", "noise cancelling headphones", "standing desk", "espresso grinder",
            "mechanical keyboard", "travel backpack", "smart thermostat", "ultralight tent")
QUERIES = {
    "chat": ("How do I configure {t}?", "Why does {t} not work for my team?", "Can you explain {t} in simple terms?",
             "What changed recently about {t}?"),
    "search": ("best {p} for beginners", "compare {p} under budget", "is the {p} waterproof",
               "{p} with long battery life"),
    "summarize": ("Summarize the attached contract about {t}.", "Give me the key points of the report on {t}.",
                  "Write an executive summary of the meeting notes on {t}."),
    "agent": ("Check the status of my last order and open a ticket about {t}.",
              "Find the customer record and email them about {t}.",
              "Look up inventory for the {p} and update the ticket."),
}
ANSWER_WORDS = ("the", "configuration", "team", "settings", "policy", "allows", "you", "to", "update", "account",
                "within", "days", "support", "page", "documented", "steps", "first", "then", "select", "option",
                "review", "changes", "before", "saving", "recommended", "workspace", "admin", "can", "enable")
