"""dashboards/: builders checked through their JSON, every lint rule fails on a crafted bad
dashboard, the committed JSON is current, and Grafana's providers cover every file."""
from __future__ import annotations

import copy

import pytest
import yaml

import dashboards
from backends import grafana
from alerts import links
from dashboards import lint, review
from settings import REFERENCE_CONFIG, validate
from artifacts import render_all
from stacks import KUBE

SETTINGS = review.reference_settings()
BOARDS = review.fresh()


def test_registry_slugs_and_uids_unique():
    assert len({e.slug for e in dashboards.REGISTRY}) == len({e.uid for e in dashboards.REGISTRY}) == 10
    assert {e.folder for e in dashboards.REGISTRY} <= set(dashboards.FOLDERS)


def test_the_reference_renders_every_dashboard():
    """The committed JSON, the lint and the PR diff cover opt-in dashboards too (the debug store's audit)."""
    assert set(BOARDS) == {e.slug for e in dashboards.REGISTRY}
    off = validate({**KUBE})
    assert [e.slug for e in dashboards.entries(off)] == [e.slug for e in dashboards.REGISTRY if e.slug != "audit"]
    assert dashboards.entries(validate({**KUBE, "debug": {"enabled": True, "tenants": ["acme"]}})) == dashboards.REGISTRY


# Panels that read fixed windows: projections, SLO periods, and every panel an alert links to (it reads the
# alert's own window: tests/test_alerts.py::test_the_panel_an_alert_links_to_shows_what_it_measures).
FIXED_WINDOWS = {dashboards.helpers.panel_id(slug, key) for slug, key in (
    ("cost", "projected"), ("cost", "month_end"), ("cost", "month_budget"), ("slo", "availability_budget"),
    ("slo", "availability_sli"), ("slo", "availability_burn"), ("slo", "latency_budget"), ("slo", "latency_sli"),
    ("slo", "latency_burn"), *links.PANELS.values())}


@pytest.mark.parametrize("slug", sorted(BOARDS))
def test_house_style(slug):
    board = BOARDS[slug]
    names = [v["name"] for v in board["templating"]["list"]]
    assert names[:3] == ["datasource", "traces", "logs"]
    for v in board["templating"]["list"][3:]:
        if v["type"] == "textbox":   # a pasted trace id; empty matches every trace
            assert v["name"] == "trace_id" and v["query"] == ""
            continue
        assert v["name"] != "service", "the single-service variable is for Jaeger only"
        assert v["includeAll"] and v["allValue"] == ".*" and v["multi"]
    assert board["links"] and board["links"][0]["tags"] == ["llmobs"]
    for p in board["panels"]:
        if p["id"] in FIXED_WINDOWS:   # the window is the point: an alert's, a projection's, an SLO period's
            continue
        for t in p.get("targets", []):
            expr = t.get("expr", "")
            if "rate(" in expr and "llm_" in expr and "[1d]" not in expr and "[$__range]" not in expr:
                assert "$__rate_interval" in expr, (p["title"], expr)


@pytest.mark.parametrize("slug", sorted(BOARDS))
def test_no_two_panels_overlap_and_each_fits_the_grid(slug):
    """Grafana pushes an overlapping panel down on its own, so an overlap never shows as an error."""
    taken: dict[tuple[int, int], str] = {}
    for panel in BOARDS[slug]["panels"]:
        g = panel["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24, panel["title"]
        for cell in ((x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])):
            assert cell not in taken, (panel["title"], taken[cell])
            taken[cell] = panel["title"]


def test_a_new_row_starts_below_the_tallest_panel_of_the_last():
    board = dashboards.helpers.Board("t")
    positions = [board._pos(12, 8), board._pos(6, 4), board._pos(6, 4), board._pos(6, 4), board._pos(6, 4)]
    assert [(p.x, p.y) for p in positions] == [(0, 0), (12, 0), (18, 0), (0, 8), (6, 8)]


def test_thresholds_come_from_the_alert_settings():
    strict = validate({**KUBE, "alerts": {"provider_error_ratio": 0.02}})
    overview = dashboards.to_json(next(e for e in dashboards.REGISTRY if e.slug == "overview"), strict)
    errors = next(p for p in overview["panels"] if p["title"].startswith("Error ratio"))
    assert [s["value"] for s in errors["fieldConfig"]["defaults"]["thresholds"]["steps"]] == [None, 0.02]


