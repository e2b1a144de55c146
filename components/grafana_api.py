"""An existing Grafana (self-hosted or Grafana Cloud) through its API: backends.dashboards kind
grafana-api, with the Grafana Pulumi provider (pulumiverse-grafana) authenticated by the
service-account token in the secret llmobs:grafana_token.

The pure part (`payload`) says what goes there, from the same renderers as bundled provisioning:
one folder per audience, each dashboard's JSON text exactly as bundled provisioning mounts it,
a data source per external signal whose uid the settings do not give (configured as the bundled
one, at the backend's query_url), and with backends.alerting kind grafana the Grafana-managed
alert rule groups of the bundled Grafana engine, reading the metrics data source by its uid.
`GrafanaApi` places it: one resource per item, all through one provider.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumiverse_grafana as grafana

import alerts
import dashboards
from alerts import grafana as grafana_alerts
from backends import grafana as bundled
from settings import Settings, SettingsError

FOLDER_UID_PREFIX = "llmobs-"
ALERT_FOLDER_UID = "llmobs-alerts"
CREATED_UID = {"metrics": "llmobs-metrics", "traces": "llmobs-traces", "logs": "llmobs-logs"}


@dataclass(frozen=True)
class Payload:
    folders: tuple[tuple[str, str], ...]                 # (uid, title)
    dashboards: tuple[tuple[str, str, str], ...]         # (folder uid, slug, JSON text)
    datasources: tuple[dict, ...]                        # created: provisioning-shaped, url = query_url
    uids: dict                                           # signal -> the data source uid dashboards and rules read
    rule_groups: tuple[dict, ...]                        # Grafana-managed, ruler-API strings (no $$)
    # alerting kind grafana: the bundled Grafana engine's contact points (kinds), policy tree and mute timings
    contact_points: tuple[str, ...] = ()
    policy: dict | None = None
    mute_timings: tuple[str, ...] = ()


def secret_keys(settings: Settings) -> set[str]:
    """The secrets GrafanaApi reads: the token, and the credentials of the contact points in use."""
    from backends.alertmanager import secret_files
    keys = {"grafana_token"}
    if settings.backends.alerting.kind == "grafana":
        keys |= {key for _, key in secret_files(settings)}
    return keys


def folder_uid(slug: str) -> str:
    return f"{FOLDER_UID_PREFIX}{slug}"


def datasource_uids(settings: Settings) -> dict[str, str]:
    given = settings.backends.dashboards.datasources
    return {signal: getattr(given, signal) or CREATED_UID[signal] for signal in CREATED_UID}


def created_datasources(settings: Settings) -> list[dict]:
    """The bundled data sources (same type and links) for each signal without a given uid, at its
    query_url, with the uids the links between them then use."""
    uids = datasource_uids(settings)
    given = settings.backends.dashboards.datasources
    by_signal = {"metrics": bundled.metrics_datasource(), "traces": bundled.traces_datasource(settings),
                 "logs": bundled.logs_datasource()}
    out = []
    for signal, ds in by_signal.items():
        if getattr(given, signal):
            continue
        text = json.dumps(ds)
        for other, uid in (("metrics", bundled.METRICS_UID), ("traces", bundled.TRACES_UID), ("logs", bundled.LOGS_UID)):
            text = text.replace(f'"datasourceUid": "{uid}"', f'"datasourceUid": "{uids[other]}"')
        ds = json.loads(text)
        ds.update(uid=uids[signal], url=getattr(settings.backends, signal).query_url, name=f"LLM {ds['name']}")
        out.append(_unescape(ds))
    return out


def _unescape(value):
    """Provisioning files expand $VAR, so the renderers write $$; the API takes the text as is."""
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, dict):
        return {k: _unescape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescape(v) for v in value]
    return value


def rule_groups(settings: Settings, metrics_uid: str) -> list[dict]:
    """The bundled Grafana engine's rule groups (alerts/grafana.py), for the API: unescaped, the
    metrics data source by the uid it has in that Grafana, titles unique in their folder."""
    doc = grafana_alerts.provisioning(alerts.groups(settings), settings)
    out = []
    for group in doc["groups"]:
        rules = []
        for rule in _unescape(group["rules"]):
            for node in rule["data"]:
                if node["datasourceUid"] == bundled.METRICS_UID:
                    node["datasourceUid"] = metrics_uid
                    node["model"]["datasource"] = metrics_uid
            rules.append(rule)
        out.append({**group, "rules": rules})
    check_unique_rules(grafana_alerts.FOLDER, [r for g in out for r in g["rules"]])
    return out


def check_unique_rules(folder: str, rules: list[dict]) -> None:
    """In one folder: a rule uid once, and a title once per severity (an SLO's page and ticket share a
    title, as their alertname)."""
    uids: set[str] = set()
    titles: set[tuple[str, str]] = set()
    for rule in rules:
        title = (rule["title"], rule["labels"].get("severity", ""))
        if rule["uid"] in uids:
            raise SettingsError(f"alert rules in {folder!r}: uid {rule['uid']!r} is used twice")
        if title in titles:
            raise SettingsError(f"alert rules in {folder!r}: two rules titled {title[0]!r} of severity {title[1]!r}")
        uids.add(rule["uid"])
        titles.add(title)


def payload(settings: Settings) -> Payload:
    from components.kubernetes.external import dashboard_documents
    folders = tuple((folder_uid(slug), title) for slug, title in dashboards.FOLDERS.items())
    by_title = {title: uid for uid, title in folders}
    docs = tuple((by_title[folder], slug, text) for folder, slug, text in dashboard_documents(settings))
    uids = datasource_uids(settings)
    groups: tuple[dict, ...] = ()
    points: tuple[str, ...] = ()
    policy, mutes = None, ()
    if settings.backends.alerting.kind == "grafana":
        groups = tuple(rule_groups(settings, uids["metrics"]))
        folders += ((ALERT_FOLDER_UID, grafana_alerts.FOLDER),)
        contact, policies, mute_list = grafana_alerts.notification_policies(settings)
        points = tuple(c["receivers"][0]["type"] for c in contact)
        policy = policies[0] if policies else None
        mutes = tuple(m["name"] for m in mute_list)
    return Payload(folders, docs, tuple(created_datasources(settings)), uids, groups, points, policy, mutes)


def _seconds(duration: str) -> int:
    return int(duration[:-1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[duration[-1]]


class GrafanaApi(pulumi.ComponentResource):
    """Folders, data sources, dashboards and Grafana-managed rule groups in an existing Grafana."""
    provider: grafana.Provider
    folders: dict[str, grafana.oss.Folder]
    dashboards: dict[str, grafana.oss.Dashboard]
    datasources: dict[str, grafana.oss.DataSource]
    rule_groups: dict[str, grafana.alerting.RuleGroup]

    contact_points: dict[str, grafana.alerting.ContactPoint]
    notification_policy: grafana.alerting.NotificationPolicy | None = None

    def __init__(self, name: str, settings: Settings, token: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None,
                 secrets: dict[str, pulumi.Input[str]] | None = None) -> None:
        data = payload(settings)   # fails (duplicates) before anything is registered
        super().__init__("llmobs:index:GrafanaApi", name, None, opts)
        self.provider = grafana.Provider(f"{name}-provider", url=settings.backends.dashboards.url,
                                         auth=pulumi.Output.secret(token), opts=pulumi.ResourceOptions(parent=self))
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self.folders = {uid: grafana.oss.Folder(f"{name}-folder-{uid}", uid=uid, title=title, opts=child)
                        for uid, title in data.folders}
        self.datasources = {}
        for ds in data.datasources:
            self.datasources[ds["uid"]] = grafana.oss.DataSource(
                f"{name}-datasource-{ds['uid']}", uid=ds["uid"], name=ds["name"], type=ds["type"], url=ds["url"],
                access_mode=ds["access"], is_default=False, json_data_encoded=json.dumps(ds["jsonData"], sort_keys=True),
                opts=child)
        self.dashboards = {}
        for folder, slug, text in data.dashboards:
            self.dashboards[slug] = grafana.oss.Dashboard(
                f"{name}-dashboard-{slug}", config_json=text, folder=self.folders[folder].uid, overwrite=True,
                opts=child)
        self.rule_groups = {}
        for group in data.rule_groups:
            self.rule_groups[group["name"]] = grafana.alerting.RuleGroup(
                f"{name}-rules-{group['name']}", name=group["name"], folder_uid=self.folders[ALERT_FOLDER_UID].uid,
                interval_seconds=_seconds(group["interval"]), rules=[_rule(r) for r in group["rules"]],
                opts=pulumi.ResourceOptions(parent=self, provider=self.provider,
                                            depends_on=list(self.datasources.values())))
        self.contact_points = {kind: grafana.alerting.ContactPoint(
            f"{name}-contact-point-{kind}", name=f"{grafana_alerts.PREFIX}{kind}",
            **_integration(kind, settings, secrets or {}), opts=child) for kind in data.contact_points}
        mutes = [grafana.alerting.MuteTiming(
            f"{name}-mute-timing-{m}", name=m, intervals=[grafana.alerting.MuteTimingIntervalArgs(
                times=[grafana.alerting.MuteTimingIntervalTimeArgs(start="00:00", end="24:00")])], opts=child)
            for m in data.mute_timings]
        if data.policy is not None:
            # The organization's one policy tree: the bundled Grafana engine's routes (docs/external-backends.md).
            p = data.policy
            self.notification_policy = grafana.alerting.NotificationPolicy(
                f"{name}-notification-policy", contact_point=p["receiver"], group_bies=p["group_by"],
                policies=[_route(r) for r in p["routes"]],
                opts=pulumi.ResourceOptions(parent=self, provider=self.provider,
                                            depends_on=[*self.contact_points.values(), *mutes]))
        self.register_outputs({"folders": len(self.folders), "dashboards": len(self.dashboards)})


def _integration(kind: str, settings: Settings, secrets: dict) -> dict:
    """A contact point's integration; its credential the Pulumi secret (alerts.receivers)."""
    from backends.alertmanager import SECRET

    def secret() -> pulumi.Output[str]:
        key = SECRET[kind]
        if secrets.get(key) is None:
            raise SettingsError(f"llmobs:{key}: the {kind} contact point needs this secret")
        return pulumi.Output.secret(secrets[key])
    if kind == "webhook":
        return {"webhooks": [grafana.alerting.ContactPointWebhookArgs(url=secret())]}
    if kind == "slack":
        return {"slacks": [grafana.alerting.ContactPointSlackArgs(url=secret())]}
    if kind == "pagerduty":
        return {"pagerduties": [grafana.alerting.ContactPointPagerdutyArgs(integration_key=secret())]}
    if kind == "email":   # the SMTP server is that Grafana's own
        return {"emails": [grafana.alerting.ContactPointEmailArgs(
            addresses=[a.strip() for a in settings.alerts.receivers.email.to.split(",")], single_email=True)]}
    raise ValueError(f"no Grafana contact point for receiver kind {kind!r}")


