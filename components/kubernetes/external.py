"""Kubernetes objects for external backends, as plain dicts: a pure function of Settings.

- Prometheus Operator (kube-prometheus-stack): the recording and alert rules as `PrometheusRule`
  objects (the same groups as the bundled Prometheus's rule files), the gateway's own metrics
  through a `ServiceMonitor` or `PodMonitor`, and the routes and receivers of alerts.receivers as an
  `AlertmanagerConfig` whose credentials are references into a Secret.
- The Grafana dashboard sidecar: each dashboard (the same JSON as bundled provisioning) a ConfigMap
  with the sidecar's label, its folder in an annotation.

No Pulumi in here; `manifests.stack_manifests` adds these groups, the shell places them.
"""
from __future__ import annotations

import re

import yaml

import alerts
import dashboards
from backends import alertmanager
from backends.rules import render as render_recording_rules
from collector_config import Listen
from collector_config.exporters import SAMPLER_SERVICE
from components.kubernetes.manifests import (COLLECTOR, CONFIGMAP_LIMIT, PART_OF, Manifest, SecretValue, meta)
from settings import Settings, SettingsError

MONITORING = "monitoring.coreos.com/v1"
ALERTMANAGER_CONFIG = "monitoring.coreos.com/v1alpha1"
RECORDING_RULES = "llm-recording-rules"
ALERT_RULES = "llm-alert-rules"
RECEIVER_SECRET = "alertmanager-receivers"
MONITOR = "llm-gateway"
# ServiceMonitor: the collector tiers' Services that list every pod's metrics port once (the
# `collector` Service has the same pods and would scrape each twice).
SCRAPED_LABEL = f"{PART_OF}/scrape"
NAME_LABEL = "app.kubernetes.io/name"
SCRAPE_INTERVAL = "15s"
DASHBOARD_PREFIX = "llm-dashboard-"


