"""Scenarios: each a named switch producing the signature of one failure mode from the field.

A scenario is a set of overrides on `Knobs`, the baseline behaviour. `signal` says what
the scenario moves and by how much, measured through the pipeline against baseline;
tests/test_up_local.py checks exactly these claims.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from loadgen import world


@dataclass(frozen=True)
class Knobs:
    # LLM call failures, per attempt: error.type -> probability. `error_provider` limits them to one provider.
    errors: tuple[tuple[str, float], ...] = (("server_error", 0.010), ("rate_limited", 0.005), ("timeout", 0.002))
    error_provider: str | None = None
    max_retries: int = 2
    fallback_on_first_error: bool = False      # skip retries and fall back at once (a fallback storm)
    primary_overloaded: float = 0.0            # extra `overloaded` errors on the primary models only
    latency_factor: float = 1.0                # generation time multiplier
    ttft_factor: float = 1.0                   # time to first token multiplier
    system_tokens_factor: float = 1.0          # prompt template size
    history_factor: float = 1.0                # conversation history kept in the prompt
    top_k_factor: float = 1.0                  # retrieved chunks put in the prompt
    bloated_prompt: bool = False
    tenant_weights: tuple[tuple[str, float], ...] = tuple(world.TENANT_WEIGHTS.items())
    premium_tenant_model: str | None = None    # the premium tenant's calls go to this model, with long inputs
    new_prompt_version: bool = False           # ship the next prompt versions
    eval_shift: tuple[tuple[str, float], ...] = ()   # eval name -> mean shift
    stale_index: bool = False
    retrieval_empty: float = 0.02              # share of retrievals that return nothing
    feature_weights: tuple[tuple[str, float], ...] = tuple(world.FEATURE_WEIGHTS.items())
    agent_tool_calls: tuple[int, int] = (1, 3)
    tool_loop: bool = False                    # the agent calls one tool over and over
    dangerous_tool_attempt: float = 0.02       # share of agent runs that try a dangerous tool
    dangerous_tool_denied: float = 0.7         # share of those attempts a human denies
    tool_error: float = 0.03
    safety_block_input: float = 0.008
    safety_block_output: float = 0.004
    context_fill: tuple[float, float] | None = None  # main-call input as a share of the context window
    secret_share: float = 0.0                  # share of requests leaking a secret or PII
    feedback_down: float = 0.12


@dataclass(frozen=True)
class Scenario:
    name: str
    failure_mode: str
    signal: str
    knobs: dict = field(default_factory=dict)

    def apply(self, base: Knobs = Knobs()) -> Knobs:
        return dataclasses.replace(base, **self.knobs)


_EVAL_DROP = (("faithfulness", -0.35), ("answer_relevance", -0.30), ("hallucination", 0.0))
SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("baseline", "none", "reference traffic: ~1.7% LLM errors, p95 latency a few seconds, 1% safety blocks"),
    Scenario("provider_errors", "provider errors", "LLM error ratio >= 5x baseline (openai server errors)",
             {"errors": (("server_error", 0.35), ("timeout", 0.02)), "error_provider": "openai"}),
    Scenario("rate_limited", "rate limits and retries", "rate_limited errors >= 10% of LLM calls; retries raise LLM calls per request",
             {"errors": (("rate_limited", 0.45),), "error_provider": "openai", "max_retries": 3}),
    Scenario("latency_regression", "p95 latency regression", "p95 LLM call duration >= 2x baseline",
             {"latency_factor": 3.5, "ttft_factor": 1.3}),
    Scenario("ttft_regression", "time-to-first-token regression", "p95 time to first token >= 2x baseline",
             {"ttft_factor": 5.0}),
    Scenario("prompt_bloat", "prompt bloat", "mean input tokens per request >= 1.5x baseline",
             {"bloated_prompt": True, "system_tokens_factor": 3.0, "history_factor": 2.5, "top_k_factor": 2.0}),
    Scenario("tenant_cost_spike", "one tenant's cost spike", "one tenant's cost share >= 5x its baseline share",
             {"tenant_weights": (("acme", 0.30), ("globex", 0.24), ("initech", 0.16), ("umbrella", 0.30)),
              "premium_tenant_model": world.PREMIUM_MODEL}),
    Scenario("quality_drop", "quality drop after a prompt change",
             "mean faithfulness and answer relevance drop >= 0.2; more thumbs down; new prompt versions",
             {"new_prompt_version": True, "eval_shift": _EVAL_DROP, "feedback_down": 0.45}),
    Scenario("context_recall_drop", "retrieval drift (stale index)", "mean context recall drops >= 0.25",
             {"stale_index": True, "eval_shift": (("context_recall", -0.45), ("faithfulness", -0.05))}),
    Scenario("tool_loop_runaway", "tool-loop runaway", "tool calls per request >= 3x baseline",
             {"tool_loop": True, "feature_weights": (("chat", 0.2), ("search", 0.1), ("summarize", 0.1), ("agent", 0.6))}),
    Scenario("dangerous_tool_denied_spike", "denied dangerous tool calls", "denied tool calls per request >= 5x baseline",
             {"dangerous_tool_attempt": 0.6, "dangerous_tool_denied": 0.9}),
    Scenario("safety_block_spike", "safety blocks", "safety blocks per request >= 5x baseline",
             {"safety_block_input": 0.20, "safety_block_output": 0.05}),
    Scenario("fallback_storm", "fallback storm", "fallback models' share of LLM calls >= 5x baseline",
             {"primary_overloaded": 0.85, "fallback_on_first_error": True}),
    Scenario("retrieval_empty", "retrieval returns nothing", "share of retrievals with 0 documents >= 50%",
             {"retrieval_empty": 0.75, "eval_shift": (("context_recall", -0.6), ("answer_relevance", -0.3))}),
    Scenario("context_saturation", "context-window saturation",
             "mean input tokens per request >= 5x baseline; finish reason `length`",
             {"context_fill": (0.80, 0.99)}),
    Scenario("secret_leak_attempts", "secrets and PII in telemetry",
             "redacted spans and logs counters rise from 0; no secret reaches a backend",
             {"secret_share": 0.3}),
)}

# The fallback models (for the fallback_storm measurement).
FALLBACK_MODELS = tuple(sorted({f.fallback for f in world.FEATURES.values() if f.fallback}))


def get(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; use one of: {', '.join(SCENARIOS)}") from None