def _route(route: dict) -> grafana.alerting.NotificationPolicyPolicyArgs:
    return grafana.alerting.NotificationPolicyPolicyArgs(
        contact_point=route["receiver"],
        matchers=[grafana.alerting.NotificationPolicyPolicyMatcherArgs(label=m[0], match=m[1], value=m[2])
                  for m in route["object_matchers"]],
        group_wait=route.get("group_wait"), repeat_interval=route.get("repeat_interval"),
        mute_timings=route.get("mute_time_intervals"))


def _rule(rule: dict) -> grafana.alerting.RuleGroupRuleArgs:
    return grafana.alerting.RuleGroupRuleArgs(
        uid=rule["uid"], name=rule["title"], condition=rule["condition"], for_=rule["for"],
        no_data_state=rule["noDataState"], exec_err_state=rule["execErrState"], labels=rule["labels"],
        annotations=rule["annotations"], keep_firing_for=rule.get("keepFiringFor"),
        datas=[grafana.alerting.RuleGroupRuleDataArgs(
            ref_id=node["refId"], datasource_uid=node["datasourceUid"], query_type=node.get("queryType") or None,
            model=json.dumps(node["model"], sort_keys=True),
            relative_time_range=grafana.alerting.RuleGroupRuleDataRelativeTimeRangeArgs(
                from_=node["relativeTimeRange"]["from"], to=node["relativeTimeRange"]["to"]))
            for node in rule["data"]])