def _labels(settings: Settings, extra: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {**meta(settings, "x")["labels"], **dict(extra)}


def _load_groups(text: str) -> list[dict]:
    """A rendered rule file's groups, without unset fields (the CRD refuses a null interval)."""
    return [{k: v for k, v in g.items() if v is not None} for g in yaml.safe_load(text)["groups"]]


def rule_groups(settings: Settings) -> tuple[list[dict], list[dict]]:
    """(recording groups, alert groups) as the bundled Prometheus loads them; the alert groups are
    empty when Grafana evaluates the alerts. With an AlertmanagerConfig, each alert carries
    namespace=<namespace>: the operator's routes of that object only match alerts of its namespace."""
    recording = _load_groups(render_recording_rules(settings)["prometheus/rules/llm.rules.yml"])
    if settings.alerts.engine != "prometheus":
        return recording, []
    alert_groups = _load_groups(alerts.render(settings)[alerts.RULES_FILE])
    if settings.backends.alerting.kind == "alertmanager-config":
        for group in alert_groups:
            for rule in group["rules"]:
                rule["labels"] = {**rule.get("labels", {}), "namespace": settings.namespace}
    return recording, alert_groups


def check_unique_rules(groups: list[dict], where: str) -> None:
    """One rule group name once, and one alert name once per severity (an SLO's page and ticket share a name)."""
    seen_groups: set[str] = set()
    seen_alerts: set[tuple[str, str]] = set()
    for group in groups:
        if group["name"] in seen_groups:
            raise SettingsError(f"{where}: two rule groups named {group['name']!r}")
        seen_groups.add(group["name"])
        for rule in group["rules"]:
            if "alert" in rule:
                key = (rule["alert"], rule.get("labels", {}).get("severity", ""))
                if key in seen_alerts:
                    raise SettingsError(f"{where}: two alert rules {key[0]!r} of severity {key[1]!r}")
                seen_alerts.add(key)


def prometheus_rules(settings: Settings) -> list[Manifest]:
    recording, alert_groups = rule_groups(settings)
    labels = _labels(settings, settings.backends.metrics.selector_labels)
    out = []
    for name, groups in ((RECORDING_RULES, recording), (ALERT_RULES, alert_groups)):
        if not groups:
            continue
        check_unique_rules(groups, f"PrometheusRule {name}")
        body = {"apiVersion": MONITORING, "kind": "PrometheusRule",
                "metadata": {**meta(settings, name), "labels": labels}, "spec": {"groups": groups}}
        out.append(Manifest(f"{name}-prometheusrule", body))
    return out


def _job_from(source: str) -> list[dict]:
    """The job label as the bundled Prometheus names it (collector, otel-sampler)."""
    return [{"sourceLabels": [source], "targetLabel": "job", "action": "replace"}]


def monitor(settings: Settings) -> list[Manifest]:
    m = settings.backends.metrics
    labels = _labels(settings, m.selector_labels)
    tiers = [COLLECTOR] + ([SAMPLER_SERVICE] if settings.two_tier else [])
    select = {"matchLabels": {"app.kubernetes.io/instance": settings.namespace, "app.kubernetes.io/part-of": PART_OF},
              "matchExpressions": [{"key": NAME_LABEL, "operator": "In", "values": tiers}]}
    endpoint = {"port": "metrics", "interval": SCRAPE_INTERVAL, "path": "/metrics", "scheme": "http"}
    if m.monitor == "servicemonitor":
        select["matchLabels"][SCRAPED_LABEL] = "true"
        spec = {"selector": select, "namespaceSelector": {"matchNames": [settings.namespace]},
                "endpoints": [{**endpoint, "relabelings": _job_from("__meta_kubernetes_service_label_app_kubernetes_io_name")}]}
        kind = "ServiceMonitor"
    else:
        spec = {"selector": select, "namespaceSelector": {"matchNames": [settings.namespace]},
                "podMetricsEndpoints": [{**endpoint, "relabelings": _job_from("__meta_kubernetes_pod_label_app_kubernetes_io_name")}]}
        kind = "PodMonitor"
    body = {"apiVersion": MONITORING, "kind": kind, "metadata": {**meta(settings, MONITOR), "labels": labels},
            "spec": spec}
    return [Manifest(f"{MONITOR}-{kind.lower()}", body)]


def scraped_services(settings: Settings) -> set[str]:
    """Services the ServiceMonitor selects (labelled SCRAPED_LABEL): one per collector tier, each pod once."""
    from backends.prometheus import COLLECTOR_PODS
    if settings.backends.metrics.monitor != "servicemonitor":
        return set()
    return {COLLECTOR_PODS} | ({SAMPLER_SERVICE} if settings.two_tier else set())


# -- AlertmanagerConfig --------------------------------------------------------------

_ACTION = re.compile(r"\{\{-?\s*(\w+)?[^}]*?-?\}\}")
_OPENS = {"if", "range", "with", "define", "block"}
_CALL = re.compile(r'\{\{ template "([\w.]+)" \. \}\}')


def definitions(text: str = alertmanager.TEMPLATES) -> dict[str, str]:
    """{name: body} of each `{{ define }}` in a Go template text (nested blocks counted to their `end`)."""
    out: dict[str, str] = {}
    depth, name, body_start = 0, None, 0
    for action in _ACTION.finditer(text):
        word = action.group(1)
        if word in _OPENS:
            if depth == 0 and word == "define":
                name = re.search(r'"([^"]+)"', action.group(0)).group(1)   # type: ignore[union-attr]
                body_start = action.end()
            depth += 1
        elif word == "end":
            depth -= 1
            if depth == 0 and name:
                out[name] = text[body_start:action.start()]
                name = None
    return out


def inline(text: str) -> str:
    """A field that calls the project's templates ({{ template "llmobs.x" . }}), with each call replaced
    by the template's body: an AlertmanagerConfig cannot add template files to the Alertmanager, and
    every call passes `.` on, so the body in its place means the same."""
    defs = definitions()
    for _ in range(10):
        new = _CALL.sub(lambda m: defs[m.group(1)], text)
        if new == text:
            return text
        text = new
    raise ValueError(f"templates nest too deep: {text[:80]}")


def _ref(key: str) -> dict:
    return {"name": RECEIVER_SECRET, "key": key}


def receiver(kind: str, settings: Settings) -> dict:
    """backends.alertmanager.receiver in the AlertmanagerConfig's shape: credentials as Secret references."""
    plain = alertmanager.receiver(kind, settings)
    name = plain["name"]
    if kind == "none":
        return {"name": name}
    if kind == "webhook":
        return {"name": name, "webhookConfigs": [{"urlSecret": _ref(alertmanager.SECRET[kind]), "sendResolved": True}]}
    if kind == "slack":
        c = plain["slack_configs"][0]
        return {"name": name, "slackConfigs": [{"apiURL": _ref(alertmanager.SECRET[kind]), "sendResolved": True,
                                                "title": inline(c["title"]), "titleLink": inline(c["title_link"]),
                                                "text": inline(c["text"])}]}
    if kind == "pagerduty":
        c = plain["pagerduty_configs"][0]
        return {"name": name, "pagerdutyConfigs": [{
            "routingKey": _ref(alertmanager.SECRET[kind]), "sendResolved": True, "description": inline(c["description"]),
            "details": [{"key": k, "value": inline(v)} for k, v in c["details"].items()],
            "pagerDutyLinkConfigs": [{"href": inline(link["href"]), "alt": link["text"]} for link in c["links"]]}]}
    if kind == "email":
        c = plain["email_configs"][0]
        out = {"to": c["to"], "from": c["from"], "smarthost": c["smarthost"], "requireTLS": c["require_tls"],
               "sendResolved": True, "headers": [{"key": k, "value": inline(v)} for k, v in c["headers"].items()],
               "html": inline(c["html"]), "text": inline(c["text"])}
        if "auth_username" in c:
            out.update(authUsername=c["auth_username"], authPassword=_ref(alertmanager.SECRET[kind]))
        return {"name": name, "emailConfigs": [out]}
    raise ValueError(f"alerts.receivers: unknown receiver kind {kind!r}")


_MATCHER = re.compile(r'^(\w+)(=~|!~|!=|=)"(.*)"$')


def matcher(text: str) -> dict:
    name, op, value = _MATCHER.match(text).groups()   # type: ignore[union-attr]
    return {"name": name, "matchType": op, "value": value}


def alertmanager_config(settings: Settings) -> list[Manifest]:
    """The routes, inhibitions and receivers of the bundled alertmanager.yml, as one AlertmanagerConfig
    (the operator adds it under its Alertmanager's root route, matching namespace=<namespace>)."""
    plain = alertmanager.config(settings)
    root = plain["route"]
    route = {"receiver": root["receiver"], "groupBy": root["group_by"], "groupWait": root["group_wait"],
             "groupInterval": root["group_interval"], "repeatInterval": root["repeat_interval"],
             "routes": [{"receiver": r["receiver"], "matchers": [matcher(m) for m in r["matchers"]],
                         "groupWait": r["group_wait"], "repeatInterval": r["repeat_interval"],
                         "groupBy": r["group_by"]} for r in root["routes"]]}
    inhibit = [{"sourceMatch": [matcher(m) for m in rule["source_matchers"]],
                "targetMatch": [matcher(m) for m in rule["target_matchers"]],
                **({"equal": rule["equal"]} if "equal" in rule else {})} for rule in plain["inhibit_rules"]]
    kinds = sorted(settings.alerts.receivers.in_use(), key=list(alertmanager.SECRET).index)
    labels = _labels(settings, settings.backends.alerting.selector_labels or settings.backends.metrics.selector_labels)
    body = {"apiVersion": ALERTMANAGER_CONFIG, "kind": "AlertmanagerConfig",
            "metadata": {**meta(settings, "llmobs"), "labels": labels},
            "spec": {"route": route, "inhibitRules": inhibit, "receivers": [receiver(k, settings) for k in kinds]}}
    out = [Manifest("llmobs-alertmanagerconfig", body)]
    keys = [key for _, key in alertmanager.secret_files(settings)]
    if keys:
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": meta(settings, RECEIVER_SECRET), "type": "Opaque",
                  "stringData": {key: SecretValue(key) for key in keys}}
        out.insert(0, Manifest(f"{RECEIVER_SECRET}-secret", secret))
    return out


