"""End to end on 127.0.0.1: loadgen -> `stackctl up-local` (the real gateway, Prometheus,
Alertmanager, Jaeger; logs to the file sink). One stack for the whole module.

Every run sends under its own service.name, which Prometheus stores as `job`, so
scenarios are compared with the baseline inside one stack. Tolerances: request, token
and event counts must match what loadgen reports exactly; cost within 1e-6 relative
(float sums in a different order).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from loadgen import flavors, run, scenarios
from telemetry import keys as k
from telemetry.catalog import BY_NAME, CATALOG
from telemetry.detectors import DETECTORS
from up_local_run import (Prom, UpLocal, get_json, install_binaries, leftovers, listening, stack_file_for_tests,
                          wait_for)

SEED = 21
RATE, DURATION = 250.0, 1.2       # 300 requests per run
P = {name: m.prometheus for name, m in BY_NAME.items()}
RUNS = ["baseline"] + [s for s in scenarios.SCENARIOS if s != "baseline"] + \
       [f"flavor-{f}" for f in flavors.FLAVORS if f != flavors.CANONICAL]
REPORT: dict = {}


def label(key: str) -> str:
    return key.replace(".", "_")


def sel(job: str, **labels: str) -> str:
    parts = [f'job="{job}"'] + [f'{label(key)}=~"{value}"' for key, value in labels.items()]
    return "{" + ",".join(parts) + "}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    install_binaries()
    tmp = tmp_path_factory.mktemp("uplocal")
    up = UpLocal(stack_file_for_tests(tmp), tmp / "work")
    REPORT["ready_s"] = up.endpoints["ready_s"]
    REPORT["wall_ready_s"] = round(up.wall_ready_s, 2)
    yield up
    up.stop()


@pytest.fixture(scope="module")
def sent(stack):
    """Every run, sent once; then wait until Prometheus holds all of it."""
    ep = stack.endpoints
    out = {}
    for name in RUNS:
        scenario, flavor = ("baseline", name.split("-", 1)[1]) if name.startswith("flavor-") else (name, "canonical")
        out[name] = run(f"http://{ep['otlp_grpc']}", scenario=scenario, flavor=flavor, seed=SEED, rate=RATE,
                        duration=DURATION, token=ep["ingest_token"], service=f"llm-app-{name}").to_dict()
        assert out[name]["spans_failed"] == 0 and out[name]["logs_failed"] == 0, out[name]
    prom = Prom(ep["prometheus"])
    for name, summary in out.items():
        job = f"llm-app-{name}"
        wait_for(lambda: prom.value(f"sum({P['llm.requests']}{sel(job)})") == summary["llm_calls"], timeout=90)
        wait_for(lambda: prom.value(f"sum({P['llm.eval.score.events']}_count{sel(job)})")
                 == sum(summary["evals"].values()), timeout=60)
        wait_for(lambda: prom.value(f"sum(http_server_request_duration_seconds_count{sel(job)})")
                 == summary["requests"], timeout=60)
    return out


@pytest.fixture(scope="module")
def prom(stack):
    return Prom(stack.endpoints["prometheus"])


def test_endpoints_and_unavailable_backends(stack):
    ep = stack.endpoints
    assert ep["status"] == "ready" and ep["ready_s"] > 0
    for key in ("otlp_grpc", "jaeger_otlp_grpc"):
        assert ep[key].startswith("127.0.0.1:") and listening(ep[key])
    for key in ("prometheus", "alertmanager", "jaeger_query", "otlp_http"):
        assert ep[key].startswith("http://127.0.0.1:")
    assert set(ep["not_running"]) >= {"loki", "grafana"}
    assert "Loki cannot run" in stack.stderr_text()
    assert ep["ingest_token"]  # the dev stack requires ingest auth
    rules = get_json(f"{ep['prometheus']}/api/v1/rules")["data"]["groups"]
    assert rules, "the rendered rules are loaded"
    # Discovery of static targets and alertmanagers completes shortly after Prometheus is ready.
    jobs = wait_for(lambda: {t["labels"]["job"] for t in get_json(f"{ep['prometheus']}/api/v1/targets")
                             ["data"]["activeTargets"]}, timeout=30)
    assert jobs == {"collector", "prometheus", "alertmanager", "jaeger"}
    ams = wait_for(lambda: get_json(f"{ep['prometheus']}/api/v1/alertmanagers")["data"]["activeAlertmanagers"],
                   timeout=30)
    assert ams and ep["alertmanager"].split("//")[1] in ams[0]["url"]
    assert get_json(f"{ep['alertmanager']}/api/v2/status")["cluster"]["status"] in ("disabled", "ready")


def test_unauthenticated_ingest_is_rejected(stack):
    summary = run(f"http://{stack.endpoints['otlp_grpc']}", rate=1000, duration=0.005, seed=1, token="wrong",
                  service="llm-app-intruder").to_dict()
    assert summary["spans_exported"] == 0 and summary["spans_failed"] == summary["spans"]


def test_baseline_metrics_match_what_was_sent(sent, prom):
    s, job = sent["baseline"], "llm-app-baseline"
    total = lambda name, **lb: prom.value(f"sum({name}{sel(job, **lb)})")  # noqa: E731
    assert total(P["llm.requests"]) == s["llm_calls"]
    assert total(P["llm.errors"]) == sum(s["llm_errors"].values())
    assert total(P["llm.tokens.input"]) == s["input_tokens"]
    assert total(P["llm.tokens.output"]) == s["output_tokens"]
    assert total(P["llm.tokens.cached_input"]) == s["cached_input_tokens"]
    assert total(P["llm.cost"]) == pytest.approx(s["cost_usd"], rel=1e-6)
    assert total(P["llm.unpriced.requests"]) == s["unpriced_calls"]
    assert total(P["llm.tool.calls"]) == sum(s["tool_calls"].values())
    assert total(P["llm.retrieval.documents"] + "_count") == s["retrievals"]
    assert total(P["llm.retrieval.documents"] + "_sum") == s["retrieved_documents"]
    assert total(P["gen_ai.client.operation.duration"] + "_count") == s["llm_calls"]
    assert total(P["llm.time_to_first_token"] + "_count") == s["streaming_calls"]
    assert (total(P["llm.safety.blocks"]) or 0) == s["safety_blocks"]
    assert total(P["llm.feedback"]) == sum(s["feedback"].values())
    for name, count in s["evals"].items():
        assert total(P["llm.eval.score"] + "_count", **{k.EVAL_NAME: name}) == count
        assert total(P["llm.eval.score.events"] + "_count", **{k.EVAL_NAME: name}) == count
    # Per-tenant cost, with the long tail folded into `other` by the label bound.
    by_tenant = {r["metric"][label(k.TENANT_LABEL)]: float(r["value"][1]) for r in prom.query(
        f"sum by ({label(k.TENANT_LABEL)}) ({P['llm.cost']}{sel(job)})")}
    expected = {}
    for tenant, cost in s["cost_by_tenant"].items():
        key = "other" if tenant.startswith("smallco-") else tenant
        expected[key] = expected.get(key, 0.0) + cost
    assert by_tenant.keys() == expected.keys()
    for tenant in expected:
        assert by_tenant[tenant] == pytest.approx(expected[tenant], rel=1e-6)
    REPORT["baseline"] = {"requests": s["requests"], "llm_calls": s["llm_calls"], "cost_usd": s["cost_usd"]}


def test_every_catalog_metric_baseline_produces_is_present(sent, prom):
    # Redaction counters only move when something is redacted (see the secret scenario).
    # Invalid-value counters only move on bad input (tests/test_bad_input.py).
    # Baseline traffic has no fallback and no truncated response (fallback_storm, context_saturation do:
    # tests/test_contract.py). The content guard only fires on free text under unknown keys
    # (tests/test_content_instrumentations.py).
    expected_absent = {"llm.redacted.spans", "llm.redacted.logs", "llm.invalid.values", "llm.invalid.values.logs",
                       "llm.fallbacks", "llm.truncated", "llm.content.guarded", "llm.content.guarded.logs"}
    for metric in CATALOG:
        name = metric.prometheus + ("_count" if metric.kind == "histogram" else "")
        value = prom.value(f"sum({name}{sel('llm-app-baseline')})")
        if metric.name in expected_absent:
            assert value is None, metric.name
        else:
            assert value and value > 0, metric.name
    # Plausible values: latencies in seconds, not nanoseconds; scores within [0, 1].
    p50 = prom.value(f"histogram_quantile(0.5, sum by (le) ({P['gen_ai.client.operation.duration']}_bucket"
                     f"{sel('llm-app-baseline')}))")
    assert 0.05 < p50 < 30
    mean_score = prom.value(f"sum({P['llm.eval.score.events']}_sum{sel('llm-app-baseline')}) / "
                            f"sum({P['llm.eval.score.events']}_count{sel('llm-app-baseline')})")
    assert 0 < mean_score < 1


def _measure(prom: Prom, job: str) -> dict:
    def v(expr: str) -> float:
        value = prom.value(expr)
        return 0.0 if value is None else value

    def total(name: str, **labels: str) -> float:
        return v(f"sum({name}{sel(job, **labels)})")

    def p95(name: str) -> float:
        return v(f"histogram_quantile(0.95, sum by (le) ({name}_bucket{sel(job)}))")

    def mean(name: str, **labels: str) -> float:
        return total(name + "_sum", **labels) / max(total(name + "_count", **labels), 1)

    requests = total("http_server_request_duration_seconds_count")
    llm = total(P["llm.requests"])
    return {
        "error_ratio": total(P["llm.errors"]) / llm,
        "rate_limited_ratio": total(P["llm.errors"], **{k.ERROR_TYPE: "rate_limited"}) / llm,
        "llm_calls_per_request": llm / requests,
        "p95_duration_s": p95(P["gen_ai.client.operation.duration"]),
        "p95_ttft_s": p95(P["llm.time_to_first_token"]),
        "input_tokens_per_request": total(P["llm.tokens.input"]) / requests,
        "umbrella_cost_share": total(P["llm.cost"], **{k.TENANT_LABEL: "umbrella"}) / total(P["llm.cost"]),
        "faithfulness": mean(P["llm.eval.score.events"], **{k.EVAL_NAME: "faithfulness"}),
        "answer_relevance": mean(P["llm.eval.score.events"], **{k.EVAL_NAME: "answer_relevance"}),
        "context_recall": mean(P["llm.eval.score.events"], **{k.EVAL_NAME: "context_recall"}),
        "thumbs_down_share": total(P["llm.feedback"], **{k.FEEDBACK: "down"}) / max(total(P["llm.feedback"]), 1),
        "tool_calls_per_request": total(P["llm.tool.calls"]) / requests,
        "denied_tools_per_request": total(P["llm.tool.calls"], **{k.TOOL_OUTCOME: "denied"}) / requests,
        "safety_blocks_per_request": total(P["llm.safety.blocks"]) / requests,
        "fallback_share": total(P["llm.requests"], **{k.REQUEST_MODEL: "|".join(scenarios.FALLBACK_MODELS)}) / llm,
        "empty_retrieval_share": total(P["llm.retrieval.documents"] + "_bucket", le="0(\\\\.0)?")
        / max(total(P["llm.retrieval.documents"] + "_count"), 1),
        "redacted_spans": total(P["llm.redacted.spans"]),
        "redacted_logs": total(P["llm.redacted.logs"]),
    }


# scenario -> (measure, minimum factor vs baseline or None, absolute floor/ceiling check)
CLAIMS = {
    "provider_errors": ("error_ratio", 5.0, lambda s: s >= 0.15),
    "rate_limited": ("rate_limited_ratio", None, lambda s: s >= 0.10),
    "latency_regression": ("p95_duration_s", 2.0, None),
    "ttft_regression": ("p95_ttft_s", 2.0, None),
    "prompt_bloat": ("input_tokens_per_request", 1.5, None),
    "tenant_cost_spike": ("umbrella_cost_share", 5.0, None),
    "quality_drop": ("faithfulness", None, "drop>=0.2"),
    "context_recall_drop": ("context_recall", None, "drop>=0.25"),
    "tool_loop_runaway": ("tool_calls_per_request", 3.0, None),
    "dangerous_tool_denied_spike": ("denied_tools_per_request", 5.0, lambda s: s >= 0.03),
    "safety_block_spike": ("safety_blocks_per_request", 5.0, None),
    "fallback_storm": ("fallback_share", 5.0, lambda s: s >= 0.25),
    "retrieval_empty": ("empty_retrieval_share", None, lambda s: s >= 0.5),
    "context_saturation": ("input_tokens_per_request", 5.0, None),
    "secret_leak_attempts": ("redacted_spans", None, lambda s: s > 0),
}


@pytest.mark.parametrize("scenario", list(CLAIMS))
def test_scenario_moves_its_signal(sent, prom, scenario):
    base = _measure(prom, "llm-app-baseline")
    got = _measure(prom, f"llm-app-{scenario}")
    measure, factor, check = CLAIMS[scenario]
    b, s = base[measure], got[measure]
    REPORT.setdefault("scenarios", {})[scenario] = {"measure": measure, "baseline": round(b, 4), "scenario": round(s, 4)}
    if factor is not None:
        assert s >= factor * b and s > 0, (measure, b, s)
    if check == "drop>=0.2":
        assert b - s >= 0.2, (measure, b, s)
    elif check == "drop>=0.25":
        assert b - s >= 0.25, (measure, b, s)
    elif check is not None:
        assert check(s), (measure, b, s)
    if scenario == "quality_drop":
        assert got["answer_relevance"] <= base["answer_relevance"] - 0.2
        assert got["thumbs_down_share"] > base["thumbs_down_share"]
    if scenario == "rate_limited":
        assert got["llm_calls_per_request"] > base["llm_calls_per_request"]  # retries
    if scenario == "secret_leak_attempts":
        assert got["redacted_logs"] > 0 and base["redacted_spans"] == base["redacted_logs"] == 0


def _series(prom: Prom, job: str) -> dict:
    """Every derived llm_/gen_ai_ series of a run, keyed without the job label."""
    out = {}
    for metric in CATALOG:
        names = [metric.prometheus] if metric.kind == "counter" else [metric.prometheus + s for s in ("_sum", "_count")]
        for name in names:
            for r in prom.query(f"{name}{sel(job)}"):
                labels = tuple(sorted((key, value) for key, value in r["metric"].items()
                                      if key not in ("job", "instance", "service_name")))
                out[labels] = float(r["value"][1])
    return out


@pytest.mark.parametrize("flavor", [f for f in flavors.FLAVORS if f != flavors.CANONICAL])
def test_each_flavor_produces_the_same_canonical_metrics(sent, prom, flavor):
    canonical = _series(prom, "llm-app-baseline")
    flavored = _series(prom, f"llm-app-flavor-{flavor}")
    assert canonical.keys() == flavored.keys(), set(canonical) ^ set(flavored)
    for key, value in canonical.items():
        assert flavored[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def _jaeger_trace(stack, trace_id: str) -> dict:
    data = get_json(f"{stack.endpoints['jaeger_query']}/api/traces/{trace_id}")
    return data["data"][0]


def _tags(span: dict) -> dict:
    return {t["key"]: t["value"] for t in span["tags"]}


@pytest.mark.parametrize("run_name", ["baseline", "flavor-openinference", "flavor-openllmetry", "flavor-openlit"])
def test_jaeger_returns_sampled_traces_with_canonical_attributes(stack, sent, run_name):
    s = sent[run_name]
    for trace_id in s["trace_ids"][:5]:   # LLM traces are always kept (llm_keep_fraction 1.0)
        trace = wait_for(lambda: _jaeger_trace(stack, trace_id), timeout=30)
        llm = [_tags(sp) for sp in trace["spans"] if _tags(sp).get(k.OPERATION) in k.LLM_OPERATIONS]
        if not llm:   # a request blocked by the input safety check: kept by the safety policy
            assert any(_tags(sp).get(k.SAFETY_BLOCKED) is True for sp in trace["spans"])
            continue
        for tags in llm:
            assert tags[k.PROVIDER] and tags[k.REQUEST_MODEL]
            assert k.COST in tags or tags.get(k.UNPRICED) is True   # set by the gateway
            assert not {"llm.provider", "gen_ai.system", "llm.request.model", "llm.token_count.prompt"} & set(tags)
            assert not any(key.startswith(("gen_ai.prompt.", "llm.input_messages.")) for key in tags)


def test_no_secret_reaches_a_backend(stack, sent, prom):
    s = sent["secret_leak_attempts"]
    secrets = s["secret_values"]
    # A secret of every kind was sent (the by-key detectors redact whole values under credential
    # keys: loadgen sends those keys with values of the other kinds).
    assert set(s["secrets"]) == {d.name for d in DETECTORS if not d.by_key} and secrets
    leaks = []
    strings = prom.all_strings()
    leaks += [(secret, "prometheus") for secret in secrets if any(secret in text for text in strings)]
    for trace_id in s["secret_trace_ids"]:
        text = json.dumps(wait_for(lambda: _jaeger_trace(stack, trace_id), timeout=30))
        leaks += [(secret, f"jaeger {trace_id}") for secret in secrets if secret in text]
    logs = wait_for(lambda: _logs_text(stack, s), timeout=30)
    leaks += [(secret, "logs file") for secret in secrets if secret in logs]
    assert not leaks
    # The sink did get the leaky runs' logs, redacted.
    assert "[REDACTED:" in logs


def _logs_text(stack, summary) -> str:
    with open(stack.endpoints["logs_file"]) as f:
        text = f.read()
    # Every log of the secret run has arrived (each line is one OTLP JSON export batch).
    records = sum(1 for line in text.splitlines()
                  for rl in json.loads(line).get("resourceLogs", [])
                  if any(a["key"] == k.SERVICE_NAME and a["value"].get("stringValue") == summary["service"]
                         for a in rl["resource"]["attributes"])
                  for sl in rl["scopeLogs"] for _ in sl["logRecords"])
    return text if records >= summary["logs"] else ""


def test_loadgen_cli_over_otlp_http(stack, prom):
    ep = stack.endpoints
    out = subprocess.run([sys.executable, "-m", "stackctl", "loadgen", "--endpoint", ep["otlp_http"], "--protocol",
                          "http", "--rate", "200", "--duration", "0.25", "--seed", "4", "--service", "llm-app-cli",
                          "--scenario", "prompt_bloat", "--after", "0.1", "--json"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "LLMOBS_INGEST_TOKEN": ep["ingest_token"]})
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["spans_exported"] == summary["spans"] and summary["logs_exported"] == summary["logs"]
    assert summary["phases"] == {"baseline": 20, "scenario": 30}
    assert "loadgen: 50/50 requests" in out.stderr   # the progress line
    wait_for(lambda: prom.value(f"sum({P['llm.requests']}{sel('llm-app-cli')})") == summary["llm_calls"])


GRAFANA_ABSENT = "Grafana cannot run here, so nothing calls the debug store and the audit counter does not exist"
# Dashboard panels whose queries cannot return data on up-local with loadgen, and why.
# panel -> (why, whether it is always empty here; if not, data depends on what other tests did)
NO_LOCAL_DATA = {
    "pipeline/Export failures by exporter": ("the send-failed counters appear only after a failed export; they "
                                             "exist here only if an earlier test made an export fail", False),
    "cost/Spend, the 24h before": ("a stack minutes old has no data from a day ago (offset 1d)", True),
    "overview/Calls now and a day earlier": ("its day-earlier target: a stack minutes old has no data from a day "
                                             "ago (offset 1d); the current one has data", False),
    # The baselines the alerts compare with (issue 29: the linked panel draws what the alert evaluates).
    "cost/Tenant share of spend vs its 7-day average": ("its 7-day baseline is a subquery at 1h steps over a "
                                                        "recording rule a stack minutes old has no hourly point of; "
                                                        "the share itself has data", False),
    "pipeline/Redacted records by service": ("its baseline is the 1h rate an hour ago (offset 1h); the rates "
                                             "themselves have data", False),
    "slo/Failed share of user requests by alert window": ("counts user requests whose outcome is error; the "
                                                          "baseline scenario may send none", False),
    "pipeline/Remote write failures": ("up-local configures no remote write, so Prometheus has no remote-write "
                                       "counters", True),
    "pipeline/Logs and spans refused by Loki and Tempo": ("Loki and Tempo cannot run here", True),
    # The debug store's access audit counts Grafana's own calls (collector_config/audit.py; the counter is
    # checked against the real gateway in tests/test_debug_audit.py).
    "audit/Logins outside the allowlist that queried the debug store": (GRAFANA_ABSENT, True),
    "audit/Every call to the debug store, by login and endpoint": (GRAFANA_ABSENT, True),
}
# Template variables whose metric has no series here, for the same reasons.
NO_LOCAL_VARIABLES = {"label_values(llm_debug_store_accesses_total, user)": GRAFANA_ABSENT}
DASHBOARD_RUN_S = 20.0   # several remote-write flushes, so every counter has enough samples for rate()


def _panel_query(expr: str) -> str:
    """A dashboard query as Prometheus sees it, over a window that covers the test's runs."""
    for macro in ("$__rate_interval", "$__range", "$__interval"):
        expr = expr.replace(macro, "15m")
    return re.sub(r"\$\{?(\w+)\}?", ".*", expr)


