"""The derived metrics against an oracle that is not the connector's code: a known set of requests
(LLM calls with their token counts and durations, errors, tool calls, retrievals, evaluations,
safety checks, log events; tenants, features and environments inside and outside their bounds)
goes through the real gateway, and what Prometheus would hold is compared with counts and sums
worked out in this file from what was sent.

The rules the expectations follow are the catalog's (telemetry/catalog.py: names, labels) and the
metric rules' (collector_config/metrics.py: which records count, and what they add); the values
in the tables are written by hand, the totals added up here in Python.
"""
from __future__ import annotations

import hashlib
import math
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from collector_config.metrics import LATENCY_BUCKETS
from collector_config.normalize import NUMERIC
from gateway_run import gateway, wait
from telemetry import keys as k
from telemetry.catalog import BY_NAME, CATALOG

PROM = {name: m.prometheus for name, m in BY_NAME.items()}
# The bounds this gateway runs with (llmobs:labels); outcome and safety stage have fixed values.
ALLOWED = {"tenant": ("acme", "globex"), "feature": ("chat", "search"), "prompt_version": ("v1", "v2"),
           "environment": ("production", "staging"), "retrieval_index": ("kb", "docs"),
           "index_version": ("2024-01",), "retrieval_method": ("vector", "hybrid"), "eval_label": ("pass", "fail")}
OUTCOMES = ("answered", "unanswered", "refused", "error", "unknown")
SAFETY_STAGES = ("input", "output")
T0 = time.time_ns() // 1_000_000_000 * 1_000_000_000 - 3_600_000_000_000   # an hour ago, whole second


def bounded(setting: str, value: Any, absent: str | None = "unknown") -> str | None:
    """A label's value after its bound: the value, `other` outside the bound, `absent` when unset."""
    if value is None:
        return absent
    allowed = {"outcome": OUTCOMES, "safety_stage": SAFETY_STAGES}.get(setting) or ALLOWED[setting]
    return value if str(value) in allowed else "other"


# ---------------------------------------------------------------- what is sent

@dataclass(frozen=True)
class Call:
    """One LLM call. `window`: the context window the gateway should divide by, worked out by hand
    (the app's llmobs.context_window.tokens, else settings/prices.yaml by the response model, then
    the request model: exact name, else pattern); None = no utilization point."""
    model: str
    provider: str
    millis: int
    input: Any = None
    output: Any = None
    cached: int | None = None
    cache_write: int | None = None
    operation: str = "chat"
    error: str | None = None          # error.type on an error status; "" = error status, no type
    ttft: Any = None
    retry: int | None = None
    fallback_from: str | None = None
    finish: tuple[str, ...] | None = None
    tenant: str | None = None
    feature: str | None = None
    prompt: str | None = None
    app_window: int | None = None
    window: int | None = None
    priced: bool = True
    extra: dict = field(default_factory=dict)

    def attributes(self) -> dict:
        a = {k.OPERATION: self.operation, k.PROVIDER: self.provider, k.REQUEST_MODEL: self.model}
        for key, value in ((k.INPUT_TOKENS, self.input), (k.OUTPUT_TOKENS, self.output),
                           (k.CACHED_INPUT_TOKENS, self.cached), (k.CACHE_WRITE_TOKENS, self.cache_write),
                           (k.ERROR_TYPE, self.error or None), (k.TTFT, self.ttft), (k.RETRY_ATTEMPT, self.retry),
                           (k.FINISH_REASONS, list(self.finish) if self.finish else None),
                           (k.TENANT, self.tenant), (k.FEATURE, self.feature), (k.PROMPT_VERSION, self.prompt),
                           (k.CONTEXT_WINDOW, self.app_window)):
            if value is not None:
                a[key] = value
        if self.fallback_from:
            a.update({k.FALLBACK: True, k.FALLBACK_FROM: self.fallback_from})
        return {**a, **self.extra}

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class Tool:
    name: str
    millis: int
    outcome: str | None = None        # None: the gateway's default, ok
    approval_required: Any = None
    approval: str | None = None
    failed: bool = False

    def attributes(self) -> dict:
        a = {k.OPERATION: k.TOOL_OPERATION, k.TOOL_NAME: self.name}
        for key, value in ((k.TOOL_OUTCOME, self.outcome), (k.TOOL_APPROVAL_REQUIRED, self.approval_required),
                           (k.TOOL_APPROVAL, self.approval)):
            if value is not None:
                a[key] = value
        return a


