"""The debug store's access audit, from Grafana's own traces (debug.enabled).

What Grafana emits, read in grafana/grafana's source (the file versions named in docs/gateway.md,
"Debug sample store"):
- every data source call goes through the plugin client's tracing middleware
  (pkg/services/pluginsintegration/clientmiddleware/tracing_middleware.go, traceWrap): a span
  `PluginClient.<endpoint>` (queryData, callResource, runStream, ...) with `plugin_id`, `org_id`
  (int), `datasource_uid`, `datasource_name` and `user`, the login;
- the data proxy (pkg/api/pluginproxy/ds_proxy.go): `datasource reverse proxy`, with
  `datasource_name`, `datasource_type`, `user` and `org_id`;
- the Loki data source (pkg/tsdb/loki/loki.go, executeQuery), below the plugin client span:
  `datasource.loki.queryData.runQueries.runQuery` with the LogQL in `expr`.
Grafana's OTLP exporter is gRPC without TLS and sends no headers (pkg/infra/tracing), so it cannot
present the ingest token: it has a receiver of its own, which only Grafana reaches (Kubernetes:
NetworkPolicy; Docker: the port is not published).

Grafana's spans never enter the LLM pipelines: their own pipeline keeps a fixed list of audit
attributes (the rest of a span, URLs and addresses, goes), runs every secret detector over the
LogQL and status text (a secret typed into a query is not stored), but not over the login (an
e-mail login would be redacted and the audit lost); then it counts accesses to the debug
organization by login with a connector of its own, and its own tail sampler keeps the whole
traces that touched it, and drops the rest of Grafana's traces.
"""
from __future__ import annotations

from collector_config import exporters
from collector_config.ottl import attr, lit
from collector_config.redact import detectors
from settings import Settings
from telemetry.catalog import DEBUG_STORE_ACCESSES as METRIC

DEBUG_ORG_ID = 2                  # the debug organization (backends/debug_access.py creates it)
DEBUG_DATASOURCE_UID = "debug-logs"
RECEIVER = "otlp/grafana"
CONNECTOR = "llmmetrics/debug_access"
MARK = "llmobs.debug.access"       # set on the span that reached a data source of the debug org
LOGIN, ENDPOINT = METRIC.labels   # Grafana's own key for the login; the span name (PluginClient.queryData, ...)
PROM_METRIC = METRIC.prometheus
PLUGIN_SPAN = "^PluginClient[.]"
PROXY_SPAN = "datasource reverse proxy"
LOKI_QUERY_SPAN = "datasource.loki.queryData.runQueries.runQuery"
# Span attributes kept: who, which organization and data source, what query, where from.
SPAN_KEYS = ("user", "org_id", "plugin_id", "datasource_uid", "datasource_name", "datasource_type", "expr",
             "start_unixnano", "stop_unixnano", "query_group_id", "dashboard_uid", "dashboard_id", "panel_id",
             "http.method", "http.status_code", "http.route")
EVENT_KEYS = ("uname", "orgId", "userId")   # the context handler's `user` event
RESOURCE_KEYS = ("service.name", "service.version")
FREE_TEXT = (attr("span", "expr"), "span.status.message")


def access() -> str:
    """OTTL (span): this span is a call to a data source of the debug organization."""
    org = f"({attr('span', 'org_id')} == {DEBUG_ORG_ID} or {attr('span', 'datasource_uid')} == {lit(DEBUG_DATASOURCE_UID)})"
    return f"{org} and (IsMatch(span.name, {lit(PLUGIN_SPAN)}) or span.name == {lit(PROXY_SPAN)})"


def _keep(ctx: str, keys: tuple[str, ...]) -> str:
    return f"keep_keys({ctx}.attributes, [{', '.join(lit(key) for key in keys)}])"


def fields_processor(settings: Settings) -> dict:
    redact = [f"replace_pattern({field}, {lit(d.regex)}, {lit(d.replacement)}) where {field} != nil"
              for field in FREE_TEXT for d in detectors(settings)]
    return {"error_mode": "ignore", "trace_statements": [
        {"context": "resource", "statements": [_keep("resource", RESOURCE_KEYS)]},
        {"context": "span", "statements": [
            _keep("span", SPAN_KEYS), f"set({attr('span', MARK)}, true) where {access()}", *redact]},
        {"context": "spanevent", "statements": [_keep("spanevent", EVENT_KEYS)]},
    ]}


def connector() -> dict:
    """The count of debug-store accesses by login and endpoint (the project's llmmetrics connector)."""
    return {"resource_labels": [{"key": "service.name", "default": "unknown"}], "spans": [{
        "name": METRIC.name, "unit": METRIC.unit, "description": METRIC.description, "kind": "counter",
        "when": [{"op": "true", "key": MARK}], "value": {"from": "one"},
        "labels": [{"key": LOGIN, "default": "unknown"}, {"key": ENDPOINT, "default": "unknown"}]}]}


def sampler(settings: Settings) -> dict:
    """Whole traces that touched the debug organization; Grafana's other traces go."""
    return {"decision_wait": f"{settings.sampling.decision_wait_s}s", "num_traces": 10000,
            "decision_cache": {"sampled_cache_size": 10000},
            "policies": [{"name": "debug-access", "type": "ottl_condition", "ottl_condition": {
                "error_mode": "ignore", "span": [f"{attr('span', MARK)} == true"]}}]}


def build(settings: Settings, host: str, port: int, processors: dict, connectors: dict, pipelines: dict,
          pipeline) -> dict:
    """Adds the audit pipelines; returns the receiver. `pipeline(receivers, processors, exporters)`
    is the gateway's pipeline builder (memory_limiter first)."""
    processors["transform/audit_fields"] = fields_processor(settings)
    processors["transform/audit_endpoint"] = {"error_mode": "ignore", "trace_statements": [
        {"context": "span", "conditions": [f"{attr('span', MARK)} == true"],
         "statements": [f"set({attr('span', ENDPOINT)}, span.name)"]}]}
    processors["tail_sampling/audit"] = sampler(settings)
    connectors["forward/audit"] = {}
    connectors[CONNECTOR] = connector()
    pipelines["traces/audit_in"] = pipeline([RECEIVER], ["transform/audit_fields"], ["forward/audit"])
    pipelines["traces/audit_count"] = pipeline(["forward/audit"], ["transform/audit_endpoint"], [CONNECTOR])
    pipelines["traces/audit_kept"] = pipeline(["forward/audit"], ["tail_sampling/audit", "batch"], [exporters.traces_exporter(settings)])
    derived = pipelines["metrics/derived"]
    derived["receivers"] = [*derived["receivers"], CONNECTOR]
    return {RECEIVER: {"protocols": {"grpc": {"endpoint": f"{host}:{port}"}}}}