def test_panel_ids_stable_when_a_panel_is_added():
    ids = {p["title"]: p["id"] for p in BOARDS["overview"]["panels"]}
    assert ids["Latency p50 / p95 / p99"] == dashboards.helpers.panel_id("overview", "latency")


def _panel(slug, key):
    return next(p for p in BOARDS[slug]["panels"] if p["id"] == dashboards.helpers.panel_id(slug, key))


def test_quantile_panels_come_from_one_helper():
    latency = _panel("overview", "latency")["targets"]
    assert [(t["refId"], t["legendFormat"]) for t in latency] == [("A", "p50"), ("B", "p95"), ("C", "p99")]
    assert latency[1]["expr"] == ("histogram_quantile(0.95, sum by (le) (rate(gen_ai_client_operation_duration_seconds_"
                                  'bucket{gen_ai_provider_name=~"$provider", gen_ai_request_model=~"$model", '
                                  'deployment_environment_name=~"$environment"}[$__rate_interval])))')
    tools = _panel("agents", "tool_latency")["targets"]
    assert [(t["legendFormat"], t["expr"]) for t in tools] == [
        ("{{gen_ai_tool_name}}", "histogram_quantile(0.95, sum by (le, gen_ai_tool_name) "
                                 "(rate(llm_tool_duration_seconds_bucket[$__rate_interval])))")]
    assert [t["legendFormat"] for t in _panel("rag", "score")["targets"]] == ["p50", "p10"]


def test_exemplars_only_on_app_histograms():
    asked = {(slug, p["title"]) for slug, b in BOARDS.items() for p in b["panels"]
             for t in p.get("targets", []) if t.get("exemplar")}
    assert asked == {("overview", "App-reported HTTP latency p95 by route (exemplars)"),
                     ("overview", "App-reported tokens per call p95 (exemplars)")}
    with pytest.raises(ValueError, match="exemplars exist only on"):
        dashboards.helpers.quantiles("gen_ai_client_operation_duration_seconds", exemplar=True)


def test_llm_event_log_panels_follow_the_trace_id_variable():
    for slug, key in (("overview", "llm_events"), ("agents", "agent_events")):
        panel = _panel(slug, key)
        assert panel["type"] == "logs" and panel["datasource"] == "${logs}"
        assert panel["options"]["enableLogDetails"]   # where the trace_id derived field links to the trace
        assert '| trace_id=~"${trace_id}.*"' in panel["targets"][0]["expr"]
        assert "trace_id" in {v["name"] for v in BOARDS[slug]["templating"]["list"]}


def test_release_annotations_mark_new_prompt_versions_and_models():
    names = {a["name"]: a for a in BOARDS["quality"]["annotations"]["list"]}
    assert set(names) == {"New prompt version", "New model"}
    assert names["New prompt version"]["expr"] == (
        "count by (llmobs_prompt_version) (increase(llm_requests_total{deployment_environment_name=~\"$environment\", "
        "llmobs_prompt_version=~\"$prompt_version\"}[10m]) > 0) unless "
        "count by (llmobs_prompt_version) (increase(llm_requests_total{deployment_environment_name=~\"$environment\", "
        "llmobs_prompt_version=~\"$prompt_version\"}[10m] offset 10m) > 0)")
    assert names["New prompt version"]["datasource"] == "${datasource}"
    # Grafana fills {{label}} from the series: the marker reads "New model: gpt-4o".
    assert [(n["titleFormat"], n["tagKeys"], n["useValueForTime"]) for n in names.values()] == [
        ("New prompt version: {{llmobs_prompt_version}}", "llmobs_prompt_version", False),
        ("New model: {{gen_ai_request_model}}", "gen_ai_request_model", False)]


def test_clean_dashboards_pass_lint():
    assert lint.lint(BOARDS) == []


def test_jaeger_dashboards_pass_lint_and_pick_one_service():
    jaeger = validate({"target": "docker", "traces": {"backend": "jaeger"}})
    boards = {e.slug: dashboards.to_json(e, jaeger) for e in dashboards.REGISTRY}
    assert lint.lint(boards) == []
    for slug in ("overview", "cost"):   # the boards with a trace search
        service = next(v for v in boards[slug]["templating"]["list"] if v["name"] == "service")
        assert not service["includeAll"] and not service["multi"]
    runaway = dashboards.helpers.panel_id("agents", "runaway")
    assert runaway in {p["id"] for p in BOARDS["agents"]["panels"]}          # Tempo: a TraceQL threshold
    assert runaway not in {p["id"] for p in boards["agents"]["panels"]}       # Jaeger cannot search "> N"