@dataclass(frozen=True)
class Retrieval:
    millis: int
    index: str | None = None
    version: str | None = None
    method: str | None = None
    returned: Any = None
    top_k: Any = None
    scores: tuple[float, ...] | None = None
    operation: str | None = k.RETRIEVAL_OPERATION   # None: a retrieval sub-step (rerank, ...)
    failed: bool = False

    def attributes(self) -> dict:
        a = {}
        for key, value in ((k.OPERATION, self.operation), (k.RETRIEVAL_INDEX, self.index),
                           (k.RETRIEVAL_INDEX_VERSION, self.version), (k.RETRIEVAL_METHOD, self.method),
                           (k.RETRIEVAL_RETURNED, self.returned), (k.RETRIEVAL_TOP_K, self.top_k),
                           (k.RETRIEVAL_SCORES, list(self.scores) if self.scores is not None else None)):
            if value is not None:
                a[key] = value
        return a


@dataclass(frozen=True)
class Check:
    """A span with an evaluation or a safety check on it (or a secret, or free text)."""
    attrs: dict
    millis: int = 2
    failed: bool = False

    def attributes(self) -> dict:
        return dict(self.attrs)


@dataclass(frozen=True)
class Request:
    """A user-visible request: its root span and the spans under it, from one resource."""
    env: str | None
    millis: int
    children: tuple
    tenant: str | None = None
    feature: str | None = None
    user: str | None = None
    conversation: str | None = None
    outcome: str | None = None
    iterations: Any = None
    failed: bool = False

    def attributes(self) -> dict:
        a = {}
        for key, value in ((k.TENANT, self.tenant), (k.FEATURE, self.feature), (k.USER_ID, self.user),
                           (k.CONVERSATION_ID, self.conversation), (k.OUTCOME, self.outcome),
                           (k.AGENT_ITERATIONS, self.iterations)):
            if value is not None:
                a[key] = value
        return a


