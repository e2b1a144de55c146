"""One user request of the synthetic RAG + agent service, planned as a tree of spans and logs.

Planning is pure: `Planner(seed, ...).plan(i)` draws request `i` from its own
`random.Random(f"{seed}/{i}")`, so a seed gives the same telemetry whatever the rate
or timing. Times are seconds from the request's start; `loadgen.emit` turns the plan
into OpenTelemetry SDK spans and log records in the chosen attribute flavor.
"""
from __future__ import annotations

import json
import math
import random
from collections import Counter
from dataclasses import dataclass, field

from opentelemetry._logs import SeverityNumber
from opentelemetry.trace import SpanKind

from loadgen import world
from loadgen.pricing import Pricer
from loadgen.scenarios import Knobs, Scenario
from loadgen.secrets import Secret
from loadgen.world import X
from telemetry import keys as k

RETRIABLE = {"server_error", "rate_limited", "timeout", "overloaded"}
ERROR_MESSAGES = {
    "server_error": "500 Internal Server Error: the server had an error while processing your request",
    "rate_limited": "429 Too Many Requests: rate limit reached for requests",
    "timeout": "request timed out after 30s",
    "overloaded": "529 Overloaded: the model is currently overloaded",
    "context_length_exceeded": "400 Bad Request: maximum context length exceeded",
    "tool_error": "tool backend returned 503",
}
EVAL_MEANS = {"faithfulness": 0.88, "answer_relevance": 0.86, "context_recall": 0.84}
MAX_AGENT_ITERATIONS = 25


@dataclass
class LogPlan:
    at: float
    attrs: dict
    body: object = None
    event_name: str | None = None
    severity: SeverityNumber = SeverityNumber.INFO


@dataclass
class SpanPlan:
    name: str
    kind: SpanKind
    start: float
    end: float
    attrs: dict
    content: dict = field(default_factory=dict)
    error: tuple[str, str] | None = None     # (error.type, message) -> status ERROR
    events: list = field(default_factory=list)  # (name, at, attrs)
    children: list = field(default_factory=list)
    logs: list = field(default_factory=list)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Call:
    """One LLM call a request step makes; `_call` adds retries and the fallback model."""
    model: str
    fallback: str | None
    inp: int
    out: int
    cached: int = 0
    streaming: bool = False
    messages: list | None = None
    reply: str | None = None
    op: str = "chat"
    finish: str = "stop"
    overloadable: bool = False           # the primary may be overloaded (scenario knob)
    extra: dict = field(default_factory=dict)
    max_tokens: int | None = None


@dataclass
class Tally:
    """What a request sent, as the gateway should count it."""
    requests: int = 0
    llm_calls: int = 0
    llm_errors: Counter = field(default_factory=Counter)
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    llm_calls_by_model: Counter = field(default_factory=Counter)
    cost_by_tenant: Counter = field(default_factory=Counter)
    fallback_calls: int = 0
    streaming_calls: int = 0
    tool_calls: Counter = field(default_factory=Counter)       # by outcome
    retrievals: int = 0
    empty_retrievals: int = 0
    retrieved_documents: int = 0
    safety_blocks: int = 0
    evals: Counter = field(default_factory=Counter)            # by name
    eval_score_sums: Counter = field(default_factory=Counter)
    feedback: Counter = field(default_factory=Counter)         # up | down
    secrets: Counter = field(default_factory=Counter)          # by detector
    secret_values: set = field(default_factory=set)
    phases: Counter = field(default_factory=Counter)
    # Contract v2: what the gateway's newer metrics must count.
    outcomes: Counter = field(default_factory=Counter)         # root spans by llmobs.request.outcome
    llm_ok_calls: int = 0                                      # successful LLM calls (context utilization)
    retries: int = 0
    fallbacks: Counter = field(default_factory=Counter)        # (from model, to model)
    cache_write_tokens: int = 0
    truncated: int = 0
    calls_by_prompt_version: Counter = field(default_factory=Counter)
    agent_iterations: Counter = field(default_factory=Counter) # iterations per agent request -> requests
    approvals: Counter = field(default_factory=Counter)        # (tool, decision) of approval-required tools
    retrieval_requested: int = 0
    retrieval_scored: int = 0                                  # retrievals that returned scored documents
    retrieval_steps: Counter = field(default_factory=Counter)  # by method
    eval_results: Counter = field(default_factory=Counter)     # (name, label)
    safety_checks: Counter = field(default_factory=Counter)    # by stage
    safety_blocks_by_stage: Counter = field(default_factory=Counter)
    users: set = field(default_factory=set)
    sessions: set = field(default_factory=set)
    spans: int = 0
    logs: int = 0

    def add(self, other: "Tally") -> None:
        for name, value in vars(other).items():
            mine = getattr(self, name)
            if isinstance(mine, set):
                mine |= value
            elif isinstance(mine, Counter):
                mine.update(value)
            else:
                setattr(self, name, mine + value)


