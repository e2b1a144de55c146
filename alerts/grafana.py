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
from backends.common import ALERT_WEBHOOK_URL, secret_path, to_yaml
from collector_config.ottl import escape_dollars as escape   # Grafana expands $VAR the same way
from backends.grafana import METRICS_UID
from settings import Settings

FOLDER = "LLM alerts"
RECEIVER = "llmobs-default"
PROVISIONING_FILE = "grafana/provisioning/alerting/llm-alerts.yaml"
STATES = {"no_data": "OK", "exec_err": "Error"}   # no series = the PromQL condition is false


def uid(name: str) -> str:
    """Stable, short (Grafana allows 40 chars), derived from the alert name."""
    return "llm-" + hashlib.sha256(name.encode()).hexdigest()[:12]


def grafana_template(text: str) -> str:
    """Prometheus annotation template -> Grafana's: the query's value is `$values.A.Value`."""
    return text.replace("$value", "$values.A.Value")


def rule(alert: Alert, runbook_base: str, window_s: int = 600) -> AlertRulev9:
    return AlertRulev9(
        title=alert.name, uid=uid(alert.name), condition="C", evaluateFor=alert.for_,
        labels=alert.labels(),
        annotations={**{k: grafana_template(v) for k, v in alert.annotations(runbook_base).items()},
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


def _file_rule(data: dict, window_s: int = 600) -> dict:
    """grafanalib's ruler-API shape -> the file-provisioning shape."""
    inner = data["grafana_alert"]
    nodes = []
    for node in inner["data"]:
        node = dict(node)
        node["relativeTimeRange"] = {"from": window_s, "to": 0}
        nodes.append(node)
    return {"uid": data["uid"], "title": inner["title"], "condition": inner["condition"], "data": nodes,
            "noDataState": inner["no_data_state"], "execErrState": inner["exec_err_state"], "for": data["for"],
            "labels": data["labels"], "annotations": data["annotations"]}


def contact_point(settings: Settings) -> dict:
    kind = settings.alerts.receivers.kind
    # `$__file{...}` is Grafana's own expansion: the URL stays in the mounted secret file.
    url = "$__file{" + secret_path(ALERT_WEBHOOK_URL) + "}"
    receivers = {"none": [], "webhook": [{"uid": "llmobs-webhook", "type": "webhook", "settings": {"url": url}}],
                 "slack": [{"uid": "llmobs-slack", "type": "slack", "settings": {"url": url}}]}[kind]
    return {"orgId": 1, "name": RECEIVER, "receivers": receivers}


def provisioning(groups: list[Group], settings: Settings) -> dict:
    base = settings.alerts.runbook_base_url
    out_groups = []
    for g in groups:
        data = AlertGroup(name=g.name, folder=FOLDER, evaluateInterval=g.interval,
                          rules=[rule(a, base) for a in g.alerts]).to_json_data()
        out_groups.append({"orgId": 1, "name": data["name"], "folder": data["folder"], "interval": data["interval"],
                           "rules": [escape(_file_rule(r)) for r in data["rules"]]})
    doc = {"apiVersion": 1, "groups": out_groups,
           "policies": [{"orgId": 1, "receiver": RECEIVER, "group_by": ["alertname", "severity"],
                         "routes": [{"receiver": RECEIVER, "object_matchers": [["severity", "=", sev]],
                                     "group_wait": wait, "repeat_interval": repeat}
                                    for sev, (wait, repeat) in _timing().items()]}]}
    cp = contact_point(settings)
    if cp["receivers"]:
        doc["contactPoints"] = [cp]
    return doc


def _timing() -> dict:
    from backends.alertmanager import SEVERITY_TIMING
    return SEVERITY_TIMING


def render(groups: list[Group], settings: Settings) -> str:
    return to_yaml(provisioning(groups, settings))