SECRET = "card 4111 1111 1111 1111"
FREE_TEXT = "a long free text answer " * 6
REQUESTS = (
    Request("staging", 2_500, tenant="acme", feature="chat", user="user-1", conversation="conv-1", outcome="answered",
            iterations=3, children=(
                Call("gpt-4o", "openai", 700, input=1200, output=300, cached=200, ttft=0.3, finish=("stop",),
                     tenant="acme", feature="chat", prompt="v1", window=128_000),
                Call("gpt-4o", "openai", 250, input=800, output=50, error="timeout", retry=1, tenant="globex",
                     feature="search", prompt="v2", window=128_000),
                Call("gpt-4o-mini", "openai", 1_500, input=5000, output=800, cached=4000, cache_write=300, ttft=0.12,
                     finish=("length",), tenant="hooli", feature="chat", prompt="v9", window=128_000),
                Tool("search", 30),
                Tool("refund", 120, outcome="denied", approval_required=True, approval="denied"),
                Retrieval(120, index="kb", version="2024-01", method="hybrid", returned=0, top_k=8, scores=(0.91, 0.2)),
                Retrieval(15, method="rerank", operation=None),
                Check({k.EVAL_NAME: "faithfulness", k.EVAL_SCORE: 0.35, k.EVAL_LABEL: "fail"}),
                Check({k.SAFETY_BLOCKED: True, k.SAFETY_STAGE: "output", k.SAFETY_CATEGORY: "pii"}),
            )),
    Request("staging", 4_000, tenant="globex", feature="search", user="user-2", conversation="conv-1",
            outcome="strange", iterations="7", children=(
                Call("claude-sonnet-4-20250514", "anthropic", 2_300, input=2000, output=700, error="",
                     fallback_from="gpt-4o", retry=0, window=200_000),
                Call("text-embedding-3-small", "openai", 40, input=30, operation="embeddings", tenant="acme",
                     window=8_191),
                Call("gpt-4o", "openai", 90, input=-5, output="12", ttft="fast", extra={k.TENANT_LABEL: "sneaky"}),
                Tool("refund", 80, outcome="error", approval_required=True, approval="approved", failed=True),
                Tool("search", 3, approval_required="true"),
                Retrieval(40, index="docs", method="vector", returned=5, top_k=5, scores=(0.5,)),
                Retrieval(60, index="legacy", method="bm25", returned="3", top_k=10),
                Check({k.EVAL_NAME: "faithfulness", k.EVAL_SCORE: 0.9, k.EVAL_LABEL: "pass"}),
                Check({k.EVAL_NAME: "relevance", k.EVAL_SCORE: 0.5}),
                Check({k.EVAL_NAME: "relevance", k.EVAL_SCORE: "high", k.EVAL_LABEL: "hallucinated"}),
                Check({k.SAFETY_BLOCKED: False, k.SAFETY_STAGE: "input"}),
                Check({k.SAFETY_BLOCKED: "no", k.SAFETY_STAGE: "sideways"}),
                Check({"app.note": SECRET}),
            )),
    Request("qa-7", 61_500, tenant="initech", user="user-3", outcome="refused", iterations=-1, children=(
        Call("acme-private-llm", "acme", 61_000, input=100, output=60, app_window=1_000, window=1_000,
             tenant="acme", feature="unlisted", priced=False),
        Call("gpt-4o", "openai", 80, input=500, output=20, extra={"app.summary": FREE_TEXT}, window=128_000),
        # A retrieval and a safety block outside the staging resource: their environment label is `other`.
        Retrieval(30, index="kb", version="2024-01", method="vector", returned=2, top_k=4, scores=(0.7,)),
        Check({k.SAFETY_BLOCKED: True, k.SAFETY_STAGE: "input", k.SAFETY_CATEGORY: "jailbreak"}),
    )),
    Request(None, 900, failed=True, children=(
        Call("gpt-4o-2024-08-06", "openai", 300, input=640, output=64, ttft=1.5, window=128_000),
    )),
)
# Log events: evaluations and feedback, from the first request's resource (staging); and one feedback
# event from the qa-7 resource (outside the environment bound, so `other`): QA_EVENTS.
EVENTS = (
    ({k.EVAL_NAME: "answer_relevance", k.EVAL_SCORE: 0.9, k.EVAL_LABEL: "pass"}, "gen_ai.evaluation.result"),
    ({k.EVAL_NAME: "answer_relevance", k.EVAL_SCORE: 0.4, k.EVAL_LABEL: "meh"}, "gen_ai.evaluation.result"),
    ({k.EVAL_NAME: "answer_relevance", k.EVAL_SCORE: "NaN"}, "gen_ai.evaluation.result"),
    ({k.FEEDBACK: "up", k.FEATURE: "chat", k.PROMPT_VERSION: "v1"}, "llmobs.feedback"),
    ({k.FEEDBACK: "down", k.FEATURE: "chat"}, "llmobs.feedback"),
    ({k.FEEDBACK: "down", k.FEATURE: "voice", k.TENANT: "initech"}, "llmobs.feedback"),
    ({"app.note": SECRET}, "app.log"),
    ({"app.summary": FREE_TEXT}, "gen_ai.evaluation.result"),
)
QA_EVENTS = (({k.FEEDBACK: "up", k.FEATURE: "chat"}, "llmobs.feedback"),)
EVENTS_BY_ENV = {REQUESTS[0].env: EVENTS, "qa-7": QA_EVENTS}


def sent_events() -> list[tuple[dict, str | None]]:
    """(attributes, the resource's environment) of every log event sent."""
    return [(attributes, env) for env, events in EVENTS_BY_ENV.items() for attributes, _ in events]


@dataclass(frozen=True)
class Sent:
    """One span as sent: what it was made from, its resource's environment and whether it is a root."""
    item: Any
    env: str | None
    root: bool

    @property
    def seconds(self) -> float:
        return self.item.millis / 1000


def sent_spans() -> list[Sent]:
    return [s for r in REQUESTS for s in [Sent(r, r.env, True)] + [Sent(c, r.env, False) for c in r.children]]


def _send(gw) -> None:
    for env in dict.fromkeys(r.env for r in REQUESTS):
        app = gw.app({k.ENVIRONMENT: env} if env else {})
        for r in (r for r in REQUESTS if r.env == env):
            root = app.tracer.start_span("request", start_time=T0, attributes=r.attributes())
            for child in r.children:
                span = app.tracer.start_span("step", context=trace.set_span_in_context(root), start_time=T0,
                                             attributes=child.attributes())
                if child.failed:
                    span.set_status(Status(StatusCode.ERROR, "boom"))
                span.end(end_time=T0 + child.millis * 1_000_000)
            if r.failed:
                root.set_status(Status(StatusCode.ERROR, "boom"))
            root.end(end_time=T0 + r.millis * 1_000_000)
        for attributes, event_name in EVENTS_BY_ENV.get(env, ()):
            app.logger.emit(body="event", attributes=attributes, event_name=event_name)
        app.close()


# ---------------------------------------------------------------- what Prometheus holds