def _lognormal(rng: random.Random, sigma: float) -> float:
    return math.exp(rng.gauss(0.0, sigma))


def _clip(x: float) -> float:
    return min(1.0, max(0.0, x))


class Planner:
    def __init__(self, seed: int, scenario: Scenario, pricer: Pricer, secrets: tuple[Secret, ...] = (),
                 after: float | None = None, rate: float = 1.0):
        self.seed = seed
        self.scenario = scenario
        self.base = Knobs()
        self.knobs = scenario.apply(self.base)
        self.pricer = pricer
        self.secrets = secrets
        # Requests scheduled before `after` seconds run the baseline; the scenario switches on at it.
        self.switch_index = 0 if not after else int(math.ceil(after * rate))
        self._secret_next = 0

    def plan(self, index: int) -> tuple[SpanPlan, Tally]:
        active = index >= self.switch_index
        knobs = self.knobs if active else self.base
        rng = random.Random(f"{self.seed}/{index}")
        secret = None
        if knobs.secret_share and rng.random() < knobs.secret_share and self.secrets:
            secret = self.secrets[self._secret_next % len(self.secrets)]
            self._secret_next += 1
        request = _Request(rng, knobs, self.pricer, index, self.seed, secret,
                           phase="scenario" if active and self.scenario.name != "baseline" else "baseline",
                           scenario=self.scenario.name)
        root = request.run()
        tally = request.tally
        tally.spans = sum(1 for _ in root.walk())
        tally.logs = sum(len(s.logs) for s in root.walk())
        return root, tally


