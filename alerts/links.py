"""Each alert's first panel to open: dashboard slug and panel key (ids come from the key, so a
link survives panels being added or moved). Checked against the rendered dashboards in tests."""
from __future__ import annotations

from functools import lru_cache

from dashboards import REGISTRY
from dashboards.helpers import panel_id

PANELS: dict[str, tuple[str, str]] = {
    "LlmProviderErrorRateHigh": ("overview", "errors_by_model"),
    "LlmRateLimitedOrTimingOut": ("overview", "throttled"),
    "LlmAvailabilityBudgetBurn": ("slo", "availability_bad_share"),
    "LlmLatencyBudgetBurn": ("slo", "latency_bad_share"),
    "LlmTimeToFirstTokenSlow": ("overview", "ttft"),
    "LlmLatencyP95High": ("overview", "latency_by_model"),
    "LlmRetryRateHigh": ("overview", "retries"),
    "LlmFallbackStorm": ("overview", "fallbacks"),
    "LlmNoTraffic": ("overview", "traffic_vs_yesterday"),
    "LlmPromptBloat": ("overview", "prompt_size"),
    "LlmPromptShrink": ("overview", "prompt_size"),
    "LlmContextWindowSaturated": ("overview", "context"),
    "LlmSpendSpike": ("cost", "spend_vs_week"),
    "LlmSpendOverDailyBudget": ("cost", "budget_day"),
    "LlmSpendOverMonthlyBudget": ("cost", "month_pace"),
    "LlmTenantCostSpike": ("cost", "tenant_share"),
    "LlmUnpricedModelCalls": ("cost", "unpriced"),
    "LlmEvalScoreLow": ("quality", "eval_scores"),
    "LlmEvalScoreLowForPromptVersion": ("quality", "eval_by_prompt_version"),
    "LlmEvalScoreLowForModel": ("quality", "eval_by_model"),
    "LlmThumbsDownHigh": ("quality", "thumbs_down"),
    "LlmSafetyBlocksHigh": ("quality", "safety_ratio"),
    "LlmSafetyChecksSilent": ("quality", "safety_silent"),
    "LlmContextRecallLow": ("rag", "recall"),
    "LlmEmptyRetrievals": ("rag", "empty"),
    "LlmDeniedToolCallsHigh": ("agents", "denied"),
    "LlmAgentLoopRunaway": ("agents", "iterations_by_agent"),
    "LlmRedactionSpike": ("pipeline", "redacted"),
    "LlmCollectorRefusingData": ("pipeline", "refused"),
    "LlmExporterSendFailures": ("pipeline", "send_failed"),
    "LlmExporterQueueNearFull": ("pipeline", "queue"),
    "LlmBackendDown": ("pipeline", "up"),
    "LlmLabelOverflow": ("pipeline", "overflow"),
    "LlmWatchdog": ("pipeline", "watchdog"),
    "LlmRuleEvaluationFailures": ("pipeline", "rule_failures"),
    "LlmRemoteWriteFailing": ("pipeline", "remote_write"),
    "LlmNotificationsFailing": ("pipeline", "notifications"),
    "LlmLogsRefused": ("pipeline", "discarded"),
    "LlmTracesRefused": ("pipeline", "discarded"),
    "LlmDebugStoreAccessOutsideAllowlist": ("audit", "outside_allowlist"),
}


# Dashboard variable -> the alert label that sets it, for the `var-` parameters of a dashboard link.
VARIABLE_LABELS = {"environment": "deployment_environment_name", "service_name": "service_name",
                   "provider": "gen_ai_provider_name", "model": "gen_ai_request_model",
                   "tenant": "llmobs_tenant_bounded", "feature": "llmobs_feature_bounded",
                   "prompt_version": "llmobs_prompt_version", "login": "user"}
RUNBOOKS_SLUG = "runbooks"


def panel(alert_name: str) -> tuple[str, int]:
    """(dashboard uid, panel id) of the alert's panel."""
    slug, key = PANELS[alert_name]
    return next(e.uid for e in REGISTRY if e.slug == slug), panel_id(slug, key)


@lru_cache(maxsize=None)
def variables(slug: str) -> tuple[str, ...]:
    """The template variables a dashboard declares (they do not depend on the settings' thresholds)."""
    from dashboards.review import reference_settings
    entry = next(e for e in REGISTRY if e.slug == slug)
    return tuple(v.name for v in entry.build(reference_settings()).templating.list)


def url(alert_name: str, grafana_url: str = "") -> str:
    """The alert's panel, with the alert's own labels as the dashboard's variables (Prometheus and
    Grafana expand the template per alert; a label the alert lacks leaves the variable alone)."""
    uid, pid = panel(alert_name)
    params = "".join(f"{{{{ with $labels.{VARIABLE_LABELS[v]} }}}}&var-{v}={{{{ . | urlquery }}}}{{{{ end }}}}"
                     for v in variables(PANELS[alert_name][0]) if v in VARIABLE_LABELS)
    return f"{grafana_url}/d/{uid}?viewPanel={pid}{params}"


def runbook_url(alert_name: str, runbook_base: str, grafana_url: str) -> str:
    """`<runbook_base>/<AlertName>.md` where runbooks are published; else the alert's panel on the
    LLM runbooks dashboard, which Grafana serves in every target."""
    if runbook_base:
        return f"{runbook_base.rstrip('/')}/{alert_name}.md"
    uid = next(e.uid for e in REGISTRY if e.slug == RUNBOOKS_SLUG)
    return f"{grafana_url}/d/{uid}?viewPanel={panel_id(RUNBOOKS_SLUG, alert_name)}"
