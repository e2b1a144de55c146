"""Restricted access to the debug sample store, and its access audit, in Grafana OSS.

OSS Grafana has no data-source permissions: any member of an organization can query every
data source of it. So the debug data source lives in an organization of its own, `Debug
samples`, whose members are added by hand (README: granting and revoking access); ordinary
viewers, members of the main organization only, never see it. Grafana cannot provision an
organization, and its startup provisioning fails on a data source of one that does not exist
yet; so a bootstrap step (after the server is up, as the admin) creates the organization
once and writes its data source through the API, from a file rendered here.

Audit: Grafana exports its own traces to the gateway (its `[tracing.opentelemetry.otlp]`
client), where collector_config/audit.py counts each call to a data source of the debug
organization by login (`llm_debug_store_accesses_total`) and keeps those whole traces, the
LogQL (`expr`) included. A dashboard panel and a Grafana alert on that counter name any login
outside debug.viewers; a traces panel lists the queries themselves."""
from __future__ import annotations

import shlex

from backends.common import GRAFANA_ADMIN_PASSWORD, ROOT, secret_path, to_json, to_yaml
from backends.grafana import HTTP_PORT, METRICS_UID, TRACES_UID
from collector_config import Listen, audit
from collector_config.ottl import escape_dollars as escape, re_escape   # Grafana expands $VAR as well
from settings import Settings

ORG_NAME = "Debug samples"
ORG_ID = audit.DEBUG_ORG_ID   # the first organization created after Main Org. (id 1); the bootstrap checks it
DATASOURCE_UID = audit.DEBUG_DATASOURCE_UID
ORG_HEADER = "X-Scope-OrgID"
AUDIT_FOLDER = "Audit"
AUDIT_DASHBOARD_UID = "llmobs-debug-audit"
AUDIT_DIR = f"{ROOT}/grafana/audit"
ALERT_NAME = "LlmDebugStoreAccessOutsideAllowlist"
ALERT_UID = "llm-debug-store-access"
COLLECTOR = "collector"   # the gateway's name on both targets (the agent tier in two-tier mode)
WINDOW_S = 600


DATASOURCE_FILE = "grafana/debug-org/datasource.json"


def datasource(settings: Settings) -> dict:
    """The only data source of the debug organization (API body): Loki, as the debug tenant."""
    return {
        "name": "Loki debug samples", "type": "loki", "uid": DATASOURCE_UID, "access": "proxy",
        "url": "http://loki:3100", "isDefault": True,
        "jsonData": {"httpHeaderName1": ORG_HEADER},
        # Grafana keeps header values only in secureJsonData (the tenant id is not a secret).
        "secureJsonData": {"httpHeaderValue1": settings.debug.loki_tenant},
    }


def ini_sections() -> dict[str, dict[str, object]]:
    """Grafana traces every request (sampler const 1) to the gateway's audit receiver, gRPC in
    plain text (Grafana's exporter has no TLS or headers; the receiver is reachable only from
    Grafana). Request logging stays on for operators who ship container logs."""
    return {"server": {"router_logging": True}, "dataproxy": {"send_user_header": True},
            "tracing.opentelemetry": {"sampler_type": "const", "sampler_param": 1},
            "tracing.opentelemetry.otlp": {"address": f"{COLLECTOR}:{Listen().audit_port}", "propagation": "w3c"}}


def _selector(settings: Settings) -> str:
    """The counter's series outside the allowlist (every login when the allowlist is empty)."""
    if not settings.debug.viewers:
        return ""
    allowed = "^(?:" + "|".join(re_escape(v) for v in settings.debug.viewers) + ")$"
    return "{" + audit.LOGIN + '!~"' + allowed.replace("\\", "\\\\") + '"}'


def accesses(settings: Settings) -> str:
    """PromQL: calls to the debug organization's data sources per login outside the allowlist,
    in the last 10 minutes. A login's first call starts its series at 1, which increase() does
    not count: the second term catches a series that is new in the window."""
    series = audit.PROM_METRIC + _selector(settings)
    window = f"{WINDOW_S // 60}m"
    return (f"(sum by ({audit.LOGIN}) (increase({series}[{window}])) > 0) or "
            f"sum by ({audit.LOGIN}) ({series} unless {series} offset {window})")


def all_accesses() -> str:
    return f"sum by ({audit.LOGIN}, {audit.ENDPOINT}) (increase({audit.PROM_METRIC}[$__range]))"


def traceql() -> str:
    """Tempo: each LogQL the debug organization ran, below the call that reached its data source."""
    return (f'{{resource.service.name="grafana" && span.{audit.MARK}=true}} >> '
            f'{{name="{audit.LOKI_QUERY_SPAN}"}} | select(span.expr)')


def _traces_target(settings: Settings) -> dict:
    ds = {"type": settings.traces.backend, "uid": TRACES_UID}
    if settings.traces.backend == "tempo":
        return {"refId": "A", "datasource": ds, "queryType": "traceql", "query": traceql(), "tableType": "spans",
                "limit": 100}
    return {"refId": "A", "datasource": ds, "queryType": "search", "service": "grafana",
            "tags": f"{audit.MARK}=true", "limit": 100}


