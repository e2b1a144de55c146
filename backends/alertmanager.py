"""alertmanager/alertmanager.yml. Receiver URLs are read from mounted secret files,
so the text never holds a credential."""
from __future__ import annotations

from backends.common import ALERT_WEBHOOK_URL, secret_path, to_yaml
from settings import Settings

RECEIVER = "default"


def receiver(kind: str) -> dict:
    url_file = secret_path(ALERT_WEBHOOK_URL)
    if kind == "none":
        return {"name": RECEIVER}  # a null receiver: alerts stay visible in the UI only
    if kind == "webhook":
        return {"name": RECEIVER, "webhook_configs": [{"url_file": url_file, "send_resolved": True}]}
    if kind == "slack":
        return {"name": RECEIVER, "slack_configs": [{"api_url_file": url_file, "send_resolved": True}]}
    raise ValueError(f"alerts.receivers.kind: unknown kind {kind!r}")


# Per severity: how soon a new alert goes out and how often an unresolved one repeats.
# Critical pages fast and repeats hourly; info waits and repeats daily.
SEVERITY_TIMING = {"critical": ("10s", "1h"), "warning": ("1m", "4h"), "info": ("5m", "24h")}
PROVIDER = "gen_ai_provider_name"


def routes() -> list[dict]:
    """One route per severity, grouped by team and by what the alert is about."""
    return [{"matchers": [f'severity="{sev}"'], "receiver": RECEIVER, "group_wait": wait, "repeat_interval": repeat,
             "group_by": ["team", "alertname", PROVIDER, "gen_ai_request_model", "llmobs_tenant_bounded", "job"]}
            for sev, (wait, repeat) in SEVERITY_TIMING.items()]


def inhibit_rules() -> list[dict]:
    """What a root cause silences: its symptoms page nobody twice."""
    def names(*alerts: str) -> str:
        return f'alertname=~"{"|".join(alerts)}"'
    return [
        # A critical alert silences its own warning twin.
        {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'], "equal": ["alertname"]},
        # A failing provider explains that provider's slowness and throttling.
        {"source_matchers": ['alertname="LlmProviderErrorRateHigh"'],
         "target_matchers": [names("LlmLatencyP95High", "LlmTimeToFirstTokenSlow", "LlmRateLimitedOrTimingOut")],
         "equal": [PROVIDER]},
        # A gateway that is down or refusing explains missing traffic.
        {"source_matchers": ['alertname="LlmBackendDown"', 'job="collector"'], "target_matchers": [names("LlmNoTraffic")]},
        {"source_matchers": ['alertname="LlmCollectorRefusingData"'], "target_matchers": [names("LlmNoTraffic")]},
    ]


def config(settings: Settings) -> dict:
    return {
        "route": {
            "receiver": RECEIVER,
            "group_by": ["alertname", "severity"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes(),
        },
        "inhibit_rules": inhibit_rules(),
        "receivers": [receiver(settings.alerts.receivers.kind)],
    }


def render(settings: Settings) -> dict[str, str]:
    return {"alertmanager/alertmanager.yml": to_yaml(config(settings))}