def operator_manifests(settings: Settings) -> list[Manifest]:
    m, a = settings.backends.metrics, settings.backends.alerting
    out: list[Manifest] = []
    if m.external and m.rules == "prometheus-operator":
        out += prometheus_rules(settings)
    if m.external and m.monitor != "none":
        out += monitor(settings)
    if a.external and a.kind == "alertmanager-config":
        out += alertmanager_config(settings)
    return out


# -- Grafana dashboard sidecar -------------------------------------------------------

def check_unique_dashboards(entries: list[tuple[str, str, str]]) -> None:
    """(folder, uid, title) of each dashboard: a uid once (Grafana's uids are per organization), a
    title once per folder."""
    uids: dict[str, str] = {}
    titles: set[tuple[str, str]] = set()
    for folder, uid, title in entries:
        if uid in uids:
            raise SettingsError(f"dashboards: uid {uid!r} is used twice (folders {uids[uid]!r} and {folder!r})")
        uids[uid] = folder
        if (folder, title) in titles:
            raise SettingsError(f"dashboards: two dashboards titled {title!r} in the folder {folder!r}")
        titles.add((folder, title))


def dashboard_documents(settings: Settings) -> list[tuple[str, str, str]]:
    """(folder title, slug, JSON text) of every dashboard: the text bundled provisioning mounts."""
    docs = [(dashboards.FOLDERS[e.folder], e.slug, dashboards.render_json(e, settings)) for e in dashboards.entries(settings)]
    check_unique_dashboards([(f, *_uid_title(text)) for f, _, text in docs])
    return docs


def _uid_title(text: str) -> tuple[str, str]:
    import json
    data = json.loads(text)
    return data["uid"], data["title"]


def sidecar_dashboards(settings: Settings) -> list[Manifest]:
    d = settings.backends.dashboards
    out = []
    for folder, slug, text in dashboard_documents(settings):
        name = f"{DASHBOARD_PREFIX}{slug}"
        if len(text.encode()) > CONFIGMAP_LIMIT:
            raise ValueError(f"{name}: over the 1 MiB ConfigMap limit")
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {**meta(settings, name), "labels": _labels(settings, d.sidecar_labels),
                             "annotations": {d.folder_annotation: folder}},
                "data": {f"{slug}.json": text}}
        out.append(Manifest(f"{name}-configmap", body))
    return out


def dashboard_manifests(settings: Settings) -> list[Manifest]:
    d = settings.backends.dashboards
    return sidecar_dashboards(settings) if d.external and d.kind == "sidecar" else []


def scrape_port() -> int:
    return Listen().telemetry_port
