"""House style for every dashboard: variables, panels, queries, ids, layout.

grafanalib 0.7.1 gaps, worked around here and only here:
- no exemplar option and no data links on TimeSeries/Table/Stat: set through `extraJson`
  (fieldConfig.defaults.links, targets' `exemplar`);
- the generic `Target` emits legacy fields: kept (Grafana ignores them), the datasource is
  always a template variable;
- no Tempo/TraceQL, Jaeger or Loki target: `trace_target` / `log_target` build the JSON.
"""
from __future__ import annotations

import hashlib

from grafanalib.core import GridPos, Stat, Table, Target, Template, TimeSeries

PROM, TRACES, LOGS = "${datasource}", "${traces}", "${logs}"
RATE = "$__rate_interval"
PM = "gen_ai_provider_name, gen_ai_request_model"


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


def target(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> Target:
    return Target(expr=expr, legendFormat=legend, refId=ref, datasource=PROM, instant=instant)


def trace_target(query: str, traces_type: str, ref: str = "A", limit: int = 20) -> dict:
    if traces_type == "tempo":
        return {"refId": ref, "datasource": TRACES, "queryType": "traceql", "query": query, "limit": limit,
                "tableType": "traces"}
    return {"refId": ref, "datasource": TRACES, "queryType": "search", "service": "$service",
            "minDuration": query, "limit": limit}


def log_target(query: str, ref: str = "A") -> dict:
    return {"refId": ref, "datasource": LOGS, "expr": query, "queryType": "range"}


def _thresholds(steps: list[tuple[float, str]] | None):
    base = [{"color": "green", "value": None}]
    return base + [{"color": color, "value": value} for value, color in (steps or [])]


class Board:
    """Collects panels for one dashboard; lays them out left to right, two per row."""

    def __init__(self, slug: str):
        self.slug, self.panels, self._x, self._y = slug, [], 0, 0

    def _pos(self, w: int, h: int) -> GridPos:
        if self._x + w > 24:
            self._x, self._y = 0, self._y + h
        pos = GridPos(h=h, w=w, x=self._x, y=self._y)
        self._x += w
        return pos

    def timeseries(self, key: str, title: str, description: str, unit: str, targets: list,
                   thresholds: list[tuple[float, str]] | None = None, links: list[dict] | None = None,
                   w: int = 12, h: int = 8, stack: bool = False) -> None:
        extra = {"fieldConfig": {"defaults": {"links": links or []}}}
        self.panels.append(TimeSeries(
            id=panel_id(self.slug, key), title=title, description=description, unit=unit, dataSource=PROM,
            targets=targets, gridPos=self._pos(w, h), thresholdsStyleMode="line" if thresholds else "off",
            thresholds=_thresholds(thresholds), stacking={"mode": "normal"} if stack else {}, extraJson=extra))

    def stat(self, key: str, title: str, description: str, unit: str, targets: list,
             thresholds: list[tuple[float, str]] | None = None, w: int = 6, h: int = 4) -> None:
        self.panels.append(Stat(
            id=panel_id(self.slug, key), title=title, description=description, format=unit, dataSource=PROM,
            targets=targets, gridPos=self._pos(w, h), thresholds=_thresholds(thresholds), reduceCalc="lastNotNull"))

    def table(self, key: str, title: str, description: str, unit: str, targets: list, datasource: str,
              links: list[dict] | None = None, w: int = 24, h: int = 8) -> None:
        self.panels.append(Table(
            id=panel_id(self.slug, key), title=title, description=description, unit=unit, dataSource=datasource,
            targets=targets, gridPos=self._pos(w, h),
            extraJson={"fieldConfig": {"defaults": {"links": links or []}}}))

    def logs(self, key: str, title: str, description: str, query: str, w: int = 24, h: int = 8) -> None:
        from grafanalib.core import Logs
        self.panels.append(Logs(id=panel_id(self.slug, key), title=title, description=description, dataSource=LOGS,
                                targets=[log_target(query)], gridPos=self._pos(w, h),
                                extraJson={"fieldConfig": {"defaults": {"unit": "none"}}}))