def _bad(mutate) -> dict[str, dict]:
    boards = copy.deepcopy(BOARDS)
    mutate(boards["overview"])
    return boards


def _first(board):
    return board["panels"][0]


@pytest.mark.parametrize("name,mutate,expected", [
    ("promql", lambda b: _first(b)["targets"][0].update(expr="sum(rate(llm_requests_total[5m])"), "PromQL rejected"),
    ("metric", lambda b: _first(b)["targets"][0].update(expr="sum(rate(llm_made_up_total[5m]))"), "llm_made_up_total"),
    ("unit", lambda b: _first(b)["fieldConfig"]["defaults"].pop("unit"), "no unit"),
    ("description", lambda b: _first(b).update(description=""), "no description"),
    ("uid", lambda b: b.update(uid="llm-cost"), "also used by"),
    ("panel id", lambda b: b["panels"][1].update(id=_first(b)["id"]), "duplicate panel id"),
    ("variable", lambda b: _first(b)["targets"][0].update(expr='sum(llm_requests_total{x=~"$undefined"})'),
     "$undefined used but not defined"),
    ("datasource", lambda b: _first(b).update(datasource="prometheus"), "not a template variable"),
    ("target datasource", lambda b: _first(b)["targets"][0].update(datasource="prometheus"), "not a template variable"),
    ("logql", lambda b: next(p for p in b["panels"] if p.get("type") == "table")["targets"][0].update(
        queryType="", datasource="${logs}", expr='{service_name="x" |'), "logql rejected"),
    ("traceql", lambda b: next(p for p in b["panels"] if p.get("type") == "table")["targets"][0].update(
        query="{ span.x = }"), "traceql rejected"),
    ("logs panel logql", lambda b: next(p for p in b["panels"] if p.get("type") == "logs")["targets"][0].update(
        expr='{service_name=~".+"} | trace_id=~"${trace_id}.*" |'), "logql rejected"),
    ("bare counter", lambda b: _first(b)["targets"][0].update(expr="sum(llm_requests_total)"),
     "counter llm_requests_total outside rate()/increase()"),
    ("exemplar", lambda b: _first(b)["targets"][0].update(exemplar=True), "exemplars on a metric that has none"),
    ("annotation promql", lambda b: b["annotations"]["list"].append(
        {"name": "x", "datasource": "${datasource}", "expr": "count(rate(llm_requests_total[5m])"}), "PromQL rejected"),
    ("annotation metric", lambda b: b["annotations"]["list"].append(
        {"name": "x", "datasource": "${datasource}", "expr": "count(rate(llm_nope_total[5m]))"}), "llm_nope_total"),
    ("annotation datasource", lambda b: b["annotations"]["list"].append(
        {"name": "x", "datasource": "prometheus", "expr": "count(rate(llm_requests_total[5m]))"}),
     "not a template variable"),
])
def test_each_lint_rule_fails_on_a_bad_dashboard(name, mutate, expected):
    problems = lint.lint(_bad(mutate))
    assert any(expected in p for p in problems), problems


def test_lint_names_the_duplicate_panel_id_and_where():
    boards = _bad(lambda b: b["panels"][1].update(id=_first(b)["id"]))
    panel = boards["overview"]["panels"][1]
    assert f"overview/{panel['title']}: duplicate panel id {panel['id']}" in lint.structure(boards)


def test_lint_grammar_check_says_what_is_missing_and_what_failed(tmp_path, monkeypatch):
    query = [("overview/x", "logql", '{service_name="a"}')]
    assert lint.parse_grammars([]) == []
    monkeypatch.setattr(lint, "GRAMMARS", tmp_path)
    assert lint.parse_grammars(query) == [f"{tmp_path}/node_modules missing: run scripts/setup.sh (npm ci)"]
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "check.mjs").write_text('process.stderr.write("boom"); process.exit(3);\n')
    assert lint.parse_grammars(query) == ["node check.mjs failed: boom"]


