"""alertmanager/alertmanager.yml: routes by severity and team to the receivers chosen in
settings. Credentials (webhook or Slack URL, PagerDuty routing key, SMTP password) are read
from mounted secret files, so the text never holds one."""
from __future__ import annotations

import re

from backends.common import (ALERT_EMAIL_PASSWORD, ALERT_PAGERDUTY_ROUTING_KEY, ALERT_WEBHOOK_URL, secret_path,
                             to_yaml)
from settings import Settings

SEVERITIES = ("critical", "warning", "info")
# Per severity: how soon a new alert goes out and how often an unresolved one repeats.
# Critical pages fast and repeats hourly; info waits and repeats daily.
SEVERITY_TIMING = {"critical": ("10s", "1h"), "warning": ("1m", "4h"), "info": ("5m", "24h"),
                   "watchdog": ("0s", "5m")}   # the heartbeat: at once, then every 5 minutes
WATCHDOG = "LlmWatchdog"   # alerts/selfmon.py
PROVIDER = "gen_ai_provider_name"
ENVIRONMENT = "deployment_environment_name"
GROUP_BY = ["team", "alertname", ENVIRONMENT, "service_name", PROVIDER, "gen_ai_request_model", "llmobs_tenant_bounded",
            "job"]
# Receiver kind -> the secret it reads (None: none).
SECRET = {"none": None, "webhook": ALERT_WEBHOOK_URL, "slack": ALERT_WEBHOOK_URL,
          "pagerduty": ALERT_PAGERDUTY_ROUTING_KEY, "email": ALERT_EMAIL_PASSWORD}


TEMPLATE_FILE = "alertmanager/llmobs.tmpl"   # next to alertmanager.yml: the config names it relatively
# Every notification: what fired and where, then per alert its summary, description, runbook,
# dashboard (with the alert's labels as dashboard variables) and every label.
TEMPLATES = """\
{{ define "llmobs.title" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] \
{{ .CommonLabels.alertname }}{{ with .CommonLabels.severity }} {{ . }}{{ end }}\
{{ with .CommonLabels.deployment_environment_name }} in {{ . }}{{ end }}\
{{ with .CommonLabels.team }} for {{ . }}{{ end }}{{ end }}

{{ define "llmobs.alert" }}{{ .Annotations.summary }}
{{ .Annotations.description }}
Runbook: {{ .Annotations.runbook_url }}
Dashboard: {{ .Annotations.dashboard_url }}
Labels: {{ range .Labels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}
{{ end }}

{{ define "llmobs.text" }}{{ if gt (len .Alerts.Firing) 0 }}Firing:
{{ range .Alerts.Firing }}{{ template "llmobs.alert" . }}
{{ end }}{{ end }}{{ if gt (len .Alerts.Resolved) 0 }}Resolved:
{{ range .Alerts.Resolved }}{{ template "llmobs.alert" . }}
{{ end }}{{ end }}{{ end }}

{{ define "llmobs.html" }}<pre>{{ template "llmobs.text" . }}</pre>{{ end }}

{{ define "llmobs.runbook" }}{{ (index .Alerts 0).Annotations.runbook_url }}{{ end }}
{{ define "llmobs.dashboard" }}{{ (index .Alerts 0).Annotations.dashboard_url }}{{ end }}
"""


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
    if kind == "webhook":   # the JSON payload carries every label and annotation: no template
        return {"name": name, "webhook_configs": [{"url_file": secret_path(ALERT_WEBHOOK_URL), "send_resolved": True}]}
    if kind == "slack":
        return {"name": name, "slack_configs": [{"api_url_file": secret_path(ALERT_WEBHOOK_URL), "send_resolved": True,
                                                 "title": '{{ template "llmobs.title" . }}',
                                                 "title_link": '{{ template "llmobs.dashboard" . }}',
                                                 "text": '{{ template "llmobs.text" . }}'}]}
    if kind == "pagerduty":
        return {"name": name, "pagerduty_configs": [{
            "routing_key_file": secret_path(ALERT_PAGERDUTY_ROUTING_KEY), "send_resolved": True,
            "description": '{{ template "llmobs.title" . }}',
            "details": {"firing": '{{ template "llmobs.text" . }}', "runbook": '{{ template "llmobs.runbook" . }}',
                        "dashboard": '{{ template "llmobs.dashboard" . }}'},
            "links": [{"href": '{{ template "llmobs.runbook" . }}', "text": "Runbook"},
                      {"href": '{{ template "llmobs.dashboard" . }}', "text": "Dashboard"}]}]}
    if kind == "email":
        email = settings.alerts.receivers.email
        out = {"to": email.to, "from": email.from_address, "smarthost": email.smarthost,
               "require_tls": email.require_tls, "send_resolved": True,
               "headers": {"Subject": '{{ template "llmobs.title" . }}'},
               "html": '{{ template "llmobs.html" . }}', "text": '{{ template "llmobs.text" . }}'}
        if email.auth_username:
            out.update(auth_username=email.auth_username, auth_password_file=secret_path(ALERT_EMAIL_PASSWORD))
        return {"name": name, "email_configs": [out]}
    raise ValueError(f"alerts.receivers: unknown receiver kind {kind!r}")


