"""House style for every dashboard: variables, panels, queries, ids, layout.

grafanalib 0.7.1 gaps, worked around here and only here:
- no exemplar option: `ExemplarTarget` adds the target's `exemplar` field;
- no data links on TimeSeries/Table/Stat: set through `extraJson` (fieldConfig.defaults.links);
- the generic `Target` emits legacy fields: kept (Grafana ignores them), the datasource is
  always a template variable;
- no Tempo/TraceQL, Jaeger or Loki target: `trace_target` / `log_target` build the JSON.

Exemplars exist only on histograms an application's SDK records inside a sampled span
(`APP_HISTOGRAMS`, through the gateway's metrics pipeline and remote write). The gateway's
derived metrics come from the llmmetrics connector, which writes none (it aggregates before
tail sampling, so most of the traces an exemplar would name are not kept), so
`target(exemplar=True)` refuses them and the lint fails on a hand-edited one
(tests/test_dashboard_signals.py proves both against the real collector and Prometheus).
"""
from __future__ import annotations

import hashlib
import re

import attr
from grafanalib.core import GridPos, Logs, Stat, Table, Target, Template, Text, TimeSeries

PROM, TRACES, LOGS = "${datasource}", "${traces}", "${logs}"
SERVICE_VAR = "$service"   # Jaeger's search names one service: the `service` variable (common.service_var)
RATE = "$__rate_interval"
PM = "gen_ai_provider_name, gen_ai_request_model"
# OpenTelemetry semantic-convention histograms the application's SDK records (not derived by
# the gateway): the only series that can carry exemplars (trace ids).
APP_HISTOGRAMS = ("http_server_request_duration_seconds", "gen_ai_client_token_usage")


@attr.s
class ExemplarTarget(Target):
    """A Prometheus target with Grafana's `exemplar` switch."""
    exemplar = attr.ib(default=False)

    def to_json_data(self):
        return {**super().to_json_data(), "exemplar": self.exemplar}


def reads_app_histogram(expr: str) -> bool:
    return any(re.search(rf"\b{name}_bucket\b", expr) for name in APP_HISTOGRAMS)


def panel_id(dashboard: str, key: str) -> int:
    """Stable across edits: from the panel's key, not its position."""
    return int(hashlib.sha256(f"{dashboard}/{key}".encode()).hexdigest()[:7], 16)


def datasource_vars(traces_type: str) -> list[Template]:
    return [Template(name="datasource", label="Metrics", type="datasource", query="prometheus"),
            Template(name="traces", label="Traces", type="datasource", query=traces_type),
            Template(name="logs", label="Logs", type="datasource", query="loki")]


def label_var(name: str, label: str, metric: str, title: str) -> Template:
    """A multi-select whose "All" matches everything (`.*` with `=~`)."""
    return Template(name=name, label=title, dataSource=PROM, query=f"label_values({metric}, {label})",
                    includeAll=True, multi=True, allValue=".*", refresh=2, sort=1, default="All")


def service_var() -> Template:
    """One service (Jaeger searches one service at a time): no "All"."""
    return Template(name="service", label="Service", dataSource=PROM, query="label_values(llm_requests_total, service_name)",
                    refresh=2, sort=1)


def textbox_var(name: str, label: str) -> Template:
    """Free text (a trace id pasted from a trace view or a log line); empty matches everything."""
    return Template(name=name, label=label, type="textbox", query="", default="")


def target(expr: str, legend: str = "", ref: str = "A", instant: bool = False, exemplar: bool = False) -> Target:
    if exemplar and not reads_app_histogram(expr):
        raise ValueError(f"exemplars exist only on {APP_HISTOGRAMS} (app histograms): {expr}")
    return ExemplarTarget(expr=expr, legendFormat=legend, refId=ref, datasource=PROM, instant=instant,
                          exemplar=exemplar)


def above_floor(expr: str, volume: str, floor: int, on: str = "") -> str:
    """`expr` only where `volume` reached a ratio alert's volume floor (alerts.llm.floored): the series
    as the alert can fire on it, so a line over the threshold line is one that fires, and below the
    floor the line breaks. `on`: the labels to match where `expr` is finer than the alert's grouping."""
    return f"({expr}) and{f' on ({on})' if on else ''} ({volume}) >= {floor}"


def floor_note(floor: int, events: str, window: str, lead: str = "Drawn") -> str:
    """A floored panel's description, in the same words everywhere."""
    return (f" {lead} only where there were {floor} or more {events} in {window} (the alert's volume floor): "
            "below it the alert cannot fire, and the line breaks.")


def quantiles(metric: str, qs: tuple[float, ...] = (0.95,), by: str = "", sel: str = "", legend: str = "",
              exemplar: bool = False, window: str = RATE) -> list[Target]:
    """`histogram_quantile` of a histogram's buckets, one target per quantile (refs A, B, ...).
    Several quantiles are told apart by a `pNN` legend prefix. `window`: an alert's own range, for
    the panel that shows what the alert measures."""
    group = f"le, {by}" if by else "le"
    selector = f"{{{sel}}}" if sel else ""
    out = []
    for q, ref in zip(qs, "ABCDEFGH"):
        name = f"p{round(q * 100)}"
        text = name if not legend else legend if len(qs) == 1 else f"{name} {legend}"
        out.append(target(f"histogram_quantile({q:g}, sum by ({group}) (rate({metric}_bucket{selector}[{window}])))",
                          text, ref, exemplar=exemplar))
    return out


