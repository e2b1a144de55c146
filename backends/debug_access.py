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
LogQL (`expr`) included. The dashboard on that counter and those traces is dashboards/audit.py,
the alert naming any login outside debug.viewers alerts/audit.py: both on the typed path every
dashboard and alert takes (registry, lint, runbook, team, promtool tests), present only with the
store on."""
from __future__ import annotations

import shlex

from backends.common import GRAFANA_ADMIN_PASSWORD, ROOT, secret_path, to_json, to_yaml
from backends.grafana import HTTP_PORT
from collector_config import Listen, audit
from settings import Settings

ORG_NAME = "Debug samples"
ORG_ID = audit.DEBUG_ORG_ID   # the first organization created after Main Org. (id 1); the bootstrap checks it
DATASOURCE_UID = audit.DEBUG_DATASOURCE_UID
ORG_HEADER = "X-Scope-OrgID"
COLLECTOR = "collector"   # the gateway's name on both targets (the agent tier in two-tier mode)


DATASOURCE_FILE = "grafana/debug-org/datasource.json"
# Until the audit alert moved to alerts/audit.py it was a Grafana-managed rule of its own. Grafana keeps
# a file-provisioned rule after its file is gone (and refuses to delete it through the API), so a stack
# that had it would fire it alongside its successor: this file, at the old path, deletes it (Grafana's
# delete is idempotent: nothing happens where the rule never existed).
RETIRED_ALERT_FILE = "grafana/provisioning/alerting/debug-store-access.yaml"
RETIRED_ALERT_UID = "llm-debug-store-access"


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
    return {DATASOURCE_FILE: to_json(datasource(settings)),
            RETIRED_ALERT_FILE: to_yaml({"apiVersion": 1, "deleteRules": [{"orgId": 1, "uid": RETIRED_ALERT_UID}]})}