def alert_rules(settings: Settings) -> dict:
    query = {"refId": "A", "datasourceUid": METRICS_UID, "relativeTimeRange": {"from": WINDOW_S, "to": 0},
             "model": {"refId": "A", "expr": accesses(settings), "instant": True, "range": False}}
    reduce = {"refId": "B", "datasourceUid": "__expr__", "relativeTimeRange": {"from": WINDOW_S, "to": 0},
              "model": {"refId": "B", "type": "reduce", "expression": "A", "reducer": "last"}}
    threshold = {"refId": "C", "datasourceUid": "__expr__", "relativeTimeRange": {"from": WINDOW_S, "to": 0},
                 "model": {"refId": "C", "type": "threshold", "expression": "B",
                           "conditions": [{"evaluator": {"type": "gt", "params": [0]}}]}}
    rule = {"uid": ALERT_UID, "title": ALERT_NAME, "condition": "C", "data": [query, reduce, threshold],
            "noDataState": "OK", "execErrState": "Error", "for": "0s",
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": "A login outside the allowlist queried the debug sample store.",
                "description": "{{ $labels." + audit.LOGIN + " }} called the debug organization's data sources "
                               "in the last 10 minutes; allowed: " + (", ".join(settings.debug.viewers) or "nobody")
                               + ".",
                "__dashboardUid__": AUDIT_DASHBOARD_UID, "__panelId__": "1"}}
    return {"apiVersion": 1, "groups": [{"orgId": 1, "name": "debug-store-access", "folder": AUDIT_FOLDER,
                                         "interval": "1m", "rules": [escape(rule)]}]}


def audit_dashboard(settings: Settings) -> dict:
    """Main organization: who queried the debug store, how often, and the queries themselves."""
    prom = {"type": "prometheus", "uid": METRICS_UID}
    traces = {"type": settings.traces.backend, "uid": TRACES_UID}
    return {"uid": AUDIT_DASHBOARD_UID, "title": "Debug sample store access", "tags": ["llmobs", "audit"],
            "schemaVersion": 39, "editable": False, "time": {"from": "now-7d", "to": "now"},
            "panels": [
                {"id": 1, "type": "timeseries", "title": "Logins outside the allowlist that queried the debug store",
                 "description": "Calls to the debug organization's data sources in the last 10 minutes, per login "
                                "outside debug.viewers (what the alert reads).",
                 "datasource": prom, "gridPos": {"h": 8, "w": 24, "x": 0, "y": 0},
                 "targets": [{"refId": "A", "datasource": prom, "expr": accesses(settings)}]},
                {"id": 2, "type": "table", "title": "Every call to the debug store, by login and endpoint",
                 "description": "From Grafana's own traces: queryData is a query, callResource a label or "
                                "series lookup, datasource reverse proxy the data proxy.",
                 "datasource": prom, "gridPos": {"h": 8, "w": 24, "x": 0, "y": 8},
                 "targets": [{"refId": "A", "datasource": prom, "expr": all_accesses(), "instant": True,
                              "format": "table"}]},
                {"id": 3, "type": "table", "title": "The queries (LogQL) the debug organization ran",
                 "description": "Grafana's traces of those calls, kept whole: open one for the login (span "
                                "PluginClient.*, attribute user), the time and the LogQL (attribute expr).",
                 "datasource": traces, "gridPos": {"h": 12, "w": 24, "x": 0, "y": 16},
                 "targets": [_traces_target(settings)]},
            ]}


def dashboard_provider() -> dict:
    return {"apiVersion": 1, "providers": [{
        "name": "llmobs-audit", "orgId": 1, "folder": AUDIT_FOLDER, "type": "file", "disableDeletion": True,
        "allowUiUpdates": False, "updateIntervalSeconds": 30, "options": {"path": AUDIT_DIR}}]}


def bootstrap(admin_user: str, api: str = f"http://127.0.0.1:{HTTP_PORT}", root: str = ROOT,
              password_file: str = secret_path(GRAFANA_ADMIN_PASSWORD)) -> str:
    """Shell, run in the Grafana container once the server answers: create the debug organization
    (once), check its id, then create or update its data source. The admin password goes to curl
    on stdin (`-K -`), never in argv. Bounded: 10 minutes for the server to answer."""
    auth = f"printf 'user = \"%s:%s\"\\n' {shlex.quote(admin_user)} \"$(cat {password_file})\""
    call = f"{auth} | curl -fsS -K - -H 'Content-Type: application/json'"
    in_org = f"{call} -H 'X-Grafana-Org-Id: {ORG_ID}'"
    body = shlex.quote('{"name": "' + ORG_NAME + '"}')
    ds = f"@{root}/{DATASOURCE_FILE}"
    return " && ".join([
        f"i=0; until curl -fsS {api}/api/health >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 300 ] || exit 1; sleep 2; done",
        f"id=$({call} {api}/api/orgs/name/{ORG_NAME.replace(' ', '%20')} 2>/dev/null | sed -n 's/.*\"id\": *\\([0-9][0-9]*\\).*/\\1/p')",
        f"if [ -z \"$id\" ]; then id=$({call} -X POST -d {body} {api}/api/orgs | sed -n 's/.*\"orgId\": *\\([0-9][0-9]*\\).*/\\1/p'); fi",
        f"if [ \"$id\" != {ORG_ID} ]; then echo \"grafana: organization '{ORG_NAME}' has id $id, expected {ORG_ID}\" >&2; exit 1; fi",
        f"if {in_org} {api}/api/datasources/uid/{DATASOURCE_UID} >/dev/null 2>&1; "
        f"then {in_org} -X PUT -d {ds} {api}/api/datasources/uid/{DATASOURCE_UID} >/dev/null; "
        f"else {in_org} -X POST -d {ds} {api}/api/datasources >/dev/null; fi",
        "echo 'grafana: debug organization ready'",
    ])


def render(settings: Settings) -> dict[str, str]:
    if not settings.debug.enabled:
        return {}
    return {
        DATASOURCE_FILE: to_json(datasource(settings)),
        "grafana/provisioning/dashboards/audit.yaml": to_yaml(dashboard_provider()),
        "grafana/provisioning/alerting/debug-store-access.yaml": to_yaml(alert_rules(settings)),
        "grafana/audit/debug-store-access.json": to_json(audit_dashboard(settings)),
    }