def test_lint_counters_are_the_catalogs_counters_and_histogram_series():
    """By hand: a counter, a histogram's _count and _bucket read bare are flagged; a recording rule's
    series and a histogram's name alone (no series) are not."""
    for expr, flagged in (("sum(llm_requests_total)", {"llm_requests_total"}),
                          ("sum(llm_tokens_output_total)", {"llm_tokens_output_total"}),
                          ("sum(gen_ai_client_operation_duration_seconds_count)", {"gen_ai_client_operation_duration_seconds_count"}),
                          ("sum(gen_ai_client_operation_duration_seconds_bucket)", {"gen_ai_client_operation_duration_seconds_bucket"}),
                          ("sum(provider_model:llm_errors:ratio_rate5m)", set()),
                          ("sum(gen_ai_client_operation_duration_seconds)", set())):
        assert lint.bare_counters(expr) == flagged, expr


def test_lint_allows_a_counter_read_as_its_new_series_only():
    """`x unless x offset 10m` (series new in the window, the audit's first call) reads no counter value
    outside increase(); a different selector on either side still does."""
    new = 'sum by (user) (llm_debug_store_accesses_total{user!~"a|b"} unless llm_debug_store_accesses_total{user!~"a|b"} offset 10m)'
    assert lint.bare_counters(new) == set()
    assert lint.bare_counters(new.replace('unless llm_debug_store_accesses_total{user!~"a|b"}',
                                          'unless llm_debug_store_accesses_total{user!~"a"}')) == {
        "llm_debug_store_accesses_total"}
    assert lint.bare_counters("sum(llm_debug_store_accesses_total)") == {"llm_debug_store_accesses_total"}


def test_committed_json_is_current():
    assert review.committed() == BOARDS, "stale: run `python -m stackctl dashboards render` and commit"


def test_diff_names_the_changed_panel():
    new = _bad(lambda b: _first(b).update(title="Calls per second"))
    new["overview"]["panels"].pop()
    lines = review.diff(BOARDS, new)
    assert any("title" in line and "Calls per second" in line for line in lines)
    assert any(line.startswith("overview: - panel") for line in lines)


def test_render_writes_what_a_deployment_mounts(tmp_path, monkeypatch):
    """`stackctl dashboards render` writes each dashboard byte for byte as the targets mount it
    (dashboards.render_json: sorted keys, indent 2, a trailing newline), and the alert rules as rendered."""
    monkeypatch.setattr(review, "GENERATED", tmp_path / "dashboards")
    monkeypatch.setattr(review, "ALERTS_FILE", tmp_path / "alerts/llm.alerts.yml")
    written = review.write()
    assert written[-1] == tmp_path / "alerts/llm.alerts.yml"
    assert written[-1].read_text() == review.fresh_rules()
    assert sorted(p.name for p in written[:-1]) == sorted(f"{e.slug}.json" for e in dashboards.entries(SETTINGS))
    for e in dashboards.entries(SETTINGS):
        assert (tmp_path / "dashboards" / f"{e.slug}.json").read_text() == dashboards.render_json(e, SETTINGS)
    assert dashboards.render_json(dashboards.REGISTRY[0], SETTINGS).startswith('{\n  "__inputs": [],\n  "annotations": {\n    "list"')


def test_diff_names_added_and_removed_dashboards():
    without = {slug: b for slug, b in BOARDS.items() if slug != "audit"}
    assert review.diff(without, BOARDS) == ["+ dashboard audit (3 panels)"]
    assert review.diff(BOARDS, without) == ["- dashboard audit"]


def test_diff_names_changed_annotations():
    new = copy.deepcopy(BOARDS)
    notes = new["quality"]["annotations"]["list"]
    notes[0]["expr"] = "count(rate(llm_requests_total[5m]))"
    removed = notes.pop()["name"]
    lines = review.diff(BOARDS, new)
    assert f"quality: - annotation {removed!r}" in lines
    assert any(line.startswith(f"quality/annotation {notes[0]['name']}: query:") for line in lines)
    assert review.diff(BOARDS, BOARDS) == []


@pytest.mark.parametrize("config, count", [
    ({**KUBE}, 9), ({"target": "docker", "traces": {"backend": "jaeger"}}, 9),
    ({"target": "docker", "debug": {"enabled": True, "tenants": ["acme"]}}, 10)])
def test_providers_cover_every_dashboard_file(config, count):
    settings = validate(config)
    files = render_all(settings)
    providers = yaml.safe_load(files["grafana/provisioning/dashboards/dashboards.yaml"])["providers"]
    paths = [p["options"]["path"] for p in providers]
    boards = [k for k in files if k.startswith("grafana/dashboards/")]
    assert len(boards) == len(dashboards.entries(settings)) == count
    for key in boards:
        mounted = f"{grafana.ROOT}/{key}"
        assert sum(mounted.startswith(path + "/") for path in paths) == 1, key
    # Every provider has a dashboard to read (the audit folder only with the debug store).
    for path in paths:
        assert any(f"{grafana.ROOT}/{key}".startswith(path + "/") for key in boards), path


