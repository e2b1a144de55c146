"""Grafana alerting provisioning from the same definitions, through grafanalib's alerting
classes and one adapter for what grafanalib 0.7.1 gets wrong for file provisioning:

- `AlertRulev9.to_json_data()` nests title, condition, data and states under
  `grafana_alert` (the ruler-API shape); the file loader wants them on the rule
  ("rule has no title set" otherwise), with camelCase `noDataState`/`execErrState`;
- its no-data constant `'No Data'` is not a state Grafana accepts (`NoData`, `Alerting`, `OK`);
- expression nodes get `relativeTimeRange` 0/0; every node here gets the query's range;
- Grafana expands `$VAR` in every string of a provisioning file, so `$labels` is written `$$labels`.
"""
from __future__ import annotations

import hashlib

from grafanalib.core import (EXP_REDUCER_FUNC_LAST, EXP_TYPE_MATH, EXP_TYPE_REDUCE, AlertExpression, AlertGroup,
                             AlertRulev9, Target)

from alerts import links
from alerts.model import Alert, Group
from backends.alertmanager import SECRET as RECEIVER_KINDS, SEVERITY_TIMING, route_table
from backends.common import ALERT_PAGERDUTY_ROUTING_KEY, ALERT_WEBHOOK_URL, secret_path, to_yaml
from collector_config.ottl import escape_dollars as escape   # Grafana expands $VAR the same way
from backends.grafana import METRICS_UID
from settings import Settings

FOLDER = "LLM alerts"
PREFIX = "llmobs-"                 # contact point names and uids: llmobs-<receiver kind>
NEVER = "llmobs-never"              # the mute timing of `none` routes
PROVISIONING_FILE = "grafana/provisioning/alerting/llm-alerts.yaml"
STATES = {"no_data": "OK", "exec_err": "Error"}   # no series = the PromQL condition is false


def uid(name: str, severity: str) -> str:
    """Stable, short (Grafana allows 40 chars), derived from the alert name and severity (an SLO's
    page and ticket share a name)."""
    return "llm-" + hashlib.sha256(f"{name}/{severity}".encode()).hexdigest()[:12]


def grafana_template(text: str) -> str:
    """Prometheus annotation template -> Grafana's: the query's value is `$values.A.Value`."""
    return text.replace("$value", "$values.A.Value")


def rule(alert: Alert, runbook_base: str, grafana_url: str = "", window_s: int = 600) -> AlertRulev9:
    return AlertRulev9(
        title=alert.name, uid=uid(alert.name, alert.severity), condition="C", evaluateFor=alert.for_,
        labels=alert.labels(),
        annotations={**{k: grafana_template(v) for k, v in alert.annotations(runbook_base, grafana_url).items()},
                     # Grafana's own link from an alert to its panel
                     "__dashboardUid__": links.panel(alert.name)[0], "__panelId__": str(links.panel(alert.name)[1])},
        timeRangeFrom=window_s, timeRangeTo=0,
        noDataAlertState=STATES["no_data"], errorAlertState=STATES["exec_err"],
        triggers=[
            # The PromQL is the whole condition: it returns a series only where the alert holds.
            Target(expr=alert.expr, refId="A", datasource=METRICS_UID, instant=True),
            AlertExpression(refId="B", expression="A", expressionType=EXP_TYPE_REDUCE,
                            reduceFunction=EXP_REDUCER_FUNC_LAST),
            AlertExpression(refId="C", expression="$B == $B", expressionType=EXP_TYPE_MATH),
        ])


def _file_rule(data: dict, keep_firing_for: str, window_s: int = 600) -> dict:
    """grafanalib's ruler-API shape -> the file-provisioning shape."""
    inner = data["grafana_alert"]
    nodes = []
    for node in inner["data"]:
        node = dict(node)
        node["relativeTimeRange"] = {"from": window_s, "to": 0}
        nodes.append(node)
    return {"uid": data["uid"], "title": inner["title"], "condition": inner["condition"], "data": nodes,
            "noDataState": inner["no_data_state"], "execErrState": inner["exec_err_state"], "for": data["for"],
            "labels": data["labels"], "annotations": data["annotations"],
            # grafanalib 0.7.1 has no keep-firing field; the file loader's key is camelCase
            # (a snake_case key is dropped without an error).
            **({"keepFiringFor": keep_firing_for} if keep_firing_for else {})}


