"""Which family each alert belongs to, and so which team owns it (`settings.alerts.teams.<family>`,
the alert's `team` label that Alertmanager routes on). Every alert is listed: a new alert without
a family fails tests/test_alert_routing.py."""
from __future__ import annotations

from settings import Settings

FAMILIES = ("platform", "finance", "quality", "security")

FAMILY: dict[str, str] = {
    # platform / on-call: is the LLM path up, fast and within its SLOs; is telemetry flowing
    **dict.fromkeys((
        "LlmProviderErrorRateHigh", "LlmRateLimitedOrTimingOut", "LlmAvailabilityBudgetBurn", "LlmLatencyBudgetBurn",
        "LlmTimeToFirstTokenSlow", "LlmLatencyP95High", "LlmRetryRateHigh", "LlmFallbackStorm",
        "LlmContextWindowSaturated", "LlmAgentLoopRunaway", "LlmPromptBloat", "LlmNoTraffic",
        "LlmCollectorRefusingData", "LlmExporterSendFailures", "LlmExporterQueueNearFull", "LlmBackendDown",
        "LlmLabelOverflow", "LlmWatchdog", "LlmRuleEvaluationFailures", "LlmRemoteWriteFailing",
        "LlmNotificationsFailing", "LlmLogsRefused", "LlmTracesRefused"), "platform"),
    # finance / cost: money
    **dict.fromkeys(("LlmSpendSpike", "LlmSpendOverDailyBudget", "LlmSpendOverMonthlyBudget", "LlmTenantCostSpike",
                     "LlmUnpricedModelCalls"), "finance"),
    # ML quality: are the answers good
    **dict.fromkeys(("LlmEvalScoreLow", "LlmEvalScoreLowForPromptVersion", "LlmEvalScoreLowForModel",
                     "LlmThumbsDownHigh", "LlmContextRecallLow", "LlmEmptyRetrievals", "LlmPromptShrink"), "quality"),
    # security / safety: abuse, dangerous tools, leaks
    **dict.fromkeys(("LlmSafetyBlocksHigh", "LlmSafetyChecksSilent", "LlmDeniedToolCallsHigh", "LlmRedactionSpike",
                     "LlmDebugStoreAccessOutsideAllowlist"), "security"),
}


def family(alert_name: str) -> str:
    if alert_name not in FAMILY:
        raise KeyError(f"{alert_name}: no family in alerts/families.py (platform, finance, quality or security)")
    return FAMILY[alert_name]


def team(settings: Settings, alert_name: str) -> str:
    return getattr(settings.alerts.teams, family(alert_name))
