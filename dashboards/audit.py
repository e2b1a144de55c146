"""Debug sample store access, for security (debug.enabled): who queried the debug store, how often,
and the queries themselves.

The counter (`llm_debug_store_accesses_total{user, endpoint}`) and the traces come from Grafana's
own traces (collector_config/audit.py): one Grafana per stack, so they carry no environment or
service of an LLM application, and this dashboard has no environment filter. Its filter is the
login (`$login`), which the alert's dashboard link sets from the alert's `user` label."""
from __future__ import annotations

import attr

from collector_config.audit import LOKI_QUERY_SPAN, MARK
from dashboards.common import dashboard, traces_type
from dashboards.helpers import PROM, TRACES, Board, jaeger_tag_search, target, trace_target
from settings import Settings
from telemetry.catalog import DEBUG_STORE_ACCESSES

SLUG, UID, FOLDER = "audit", "llmobs-debug-audit", "audit"
METRIC = DEBUG_STORE_ACCESSES.prometheus
LOGIN, ENDPOINT = DEBUG_STORE_ACCESSES.labels
GRAFANA_SERVICE = "grafana"   # the service.name of Grafana's own traces
TABLE = "table"               # a Prometheus target's format for a table of instant values


def enabled(settings: Settings) -> bool:
    return settings.debug.enabled


def all_accesses() -> str:
    return f'sum by ({LOGIN}, {ENDPOINT}) (increase({METRIC}{{{LOGIN}=~"$login"}}[$__range]))'


def traceql() -> str:
    """Tempo: each LogQL the debug organization ran, below the call that reached its data source."""
    return (f'{{resource.service.name="{GRAFANA_SERVICE}" && span.{MARK}=true}} >> '
            f'{{name="{LOKI_QUERY_SPAN}"}} | select(span.expr)')


def _queries_target(settings: Settings) -> dict:
    if traces_type(settings) == "tempo":
        return trace_target(traceql(), "tempo", limit=100, table_type="spans")
    return jaeger_tag_search(GRAFANA_SERVICE, f"{MARK}=true", limit=100)


def build(settings: Settings):
    from alerts.audit import NAME, accesses   # alerts -> dashboards (links); imported late
    b = Board(SLUG)
    b.timeseries("outside_allowlist", "Logins outside the allowlist that queried the debug store",
                 f"Calls to the debug organization's data sources in the last 10 minutes, per login outside "
                 f"debug.viewers: what {NAME} reads (each line is a login it fires for, after 2m).", "short",
                 [target(accesses(settings, "$login"), f"{{{{{LOGIN}}}}}")], w=24)
    b.table("by_login", "Every call to the debug store, by login and endpoint",
            "Calls in the dashboard's time range, from Grafana's own traces: queryData is a query, callResource "
            "a label or series lookup, `datasource reverse proxy` the data proxy.", "short",
            [attr.evolve(target(all_accesses(), instant=True), format=TABLE)], PROM)
    b.table("queries", "The queries (LogQL) the debug organization ran",
            "Grafana's traces of those calls, kept whole (every login): open one for the login (span "
            "PluginClient.*, attribute user), the time and the LogQL (attribute expr).", "none",
            [_queries_target(settings)], TRACES, h=12)
    return dashboard(b, "Debug sample store access", UID, "Who queried the debug sample store, how often, and "
                     "the queries themselves (Grafana's own traces).", settings, "login", time_from="now-7d")