class _Request:
    def __init__(self, rng: random.Random, knobs: Knobs, pricer: Pricer, index: int, seed: int,
                 secret: Secret | None, phase: str, scenario: str):
        self.rng, self.knobs, self.pricer = rng, knobs, pricer
        self.base = Knobs()
        self.index, self.seed, self.secret = index, seed, secret
        self.phase, self.scenario = phase, scenario
        self.tally = Tally(requests=1)
        self.tally.phases[phase] += 1
        self.iterations = 0                       # agent loop length, set by _agent
        self.index_version: str | None = None     # set by _retrieval
        self.answer_model: str | None = None      # the model that answered (evals are about it)

    # ------------------------------------------------------------------ choices
    def _weighted(self, pairs) -> str:
        names, weights = zip(*pairs)
        return self.rng.choices(names, weights=weights)[0]

    def _tenant(self) -> str:
        if self.rng.random() < world.LONG_TAIL_SHARE:
            return self.rng.choice(world.LONG_TAIL)
        return self._weighted(self.knobs.tenant_weights)

    def _span(self, parent: SpanPlan | None, name: str, start: float, duration: float, attrs: dict,
              kind: SpanKind = SpanKind.INTERNAL) -> SpanPlan:
        span = SpanPlan(name, kind, start, start + duration, {**self.common, **attrs})
        if parent is not None:
            parent.children.append(span)
        return span

    def _text(self, words: int) -> str:
        return " ".join(self.rng.choice(world.ANSWER_WORDS) for _ in range(words)).capitalize() + "."

    # ------------------------------------------------------------------ request
    def run(self) -> SpanPlan:
        rng, kn = self.rng, self.knobs
        self.tenant = self._tenant()
        self.feature = world.FEATURES[self._weighted(kn.feature_weights)]
        version = world.PROMPT_VERSIONS[self.feature.prompt][1 if kn.new_prompt_version else 0]
        if kn.bloated_prompt:
            version += world.BLOATED_SUFFIX
        self.prompt_version = version
        self.common = {k.TENANT: self.tenant, k.FEATURE: self.feature.name}
        user = f"user-{rng.randrange(400):04d}"
        conversation = f"conv-{rng.getrandbits(48):012x}"
        self.tally.users.add(user)
        self.tally.sessions.add(conversation)
        template = rng.choice(world.QUERIES[self.feature.name])
        self.query = template.format(t=rng.choice(world.TOPICS), p=rng.choice(world.PRODUCTS))
        if self.secret:
            self.query += " " + self.secret.text
            self.tally.secrets[self.secret.detector] += 1
            self.tally.secret_values.add(self.secret.sensitive)
        op = "invoke_agent" if self.feature.agent else "invoke_workflow"
        root = self._span(None, f"POST {self.feature.route}", 0.0, 0.0, {
            k.OPERATION: op, X.HTTP_METHOD: "POST", X.HTTP_ROUTE: self.feature.route,
            X.ENDPOINT: self.feature.route, k.PROMPT_VERSION: version, k.USER_ID: user,
            k.CONVERSATION_ID: conversation, X.REQUEST_ID: f"req-{self.seed}-{self.index:07d}",
            X.PHASE: self.phase, X.SCENARIO: self.scenario}, kind=SpanKind.SERVER)
        if self.feature.agent:
            root.attrs[X.AGENT_NAME] = self.feature.prompt
        if self.secret:
            # Debug leakage: the raw prompt as a plain attribute and a debug log line.
            root.attrs[X.DEBUG_RAW_PROMPT] = self.query
            root.logs.append(LogPlan(0.001, {**self.common, X.DEBUG_RAW_PROMPT: self.query},
                                     body=f"debug: raw prompt for {user}: {self.query}", severity=SeverityNumber.DEBUG))
        t = 0.002
        t, blocked = self._safety(root, t, "input", kn.safety_block_input)
        status, ok = 200, True
        answer = "I can't help with that request."
        if not blocked:
            t = self._prompt_render(root, t)
            docs: list = []
            if self.feature.rag:
                t, rewritten = self._rewrite(root, t)
                t, docs = self._retrieval(root, t, rewritten)
            if self.feature.agent:
                t, ok, answer = self._agent(root, t)
            else:
                t, ok, answer = self._answer(root, t, docs)
            if ok:
                t, out_blocked = self._safety(root, t, "output", kn.safety_block_output)
                blocked = out_blocked
            else:
                status = 502
        root.end = t + rng.uniform(0.001, 0.004)
        root.attrs[X.HTTP_STATUS] = status
        if not ok:
            root.error = ("llm_unavailable", "all LLM attempts failed")
            root.attrs[k.ERROR_TYPE] = "llm_unavailable"
        outcome = "error" if not ok else ("refused" if blocked else (
            "unanswered" if answer.startswith("I could not find") else "answered"))
        root.attrs[k.OUTCOME] = outcome
        self.tally.outcomes[outcome] += 1
        if self.iterations:
            root.attrs[k.AGENT_ITERATIONS] = self.iterations
            self.tally.agent_iterations[self.iterations] += 1
        if ok and not blocked:
            self._evals_and_feedback(root)
        root.content = {k.INPUT_MESSAGES: [{"role": "user", "content": self.query}],
                        k.OUTPUT_MESSAGES: [{"role": "assistant", "content": answer}]}
        return root

    # ------------------------------------------------------------------ steps
    def _safety(self, parent: SpanPlan, t: float, stage: str, p_block: float) -> tuple[float, bool]:
        blocked = self.rng.random() < p_block
        score = self.rng.uniform(0.85, 0.99) if blocked else self.rng.uniform(0.0, 0.2)
        span = self._span(parent, f"safety_check {stage}", t, self.rng.uniform(0.01, 0.06),
                          {k.SAFETY_BLOCKED: blocked, X.SAFETY_STAGE: stage, X.SAFETY_SCORE: round(score, 3)})
        self.tally.safety_checks[stage] += 1
        if blocked:
            self.tally.safety_blocks_by_stage[stage] += 1
            category = ("prompt_injection" if self.knobs.safety_block_input > self.base.safety_block_input
                        else self.rng.choice(world.SAFETY_CATEGORIES))
            span.attrs[k.SAFETY_CATEGORY] = category
            self.tally.safety_blocks += 1
        return span.end, blocked

    def _prompt_render(self, parent: SpanPlan, t: float) -> float:
        span = self._span(parent, "prompt.render", t, self.rng.uniform(0.0005, 0.003),
                          {X.PROMPT_TEMPLATE: self.feature.prompt, k.PROMPT_VERSION: self.prompt_version})
        return span.end

    def _rewrite(self, parent: SpanPlan, t: float) -> tuple[float, str]:
        rewritten = f"{self.query} (expanded with synonyms)"
        version = world.PROMPT_VERSIONS["query-rewrite"][0]
        messages = [{"role": "system", "content": "Rewrite the user query for search."},
                    {"role": "user", "content": self.query}]
        t, ok, _ = self._call(parent, t, Call(world.REWRITE_MODEL, None, inp=self.rng.randint(120, 260),
                                              out=self.rng.randint(15, 45), messages=messages, reply=rewritten,
                                              extra={k.PROMPT_VERSION: version}, max_tokens=128))
        return t, rewritten if ok else self.query

    def _retrieval(self, parent: SpanPlan, t: float, query: str) -> tuple[float, list]:
        rng, kn = self.rng, self.knobs
        index = self.feature.index
        version = world.INDEXES[index][1 if kn.stale_index else 0]
        top_k = max(1, round(world.TOP_K[index] * kn.top_k_factor))
        empty = rng.random() < kn.retrieval_empty
        returned = 0 if empty else top_k
        span = self._span(parent, f"retrieval {index}", t, 0.0, {
            k.OPERATION: k.RETRIEVAL_OPERATION, X.INDEX_NAME: index, X.INDEX_VERSION: version, X.TOP_K: top_k,
            k.RETRIEVAL_RETURNED: returned, X.DATA_SOURCE: index}, kind=SpanKind.CLIENT)
        t0, _, _ = self._call(span, t + 0.001, Call(world.EMBED_MODEL, None, inp=max(8, len(query.split()) * 2),
                                                    out=0, op="embeddings"))
        base = 0.55 if kn.stale_index else 0.82
        docs = [{"id": f"{index}:{rng.randrange(100000):05d}", "score": round(_clip(base - 0.04 * i + rng.gauss(0, 0.03)), 4),
                 "content": self._text(rng.randint(12, 30))} for i in range(returned)]
        v = self._span(span, f"vector_search {index}", t0, rng.uniform(0.01, 0.08) * kn.latency_factor ** 0.5, {
            X.DB_SYSTEM: "qdrant", X.RETRIEVAL_METHOD: "vector", X.TOP_K: top_k * 3, X.INDEX_VERSION: version},
            kind=SpanKind.CLIENT)
        b = self._span(span, f"bm25_search {index}", t0, rng.uniform(0.005, 0.05), {
            X.DB_SYSTEM: "opensearch", X.RETRIEVAL_METHOD: "bm25", X.TOP_K: top_k * 3, X.INDEX_VERSION: version},
            kind=SpanKind.CLIENT)
        r = self._span(span, "rerank", max(v.end, b.end), rng.uniform(0.02, 0.12), {
            X.RETRIEVAL_METHOD: "rerank", X.TOP_K: top_k, k.RETRIEVAL_RETURNED: returned})
        span.end = r.end + 0.001
        if docs:
            span.attrs[X.DOC_IDS] = [d["id"] for d in docs]
            span.attrs[X.SCORES] = [d["score"] for d in docs]
            span.content = {k.RETRIEVED_DOCUMENTS: docs}
        self.tally.retrievals += 1
        self.tally.retrieval_requested += top_k
        self.tally.retrieval_scored += int(bool(docs))
        for step in ("vector", "bm25", "rerank"):
            self.tally.retrieval_steps[step] += 1
        self.index_version = version
        self.tally.empty_retrievals += int(empty)
        self.tally.retrieved_documents += returned
        return span.end, docs

    def _main_model(self) -> tuple[str, str | None]:
        feature = self.feature
        if self.knobs.premium_tenant_model and self.tenant == world.PREMIUM_TENANT:
            return self.knobs.premium_tenant_model, None
        if feature.self_hosted_share and self.rng.random() < feature.self_hosted_share:
            return "llama-3.1-8b-instruct", None
        return feature.primary, feature.fallback

    def _input_tokens(self, model: str, docs: int) -> tuple[int, int]:
        rng, kn = self.rng, self.knobs
        system = round(world.SYSTEM_TOKENS[self.feature.prompt] * kn.system_tokens_factor)
        history = round(rng.randint(0, 1200) * kn.history_factor) if self.feature.name == "chat" else 0
        body = rng.randint(3000, 12000) if self.feature.name == "summarize" else 0
        chunks = sum(rng.randint(180, 420) for _ in range(docs))
        total = system + history + body + chunks + rng.randint(10, 60)
        if kn.premium_tenant_model and self.tenant == world.PREMIUM_TENANT:
            total *= 4
        window = world.MODELS[model].context_window
        if kn.context_fill and self.feature.name in ("chat", "search"):
            total = round(window * rng.uniform(*kn.context_fill))
        cacheable = (system + history) // 128 * 128
        cached = cacheable if cacheable >= 1024 and rng.random() < 0.7 else 0
        return total, min(cached, total)

    def _answer(self, parent: SpanPlan, t: float, docs: list) -> tuple[float, bool, str]:
        rng = self.rng
        model, fallback = self._main_model()
        inp, cached = self._input_tokens(model, len(docs))
        out = rng.randint(*{"chat": (120, 520), "search": (60, 220), "summarize": (150, 420)}[self.feature.name])
        answer = self._text(rng.randint(12, 40)) if docs or not self.feature.rag else "I could not find anything about that."
        messages = [{"role": "system", "content": f"You are the {self.feature.prompt} assistant ({self.prompt_version})."},
                    {"role": "user", "content": self.query}]
        if docs:
            messages.insert(1, {"role": "system", "content": "Context: " + " ".join(d["content"] for d in docs[:3])})
        t, ok, used = self._call(parent, t, Call(model, fallback, inp=inp, out=out, cached=cached,
                                                 streaming=self.feature.streaming, messages=messages, reply=answer,
                                                 overloadable=True, max_tokens=1024,
                                                 extra={k.PROMPT_VERSION: self.prompt_version}))
        self.answer_model = used
        return t, ok, answer

    def _agent(self, parent: SpanPlan, t: float) -> tuple[float, bool, str]:
        rng, kn = self.rng, self.knobs
        model, fallback = self._main_model()
        steps = rng.randint(12, MAX_AGENT_ITERATIONS) if kn.tool_loop else rng.randint(*kn.agent_tool_calls)
        tools = [rng.choice(world.SAFE_TOOLS) for _ in range(steps)]
        if kn.tool_loop:
            tools = [world.TOOLS["search_kb"]] * steps
        dangerous = rng.random() < kn.dangerous_tool_attempt
        if dangerous:
            tools[-1] = rng.choice(world.DANGEROUS_TOOLS)
        context, _ = self._input_tokens(model, 0)
        for i, tool in enumerate(tools):
            call_id = f"call_{rng.getrandbits(64):016x}"
            messages = [{"role": "user", "content": self.query}]
            t, ok, used = self._call(parent, t, Call(
                model, fallback, inp=context, out=rng.randint(30, 120), messages=messages, reply=f"call {tool.name}",
                finish="tool_calls", overloadable=True, max_tokens=512,
                extra={X.AGENT_ITERATION: i + 1, k.PROMPT_VERSION: self.prompt_version}))
            if not ok:
                return t, False, ""
            t, result_tokens = self._tool(parent, t, tool, call_id, dangerous and i == len(tools) - 1)
            context += result_tokens + rng.randint(20, 80)
        messages = [{"role": "user", "content": self.query}]
        answer = self._text(rng.randint(12, 40))
        t, ok, used = self._call(parent, t, Call(
            model, fallback, inp=context, out=rng.randint(100, 400), streaming=True, messages=messages, reply=answer,
            overloadable=True, max_tokens=1024,
            extra={X.AGENT_ITERATION: len(tools) + 1, k.PROMPT_VERSION: self.prompt_version}))
        self.iterations = len(tools) + 1
        self.answer_model = used
        return t, ok, answer

    def _tool(self, parent: SpanPlan, t: float, tool: world.Tool, call_id: str, dangerous: bool) -> tuple[float, int]:
        rng, kn = self.rng, self.knobs
        args = {"query": self.query} if tool.name == "search_kb" else {"id": f"{tool.name[:3]}-{rng.randrange(10**6):06d}"}
        if self.secret and tool.name != "search_kb":
            args["note"] = self.secret.text
        approval = "auto"
        if tool.approval_required:
            approval = "denied" if dangerous and rng.random() < kn.dangerous_tool_denied else "approved"
        outcome = "denied" if approval == "denied" else ("error" if rng.random() < kn.tool_error else "ok")
        duration = rng.uniform(0.005, 0.02) if outcome == "denied" else rng.uniform(0.03, 0.6)
        span = self._span(parent, f"{k.TOOL_OPERATION} {tool.name}", t, duration, {
            k.OPERATION: k.TOOL_OPERATION, k.TOOL_NAME: tool.name, k.TOOL_CALL_ID: call_id,
            k.TOOL_OUTCOME: outcome, X.APPROVAL_REQUIRED: tool.approval_required, X.APPROVAL: approval})
        result = {"status": outcome}
        if outcome == "ok":
            result["data"] = self._text(rng.randint(8, 20))
        span.content = {k.TOOL_ARGUMENTS: json.dumps(args), k.TOOL_RESULT: json.dumps(result)}
        if outcome == "error":
            span.error = ("tool_error", ERROR_MESSAGES["tool_error"])
            span.attrs[k.ERROR_TYPE] = "tool_error"
        if approval == "denied":
            span.events.append(("tool.denied", span.start + 0.001, {"reason": "policy: destructive action needs an owner"}))
        self.tally.tool_calls[outcome] += 1
        if tool.approval_required:
            self.tally.approvals[(tool.name, approval)] += 1
        return span.end, rng.randint(150, 700) if outcome == "ok" else 20

    # ------------------------------------------------------------------ LLM calls
    def _draw_error(self, model: world.Model, overloadable: bool, fallback: bool) -> str | None:
        kn = self.knobs
        if overloadable and not fallback and kn.primary_overloaded and self.rng.random() < kn.primary_overloaded:
            return "overloaded"
        errors = kn.errors if kn.error_provider in (None, model.provider) else self.base.errors
        for error_type, p in errors:
            if self.rng.random() < p:
                return error_type
        return None

    def _call(self, parent, t, call: Call) -> tuple[float, bool, str]:
        """An LLM call with retries (backoff) and, when those are spent, the fallback model."""
        kn, rng = self.knobs, self.rng
        model_name, fallback_name, inp = call.model, call.fallback, call.inp
        current, attempt, is_fallback = model_name, 0, False
        while True:
            model = world.MODELS[current]
            error = self._draw_error(model, call.overloadable, is_fallback)
            if error is None and inp > model.context_window:
                error = "context_length_exceeded"
            t = self._llm_span(parent, t, call, model, error, attempt, is_fallback)
            if error is None:
                return t, True, current
            if error not in RETRIABLE:
                return t, False, current
            spent = attempt >= kn.max_retries or (kn.fallback_on_first_error and error == "overloaded")
            if spent and fallback_name and not is_fallback:
                current, attempt, is_fallback = fallback_name, 0, True
                t += rng.uniform(0.001, 0.01)
                continue
            if spent:
                return t, False, current
            attempt += 1
            t += (rng.uniform(1.0, 4.0) if error == "rate_limited" else 0.5 * 2 ** attempt * rng.uniform(0.8, 1.2))

    def _llm_span(self, parent, t, call: Call, model: world.Model, error: str | None, attempt: int,
                  is_fallback: bool) -> float:
        rng, kn = self.rng, self.knobs
        op, inp, out, cached, finish = call.op, call.inp, call.out, call.cached, call.finish
        streaming, messages, reply, extra, max_tokens = (call.streaming, call.messages, call.reply, call.extra,
                                                         call.max_tokens)
        requested = call.model
        attrs = {k.OPERATION: op, k.PROVIDER: model.provider, k.REQUEST_MODEL: model.name, **extra}
        if op == "chat":
            attrs[X.STREAM] = streaming
            attrs[X.TEMPERATURE] = 0.2
            if max_tokens:
                attrs[X.MAX_TOKENS] = max_tokens
        attrs[X.RETRY_ATTEMPT] = attempt   # 0 on the first try: only attempts > 0 are retries
        self.tally.retries += int(attempt > 0)
        if is_fallback:
            attrs[X.FALLBACK] = True
            attrs[X.FALLBACK_FROM] = requested
            self.tally.fallback_calls += 1
            self.tally.fallbacks[(requested, model.name)] += 1
        if op != "embeddings":
            self.tally.calls_by_prompt_version[extra.get(k.PROMPT_VERSION, "unknown")] += 1
        self.tally.llm_calls += 1
        self.tally.llm_calls_by_model[model.name] += 1
        name = f"{op} {model.name}"
        content = {}
        if messages:
            content[k.INPUT_MESSAGES] = messages
        if error:
            duration = {"timeout": 30.0, "rate_limited": rng.uniform(0.05, 0.2), "overloaded": rng.uniform(0.1, 0.5),
                        "context_length_exceeded": rng.uniform(0.05, 0.15)}.get(error, rng.uniform(0.2, 1.5))
            span = self._span(parent, name, t, duration, attrs, kind=SpanKind.CLIENT)
            span.error = (error, ERROR_MESSAGES[error])
            span.attrs[k.ERROR_TYPE] = error
            span.events.append(("exception", span.end, {X.EXCEPTION_TYPE: error, X.EXCEPTION_MESSAGE: ERROR_MESSAGES[error]}))
            span.content = content
            self.tally.llm_errors[error] += 1
            if self.pricer.price(model.name) is None and op != "embeddings":
                self.tally.unpriced_calls += 1
            return span.end
        if op == "embeddings":
            duration = rng.uniform(0.04, 0.25) * kn.latency_factor
            out = 0
        else:
            if inp + out > model.context_window:
                out, finish = max(1, model.context_window - inp), "length"
            elif kn.context_fill and inp > 0.8 * model.context_window and rng.random() < 0.6:
                finish = "length"
            ttft = model.ttft_s * (1 + inp / 40_000) * kn.ttft_factor * _lognormal(rng, 0.35)
            duration = ttft + out / model.tokens_per_s * kn.latency_factor * _lognormal(rng, 0.25)
        span = self._span(parent, name, t, duration, attrs, kind=SpanKind.CLIENT)
        span.attrs[k.RESPONSE_MODEL] = model.response
        span.attrs[k.INPUT_TOKENS] = inp
        self.tally.llm_ok_calls += 1
        if op != "embeddings":
            span.attrs[k.OUTPUT_TOKENS] = out
            span.attrs[k.CACHED_INPUT_TOKENS] = cached
            # Anthropic-style prompt caching: a call that found no cache writes its cacheable prefix.
            if model.provider == "anthropic" and not cached and inp >= 2048:
                write = inp // 2 // 128 * 128
                span.attrs[k.CACHE_WRITE_TOKENS] = write
                self.tally.cache_write_tokens += write
            self.tally.truncated += int(finish == "length")
            span.attrs[k.FINISH_REASONS] = [finish]
            span.attrs[X.RESPONSE_ID] = f"resp_{rng.getrandbits(64):016x}"
            span.attrs[X.CONTEXT_WINDOW] = model.context_window
            span.attrs[X.CONTEXT_UTILIZATION] = round(min(1.0, (inp + out) / model.context_window), 4)
            if streaming:
                span.attrs[k.TTFT] = round(ttft, 6)
                self.tally.streaming_calls += 1
                span.events.append(("gen_ai.first_token", t + ttft, {}))
            if reply:
                content[k.OUTPUT_MESSAGES] = [{"role": "assistant", "content": reply}]
        span.content = content
        self.tally.input_tokens += inp
        self.tally.output_tokens += out
        self.tally.cached_input_tokens += cached
        cost = self.pricer.cost(model.response, inp, out, cached)  # billed: the response model
        if cost is None:
            self.tally.unpriced_calls += 1
        else:
            self.tally.cost_usd += cost
            self.tally.cost_by_tenant[self.tenant] += cost
        return span.end

    # ------------------------------------------------------------------ evals and feedback
    def _evals_and_feedback(self, root: SpanPlan) -> None:
        rng, kn = self.rng, self.knobs
        shift = dict(kn.eval_shift)
        t = root.end  # judges run after the response: their spans end after the root span
        hallucinated = False
        if rng.random() < 0.5:
            names = ("faithfulness", "answer_relevance", "context_recall") if self.feature.rag else ("answer_relevance",)
            scores = {n: round(_clip(rng.gauss(EVAL_MEANS[n] + shift.get(n, 0.0), 0.07)), 4) for n in names}
            if "faithfulness" in scores:
                hallucinated = scores["faithfulness"] < 0.5
            else:
                hallucinated = rng.random() < 0.03 + max(0.0, -shift.get("answer_relevance", 0.0))
            scores["hallucination"] = 1.0 if hallucinated else 0.0
            for name, score in scores.items():
                label = ("hallucinated" if score else "grounded") if name == "hallucination" else (
                    "pass" if score >= 0.7 else "fail")
                attrs = {k.EVAL_NAME: name, k.EVAL_SCORE: score, X.EVAL_LABEL: label,
                         k.PROMPT_VERSION: self.prompt_version, k.REQUEST_MODEL: self.answer_model}
                if self.index_version:
                    attrs[k.RETRIEVAL_INDEX_VERSION] = self.index_version
                self.tally.eval_results[(name, label)] += 1
                span = self._span(root, f"evaluate {name}", t, rng.uniform(0.2, 1.5), attrs)
                root.logs.append(LogPlan(span.end, {**self.common, **attrs}, event_name="gen_ai.evaluation.result"))
                self.tally.evals[name] += 1
                self.tally.eval_score_sums[name] += score
        if rng.random() < 0.25:
            down = rng.random() < kn.feedback_down + (0.4 if hallucinated else 0.0)
            value = "down" if down else "up"
            root.logs.append(LogPlan(root.end, {**self.common, k.FEEDBACK: value, k.PROMPT_VERSION: self.prompt_version},
                                     event_name="llmobs.user_feedback"))
            self.tally.feedback[value] += 1
