"""Dashboard lint: what a reviewer should not have to check by eye.

Fails on a PromQL expression Prometheus's parser rejects (promtool, after substituting
Grafana's macros and variables), a LogQL/TraceQL query Grafana's own grammars reject
(@grafana/lezer-logql, @grafana/lezer-traceql, run by Node), a metric that is neither in
the catalog, the recording rules, the collector's own metrics nor the app histograms, a
counter read outside `rate`/`increase`, exemplars asked of a metric that has none, a panel
without unit or description, a duplicate uid or panel id, a variable used but not defined,
and a data source that is not a template variable. Annotation queries are checked like
panel targets.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

import backends.rules
from dashboards.helpers import APP_HISTOGRAMS, reads_app_histogram
from telemetry.catalog import CATALOG, DEBUG_STORE_ACCESSES, SELF_METRICS

ROOT = Path(__file__).resolve().parent.parent
GRAMMARS = ROOT / "tools/grammars"
BUILTINS = {"__rate_interval", "__range", "__interval", "__url_time_range", "__value", "__data", "__field",
            "__from", "__to", "__all_variables"}
MACROS = {"$__rate_interval": "5m", "$__range": "1h", "$__interval": "1m"}
HISTOGRAM = ("_bucket", "_count", "_sum")
# The collector's metrics only dashboards read (the catalog lists those alerts read too).
DASHBOARD_SELF_METRICS = {"otelcol_processor_tail_sampling_global_count_traces_sampled",
                          # the stack's own backends (alerts/selfmon.py reads them too)
                          "prometheus_rule_evaluation_failures_total", "prometheus_remote_storage_samples_failed_total",
                          "alertmanager_notifications_failed_total", "loki_discarded_samples_total",
                          "tempo_discarded_spans_total"}
GAUGES = {"otelcol_exporter_queue_size", "otelcol_exporter_queue_capacity", "up"}
# Outside CATALOG (not derived from LLM telemetry): the debug store's access audit (dashboards/audit.py).
AUDIT = (DEBUG_STORE_ACCESSES,)
SERIES = ({m.prometheus + s for m in CATALOG for s in ("",) + HISTOGRAM} | SELF_METRICS | DASHBOARD_SELF_METRICS
          | {name + s for name in APP_HISTOGRAMS for s in HISTOGRAM} | {m.prometheus for m in AUDIT})
COUNTERS = ({m.prometheus for m in CATALOG + AUDIT if m.kind == "counter"}
            | {m.prometheus + s for m in CATALOG if m.kind == "histogram" for s in HISTOGRAM}
            | {name + s for name in APP_HISTOGRAMS for s in HISTOGRAM}
            | (SELF_METRICS | DASHBOARD_SELF_METRICS) - GAUGES)
WORDS = {"sum", "rate", "by", "and", "or", "unless", "histogram_quantile", "le", "avg_over_time", "increase",
         "offset", "max", "min", "on", "group_left", "group_right", "without", "bool", "ignoring", "label_values",
         "scalar", "count", "count_over_time", "ln", "clamp_min", "days_in_month", "day_of_month", "time", "vector"}


def recorded() -> set[str]:
    return {r.record for r in backends.rules.all_rules()}


def macros(query: str) -> str:
    """Grafana's interval macros as the data source receives them."""
    for macro, value in MACROS.items():
        query = query.replace(macro, value)
    return query


def promql(expr: str) -> str:
    """The expression Prometheus would see: macros and variables substituted."""
    return re.sub(r"\$\{?(\w+)\}?", ".*", macros(expr))


def identifiers(expr: str) -> set[str]:
    """Metric names an expression reads (label names, functions and keywords removed)."""
    expr = re.sub(r'"[^"]*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"(?:by|on|without|ignoring|group_left|group_right) \([^)]*\)", "", expr)
    expr = re.sub(r"offset \d+[smhdwy]", "", expr)
    # A name may start with ':' (recording rules with an empty level, `:llm_active_users:estimate1h`).
    return set(re.findall(r"(?<![A-Za-z0-9_:]):?[A-Za-z_][A-Za-z0-9_:]*\b", expr)) - WORDS - {"e"}


# `x unless x offset 10m`: the series that are new in the window (a counter's first sample, which
# increase() cannot count), the same selector on both sides.
NEW_SERIES = re.compile(r"\b([A-Za-z_:][\w:]*(?:\{[^}]*\})?)\s+unless\s+\1\s+offset\s+\w+")


def bare_counters(expr: str) -> set[str]:
    """Counters the expression reads other than through rate()/increase() over a range (or as
    series new in a window)."""
    expr = NEW_SERIES.sub("", expr)   # before label values are blanked: the same selector, value for value
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)   # label values may hold braces (`\d{8}`)
    inside = re.sub(r"\b(?:rate|increase)\(\s*[A-Za-z_:][\w:]*(?:\{[^}]*\})?\[[^\]]*\](?:\s*offset\s+\w+)?\s*\)",
                    "", expr)
    return identifiers(inside) & COUNTERS


