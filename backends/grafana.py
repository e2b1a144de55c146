"""Grafana: datasource and dashboard provisioning, and grafana.ini.

Datasource uids are fixed so the signals link to each other:
metrics (exemplars) -> traces -> logs (by trace id) -> traces (derived fields).
The admin password and the secret key are never here: they come from mounted secret
files (GF_SECURITY_ADMIN_PASSWORD__FILE, GF_SECURITY_SECRET_KEY__FILE).

Grafana applies the admin password only when it creates its database. `password_sync`
is the step that makes a changed password take effect: before the server starts, if the
database exists, `grafana cli admin reset-admin-password` reads the mounted file on
stdin (never argv, which any process can read). Kubernetes runs it as an init
container, Docker before exec'ing the image's entrypoint.
"""
from __future__ import annotations

import shlex

from backends import alertmanager
from backends.common import GRAFANA_ADMIN_PASSWORD, ROOT, secret_path, to_yaml
from settings import Settings

METRICS_UID = "prometheus"
TRACES_UID = "traces"
LOGS_UID = "logs"
ALERTMANAGER_UID = "alertmanager"
DATA_DIR = "/var/lib/grafana"
PROVISIONING_DIR = f"{ROOT}/grafana/provisioning"
DASHBOARDS_DIR = f"{ROOT}/grafana/dashboards"
HTTP_PORT = 3000
HOME = "/usr/share/grafana"          # the image's homepath
CONFIG = f"{ROOT}/grafana/grafana.ini"
DATABASE = f"{DATA_DIR}/grafana.db"
ENTRYPOINT = "/run.sh"               # the image's own entrypoint
# Grafana expands $VAR in provisioning files; $$ is a literal dollar.
TRACE_LINK = "$${__value.raw}"
EXEMPLAR_TRACE_LABEL = "trace_id"   # the label remote write gives an exemplar's trace id
LOKI_TRACE_FIELD = "trace_id"       # the structured metadata Loki's OTLP ingestion sets
TRACE_LOGS_QUERY = f'{{service_name=~".+"}} | {LOKI_TRACE_FIELD}="$${{__trace.traceId}}"'


def _datasource(name: str, type_: str, uid: str, url: str, json_data: dict, default: bool = False) -> dict:
    return {"name": name, "type": type_, "uid": uid, "access": "proxy", "url": url,
            "isDefault": default, "editable": False, "jsonData": json_data}


def metrics_datasource() -> dict:
    return _datasource("Prometheus", "prometheus", METRICS_UID, "http://prometheus:9090", {
        "httpMethod": "POST",
        "exemplarTraceIdDestinations": [{"name": EXEMPLAR_TRACE_LABEL, "datasourceUid": TRACES_UID}],
    }, default=True)


def traces_datasource(settings: Settings) -> dict:
    links = {
        # OTLP logs keep the trace id as structured metadata, not in the line, so the default
        # `|= "<trace id>"` line filter (filterByTraceID alone) finds nothing: a custom query.
        "tracesToLogsV2": {"datasourceUid": LOGS_UID, "filterByTraceID": True,
                           "spanStartTimeShift": "-5m", "spanEndTimeShift": "5m",
                           "customQuery": True, "query": TRACE_LOGS_QUERY},
        "tracesToMetrics": {"datasourceUid": METRICS_UID},
    }
    if settings.traces.backend == "tempo":
        return _datasource("Tempo", "tempo", TRACES_UID, "http://tempo:3200", {
            **links, "nodeGraph": {"enabled": True}, "lokiSearch": {"datasourceUid": LOGS_UID}})
    return _datasource("Jaeger", "jaeger", TRACES_UID, "http://jaeger:16686", links)


def logs_datasource(tenant: str | None = None) -> dict:
    """`tenant`: Loki runs multi-tenant (the debug store is on) and this is the ordinary tenant."""
    out = _logs_datasource()
    if tenant:
        out["jsonData"]["httpHeaderName1"] = "X-Scope-OrgID"
        out["secureJsonData"] = {"httpHeaderValue1": tenant}
    return out


def _logs_datasource() -> dict:
    return _datasource("Loki", "loki", LOGS_UID, "http://loki:3100", {"derivedFields": [
        # OTLP logs: the trace id is structured metadata `trace_id`.
        {"name": "trace_id", "matcherType": "label", "matcherRegex": LOKI_TRACE_FIELD,
         "datasourceUid": TRACES_UID, "url": TRACE_LINK},
        # Plain log lines that print trace_id=... or "traceid": "...".
        {"name": "TraceID", "matcherType": "regex", "matcherRegex": r"""[Tt]race_?[Ii][Dd]["'=: ]+(\w+)""",
         "datasourceUid": TRACES_UID, "url": TRACE_LINK},
    ]})


