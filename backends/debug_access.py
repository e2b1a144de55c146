"""Restricted access to the debug sample store, and its access audit, in Grafana OSS.

OSS Grafana has no data-source permissions: any member of an organization can query every
data source of it. So the debug data source lives in an organization of its own, `Debug
samples`, whose members are added by hand (README: granting and revoking access); ordinary
viewers, members of the main organization only, never see it. Grafana cannot provision an
organization, and its startup provisioning fails on a data source of one that does not exist
yet; so a bootstrap step (after the server is up, as the admin) creates the organization
once and writes its data source through the API, from a file rendered here.

Audit: Grafana logs every request it serves (router_logging) with the login (`uname`), the
organization (`orgId`), the path and the time; Loki logs each query it runs with the tenant
(`org_id`) and the LogQL. Those lines, shipped to the ordinary logs tenant, feed a dashboard
panel and an alert on any login outside debug.viewers that queried the debug organization."""
from __future__ import annotations

import shlex

from backends.common import GRAFANA_ADMIN_PASSWORD, ROOT, secret_path, to_json, to_yaml
from backends.grafana import HTTP_PORT, LOGS_UID
from collector_config.ottl import escape_dollars as escape, re_escape   # Grafana expands $VAR as well
from settings import Settings

ORG_NAME = "Debug samples"
ORG_ID = 2            # the first organization created after Main Org. (id 1); the bootstrap checks it
DATASOURCE_UID = "debug-logs"
ORG_HEADER = "X-Scope-OrgID"
AUDIT_FOLDER = "Audit"
AUDIT_DASHBOARD_UID = "llmobs-debug-audit"
AUDIT_DIR = f"{ROOT}/grafana/audit"
ALERT_NAME = "LlmDebugStoreAccessOutsideAllowlist"
ALERT_UID = "llm-debug-store-access"
# Where Grafana's own log lines land in the ordinary logs tenant (the label a log agent gives them).
GRAFANA_LOGS = '{service_name="grafana"}'
QUERY_PATH = "/api/ds/query"
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
    return {"server": {"router_logging": True}, "dataproxy": {"send_user_header": True}}


def accesses(settings: Settings) -> str:
    """LogQL: queries served to the debug organization, per login, outside the allowlist."""
    outside = (f' and uname!~"^(?:{"|".join(re_escape(v) for v in settings.debug.viewers)})$"'
               if settings.debug.viewers else "")
    return (f'sum by (uname) (count_over_time({GRAFANA_LOGS} | logfmt | orgId="{ORG_ID}" and '
            f'path="{QUERY_PATH}"{outside} [{WINDOW_S // 60}m]))')


def alert_rules(settings: Settings) -> dict:
    query = {"refId": "A", "datasourceUid": LOGS_UID, "relativeTimeRange": {"from": WINDOW_S, "to": 0},
             "model": {"refId": "A", "expr": accesses(settings), "queryType": "instant", "instant": True}}
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
                "description": "{{ $labels.uname }} ran {{ $values.B.Value }} queries in the debug organization "
                               "in the last 10 minutes; allowed: "
                               + (", ".join(settings.debug.viewers) or "nobody") + ".",
                "__dashboardUid__": AUDIT_DASHBOARD_UID, "__panelId__": "1"}}
    return {"apiVersion": 1, "groups": [{"orgId": 1, "name": "debug-store-access", "folder": AUDIT_FOLDER,
                                         "interval": "1m", "rules": [escape(rule)]}]}


def audit_dashboard(settings: Settings) -> dict:
    """Main organization: who queried the debug store, and the log lines themselves."""
    lines = f'{GRAFANA_LOGS} | logfmt | orgId="{ORG_ID}" and path="{QUERY_PATH}"'
    loki = {"type": "loki", "uid": LOGS_UID}
    return {"uid": AUDIT_DASHBOARD_UID, "title": "Debug sample store access", "tags": ["llmobs", "audit"],
            "schemaVersion": 39, "editable": False, "time": {"from": "now-7d", "to": "now"},
            "panels": [
                {"id": 1, "type": "timeseries", "title": "Queries outside the allowlist, by login",
                 "datasource": loki, "gridPos": {"h": 8, "w": 24, "x": 0, "y": 0},
                 "targets": [{"refId": "A", "datasource": loki, "expr": accesses(settings)}]},
                {"id": 2, "type": "logs", "title": "Every query served to the debug organization (who, when, status)",
                 "datasource": loki, "gridPos": {"h": 12, "w": 24, "x": 0, "y": 8},
                 "targets": [{"refId": "A", "datasource": loki, "expr": lines}]},
                {"id": 3, "type": "logs", "title": "LogQL the debug tenant ran (Loki's query log)",
                 "datasource": loki, "gridPos": {"h": 12, "w": 24, "x": 0, "y": 20},
                 "targets": [{"refId": "A", "datasource": loki,
                              "expr": '{service_name="loki"} |= "metrics.go" | logfmt | org_id="'
                                      + settings.debug.loki_tenant + '"'}]},
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
