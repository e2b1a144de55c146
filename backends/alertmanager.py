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


def config(settings: Settings) -> dict:
    return {
        "route": {
            "receiver": RECEIVER,
            "group_by": ["alertname", "severity"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
        },
        # A critical alert silences its own warning twin.
        "inhibit_rules": [{
            "source_matchers": ["severity=\"critical\""],
            "target_matchers": ["severity=\"warning\""],
            "equal": ["alertname"],
        }],
        "receivers": [receiver(settings.alerts.receivers.kind)],
    }


def render(settings: Settings) -> dict[str, str]:
    return {"alertmanager/alertmanager.yml": to_yaml(config(settings))}
