"""alerts/: rule files checked by the real promtool; every alert unit-tested with `promtool test rules`
(it fires on its example with full labels and annotations, not before its `for`, and not on the
near misses); lint of names, groups, annotations, metrics and runbooks."""
from __future__ import annotations

import re
import subprocess
import urllib.parse
from pathlib import Path

import pytest
import yaml

import alerts
import backends.rules
from alerts.audit import AUDIT_METRICS
from alerts.pipeline import PIPELINE_METRICS
from alerts.selfmon import SELF_MONITORING_METRICS, WATCHDOG
from alerts.prometheus import render_rules
from alerts.runbooks import pages
from binaries import promtool
from settings import validate
from settings.load import split_stack_config
from telemetry.catalog import CATALOG

ROOT = Path(__file__).resolve().parent.parent
# The prod example with the opt-in debug store on, so that its access audit alert is tested too.
PROD, _ = split_stack_config(yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"])
DEBUG = {"enabled": True, "tenants": ["acme"], "viewers": ["alice@example.com", "bob.smith"]}
SETTINGS = validate({**PROD, "debug": DEBUG})
ALL = alerts.all_alerts(SETTINGS)
IDS = [f"{a.name}-{a.severity}" for a in ALL]


@pytest.fixture(scope="module")
def rule_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("rules")
    (d / "llm.alerts.yml").write_text(alerts.render(SETTINGS)[alerts.RULES_FILE])
    (d / "llm.rules.yml").write_text(backends.rules.render(SETTINGS)["prometheus/rules/llm.rules.yml"])
    return d


def minutes(duration: str) -> int:
    value, unit = int(duration[:-1]), duration[-1]
    return value * {"m": 1, "h": 60}[unit]


def series_length(example) -> int:
    """Samples in the example's longest series (promtool expanding notation)."""
    total = 0
    for values in example.series.values():
        total = max(total, sum(int(part.split("x")[1]) + 1 for part in values.split()))
    return total


def test_promtool_check_rules(rule_dir):
    out = subprocess.run([promtool(), "check", "rules", str(rule_dir / "llm.alerts.yml")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(ALL)} rules found" in out.stdout


GRAFANA = "http://127.0.0.1:3000"   # the default alerts.grafana_url (the docker target's published port)
# The variables of each dashboard an alert links to, and the alert label that fills each, written out.
PM_VARS = (("environment", "deployment_environment_name"), ("provider", "gen_ai_provider_name"),
           ("model", "gen_ai_request_model"))
DASHBOARD_VARS = {"overview": PM_VARS, "cost": PM_VARS + (("tenant", "llmobs_tenant_bounded"),
                  ("feature", "llmobs_feature_bounded"), ("prompt_version", "llmobs_prompt_version")),
                  "quality": (("environment", "deployment_environment_name"), ("prompt_version", "llmobs_prompt_version")),
                  "rag": (("environment", "deployment_environment_name"),),
                  "agents": (("environment", "deployment_environment_name"),), "pipeline": (),
                  "slo": (("environment", "deployment_environment_name"), ("service_name", "service_name")),
                  "audit": (("login", "user"),)}


def expected_links(alert, labels: dict[str, str]) -> dict[str, str]:
    """What Prometheus renders for the alert's links, for a firing alert with these labels."""
    from alerts import links
    from dashboards.helpers import panel_id
    uid, pid = links.panel(alert.name)
    params = "".join(f"&var-{var}={urllib.parse.quote_plus(labels[label])}"
                     for var, label in DASHBOARD_VARS[links.PANELS[alert.name][0]] if label in labels)
    return {"runbook_url": f"{GRAFANA}/d/llm-runbooks?viewPanel={panel_id('runbooks', alert.name)}",
            "dashboard_url": f"{GRAFANA}/d/{uid}?viewPanel={pid}{params}"}


def _cases(alert):
    """(eval minute, expected alerts) for each example of an alert."""
    for ex in alert.examples:
        fire_at = ex.onset + minutes(alert.for_) + 2 + ex.settle
        assert fire_at < series_length(ex), f"{alert.name} '{ex.note}': series too short to pass `for`"
        labels = {**alert.labels(), **ex.labels}
        expected = [{"exp_labels": labels,
                     "exp_annotations": {"summary": alert.summary, "description": ex.description,
                                         **expected_links(alert, labels)}}] if ex.fires else []
        yield ex, fire_at, expected
        if ex.fires:   # one evaluation before the `for` has passed: pending, not firing
            yield ex, ex.onset + minutes(alert.for_) - 2, []


def _only_what(name: str, rule_dir: Path, alerts_file: str, tmp_path: Path) -> tuple[Path, Path]:
    """The rule files cut to the alert's own rules and the recording rules they read (at any
    depth), groups and their order kept (recording groups first, listed in group_eval_order:
    promtool evaluates unlisted groups in an arbitrary order, so an alert on a recorded series
    would flip between this minute's value and the last). promtool evaluates every rule it is given at every
    step, and the other ~90 rules change nothing the alert sees (the suite's slowest tests were
    the week-long examples evaluating all of them 2,220 times)."""
    recorded = yaml.safe_load((rule_dir / "llm.rules.yml").read_text())["groups"]
    alerting = yaml.safe_load((rule_dir / alerts_file).read_text())["groups"]
    by_record = {r["record"]: r for g in recorded for r in g["rules"]}
    mine = [dict(g, rules=[r for r in g["rules"] if r.get("alert") == name]) for g in alerting]
    mine = [g for g in mine if g["rules"]]
    assert mine, f"{name} is not in {alerts_file}"
    needed: set[str] = set()
    todo = [r["expr"] for g in mine for r in g["rules"]]
    while todo:
        expr = todo.pop()
        for record in by_record:
            if record not in needed and re.search(rf"(?<![A-Za-z0-9_:]){re.escape(record)}(?![A-Za-z0-9_:])", expr):
                needed.add(record)
                todo.append(by_record[record]["expr"])
    rules = [dict(g, rules=[r for r in g["rules"] if r["record"] in needed]) for g in recorded]
    out = (tmp_path / "rules.yml", tmp_path / "alerts.yml")
    out[0].write_text(yaml.safe_dump({"groups": [g for g in rules if g["rules"]]}, sort_keys=False, width=1000))
    out[1].write_text(yaml.safe_dump({"groups": mine}, sort_keys=False, width=1000))
    return out


def _promtool_test(alert, rule_dir: Path, tmp_path: Path, alerts_file: str = "llm.alerts.yml"):
    tests = []
    for ex, at, expected in _cases(alert):
        tests.append({"name": f"{alert.name}: {ex.note} @ {at}m", "interval": "1m",
                      "input_series": [{"series": s, "values": v} for s, v in ex.series.items()],
                      "alert_rule_test": [{"eval_time": f"{at}m", "alertname": alert.name, "exp_alerts": expected}]})
    files = _only_what(alert.name, rule_dir, alerts_file, tmp_path)
    spec = {"rule_files": [str(f) for f in files], "evaluation_interval": "1m",
            "group_eval_order": [g["name"] for f in files for g in yaml.safe_load(f.read_text())["groups"]],
            "tests": tests}
    path = tmp_path / "test.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, width=1000))
    # 900s: the week-long examples (2,220 evaluations of every group each) on a loaded 2-core machine
    return subprocess.run([promtool(), "test", "rules", str(path)], capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("alert", ALL, ids=IDS)
def test_alert_fires_exactly_when_it_should(alert, rule_dir, tmp_path):
    assert any(e.fires for e in alert.examples) and (alert.name == WATCHDOG or any(not e.fires for e in alert.examples)), \
        "each alert needs a firing example and a near miss (the Watchdog always fires)"
    out = _promtool_test(alert, rule_dir, tmp_path)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


@pytest.mark.parametrize("broken", ["threshold", "for", "description"])
def test_a_broken_alert_fails_its_unit_test(broken, rule_dir, tmp_path):
    """Break one alert on purpose (its rendered rule, the examples unchanged): promtool must fail."""
    import dataclasses
    alert = next(a for a in ALL if a.name == "LlmProviderErrorRateHigh")
    bad = {"threshold": dataclasses.replace(alert, expr=alert.expr.replace(" > 0.05", " > 0.5")),
           "for": dataclasses.replace(alert, for_="5m"),
           "description": dataclasses.replace(alert, description=alert.description.replace("over 5m", "over 1h"))}[broken]
    assert bad != alert
    groups = [dataclasses.replace(g, alerts=tuple(bad if a.name == alert.name else a for a in g.alerts))
              for g in alerts.groups(SETTINGS)]
    (rule_dir / f"broken-{broken}.yml").write_text(render_rules(groups, SETTINGS.alerts.runbook_base_url,
                                                                 SETTINGS.alerts.grafana_url))
    out = _promtool_test(alert, rule_dir, tmp_path, f"broken-{broken}.yml")
    assert out.returncode != 0 and "FAILED" in out.stdout + out.stderr, out.stdout[-2000:]


KNOWN_SERIES = {m.prometheus + s for m in CATALOG for s in ("", "_bucket", "_count", "_sum")}
RECORDED = {r.record for r in backends.rules.all_rules()}
FUNCTIONS_AND_WORDS = {"sum", "rate", "by", "and", "or", "unless", "histogram_quantile", "le", "avg_over_time",
                       "increase", "offset", "max", "error_type", "without", "absent", "bool", "on",
                       "absent_over_time", "instance", "job", "exporter", "gen_ai_tool_name", "gen_ai_evaluation_name",
                       "gen_ai_provider_name", "gen_ai_request_model", "printf", "days_in_month", "group_left", "vector"}


def _identifiers(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', '""', expr)               # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)                # matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)               # ranges
    expr = re.sub(r"(?:by|on) \([^)]*\)", "", expr)      # grouping and matching labels
    expr = re.sub(r"offset \d+[smhdwy]", "", expr)
    return set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr)) - FUNCTIONS_AND_WORDS


@pytest.mark.parametrize("alert", ALL, ids=IDS)
def test_lint(alert):
    assert re.fullmatch(r"Llm[A-Z][A-Za-z0-9]+", alert.name) and len(alert.name) <= 40
    assert alert.severity in ("critical", "warning", "info")
    assert alert.summary.endswith(".") and "{{" not in alert.summary, "summary: static, one sentence"
    assert "{{" in alert.description, "description: templated with the values that matter"
    assert (ROOT / alert.runbook_path).exists(), f"missing {alert.runbook_path}: run python -m alerts"
    unknown = (_identifiers(alert.expr) - KNOWN_SERIES - RECORDED - PIPELINE_METRICS - SELF_MONITORING_METRICS
               - AUDIT_METRICS)
    assert not unknown, f"not in the catalog or the recording rules: {unknown}"


def test_names_unique_and_groups_small():
    """A name is shared only by an SLO's page and ticket (so the critical one inhibits the warning)."""
    assert len({(a.name, a.severity) for a in ALL}) == len(ALL)
    shared = {a.name for a in ALL if sum(b.name == a.name for b in ALL) > 1}
    assert shared == {"LlmAvailabilityBudgetBurn", "LlmLatencyBudgetBurn"}
    assert all(len(g.alerts) <= 20 for g in alerts.groups(SETTINGS))


def test_lint_rejects_an_unknown_metric():
    assert _identifiers("sum(rate(llm_made_up_total[5m])) > 1") - KNOWN_SERIES - RECORDED == {"llm_made_up_total"}


def test_runbooks_are_current():
    """runbooks/ as `python -m alerts` writes it (from the reference settings), one page per alert."""
    from dashboards.review import reference_settings
    for path, text in pages(alerts.all_alerts(reference_settings())).items():
        assert (ROOT / path).read_text() == text, f"{path} is stale: run python -m alerts"
    assert {p.stem for p in (ROOT / "runbooks").glob("Llm*.md")} == {a.name for a in ALL}


def test_every_alert_links_to_a_panel_that_exists():
    import dashboards
    from alerts import links
    panels = {}
    for entry in dashboards.REGISTRY:
        board = dashboards.to_json(entry, SETTINGS)
        panels[board["uid"]] = {p["id"]: p["title"] for p in board["panels"]}
    assert set(links.PANELS) == {a.name for a in ALL}, "every alert, and only alerts, in alerts/links.py"
    for alert in ALL:
        uid, pid = links.panel(alert.name)
        assert pid in panels[uid], (alert.name, uid, pid)
        assert alert.annotations("", GRAFANA)["dashboard_url"].startswith(f"{GRAFANA}/d/{uid}?viewPanel={pid}")


def test_runbooks_name_panels_by_key_and_every_panel_exists():
    """A runbook's checks point at panels as `dashboard/key` (ids derive from keys), never by a quoted
    title that can drift; each key is a panel of the rendered dashboards."""
    import dashboards
    from alerts.runbooks import panel_refs
    from dashboards.helpers import panel_id
    ids = {e.slug: {p["id"] for p in dashboards.to_json(e, SETTINGS)["panels"]} for e in dashboards.REGISTRY}
    for alert in ALL:
        refs = [r for check in alert.runbook.checks for r in panel_refs(check)]
        assert refs, f"{alert.name}: no check names a panel"
        for slug, key in refs:
            assert slug in ids and panel_id(slug, key) in ids[slug], f"{alert.name}: no panel `{slug}/{key}`"
        quoted = [c for c in alert.runbook.checks if re.search(r"'[A-Z][^']+'", c)]
        assert not quoted, f"{alert.name}: a panel named by its title: {quoted}"


def test_panel_refs_find_a_missing_panel():
    from alerts.runbooks import _panel_line
    with pytest.raises(KeyError, match="overview/no_such_panel"):
        _panel_line("overview", "no_such_panel")


def test_runbooks_give_no_generic_advice():
    """The old pages ended every runbook with the same list (provider status pages for a backend that is down)."""
    for path, text in pages(ALL).items():
        assert "Incident practice" not in text and "## Escalation" in text, path
    assert "status page" not in pages(ALL)["runbooks/LlmBackendDown.md"]


# Warnings about the calls behind the user-visible SLOs: their escalation names the SLO pages, written out.
SLO_RELATED = {"LlmRateLimitedOrTimingOut", "LlmTimeToFirstTokenSlow", "LlmLatencyP95High", "LlmPromptBloat",
               "LlmRetryRateHigh", "LlmFallbackStorm", "LlmContextWindowSaturated", "LlmAgentLoopRunaway"}


def _section(text: str, title: str) -> str:
    return text.split(f"## {title}\n\n", 1)[1].split("\n## ", 1)[0].strip()


def test_runbooks_have_meaning_impact_checks_mitigation_and_escalation_that_apply():
    """Issue 29 (7): meaning, impact, diagnosis naming panels, mitigation and escalation; no advice that does not
    apply (an SLO page for a cost or security ticket, a weekly triage for the always-firing Watchdog)."""
    for path, text in pages(ALL).items():
        name = path.removeprefix("runbooks/").removesuffix(".md")
        for title in ("What it means", "Impact", "First three checks", "Mitigations", "Escalation"):
            assert _section(text, title), (name, title)
        escalation = _section(text, "Escalation")
        assert ("LlmAvailabilityBudgetBurn or LlmLatencyBudgetBurn pages" in escalation) == (name in SLO_RELATED), name
    watchdog = _section(pages(ALL)["runbooks/LlmWatchdog.md"], "Escalation")
    assert "weekly triage" not in watchdog and "dead man's switch pages" in watchdog


# -- the panel an alert links to shows what the alert measures (issue 29, 8) ----------------------

COMPARISONS = (">=", "<=", "==", "!=", ">", "<")
LOGICAL = (" and ", " or ", " unless ")


def _top_level(expr: str):
    """(index, char) of each character outside parentheses, brackets, braces and quotes."""
    depth, quoted = 0, False
    for i, c in enumerate(expr):
        if c == '"':
            quoted = not quoted
        elif not quoted and c in "([{":
            depth += 1
        elif not quoted and c in ")]}":
            depth -= 1
        elif not quoted and depth == 0:
            yield i, c


def _unwrap(expr: str) -> str:
    """Without parentheses around the whole expression."""
    expr = expr.strip()
    while expr.startswith("(") and expr.endswith(")") and not any(True for _ in _top_level(expr[1:-1]) if False):
        inner, depth = expr[1:-1], 0
        for c in inner:
            depth += {"(": 1, ")": -1}.get(c, 0)
            if depth < 0:
                return expr
        expr = inner.strip()
    return expr


def _first_condition(expr: str) -> str:
    """The condition whose value the alert reports: the leftmost operand of its and/or/unless chain."""
    expr = _unwrap(expr)
    top = {i for i, _ in _top_level(expr)}
    for op in LOGICAL:
        at = next((i for i in top if expr.startswith(op, i) and all(j in top for j in range(i, i + len(op)))), None)
        if at is not None:
            return _first_condition(expr[:at])
    return expr


def _split_comparison(condition: str) -> tuple[str, str, str]:
    """(left, operator, right) of the condition's top-level comparison; (condition, "", "") without one."""
    top = dict(_top_level(condition))
    for i in sorted(top):
        for op in COMPARISONS:
            if condition.startswith(f" {op} ", i) and all(j in top for j in range(i, i + len(op) + 2)):
                return condition[:i].strip(), op, condition[i + len(op) + 2:].strip()
    return condition, "", ""


def _normal(expr: str) -> str:
    """Dashboard filters (matchers on a `$variable`) dropped, the rest sorted; spacing normalised."""
    def matchers(m: re.Match) -> str:
        kept = sorted(p.strip() for p in re.findall(r'[A-Za-z_]+\s*[=!]~?\s*"[^"]*"', m.group(1)) if "$" not in p)
        return "{" + ",".join(kept) + "}" if kept else ""
    expr = re.sub(r"\{([^{}]*)\}", matchers, expr)
    expr = re.sub(r"\s+", " ", expr)
    return re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", expr)).strip()


def _thresholds(panel: dict) -> set[float]:
    steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
    return {round(float(s["value"]), 9) for s in steps if s.get("value") is not None}


def _operands(expr: str) -> list[tuple[str, str]]:
    """(the operator before it, operand) of each top-level `and`/`unless` operand, left to right, of the
    first `or` branch ("" before the first): PromQL gives `and` and `unless` one precedence, above `or`."""
    expr = _unwrap(expr)
    top = sorted(i for i, _ in _top_level(expr))
    at = set(top)

    def ops(*words: str) -> list[tuple[int, str]]:
        return [(i, w) for i in top for w in words
                if expr.startswith(w, i) and all(j in at for j in range(i, i + len(w)))]
    if first_or := ops(" or "):
        return _operands(expr[:first_or[0][0]])
    out, start, before = [], 0, ""
    for i, word in ops(" and ", " unless "):
        out.append((before, expr[start:i].strip()))
        start, before = i + len(word), word.strip()
    return out + [(before, expr[start:].strip())]


def volume_floors(expr: str) -> list[tuple[str, float]]:
    """(volume, floor) of each `volume >= floor` and-ed with the expression's first condition: a ratio
    alert's volume floor (alerts.llm.floored, the SLO window pairs)."""
    out = []
    for before, operand in _operands(expr)[1:]:
        left, op, right = _split_comparison(_unwrap(operand))
        if before == "and" and op == ">=" and re.fullmatch(r"[0-9.e+-]+", right):
            out.append((_normal(_unwrap(left)), float(right)))
    return out


def alert_panel_gaps(alert, panel: dict) -> list[str]:
    """Why the panel does not show what the alert measures: the alert's first condition (the series its
    value reports, same metric, window, grouping and matchers, dashboard filters aside) must be a query
    of the panel, and what it is compared with must be drawn: a constant as a threshold line, a baseline
    expression as a query of its own. Where the alert has a volume floor, a query draws that series
    only where the floor holds (`(series) and (volume) >= floor`, the same volume and floor), so a line
    over the threshold is one that fires."""
    left, op, right = _split_comparison(_first_condition(alert.expr))
    targets = [t["expr"] for t in panel.get("targets", []) if isinstance(t.get("expr"), str)]
    queries = [_normal(q) for q in targets]

    def drawn(expr: str) -> bool:   # as a whole term: `up` is not drawn by `group_left`
        term = re.escape(_normal(_unwrap(expr)))
        return any(re.search(rf"(?<![\w:]){term}(?![\w:(\[{{])", q) for q in queries)
    gaps = []
    if not drawn(left):
        gaps.append(f"no query of the panel contains `{_normal(_unwrap(left))}`")
    if op and right:
        try:
            value = float(right)
        except ValueError:
            if not drawn(right):
                gaps.append(f"the baseline `{_normal(right)}` is not drawn")
        else:
            if value != 0 and round(value, 9) not in _thresholds(panel):
                gaps.append(f"no threshold line at {value:g}")
    series = _normal(_unwrap(left))
    floored = [volume_floors(q) for q in targets if _normal(_unwrap(_operands(q)[0][1])) == series]
    for volume, floor in volume_floors(alert.expr):
        if not any((volume, floor) in guards for guards in floored):
            gaps.append(f"`{series}` is not drawn under the volume floor `{volume} >= {floor:g}`")
    return gaps


def test_the_panel_an_alert_links_to_shows_what_it_measures():
    import dashboards
    from alerts import links
    boards = {e.uid: {p["id"]: p for p in dashboards.to_json(e, SETTINGS)["panels"]} for e in dashboards.REGISTRY}
    gaps = {}
    for alert in ALL:
        uid, pid = links.panel(alert.name)
        if found := alert_panel_gaps(alert, boards[uid][pid]):
            gaps[f"{alert.name} -> {'/'.join(links.PANELS[alert.name])}"] = found
    assert not gaps, "\n".join(f"{k}: {'; '.join(v)}" for k, v in gaps.items())


def test_alert_panel_check_finds_a_panel_that_differs():
    """The check above can fail: another window, another grouping, or no threshold line."""
    alert = next(a for a in ALL if a.name == "LlmLatencyP95High")
    left = _split_comparison(_first_condition(alert.expr))[0]
    panel = {"targets": [{"expr": left}], "fieldConfig": {"defaults": {"thresholds": {"steps": [
        {"value": None}, {"value": SETTINGS.alerts.latency_p95_seconds}]}}}}
    assert alert_panel_gaps(alert, panel) == []
    assert alert_panel_gaps(alert, {**panel, "targets": [{"expr": left.replace("5m", "$__rate_interval")}]})
    assert alert_panel_gaps(alert, {"targets": panel["targets"]}) == [
        f"no threshold line at {SETTINGS.alerts.latency_p95_seconds:g}"]
    ratio = next(a for a in ALL if a.name == "LlmRetryRateHigh")
    assert _first_condition(ratio.expr).startswith("provider_model:llm_retries:ratio_rate5m >")


def test_alert_panel_check_finds_a_ratio_drawn_without_its_volume_floor():
    """A ratio alert's panel must draw the ratio only where the alert's volume floor holds: the ratio alone,
    another floor, another volume window or an `or` in place of the `and` each leave a gap."""
    alert = next(a for a in ALL if a.name == "LlmRetryRateHigh")
    floor = SETTINGS.alerts.volume_floors.calls
    ratio = 'provider_model:llm_retries:ratio_rate5m{gen_ai_request_model=~"$model"}'
    volume = ('sum by (gen_ai_provider_name, gen_ai_request_model, deployment_environment_name, service_name) '
              '(increase(llm_requests_total{gen_ai_request_model=~"$model"}[5m]))')
    assert volume_floors(alert.expr) == [(_normal(volume.replace('{gen_ai_request_model=~"$model"}', "")), floor)]
    steps = {"thresholds": {"steps": [{"value": None}, {"value": SETTINGS.alerts.retry_ratio}]}}

    def gaps(expr: str) -> list[str]:
        return alert_panel_gaps(alert, {"targets": [{"expr": expr}], "fieldConfig": {"defaults": steps}})
    assert gaps(f"({ratio}) and ({volume}) >= {floor}") == []
    assert gaps(f"{ratio} and {volume} >= {floor}") == []
    for wrong in (ratio, f"({ratio}) and ({volume}) >= {floor + 1}", f"({ratio}) and ({volume.replace('5m', '1h')}) >= {floor}",
                  f"({ratio}) or ({volume}) >= {floor}", f"({ratio}) unless ({volume}) >= {floor}"):
        assert gaps(wrong) and "volume floor" in gaps(wrong)[-1], wrong
    # The SLO burns: the first window pair's short-window volume guards the long window's bad share.
    slo = next(a for a in ALL if a.name == "LlmAvailabilityBudgetBurn" and a.severity == "critical")
    assert [(v.split("[")[1][:3], f) for v, f in volume_floors(slo.expr)] == [
        ("5m]", SETTINGS.alerts.volume_floors.requests)]
    # No floor on an alert that is not a ratio (the no-traffic alert's `unless` is no guard).
    assert volume_floors(next(a for a in ALL if a.name == "LlmNoTraffic").expr) == []