def test_cache_savings_use_the_price_table():
    expr = _panel("cost", "cache_savings")["targets"][0]["expr"]
    discounted = [p for p in SETTINGS.pricing.models if p.input > p.cached_input]
    assert expr.count(" or ") == len(discounted) - 1
    gpt4o = next(p for p in discounted if p.model == "gpt-4o")
    assert f"[$__rate_interval])) * {(gpt4o.input - gpt4o.cached_input) * 3600 / 1e6:.10g}" in expr
    # A model without a cache discount saves nothing and is left out.
    assert all(p.model.replace("-", "\\\\-") not in expr for p in SETTINGS.pricing.models if p not in discounted)


# -- the pull-request diff against the base branch -------------------------------------------------

def test_diff_shows_a_legend_change():
    new = copy.deepcopy(BOARDS)
    errors = next(p for p in new["overview"]["panels"] if p["id"] == dashboards.helpers.panel_id("overview", "errors"))
    errors["targets"][0]["legendFormat"] = "{{error_type}}"
    lines = review.diff(BOARDS, new)
    assert lines == ["overview/Error ratio by error type and provider: legends: "
                     "['{{gen_ai_provider_name}} {{error_type}}'] -> ['{{error_type}}']"]


def test_diff_shows_variables_layout_and_links():
    new = copy.deepcopy(BOARDS)
    new["cost"]["templating"]["list"] = [v for v in new["cost"]["templating"]["list"] if v["name"] != "tenant"]
    new["rag"]["panels"][0]["gridPos"]["w"] = 6
    new["overview"]["links"][0]["title"] = "Other dashboards"
    lines = review.diff(BOARDS, new)
    assert "cost: - variable $tenant" in lines
    assert any(line.startswith("rag/") and "layout" in line and "'w': 6" in line for line in lines)
    assert any(line.startswith("overview: links:") and "Other dashboards" in line for line in lines)


def test_diff_shows_an_alert_threshold_change():
    import alerts
    base = alerts.render(SETTINGS)[alerts.RULES_FILE]
    pr = alerts.render(validate({**REFERENCE_CONFIG, "alerts": {"provider_error_ratio": 0.1}}))[alerts.RULES_FILE]
    lines = review.rules_diff(base, pr)
    assert [line.split(":")[0] + ":" + line.split(":")[1] for line in lines] == [
        "alert LlmProviderErrorRateHigh (critical): expr", "alert LlmProviderErrorRateHigh (critical): annotations.description"]
    assert "> 0.05" in lines[0] and "> 0.1" in lines[0] and "(threshold 5%)" in lines[1] and "(threshold 10%)" in lines[1]


def test_diff_shows_for_labels_and_added_alerts():
    text = review.fresh_rules()
    doc = yaml.safe_load(text)
    rule = doc["groups"][0]["rules"][0]
    rule["for"], rule["labels"]["team"] = "1h", "someone-else"
    removed = doc["groups"][-1]["rules"].pop()
    lines = review.rules_diff(text, yaml.safe_dump(doc))
    name = f"{rule['alert']} ({rule['labels']['severity']})"
    assert f"alert {name}: for: '10m' -> '1h'" in lines
    assert f"alert {name}: labels.team: 'llm-platform' -> 'someone-else'" in lines
    assert f"- alert {removed['alert']} ({removed['labels']['severity']})" in lines
    added = review.rules_diff(yaml.safe_dump(doc), text)
    assert f"+ alert {removed['alert']} ({removed['labels']['severity']}): {removed['expr']} for {removed['for']}" in added


def test_diff_names_an_added_and_a_removed_panel():
    old = copy.deepcopy(BOARDS)
    gone = old["rag"]["panels"].pop(0)
    assert review.diff(old, BOARDS) == [f"rag: + panel {gone['title']!r}"]
    assert review.diff(BOARDS, old) == [f"rag: - panel {gone['title']!r}"]


def test_a_base_that_is_not_there_is_named_with_how_to_fetch_it():
    with pytest.raises(SystemExit) as caught:
        review.merge_base("no-such-branch-4f1c")
    assert str(caught.value).startswith("git merge-base no-such-branch-4f1c HEAD failed: ")
    assert str(caught.value).endswith(" (fetch the base branch: actions/checkout with fetch-depth: 0)")