def test_every_dashboard_query_returns_data(stack, sent, prom):
    """Every PromQL target of every panel returns a series from the real Prometheus after a
    baseline run (plus the scenario runs above); LogQL/TraceQL are checked by the grammars
    (tests/test_dashboards.py), Loki and Tempo cannot run here."""
    from dashboards import lint, review
    ep = stack.endpoints
    run(f"http://{ep['otlp_grpc']}", scenario="baseline", seed=SEED + 1, rate=20.0, duration=DASHBOARD_RUN_S,
        token=ep["ingest_token"], service="llm-app-dashboards")
    prom_queries, _ = lint.queries(review.fresh())
    panel = {where: where.rsplit("/", 1)[0] for where, _ in prom_queries}
    wait_for(lambda: prom.query(_panel_query('sum(rate(llm_requests_total{job="llm-app-dashboards"}[$__rate_interval]))')),
             timeout=60)
    # Recording rules (e.g. the hourly active-user estimates) fill on their own interval: wait for
    # each query, with a deadline, rather than asking once.
    pending = {where: expr for where, expr in prom_queries if panel[where] not in NO_LOCAL_DATA}
    deadline = time.monotonic() + 180
    while pending and time.monotonic() < deadline:
        pending = {w: e for w, e in pending.items() if not prom.query(_panel_query(e))}
        if pending:
            time.sleep(5)
    empty = [f"{where}: {expr}" for where, expr in pending.items()]
    unexpectedly_full = [where for where, expr in prom_queries
                         if NO_LOCAL_DATA.get(panel[where], ("", False))[1] and prom.query(_panel_query(expr))]
    REPORT["dashboards_checked"] = len(prom_queries)
    assert not empty, "\n".join(empty)
    assert not unexpectedly_full, f"listed in NO_LOCAL_DATA but has data now: {unexpectedly_full}"
    variables = {v["query"] for b in review.fresh().values() for v in b["templating"]["list"]
                 if v["type"] == "query"} - set(NO_LOCAL_VARIABLES)
    for q in variables:   # label_values(metric, label): the label has values
        metric, lbl = q[len("label_values("):-1].rsplit(", ", 1)
        values = {r["metric"].get(lbl) for r in prom.query(_panel_query(metric))}
        assert values - {None}, q


def test_shutdown_leaves_nothing(stack):
    assert stack.stop() == 0, stack.stderr_text()[-3000:]
    assert "stopping" in stack.stderr_text()
    REPORT["stop"] = [line for line in stack.stderr_text().splitlines() if "stopped in" in line]
    assert leftovers(stack.endpoints, stack.workdir) == []
    print("\nUP-LOCAL REPORT " + json.dumps(REPORT, sort_keys=True))