def alertmanager_datasource() -> dict:
    return _datasource("Alertmanager", "alertmanager", ALERTMANAGER_UID, "http://alertmanager:9093",
                       {"implementation": "prometheus", "handleGrafanaManagedAlerts": False})


def query_url(settings: Settings, signal: str, bundled: str) -> str:
    """Where Grafana reads a signal: the bundled service, or the external backend's query_url."""
    backend = getattr(settings.backends, signal)
    return backend.query_url if backend.external else bundled


def datasources(settings: Settings) -> dict:
    out = [metrics_datasource(), traces_datasource(settings),
           logs_datasource("fake" if settings.debug.enabled else None)]   # = backends.loki.NORMAL_TENANT
    for ds, signal in zip(out, ("metrics", "traces", "logs")):
        ds["url"] = query_url(settings, signal, ds["url"])
    if settings.backends.bundled("alerting"):
        out.append(alertmanager_datasource())
    return {"apiVersion": 1, "datasources": out}


def dashboard_providers(settings: Settings) -> dict:
    """One provider per audience folder that holds a dashboard (the audit folder only with the debug
    store); dashboards.path() puts each dashboard in its folder's directory."""
    from dashboards import folders   # late: dashboards imports settings, backends does not need it at import
    return {"apiVersion": 1, "providers": [{
        "name": f"llmobs-{slug}", "orgId": 1, "folder": title, "type": "file",
        "disableDeletion": True, "allowUiUpdates": False, "updateIntervalSeconds": 30,
        "options": {"path": f"{DASHBOARDS_DIR}/{slug}", "foldersFromFilesStructure": False},
    } for slug, title in folders(settings).items()]}


def ini_sections(settings: Settings) -> dict[str, dict[str, object]]:
    return {
        "paths": {"data": DATA_DIR, "provisioning": PROVISIONING_DIR},
        "server": {"http_port": HTTP_PORT},
        "log": {"mode": "console"},
        "security": {
            "admin_user": settings.grafana.admin_user,
            "disable_gravatar": True,
            # Docker-local is plain http on 127.0.0.1; the cluster is served over TLS.
            "cookie_secure": settings.target == "kubernetes",
            "cookie_samesite": "lax",
            "content_security_policy": True,
            "allow_embedding": False,
        },
        "users": {"allow_sign_up": False, "allow_org_create": False},
        "auth.anonymous": {"enabled": False},
        "snapshots": {"external_enabled": False},
        "analytics": {"reporting_enabled": False, "check_for_updates": False,
                      "check_for_plugin_updates": False, "feedback_links_enabled": False},
        "news": {"news_feed_enabled": False},
        **alertmanager.grafana_smtp(settings),   # the email contact point's server (Grafana engine)
    }


def ini_text(sections: dict[str, dict[str, object]]) -> str:
    lines = ["; Generated by llm-observability-stack from the stack settings. Do not edit."]
    for name, values in sections.items():
        lines += ["", f"[{name}]"]
        lines += [f"{key} = {str(v).lower() if isinstance(v, bool) else v}" for key, v in values.items()]
    return "\n".join(lines) + "\n"


def password_sync() -> str:
    """Shell: set the admin password from its secret file, on an existing database only
    (a new one gets it from GF_SECURITY_ADMIN_PASSWORD__FILE when the server creates it)."""
    reset = shlex.join(["grafana", "cli", "--homepath", HOME, "--config", CONFIG,
                        "admin", "reset-admin-password", "--password-from-stdin"])
    return (f"if [ -f {DATABASE} ]; then {reset} < {secret_path(GRAFANA_ADMIN_PASSWORD)} >/dev/null; "
            "else echo 'grafana: new database, the server sets the admin password'; fi")


def _with_debug_access(settings: Settings, sections: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    if not settings.debug.enabled:
        return sections
    from backends import debug_access   # late: it imports this module
    out = {name: dict(values) for name, values in sections.items()}
    for name, values in debug_access.ini_sections().items():
        out.setdefault(name, {}).update(values)
    return out


def render(settings: Settings) -> dict[str, str]:
    return {
        "grafana/grafana.ini": ini_text(_with_debug_access(settings, ini_sections(settings))),
        "grafana/provisioning/datasources/datasources.yaml": to_yaml(datasources(settings)),
        "grafana/provisioning/dashboards/dashboards.yaml": to_yaml(dashboard_providers(settings)),
    }