def _stored(gw) -> dict:
    """Each derived series' newest value, keyed by its labels (frozenset)."""
    out: dict = {}
    for series in gw.metrics.series():
        labels = series["labels"]
        if not labels["__name__"].startswith(("llm_", "gen_ai_")):
            continue
        key = frozenset(labels.items())
        for value, ts in series["samples"]:
            if key not in out or ts >= out[key][1]:
                out[key] = (value, ts)
    return {key: value for key, (value, _) in out.items()}


def _settled(gw, timeout: float = 60.0) -> dict:
    """Poll until the stored values have not changed for 3 s (bounded)."""
    deadline, last, since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        now = _stored(gw)
        if now != last:
            last, since = now, time.monotonic()
        elif now and time.monotonic() - since >= 3.0:
            return now
        time.sleep(0.5)
    raise AssertionError("derived metrics did not settle")


@pytest.fixture(scope="module")
def run():
    labels = {name: {"allowed": list(values)} for name, values in ALLOWED.items()}
    with gateway(labels=labels) as gw:
        _send(gw)
        spans = len(sent_spans())
        assert wait(lambda: len(gw.traces.spans()) >= spans, timeout=60), (len(gw.traces.spans()), spans)
        # The last of each signal's counts in, then no change for a while. Not asserted: a wrong
        # count is the tests' to report.
        wait(lambda: sum(gw.metrics.latest(PROM["llm.requests"]).values()) >= len(CALLS)
             and sum(gw.metrics.latest(PROM["llm.feedback"]).values()) >= 4, timeout=60)
        stored = _settled(gw)
        yield gw, stored


def by(stored: dict, name: str, *labels: str) -> dict:
    """{label values: the sum over every other label} of one series name; a single label's value
    stands for itself."""
    out: dict = defaultdict(float)
    for key, value in stored.items():
        d = dict(key)
        if d["__name__"] == name:
            group = tuple(d.get(label) for label in labels)
            out[group[0] if len(labels) == 1 else group] += value
    return dict(out)


def total(items, key: Callable, value: Callable = lambda _: 1) -> dict:
    out: dict = defaultdict(float)
    for item in items:
        v = value(item)
        if v is not None:
            out[key(item)] += v
    return dict(out)


def approx(d: dict) -> dict:
    return {key: pytest.approx(v, rel=1e-9, abs=1e-12) for key, v in d.items()}