def test_an_unchanged_pr_shows_no_change_against_its_base():
    """The committed files at HEAD (read back with `git show`, as for a base branch) against a fresh render."""
    boards, rules = review.at_ref("HEAD")
    assert review.diff(boards, review.fresh()) == [] and review.rules_diff(rules, review.fresh_rules()) == []
    assert review.report(boards, rules, review.fresh(), review.fresh_rules()) == [
        "### Dashboards", "no change", "", "### Alert rules", "no change"]


def test_committed_alert_rules_are_current():
    assert review.committed_rules() == review.fresh_rules(), "stale: run `python -m stackctl dashboards render`"


# -- the three panels issue 29 found wrong ----------------------------------------------------------

def test_flagged_answers_count_true_only_for_fault_detectors():
    expr = _panel("quality", "flags")["targets"][0]["expr"]
    assert 'gen_ai_evaluation_score_label=~"hallucinated|toxic|fail|failed|unsafe"' in expr
    assert 'gen_ai_evaluation_name=~"hallucination|toxicity", gen_ai_evaluation_score_label="true"' in expr
    assert '|true"' not in expr and '"true|' not in expr   # never `true` for every evaluation


def test_backends_up_is_red_at_zero():
    steps = _panel("pipeline", "up")["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps == [{"color": "red", "value": None}, {"color": "green", "value": 1}]


def test_index_versions_count_retrievals_not_documents():
    expr = _panel("rag", "index_versions")["targets"][0]["expr"]
    assert expr == ("sum by (llmobs_retrieval_index, llmobs_retrieval_index_version) "
                    '(rate(llm_retrieval_documents_count{deployment_environment_name=~"$environment"}[$__rate_interval]))')


def test_every_dashboard_but_pipeline_runbooks_and_audit_has_the_environment_filter():
    """The pipeline's series (the collector's, the backends'), the runbooks and the debug store's audit
    (Grafana's own traces and the counter made of them) carry no environment."""
    for slug, board in BOARDS.items():
        names = {v["name"] for v in board["templating"]["list"]}
        assert ("environment" in names) == (slug not in ("pipeline", "runbooks", "audit")), slug


def test_lint_finds_a_query_that_ignores_a_declared_variable():
    def drop_env(boards):
        panel = _first(boards)   # overview's first panel reads llm_requests_total, which carries the environment
        panel["targets"][0]["expr"] = panel["targets"][0]["expr"].replace(', deployment_environment_name=~"$environment"', "")
    problems = lint.variables_applied(_bad(drop_env))
    assert problems == ["overview/Request rate by model/A: llm_requests_total carries deployment_environment_name "
                        "but ignores $environment"], problems
    assert lint.variables_applied(BOARDS) == []


def test_finance_panels_month_to_date_budget_and_forecast():
    for key, label in (("mtd_by_tenant", "llmobs_tenant_bounded"), ("mtd_by_feature", "llmobs_feature_bounded"),
                       ("mtd_by_model", "gen_ai_request_model"), ("mtd_by_provider", "gen_ai_provider_name")):
        panel = _panel("cost", key)
        assert panel["timeFrom"] == "now/M"
        assert panel["targets"][0]["expr"].startswith(f"sum by ({label}) (increase(llm_cost_total{{")
        assert "[$__range]" in panel["targets"][0]["expr"]
    forecast = _panel("cost", "month_end")["targets"][0]["expr"]
    assert 'tenant:llm_cost:rate1h' not in forecast and 'llmobs_tenant_bounded=~"$tenant"' in forecast
    ratio = _panel("cost", "budget_vs_actual")["targets"][0]["expr"]
    assert f"/ ({SETTINGS.alerts.monthly_cost_budget_usd:g} * (day_of_month() - 1" in ratio


def test_diff_shows_a_keep_firing_for_change():
    doc = yaml.safe_load(review.fresh_rules())
    rule = doc["groups"][0]["rules"][0]
    old = rule.get("keep_firing_for")
    rule["keep_firing_for"] = "47m"
    lines = review.rules_diff(review.fresh_rules(), yaml.safe_dump(doc))
    assert lines == [f"alert {rule['alert']} ({rule['labels']['severity']}): keep_firing_for: {old!r} -> '47m'"]
