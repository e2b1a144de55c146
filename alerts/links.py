"""Each alert's first panel to open: dashboard slug and panel key (ids come from the key, so a
link survives panels being added or moved). Checked against the rendered dashboards in tests."""
from __future__ import annotations

from dashboards import REGISTRY
from dashboards.helpers import panel_id

PANELS: dict[str, tuple[str, str]] = {
    "LlmProviderErrorRateHigh": ("overview", "errors"),
    "LlmRateLimitedOrTimingOut": ("overview", "throttled"),
    "LlmAvailabilityBudgetBurnFast": ("overview", "errors"),
    "LlmAvailabilityBudgetBurnSlow": ("overview", "errors"),
    "LlmLatencyBudgetBurnFast": ("overview", "latency"),
    "LlmLatencyBudgetBurnSlow": ("overview", "latency"),
    "LlmTimeToFirstTokenSlow": ("overview", "ttft"),
    "LlmLatencyP95High": ("overview", "latency"),
    "LlmRetryRateHigh": ("overview", "retries"),
    "LlmFallbackStorm": ("overview", "fallbacks"),
    "LlmNoTraffic": ("overview", "requests"),
    "LlmPromptBloat": ("overview", "tokens_per_request"),
    "LlmPromptShrink": ("overview", "tokens_per_request"),
    "LlmContextWindowSaturated": ("overview", "context"),
    "LlmSpendSpike": ("cost", "by_model"),
    "LlmSpendOverDailyBudget": ("cost", "projected"),
    "LlmSpendOverMonthlyBudget": ("cost", "projected"),
    "LlmTenantCostSpike": ("cost", "by_tenant"),
    "LlmUnpricedModelCalls": ("cost", "unpriced"),
    "LlmEvalScoreLow": ("quality", "eval_scores"),
    "LlmEvalScoreLowForPromptVersion": ("quality", "eval_by_prompt_version"),
    "LlmEvalScoreLowForModel": ("quality", "eval_by_model"),
    "LlmThumbsDownHigh": ("quality", "thumbs_down"),
    "LlmSafetyBlocksHigh": ("quality", "safety_ratio"),
    "LlmSafetyChecksSilent": ("quality", "safety_ratio"),
    "LlmContextRecallLow": ("rag", "recall"),
    "LlmEmptyRetrievals": ("rag", "empty"),
    "LlmDeniedToolCallsHigh": ("agents", "denied"),
    "LlmAgentLoopRunaway": ("agents", "iterations"),
    "LlmRedactionSpike": ("pipeline", "redacted"),
    "LlmCollectorRefusingData": ("pipeline", "refused"),
    "LlmExporterSendFailures": ("pipeline", "send_failed"),
    "LlmExporterQueueNearFull": ("pipeline", "queue"),
    "LlmBackendDown": ("pipeline", "up"),
    "LlmLabelOverflow": ("pipeline", "overflow"),
}


def panel(alert_name: str) -> tuple[str, int]:
    """(dashboard uid, panel id) of the alert's panel."""
    slug, key = PANELS[alert_name]
    return next(e.uid for e in REGISTRY if e.slug == slug), panel_id(slug, key)


def url(alert_name: str) -> str:
    """Relative to Grafana's root URL (what Grafana itself links from an alert)."""
    uid, pid = panel(alert_name)
    return f"/d/{uid}?viewPanel={pid}"