def number(value: Any) -> float | None:
    """A sent numeric attribute as the gateway keeps it: a number in [0, 1e9) or digits; else dropped."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return float(value) if value.replace(".", "", 1).isdigit() else None
    return float(value) if 0 <= value < 1e9 else None


def of(kind) -> list[Sent]:
    return [s for s in sent_spans() if isinstance(s.item, kind) and not s.root]


CALLS = of(Call)
ROOTS = [s for s in sent_spans() if s.root]


# ---------------------------------------------------------------- LLM calls

def _tenant(s: Sent) -> str:
    """The bounded tenant label: from llmobs.tenant where set, else the label as the app set it."""
    a = s.item.attributes()
    return bounded("tenant", a.get(k.TENANT, a.get(k.TENANT_LABEL)))


def test_requests_and_errors(run):
    _, stored = run
    assert by(stored, PROM["llm.requests"], "gen_ai_request_model") == total(CALLS, lambda s: s.item.model)
    assert by(stored, PROM["llm.requests"], "gen_ai_operation_name") == total(CALLS, lambda s: s.item.operation)
    assert by(stored, PROM["llm.requests"], "llmobs_tenant_bounded") == {
        "acme": 3, "globex": 1, "other": 2, "unknown": 3}   # other: hooli, and sneaky set as the label itself
    assert by(stored, PROM["llm.requests"], "llmobs_tenant_bounded") == total(CALLS, _tenant)
    assert by(stored, PROM["llm.requests"], "llmobs_feature_bounded") == total(
        CALLS, lambda s: bounded("feature", s.item.feature))
    assert by(stored, PROM["llm.requests"], "llmobs_prompt_version") == total(
        CALLS, lambda s: bounded("prompt_version", s.item.prompt))
    assert by(stored, PROM["llm.requests"], "deployment_environment_name") == total(
        CALLS, lambda s: bounded("environment", s.env))
    assert by(stored, PROM["llm.errors"], "error_type") == {"timeout": 1, "_OTHER": 1}
    assert by(stored, PROM["llm.errors"], "error_type") == total(
        [s for s in CALLS if s.item.failed], lambda s: s.item.error or "_OTHER")


@pytest.mark.parametrize("metric, attribute", [("llm.tokens.input", "input"), ("llm.tokens.output", "output"),
                                               ("llm.tokens.cached_input", "cached"),
                                               ("llm.tokens.cache_write", "cache_write")])
def test_tokens_by_model(run, metric, attribute):
    _, stored = run
    want = total(CALLS, lambda s: s.item.model, lambda s: number(getattr(s.item, attribute)))
    assert by(stored, PROM[metric], "gen_ai_request_model") == want
    assert by(stored, PROM[metric], "llmobs_tenant_bounded") == total(
        CALLS, _tenant, lambda s: number(getattr(s.item, attribute)))


def test_token_totals_by_hand(run):
    _, stored = run
    assert sum(by(stored, PROM["llm.tokens.input"], "gen_ai_request_model").values()) == (
        1200 + 800 + 5000 + 2000 + 30 + 100 + 500 + 640)   # -5 was dropped
    assert sum(by(stored, PROM["llm.tokens.output"], "gen_ai_request_model").values()) == (
        300 + 50 + 800 + 700 + 12 + 60 + 20 + 64)            # "12" counts as 12


def test_call_durations(run):
    _, stored = run
    name = PROM["gen_ai.client.operation.duration"]
    assert by(stored, name + "_count", "gen_ai_request_model") == total(CALLS, lambda s: s.item.model)
    assert by(stored, name + "_sum", "gen_ai_request_model") == approx(
        total(CALLS, lambda s: s.item.model, lambda s: s.seconds))
    buckets = {float(le): v for le, v in by(stored, name + "_bucket", "le").items()}
    want = {le: sum(s.seconds <= le for s in CALLS) for le in LATENCY_BUCKETS + [math.inf]}
    assert buckets == want   # 0.25 s exactly is in le="0.25"


def test_time_to_first_token(run):
    _, stored = run
    name = PROM["llm.time_to_first_token"]
    ttfts = [s for s in CALLS if number(s.item.ttft) is not None]
    assert by(stored, name + "_count", "gen_ai_request_model") == total(ttfts, lambda s: s.item.model)
    assert by(stored, name + "_sum", "gen_ai_request_model") == approx(
        total(ttfts, lambda s: s.item.model, lambda s: s.item.ttft))


def test_retries_fallbacks_truncation(run):
    _, stored = run
    assert by(stored, PROM["llm.retries"], "gen_ai_request_model") == total(
        [s for s in CALLS if (s.item.retry or 0) > 0], lambda s: s.item.model)
    assert by(stored, PROM["llm.fallbacks"], "gen_ai_request_model", "llmobs_fallback_from_model") == total(
        [s for s in CALLS if s.item.fallback_from], lambda s: (s.item.model, s.item.fallback_from))
    assert by(stored, PROM["llm.truncated"], "gen_ai_request_model") == total(
        [s for s in CALLS if "length" in (s.item.finish or ())], lambda s: s.item.model)


def test_context_utilization(run):
    _, stored = run
    name = PROM["llm.context.utilization"]
    windowed = [s for s in CALLS if s.item.window and number(s.item.input) is not None]
    assert by(stored, name + "_count", "gen_ai_request_model") == total(windowed, lambda s: s.item.model)
    assert by(stored, name + "_sum", "gen_ai_request_model") == approx(
        total(windowed, lambda s: s.item.model, lambda s: number(s.item.input) / s.item.window))


def test_cost_is_what_the_exported_spans_carry(run):
    gw, stored = run
    exported = [s["attributes"] for s in gw.traces.spans() if s["attributes"].get(k.OPERATION) in k.LLM_OPERATIONS]
    assert len(exported) == len(CALLS)
    want = total(exported, lambda a: a[k.REQUEST_MODEL], lambda a: a.get(k.COST))
    assert set(want) == {s.item.model for s in CALLS if s.item.priced}
    assert by(stored, PROM["llm.cost"], "gen_ai_request_model") == approx(want)
    assert by(stored, PROM["llm.unpriced.requests"], "gen_ai_request_model") == total(
        [s for s in CALLS if not s.item.priced], lambda s: s.item.model)
    assert by(stored, PROM["llm.unpriced.requests"], "deployment_environment_name") == {"other": 1}   # qa-7
    assert by(stored, PROM["llm.unpriced.requests"], "deployment_environment_name") == total(
        [s for s in CALLS if not s.item.priced], lambda s: bounded("environment", s.env))


# ---------------------------------------------------------------- requests, users, sessions

def _outcome(s: Sent) -> str:
    r = s.item
    return bounded("outcome", r.outcome or ("error" if r.failed else "unknown"))


def test_app_requests(run):
    _, stored = run
    assert by(stored, PROM["llm.app.requests"], "llmobs_request_outcome") == {
        "answered": 1, "other": 1, "refused": 1, "error": 1}
    assert by(stored, PROM["llm.app.requests"], "llmobs_request_outcome") == total(ROOTS, _outcome)
    assert by(stored, PROM["llm.app.requests"], "llmobs_tenant_bounded") == total(
        ROOTS, lambda s: bounded("tenant", s.item.tenant))
    assert by(stored, PROM["llm.app.requests"], "deployment_environment_name") == total(
        ROOTS, lambda s: bounded("environment", s.env))
    name = PROM["llm.app.request.duration"]
    assert by(stored, name + "_count", "llmobs_request_outcome") == total(ROOTS, _outcome)
    assert by(stored, name + "_sum", "llmobs_request_outcome") == approx(total(ROOTS, _outcome, lambda s: s.seconds))
    name = PROM["llm.agent.iterations"]
    kept = [s for s in ROOTS if number(s.item.iterations) is not None]
    env = lambda s: bounded("environment", s.env)   # noqa: E731
    assert by(stored, name + "_count", "deployment_environment_name") == total(kept, env)
    assert by(stored, name + "_sum", "deployment_environment_name") == approx(
        total(kept, env, lambda s: number(s.item.iterations)))


def _bucket(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:3]


def test_users_and_sessions(run):
    _, stored = run
    assert by(stored, PROM["llm.users.activity"], "llmobs_user_bucket") == total(
        [s for s in ROOTS if s.item.user], lambda s: _bucket(s.item.user))
    assert by(stored, PROM["llm.sessions.activity"], "llmobs_session_bucket") == total(
        [s for s in ROOTS if s.item.conversation], lambda s: _bucket(s.item.conversation))


# ---------------------------------------------------------------- tools and retrieval

def test_tools(run):
    _, stored = run
    tools = of(Tool)
    assert by(stored, PROM["llm.tool.calls"], "gen_ai_tool_name", "llmobs_tool_outcome") == total(
        tools, lambda s: (s.item.name, s.item.outcome or "ok"))
    assert by(stored, PROM["llm.tool.duration"] + "_sum", "gen_ai_tool_name") == approx(
        total(tools, lambda s: s.item.name, lambda s: s.seconds))
    assert by(stored, PROM["llm.tool.approvals"], "gen_ai_tool_name", "llmobs_tool_approval") == total(
        [s for s in tools if s.item.approval_required is True], lambda s: (s.item.name, s.item.approval))


def test_retrieval(run):
    _, stored = run
    retrievals = [s for s in of(Retrieval) if s.item.operation]
    index = lambda s: bounded("retrieval_index", s.item.index)   # noqa: E731
    assert by(stored, PROM["llm.retrieval.duration"] + "_count", "llmobs_retrieval_index") == total(retrievals, index)
    assert by(stored, PROM["llm.retrieval.duration"] + "_sum", "llmobs_retrieval_index") == approx(
        total(retrievals, index, lambda s: s.seconds))
    assert by(stored, PROM["llm.retrieval.documents"] + "_sum", "llmobs_retrieval_index") == total(
        retrievals, index, lambda s: number(s.item.returned))
    assert by(stored, PROM["llm.retrieval.returned"], "llmobs_retrieval_index") == total(
        retrievals, index, lambda s: number(s.item.returned))
    assert by(stored, PROM["llm.retrieval.requested"], "llmobs_retrieval_index") == total(
        retrievals, index, lambda s: number(s.item.top_k))
    assert by(stored, PROM["llm.retrieval.empty"], "llmobs_retrieval_index") == total(
        [s for s in retrievals if number(s.item.returned) == 0], index)
    assert by(stored, PROM["llm.retrieval.score"] + "_sum", "llmobs_retrieval_index") == approx(total(
        [s for s in retrievals if s.item.scores], index, lambda s: s.item.scores[0]))
    steps = [s for s in of(Retrieval) if s.item.method]
    assert by(stored, PROM["llm.retrieval.step.duration"] + "_count", "llmobs_retrieval_method") == total(
        steps, lambda s: bounded("retrieval_method", s.item.method))
    # Every retrieval metric carries the environment of the resource it came from (bounded).
    env = lambda s: bounded("environment", s.env)   # noqa: E731
    assert by(stored, PROM["llm.retrieval.documents"] + "_count", "deployment_environment_name") == {
        "staging": 3, "other": 1}   # kb, docs, legacy in staging; kb in qa-7
    for series, kept in ((PROM["llm.retrieval.duration"] + "_count", retrievals),
                         (PROM["llm.retrieval.documents"] + "_count",
                          [s for s in retrievals if number(s.item.returned) is not None]),
                         (PROM["llm.retrieval.score"] + "_count", [s for s in retrievals if s.item.scores]),
                         (PROM["llm.retrieval.step.duration"] + "_count", steps)):
        assert by(stored, series, "deployment_environment_name") == total(kept, env), series
    for series, value in ((PROM["llm.retrieval.requested"], lambda s: number(s.item.top_k)),
                          (PROM["llm.retrieval.returned"], lambda s: number(s.item.returned))):
        assert by(stored, series, "deployment_environment_name") == total(retrievals, env, value), series
    assert by(stored, PROM["llm.retrieval.empty"], "deployment_environment_name") == total(
        [s for s in retrievals if number(s.item.returned) == 0], env)


# ---------------------------------------------------------------- safety, evaluations, feedback

def _checks(key: str) -> list[dict]:
    return [s.item.attrs for s in of(Check) if key in s.item.attrs]


def test_safety(run):
    _, stored = run
    checks = _checks(k.SAFETY_BLOCKED)
    assert by(stored, PROM["llm.safety.checks"], "llmobs_safety_stage") == total(
        checks, lambda a: bounded("safety_stage", a.get(k.SAFETY_STAGE)))
    assert by(stored, PROM["llm.safety.blocks"], "llmobs_safety_category") == total(
        [a for a in checks if a[k.SAFETY_BLOCKED] is True], lambda a: a.get(k.SAFETY_CATEGORY, "unknown"))
    # The environment of the resource each check came from: 3 in staging, the jailbreak block in qa-7.
    sent = [s for s in of(Check) if k.SAFETY_BLOCKED in s.item.attrs]
    env = lambda s: bounded("environment", s.env)   # noqa: E731
    assert by(stored, PROM["llm.safety.checks"], "deployment_environment_name") == {"staging": 3, "other": 1}
    assert by(stored, PROM["llm.safety.checks"], "deployment_environment_name") == total(sent, env)
    assert by(stored, PROM["llm.safety.blocks"], "deployment_environment_name") == total(
        [s for s in sent if s.item.attrs[k.SAFETY_BLOCKED] is True], env)


def _evals(attributes: list[dict], stored: dict, score: str, results: str) -> None:
    scored = [a for a in attributes if number(a.get(k.EVAL_SCORE)) is not None]
    assert by(stored, score + "_count", "gen_ai_evaluation_name") == total(scored, lambda a: a[k.EVAL_NAME])
    assert by(stored, score + "_sum", "gen_ai_evaluation_name") == approx(
        total(scored, lambda a: a[k.EVAL_NAME], lambda a: number(a[k.EVAL_SCORE])))
    assert by(stored, results, "gen_ai_evaluation_name", "gen_ai_evaluation_score_label") == total(
        [a for a in attributes if k.EVAL_LABEL in a],
        lambda a: (a[k.EVAL_NAME], bounded("eval_label", a[k.EVAL_LABEL])))


def test_evaluations_on_spans(run):
    _, stored = run
    _evals(_checks(k.EVAL_NAME), stored, PROM["llm.eval.score"], PROM["llm.eval.results"])


def test_evaluations_and_feedback_from_log_events(run):
    _, stored = run
    events = sent_events()
    _evals([a for a, _ in events if k.EVAL_NAME in a], stored, PROM["llm.eval.score.events"],
           PROM["llm.eval.results.events"])
    feedback = [(a, env) for a, env in events if k.FEEDBACK in a]
    assert by(stored, PROM["llm.feedback"], "llmobs_feedback", "llmobs_feature_bounded") == total(
        feedback, lambda e: (e[0][k.FEEDBACK], bounded("feature", e[0].get(k.FEATURE))))
    # Log events take the environment of their resource, as spans do (llmmetrics' resource bound).
    assert by(stored, PROM["llm.feedback"], "deployment_environment_name") == {"staging": 3, "other": 1}
    assert by(stored, PROM["llm.feedback"], "deployment_environment_name") == total(
        feedback, lambda e: bounded("environment", e[1]))
    assert by(stored, PROM["llm.eval.score.events"] + "_count", "deployment_environment_name") == total(
        [e for e in events if number(e[0].get(k.EVAL_SCORE)) is not None], lambda e: bounded("environment", e[1]))


# ---------------------------------------------------------------- the gateway's own counters

def _folded(attrs: dict, env: str | None, root: bool = False, failed: bool = False) -> set[str]:
    """The bounds that fold one record's value into `other` (each counts once per record)."""
    values = {"tenant": attrs.get(k.TENANT, attrs.get(k.TENANT_LABEL)), "feature": attrs.get(k.FEATURE),
              "prompt_version": attrs.get(k.PROMPT_VERSION), "environment": env,
              "retrieval_index": attrs.get(k.RETRIEVAL_INDEX), "index_version": attrs.get(k.RETRIEVAL_INDEX_VERSION),
              "retrieval_method": attrs.get(k.RETRIEVAL_METHOD), "eval_label": attrs.get(k.EVAL_LABEL),
              "outcome": attrs.get(k.OUTCOME) or (("error" if failed else "unknown") if root else None),
              "safety_stage": attrs.get(k.SAFETY_STAGE)}
    return {setting for setting, value in values.items() if value is not None and bounded(setting, value) == "other"}


