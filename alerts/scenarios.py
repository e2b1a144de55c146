"""Which alerts each loadgen failure scenario must fire (tests/test_alerts_up_local.py runs them
on up-local with the settings profile settings/profiles/alerts-e2e.yaml). The one place the
scenario -> alert mapping lives; `baseline` fires none."""
from __future__ import annotations

FIRES: dict[str, tuple[str, ...]] = {
    "provider_errors": ("LlmProviderErrorRateHigh",),
    "rate_limited": ("LlmRateLimitedOrTimingOut", "LlmRetryRateHigh"),
    "latency_regression": ("LlmLatencyP95High",),
    "ttft_regression": ("LlmTimeToFirstTokenSlow",),
    "prompt_bloat": ("LlmPromptBloat",),
    "tenant_cost_spike": ("LlmTenantCostSpike",),
    "quality_drop": ("LlmEvalScoreLowForPromptVersion", "LlmThumbsDownHigh"),
    "context_recall_drop": ("LlmContextRecallLow",),
    "tool_loop_runaway": ("LlmAgentLoopRunaway",),
    "dangerous_tool_denied_spike": ("LlmDeniedToolCallsHigh",),
    "safety_block_spike": ("LlmSafetyBlocksHigh",),
    "fallback_storm": ("LlmFallbackStorm",),
    "retrieval_empty": ("LlmEmptyRetrievals",),
    "context_saturation": ("LlmContextWindowSaturated",),
    "secret_leak_attempts": ("LlmRedactionSpike",),
}