def _file(key: str) -> str:
    """Grafana's own `$__file{...}` expansion: the credential stays in the mounted secret file."""
    return "$__file{" + secret_path(key) + "}"


def contact_point(kind: str, settings: Settings) -> dict:
    if kind in ("webhook", "slack"):
        integration = {"url": _file(ALERT_WEBHOOK_URL)}
    elif kind == "pagerduty":
        integration = {"integrationKey": _file(ALERT_PAGERDUTY_ROUTING_KEY)}
    elif kind == "email":   # the SMTP server: grafana.ini [smtp] (alertmanager.grafana_smtp)
        integration = {"addresses": settings.alerts.receivers.email.to.replace(",", ";"), "singleEmail": True}
    else:
        raise ValueError(f"no Grafana contact point for receiver kind {kind!r}")
    return {"orgId": 1, "name": f"{PREFIX}{kind}",
            "receivers": [{"uid": f"{PREFIX}{kind}", "type": kind, "settings": integration}]}


def notification_policies(settings: Settings) -> tuple[list[dict], list[dict], list[dict]]:
    """(contact points, policies, mute timings) from the Alertmanager route table. Grafana has
    no null receiver: a `none` route goes to a real contact point, muted at all times."""
    r = settings.alerts.receivers
    kinds = [k for k in RECEIVER_KINDS if k in r.in_use() and k != "none"]
    if not kinds:
        return [], [], []   # nothing to notify: Grafana keeps its own policy, alerts show in the UI
    points = [contact_point(k, settings) for k in kinds]
    some = f"{PREFIX}{r.kind if r.kind != 'none' else kinds[0]}"
    muted = False

    def route(matchers: list, kind: str, timing: tuple[str, str] | None) -> dict:
        nonlocal muted
        out: dict = {"receiver": some if kind == "none" else f"{PREFIX}{kind}", "object_matchers": matchers}
        if timing:
            out.update(group_wait=timing[0], repeat_interval=timing[1])
        if kind == "none":
            out["mute_time_intervals"] = [NEVER]
            muted = True
        return out

    routes = [route([list(m) for m in matchers], kind, SEVERITY_TIMING[severity])
              for matchers, kind, severity in route_table(settings)]
    if r.kind == "none":
        routes.append(route([], "none", None))   # anything else (no severity label) notifies nobody
    policy = {"orgId": 1, "receiver": some, "group_by": ["alertname", "severity"], "routes": routes}
    mutes = [{"orgId": 1, "name": NEVER, "time_intervals": [{"times": [{"start_time": "00:00", "end_time": "24:00"}]}]}]
    return points, [policy], mutes if muted else []


def provisioning(groups: list[Group], settings: Settings) -> dict:
    base = settings.alerts.runbook_base_url
    out_groups = []
    for g in groups:
        data = AlertGroup(name=g.name, folder=FOLDER, evaluateInterval=g.interval,
                          rules=[rule(a, base, settings.alerts.grafana_url) for a in g.alerts]).to_json_data()
        out_groups.append({"orgId": 1, "name": data["name"], "folder": data["folder"], "interval": data["interval"],
                           "rules": [escape(_file_rule(r, a.keep_firing_for)) for r, a in zip(data["rules"], g.alerts)]})
    doc: dict = {"apiVersion": 1, "groups": out_groups}
    points, policies, mutes = notification_policies(settings)
    if points:
        doc.update(contactPoints=points, policies=policies)
    if mutes:
        doc["muteTimes"] = mutes
    return doc


def render(groups: list[Group], settings: Settings) -> str:
    return to_yaml(provisioning(groups, settings))