def test_label_overflow(run):
    _, stored = run
    want: Counter = Counter()
    for s in sent_spans():
        want.update(_folded(s.item.attributes(), s.env, s.root, s.item.failed))
    assert want["environment"] == 5 and want["tenant"] == 3   # qa-7's spans; hooli, sneaky, initech
    assert by(stored, PROM["llm.label.overflow"], "llmobs_label") == dict(want)
    logs: Counter = Counter()
    for attributes, env in sent_events():
        logs.update(_folded(attributes, env))
    assert by(stored, PROM["llm.label.overflow.logs"], "llmobs_label") == dict(logs)


def test_invalid_redacted_guarded(run):
    _, stored = run
    # A span counts once, under the last of its bad keys in the guard's order (NUMERIC).
    invalid: Counter = Counter()
    for s in sent_spans():
        a = s.item.attributes()
        invalid.update([key for key in NUMERIC["span"] if key in a and number(a[key]) is None][-1:])
    assert invalid == {k.TTFT: 1, k.EVAL_SCORE: 1, k.AGENT_ITERATIONS: 1}   # -5 input tokens: beside a bad ttft
    assert by(stored, PROM["llm.invalid.values"], "llmobs_invalid") == dict(invalid)
    assert by(stored, PROM["llm.invalid.values.logs"], "llmobs_invalid") == {k.EVAL_SCORE: 1}
    assert by(stored, PROM["llm.redacted.spans"]) == {(): 1}
    assert by(stored, PROM["llm.redacted.logs"]) == {(): 1}
    assert by(stored, PROM["llm.content.guarded"], "llmobs_content_guarded") == {"app.summary": 1}
    assert by(stored, PROM["llm.content.guarded.logs"], "llmobs_content_guarded") == {"app.summary": 1}