def _panels(board: dict):
    for p in board.get("panels", []):
        yield p
        yield from p.get("panels", [])


def _is_var(ds) -> bool:
    uid = ds.get("uid") if isinstance(ds, dict) else ds
    return isinstance(uid, str) and re.fullmatch(r"\$\{?\w+\}?", uid) is not None


def structure(boards: dict[str, dict]) -> list[str]:
    out = []
    uids: dict[str, str] = {}
    for slug, board in boards.items():
        if board["uid"] in uids:
            out.append(f"{slug}: uid {board['uid']} also used by {uids[board['uid']]}")
        uids[board["uid"]] = slug
        defined = {v["name"] for v in board.get("templating", {}).get("list", [])}
        used = set(re.findall(r"\$\{?(\w+)", json.dumps(board))) - BUILTINS
        for name in sorted(used - defined):
            out.append(f"{slug}: variable ${name} used but not defined")
        ids = set()
        for p in _panels(board):
            where = f"{slug}/{p.get('title')}"
            if p["id"] in ids:
                out.append(f"{where}: duplicate panel id {p['id']}")
            ids.add(p["id"])
            if not p.get("description"):
                out.append(f"{where}: no description")
            if not p.get("fieldConfig", {}).get("defaults", {}).get("unit") and not p.get("format") and \
                    not p.get("unit"):
                out.append(f"{where}: no unit")
            for ds in [p.get("datasource")] + [t.get("datasource") for t in p.get("targets", [])]:
                if ds is not None and not _is_var(ds):
                    out.append(f"{where}: data source {ds!r} is not a template variable")
            for t in p.get("targets", []):
                if t.get("exemplar") and not reads_app_histogram(t.get("expr", "")):
                    out.append(f"{where}/{t.get('refId')}: exemplars on a metric that has none (only the app "
                               f"histograms {', '.join(APP_HISTOGRAMS)} carry them)")
        for a in board.get("annotations", {}).get("list", []):
            if a.get("datasource") is not None and not _is_var(a["datasource"]):
                out.append(f"{slug}/annotation {a.get('name')}: data source {a['datasource']!r} is not a template variable")
    return out


def queries(boards: dict[str, dict]) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """([(where, promql)], [(where, lang, query)]) from every panel target."""
    prom, other = [], []
    for slug, board in boards.items():
        for a in board.get("annotations", {}).get("list", []):
            if a.get("expr"):
                prom.append((f"{slug}/annotation {a.get('name')}", a["expr"]))
        for p in _panels(board):
            for t in p.get("targets", []):
                where = f"{slug}/{p.get('title')}/{t.get('refId')}"
                ds = str(t.get("datasource") or p.get("datasource"))
                if "expr" in t and "logs" in ds:
                    other.append((where, "logql", t["expr"]))
                elif t.get("queryType") == "traceql":
                    other.append((where, "traceql", t["query"]))
                elif "expr" in t and t["expr"]:
                    prom.append((where, t["expr"]))
    return prom, other


def metrics(prom: list[tuple[str, str]]) -> list[str]:
    known = SERIES | recorded()
    return [f"{where}: {name} is not in the catalog, the recording rules or the collector's metrics"
            for where, expr in prom for name in sorted(identifiers(expr) - known)] + \
        [f"{where}: counter {name} outside rate()/increase()" for where, expr in prom
         for name in sorted(bare_counters(expr))]


