"""alertmanager/alertmanager.yml: routes by severity and team to the receivers chosen in
settings. Credentials (webhook or Slack URL, PagerDuty routing key, SMTP password) are read
from mounted secret files, so the text never holds one."""
from __future__ import annotations

from backends.common import (ALERT_EMAIL_PASSWORD, ALERT_PAGERDUTY_ROUTING_KEY, ALERT_WEBHOOK_URL, secret_path,
                             to_yaml)
from settings import Settings

SEVERITIES = ("critical", "warning", "info")
# Per severity: how soon a new alert goes out and how often an unresolved one repeats.
# Critical pages fast and repeats hourly; info waits and repeats daily.
SEVERITY_TIMING = {"critical": ("10s", "1h"), "warning": ("1m", "4h"), "info": ("5m", "24h")}
PROVIDER = "gen_ai_provider_name"
GROUP_BY = ["team", "alertname", PROVIDER, "gen_ai_request_model", "llmobs_tenant_bounded", "job"]
# Receiver kind -> the secret it reads (None: none).
SECRET = {"none": None, "webhook": ALERT_WEBHOOK_URL, "slack": ALERT_WEBHOOK_URL,
          "pagerduty": ALERT_PAGERDUTY_ROUTING_KEY, "email": ALERT_EMAIL_PASSWORD}


def receiver_name(kind: str) -> str:
    return "null" if kind == "none" else kind


def secret_files(settings: Settings) -> tuple[tuple[str, str], ...]:
    """(file under the secrets dir, secret key) each receiver in use reads; the same for
    Alertmanager and for Grafana's contact points."""
    r = settings.alerts.receivers
    keys = {SECRET[kind] for kind in r.in_use()} - {None}
    if not r.email.auth_username:
        keys.discard(ALERT_EMAIL_PASSWORD)   # an SMTP relay without auth needs no password
    return tuple((key, key) for key in sorted(keys))  # type: ignore[arg-type]


def egress_ports(settings: Settings) -> list[int]:
    """Ports outside the cluster the receivers in use reach (HTTPS for the hooks and PagerDuty;
    the webhook URL is a secret, so its port is assumed to be 443)."""
    kinds = settings.alerts.receivers.in_use()
    ports = [443] if kinds & {"webhook", "slack", "pagerduty"} else []
    if "email" in kinds:
        ports.append(int(settings.alerts.receivers.email.smarthost.rsplit(":", 1)[1]))
    return ports


def grafana_smtp(settings: Settings) -> dict[str, dict[str, object]]:
    """grafana.ini [smtp] for an email contact point (Grafana engine only); the password from its file."""
    r = settings.alerts.receivers
    if settings.alerts.engine != "grafana" or "email" not in r.in_use():
        return {}
    smtp: dict[str, object] = {"enabled": True, "host": r.email.smarthost, "from_address": r.email.from_address,
                               "startTLS_policy": "MandatoryStartTLS" if r.email.require_tls else "OpportunisticStartTLS"}
    if r.email.auth_username:
        smtp.update(user=r.email.auth_username, password="$__file{" + secret_path(ALERT_EMAIL_PASSWORD) + "}")
    return {"smtp": smtp}


def receiver(kind: str, settings: Settings) -> dict:
    name = receiver_name(kind)
    if kind == "none":
        return {"name": name}  # a null receiver: alerts stay visible in the UI only
    if kind == "webhook":
        return {"name": name, "webhook_configs": [{"url_file": secret_path(ALERT_WEBHOOK_URL), "send_resolved": True}]}
    if kind == "slack":
        return {"name": name, "slack_configs": [{"api_url_file": secret_path(ALERT_WEBHOOK_URL), "send_resolved": True}]}
    if kind == "pagerduty":
        return {"name": name, "pagerduty_configs": [{"routing_key_file": secret_path(ALERT_PAGERDUTY_ROUTING_KEY),
                                                     "send_resolved": True}]}
    if kind == "email":
        email = settings.alerts.receivers.email
        out = {"to": email.to, "from": email.from_address, "smarthost": email.smarthost,
               "require_tls": email.require_tls, "send_resolved": True}
        if email.auth_username:
            out.update(auth_username=email.auth_username, auth_password_file=secret_path(ALERT_EMAIL_PASSWORD))
        return {"name": name, "email_configs": [out]}
    raise ValueError(f"alerts.receivers: unknown receiver kind {kind!r}")


def route_table(settings: Settings) -> list[tuple[dict[str, str], str]]:
    """(labels to match, receiver kind), first match wins: team overrides, then one per severity.
    The Grafana notification policies are built from the same table."""
    r = settings.alerts.receivers
    table = [({"team": t.team, "severity": sev}, getattr(t, sev)) for t in r.teams for sev in SEVERITIES
             if getattr(t, sev)]
    return table + [({"severity": sev}, r.for_(sev)) for sev in SEVERITIES]


def routes(settings: Settings) -> list[dict]:
    """Grouped by team and by what the alert is about; timing by severity."""
    out = []
    for labels, kind in route_table(settings):
        wait, repeat = SEVERITY_TIMING[labels["severity"]]
        out.append({"matchers": [f'{k}="{v}"' for k, v in labels.items()], "receiver": receiver_name(kind),
                    "group_wait": wait, "repeat_interval": repeat, "group_by": list(GROUP_BY)})
    return out


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
    r = settings.alerts.receivers
    kinds = sorted(r.in_use(), key=list(SECRET).index)
    return {
        "route": {
            "receiver": receiver_name(r.kind),
            "group_by": ["alertname", "severity"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes(settings),
        },
        "inhibit_rules": inhibit_rules(),
        "receivers": [receiver(kind, settings) for kind in kinds],
    }


def render(settings: Settings) -> dict[str, str]:
    return {"alertmanager/alertmanager.yml": to_yaml(config(settings))}