# ---------------------------------------------------------------- every series

def test_the_traffic_reaches_every_metric(run):
    _, stored = run
    names = {dict(key)["__name__"] for key in stored}
    missing = [m.name for m in CATALOG if m.prometheus + ("_count" if m.kind == "histogram" else "") not in names]
    assert not missing


def _instance_id(gw) -> str:
    """The collector's service.instance.id, from its own telemetry (target_info)."""
    url = f"http://127.0.0.1:{gw.collector.listen.telemetry_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith("target_info{"):
            labels = dict(part.split("=", 1) for part in line[len("target_info{"):line.index("}")].split(","))
            return labels["service_instance_id"].strip('"')
    raise AssertionError("no target_info in the collector's telemetry")


def test_every_point_names_the_connector_and_its_replica(run):
    gw, stored = run
    instance = _instance_id(gw)
    for key in stored:
        labels = dict(key)
        assert labels["otel_scope_name"].endswith("llmmetricsconnector"), labels
        # Replicas of a gateway write distinct series: each point names the process that made it.
        assert labels.get("llmobs_gateway_instance") == instance, labels


def test_labels_are_bounded(run):
    """Nothing outside a bound becomes a label value, whether the app set the source or the label itself."""
    _, stored = run
    values = {value for key in stored for name, value in key if name != "__name__"}
    leaked = values & {"sneaky", "hooli", "initech", "unlisted", "voice", "qa-7", "v9", "legacy", "bm25", "rerank",
                       "strange", "sideways", "hallucinated", "meh", "user-1", "user-2", "conv-1"}
    assert not leaked
    assert "other" in values