Matcher = tuple[str, str, str]   # (label, operator, value): Alertmanager and Grafana read the same


def route_table(settings: Settings) -> list[tuple[list[Matcher], str, str]]:
    """(matchers, receiver kind, severity whose timing applies), first match wins:
    0. the Watchdog to the dead man's switch, as a heartbeat (its own timing);
    1. an alert of an environment that does not page goes to the non-paging receiver (alerts
       without the label, such as the pipeline's, are not matched: `=~".+"`);
    2. per team and severity, the team's receiver (alerts.receivers.teams overrides);
    3. per severity, the severity's receiver (a team without overrides, or an unknown one).
    The Grafana notification policies are built from the same table."""
    a = settings.alerts
    r = a.receivers
    paging = "|".join(re.escape(env) for env in a.paging_environments)
    table: list[tuple[list[Matcher], str, str]] = [
        ([("alertname", "=", WATCHDOG)], r.dead_mans_switch, "watchdog"),
        ([(ENVIRONMENT, "=~", ".+"), (ENVIRONMENT, "!~", paging)], r.non_paging, "warning")]
    table += [([("team", "=", t.team), ("severity", "=", sev)], getattr(t, sev), sev)
              for t in r.teams for sev in SEVERITIES if getattr(t, sev)]
    return table + [([("severity", "=", sev)], r.for_(sev), sev) for sev in SEVERITIES]


def matcher_text(m: Matcher) -> str:
    return f'{m[0]}{m[1]}"{m[2]}"'


def routes(settings: Settings) -> list[dict]:
    """Grouped by team and by what the alert is about; timing by severity."""
    out = []
    for matchers, kind, severity in route_table(settings):
        wait, repeat = SEVERITY_TIMING[severity]
        out.append({"matchers": [matcher_text(m) for m in matchers], "receiver": receiver_name(kind),
                    "group_wait": wait, "repeat_interval": repeat, "group_by": list(GROUP_BY)})
    return out


def inhibit_rules() -> list[dict]:
    """What a root cause silences: its symptoms page nobody twice."""
    def names(*alerts: str) -> str:
        return f'alertname=~"{"|".join(alerts)}"'
    return [
        # A critical alert silences its own warning twin (an SLO's page silences its ticket) where both
        # are about the same thing (labels absent on both count as equal).
        {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'],
         "equal": ["alertname", ENVIRONMENT, "service_name", PROVIDER, "gen_ai_request_model"]},
        # A failing provider explains that provider's slowness and throttling.
        {"source_matchers": ['alertname="LlmProviderErrorRateHigh"'],
         "target_matchers": [names("LlmLatencyP95High", "LlmTimeToFirstTokenSlow", "LlmRateLimitedOrTimingOut")],
         "equal": [PROVIDER, ENVIRONMENT]},
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
        "templates": [TEMPLATE_FILE.rsplit("/", 1)[1]],   # relative to the config file's directory
    }


def render(settings: Settings) -> dict[str, str]:
    return {"alertmanager/alertmanager.yml": to_yaml(config(settings)), TEMPLATE_FILE: TEMPLATES}