def parse_promql(prom: list[tuple[str, str]], promtool: str) -> list[str]:
    """One `promtool check rules` over every expression, each as a recording rule."""
    rules = [{"record": f"lint:expr:{i}", "expr": promql(expr)} for i, (_, expr) in enumerate(prom)]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "lint", "rules": rules}]}, f)
    try:
        out = subprocess.run([promtool, "check", "rules", f.name], capture_output=True, text=True, timeout=60)
    finally:
        Path(f.name).unlink()
    if out.returncode == 0:
        return []
    problems = []
    for i, (where, expr) in enumerate(prom):   # promtool names the failing rule's index; say which panel
        if f"{i}:" in out.stderr or f"rule {i}" in out.stderr:
            problems.append(f"{where}: PromQL rejected: {expr}")
    return problems or [f"promtool rejected the dashboard queries: {out.stderr.strip()[:500]}"]


def parse_grammars(other: list[tuple[str, str, str]]) -> list[str]:
    if not other:
        return []
    if not (GRAMMARS / "node_modules").exists():
        return [f"{GRAMMARS}/node_modules missing: run scripts/setup.sh (npm ci)"]
    out = subprocess.run(["node", str(GRAMMARS / "check.mjs")], input=json.dumps(
        [{"lang": lang, "query": macros(q)} for _, lang, q in other]), capture_output=True, text=True, timeout=60,
        cwd=GRAMMARS)
    if out.returncode != 0:
        return [f"node check.mjs failed: {out.stderr[:500]}"]
    return [f"{where}: {lang} rejected ({err}): {q}"
            for (where, lang, q), err in zip(other, json.loads(out.stdout)) if err]


def _catalog_labels() -> dict[str, set[str]]:
    """Series name -> the Prometheus labels the gateway gives it (its attributes, dots to `_`, and the
    resource's service_name; the audit counter's service.name becomes `job`)."""
    from telemetry.catalog import RESOURCE_LABELS
    out = {}
    for m in CATALOG + AUDIT:
        resource = RESOURCE_LABELS if m in CATALOG else ("job",)
        labels = {key.replace(".", "_") for key in (*m.labels, *resource)}
        for suffix in ("",) + (HISTOGRAM if m.kind == "histogram" else ()):
            out[m.prometheus + suffix] = labels
    return out


def _label_variables(board: dict) -> dict[str, str]:
    """Variable name -> the label it filters (a `label_values(metric, label)` query)."""
    out = {}
    for v in board.get("templating", {}).get("list", []):
        m = re.fullmatch(r"label_values\((?:[^,]*),\s*(\w+)\)", str(v.get("query") or ""))
        if m and v["name"] != "service":   # Jaeger's single-service trace search, not a metric filter
            out[v["name"]] = m.group(1)
    return out


SELECTOR = re.compile(r"\b([a-z_][a-z0-9_]*)(\{[^}]*\})?(?=\s*\[|\s*\)|\s*$|\s*[/*+-])")


# (dashboard, panel title) -> labels a panel may leave unfiltered, with the reason in its description.
UNFILTERED = {("quality", "Safety block ratio"): {"llmobs_prompt_version"}}


def variables_applied(boards: dict[str, dict]) -> list[str]:
    """Every selector of a metric that carries a declared variable's label filters on that variable
    (else the filter silently leaves the panel unfiltered)."""
    labels_of = _catalog_labels()
    out = []
    prom, _ = queries(boards)
    for slug, board in boards.items():
        declared = _label_variables(board)
        for where, expr in prom:
            if not where.startswith(f"{slug}/"):
                continue
            text = re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: m.group(0).replace("{", "(").replace("}", ")"), expr)
            for m in re.finditer(r"\b([a-z_][a-z0-9_:]*)\s*(\{[^}]*\})?\s*\[", text):
                metric, selector = m.group(1), m.group(2) or ""
                exempt = UNFILTERED.get((slug, where.split("/")[1]), set())
                for var, label in sorted(declared.items()):
                    if label in labels_of.get(metric, ()) and label not in exempt and not re.search(
                            rf'\b{label}\s*=~\s*"\$\{{?{var}\b', selector.replace("(", "{").replace(")", "}")):
                        out.append(f"{where}: {metric} carries {label} but ignores ${var}")
    return out


def lint(boards: dict[str, dict], promtool: str | None = None) -> list[str]:
    pinned = ROOT / ".bin/promtool"   # scripts/install-binaries.sh: the deployed Prometheus release
    promtool = promtool or (str(pinned) if pinned.exists() else shutil.which("promtool") or str(pinned))
    prom, other = queries(boards)
    return (structure(boards) + metrics(prom) + variables_applied(boards) + parse_promql(prom, promtool)
            + parse_grammars(other))