def loki_label(key: str) -> str:
    """The name Loki's OTLP ingestion gives an attribute (structured metadata or label)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", key)


def trace_target(query: str, traces_type: str, ref: str = "A", limit: int = 20, table_type: str = "traces") -> dict:
    """Tempo: a TraceQL search (`table_type` spans: one row per matching span). Jaeger: the `$service`
    variable's traces longer than `query` (a duration)."""
    if traces_type == "tempo":
        return {"refId": ref, "datasource": TRACES, "queryType": "traceql", "query": query, "limit": limit,
                "tableType": table_type}
    return {"refId": ref, "datasource": TRACES, "queryType": "search", "service": SERVICE_VAR,
            "minDuration": query, "limit": limit}


def jaeger_tag_search(service: str, tags: str, ref: str = "A", limit: int = 20) -> dict:
    """Jaeger: the traces of one named service with a tag (`key=value`); no `$service` variable."""
    return {"refId": ref, "datasource": TRACES, "queryType": "search", "service": service, "tags": tags,
            "limit": limit}


def log_target(query: str, ref: str = "A") -> dict:
    return {"refId": ref, "datasource": LOGS, "expr": query, "queryType": "range"}


def first_seen(label: str, metric: str, name: str, color: str, window: str = "10m") -> dict:
    """A Prometheus annotation marking where a label value starts taking traffic (none `window` before)."""
    def active(offset: str) -> str:
        return f"count by ({label}) (increase({metric}[{window}]{offset}) > 0)"
    return {"name": name, "datasource": PROM, "enable": True, "iconColor": color, "step": "1m",
            "expr": f"{active('')} unless {active(f' offset {window}')}",
            "titleFormat": f"{name}: {{{{{label}}}}}", "tagKeys": label, "useValueForTime": False}


def _thresholds(steps: list[tuple[float, str]] | None, base_color: str = "green"):
    base = [{"color": base_color, "value": None}]
    return base + [{"color": color, "value": value} for value, color in (steps or [])]


class Board:
    """Collects panels for one dashboard; lays them out left to right, two per row."""

    def __init__(self, slug: str):
        self.slug, self.panels, self._x, self._y, self._row_h = slug, [], 0, 0, 0
        self.searches_traces = False   # a Jaeger search of the `$service` variable: it needs that variable

    def _pos(self, w: int, h: int) -> GridPos:
        # A new row starts below the tallest panel of the last one (not the new panel's height,
        # which overlapped a row of tall panels when short stats followed them).
        if self._x + w > 24:
            self._x, self._y, self._row_h = 0, self._y + self._row_h, 0
        pos = GridPos(h=h, w=w, x=self._x, y=self._y)
        self._x, self._row_h = self._x + w, max(self._row_h, h)
        return pos

    def timeseries(self, key: str, title: str, description: str, unit: str, targets: list,
                   thresholds: list[tuple[float, str]] | None = None, links: list[dict] | None = None,
                   w: int = 12, h: int = 8, stack: bool = False, datasource: str = PROM,
                   base_color: str = "green") -> None:
        """`base_color`: below the first threshold (red where low is bad, e.g. a backend's `up`)."""
        extra = {"fieldConfig": {"defaults": {"links": links or []}}}
        self.panels.append(TimeSeries(
            id=panel_id(self.slug, key), title=title, description=description, unit=unit, dataSource=datasource,
            targets=targets, gridPos=self._pos(w, h), thresholdsStyleMode="line" if thresholds else "off",
            thresholds=_thresholds(thresholds, base_color), stacking={"mode": "normal"} if stack else {},
            extraJson=extra))

    def stat(self, key: str, title: str, description: str, unit: str, targets: list,
             thresholds: list[tuple[float, str]] | None = None, w: int = 6, h: int = 4,
             time_from: str | None = None, base_color: str = "green") -> None:
        """`time_from`: the panel's own relative time (`now/M`: this month so far, as `$__range`).
        `base_color`: below the first threshold (red where low is bad, e.g. an error budget left)."""
        self.panels.append(Stat(
            id=panel_id(self.slug, key), title=title, description=description, format=unit, dataSource=PROM,
            targets=targets, gridPos=self._pos(w, h), thresholds=_thresholds(thresholds, base_color), reduceCalc="lastNotNull",
            timeFrom=time_from))

    def table(self, key: str, title: str, description: str, unit: str, targets: list, datasource: str,
              links: list[dict] | None = None, w: int = 24, h: int = 8) -> None:
        self.searches_traces = self.searches_traces or any(
            isinstance(t, dict) and t.get("service") == SERVICE_VAR for t in targets)
        self.panels.append(Table(
            id=panel_id(self.slug, key), title=title, description=description, unit=unit, dataSource=datasource,
            targets=targets, gridPos=self._pos(w, h),
            extraJson={"fieldConfig": {"defaults": {"links": links or []}}}))

    def logs(self, key: str, title: str, description: str, query: str, w: int = 24, h: int = 8) -> None:
        self.panels.append(Logs(id=panel_id(self.slug, key), title=title, description=description, dataSource=LOGS,
                                targets=[log_target(query)], gridPos=self._pos(w, h),
                                # details show the structured metadata and the trace_id link to the trace
                                showTime=True, enableLogDetails=True, wrapLogMessages=True,
                                extraJson={"fieldConfig": {"defaults": {"unit": "none"}}}))

    def text(self, key: str, title: str, description: str, markdown: str, w: int = 24, h: int = 16) -> None:
        """Static markdown (the runbooks Grafana serves): no query, so no unit beyond `none`."""
        self.panels.append(Text(id=panel_id(self.slug, key), title=title, description=description, mode="markdown",
                                content=markdown, gridPos=self._pos(w, h),
                                extraJson={"fieldConfig": {"defaults": {"unit": "none"}}}))
