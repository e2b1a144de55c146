"""The synthetic LLM application without a collector: determinism, flavors, secrets, scenarios, summary."""
from __future__ import annotations

import random
import re
import subprocess
import sys

import pytest
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from conftest import ROOT
from loadgen import flavors, run, scenarios, secrets
from loadgen.app import Planner, Tally
from loadgen.pricing import Pricer
from loadgen.world import X
from telemetry import aliases, keys as k
from telemetry.detectors import DETECTORS


class NullMetrics(MetricExporter):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def export(self, metrics_data, timeout_millis: float = 10_000, **kwargs):
        self.batches += 1
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs) -> None:
        pass


def send(scenario="baseline", flavor="canonical", seed=5, requests=120, after=None):
    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
    # A high rate: pacing sleeps never trigger, the run takes as long as the SDK needs.
    summary = run(scenario=scenario, flavor=flavor, seed=seed, rate=10_000, duration=requests / 10_000,
                  after=after, exporters=(spans, logs, NullMetrics()))
    return summary, spans.get_finished_spans(), logs.get_finished_logs()


def plan_stats(scenario: str, n: int = 400, seed: int = 11) -> dict:
    """Per-request means from plans alone (no SDK): fast enough to check every scenario."""
    planner = Planner(seed, scenarios.get(scenario), Pricer.from_settings(),
                      secrets.samples(random.Random(seed)))
    llm = tools = denied = blocks = inp = retr = empty = 0
    by_model: dict = {}
    evals: dict = {}
    ttft: list = []
    durations: list = []
    total = Tally()
    leaks = 0
    for i in range(n):
        root, tally = planner.plan(i)
        total.add(tally)
        leaks += X.DEBUG_RAW_PROMPT in root.attrs
        for span in root.walk():
            a = span.attrs
            if a.get(k.OPERATION) in k.LLM_OPERATIONS:
                llm += 1
                by_model[a[k.REQUEST_MODEL]] = by_model.get(a[k.REQUEST_MODEL], 0) + 1
                inp += a.get(k.INPUT_TOKENS, 0)
                durations.append(span.end - span.start)
                if k.TTFT in a:
                    ttft.append(a[k.TTFT])
            tools += a.get(k.OPERATION) == k.TOOL_OPERATION
            denied += a.get(k.TOOL_OUTCOME) == "denied"
            blocks += a.get(k.SAFETY_BLOCKED) is True
            if a.get(k.OPERATION) == k.RETRIEVAL_OPERATION:
                retr += 1
                empty += a[k.RETRIEVAL_RETURNED] == 0
            if k.EVAL_NAME in a:
                evals.setdefault(a[k.EVAL_NAME], []).append(a[k.EVAL_SCORE])
    p95 = lambda xs: sorted(xs)[int(0.95 * len(xs))]  # noqa: E731
    return {"llm_per_req": llm / n, "input_per_req": inp / n, "tools_per_req": tools / n, "denied_per_req": denied / n,
            "blocks_per_req": blocks / n, "empty_share": empty / max(retr, 1), "p95_duration": p95(durations),
            "p95_ttft": p95(ttft), "by_model": by_model, "llm": llm,
            "eval_means": {name: sum(v) / len(v) for name, v in evals.items()},
            "error_share": sum(total.llm_errors.values()) / llm, "rate_limited_share": total.llm_errors["rate_limited"] / llm,
            "umbrella_cost_share": total.cost_by_tenant["umbrella"] / total.cost_usd,
            "leak_share": leaks / n, "secret_kinds": set(total.secrets)}


def test_same_seed_same_telemetry():
    def fingerprint(spans, logs):
        return ([(s.name, s.context.trace_id, s.context.span_id, s.end_time - s.start_time, dict(s.attributes),
                  s.status.status_code) for s in spans],
                [(dict(r.log_record.attributes), r.log_record.event_name, r.log_record.body) for r in logs])

    a = send(seed=9, requests=40)
    b = send(seed=9, requests=40)
    c = send(seed=10, requests=40)
    assert fingerprint(*a[1:]) == fingerprint(*b[1:])
    assert fingerprint(*a[1:]) != fingerprint(*c[1:])
    assert a[0].to_dict()["cost_usd"] == b[0].to_dict()["cost_usd"]


def test_summary_counts_what_was_sent():
    summary, spans, logs = send(requests=150)
    s = summary.to_dict()
    llm = [sp for sp in spans if sp.attributes.get(k.OPERATION) in k.LLM_OPERATIONS]
    assert s["requests"] == 150 == len({sp.context.trace_id for sp in spans})
    assert s["spans"] == len(spans) == s["spans_exported"] and s["spans_failed"] == 0
    assert s["logs"] == len(logs) == s["logs_exported"]
    assert s["llm_calls"] == len(llm)
    assert s["input_tokens"] == sum(sp.attributes.get(k.INPUT_TOKENS, 0) for sp in llm)
    assert s["output_tokens"] == sum(sp.attributes.get(k.OUTPUT_TOKENS, 0) for sp in llm)
    assert s["cached_input_tokens"] == sum(sp.attributes.get(k.CACHED_INPUT_TOKENS, 0) for sp in llm)
    assert sum(s["llm_errors"].values()) == sum(1 for sp in llm if not sp.status.is_ok)
    pricer = Pricer.from_settings()
    expected = sum(pricer.cost(sp.attributes[k.RESPONSE_MODEL], sp.attributes[k.INPUT_TOKENS],
                               sp.attributes.get(k.OUTPUT_TOKENS, 0), sp.attributes.get(k.CACHED_INPUT_TOKENS, 0)) or 0
                   for sp in llm if k.RESPONSE_MODEL in sp.attributes)
    assert abs(s["cost_usd"] - expected) < 1e-6
    assert s["unpriced_calls"] > 0 and s["cost_usd"] > 0
    assert set(s["evals"]) == {"faithfulness", "answer_relevance", "context_recall", "hallucination"}
    assert sum(s["feedback"].values()) == sum(1 for r in logs if k.FEEDBACK in r.log_record.attributes)
    assert len(s["trace_ids"]) == 150
    assert "150 requests" in summary.text() and "$" in summary.text()


def test_trace_shape():
    _, spans, logs = send(requests=200)
    by_trace: dict = {}
    for sp in spans:
        by_trace.setdefault(sp.context.trace_id, []).append(sp)
    names = {re.sub(r" .*", "", sp.name) for sp in spans}
    assert {"POST", "safety_check", "prompt.render", "chat", "embeddings", "retrieval", "vector_search",
            "bm25_search", "rerank", "execute_tool", "evaluate"} <= names
    for trace in by_trace.values():
        roots = [sp for sp in trace if sp.parent is None]
        assert len(roots) == 1 and roots[0].attributes[k.TENANT] and roots[0].attributes[k.FEATURE]
        for sp in trace:
            assert sp.start_time <= sp.end_time
    streamed = [sp for sp in spans if k.TTFT in sp.attributes]
    assert streamed and all(0 < sp.attributes[k.TTFT] * 1e9 < sp.end_time - sp.start_time for sp in streamed)
    # Eval results and feedback are log events in their request's trace.
    trace_ids = set(by_trace)
    events = [r.log_record for r in logs if r.log_record.event_name]
    assert {e.event_name for e in events} == {"gen_ai.evaluation.result", "llmobs.user_feedback"}
    assert all(e.trace_id in trace_ids and e.span_id for e in events)
    tenants = {sp.attributes[k.TENANT] for sp in spans if sp.parent is None}
    assert {"acme", "globex", "initech", "umbrella"} <= tenants and any(t.startswith("smallco-") for t in tenants)
    models = {sp.attributes[k.REQUEST_MODEL] for sp in spans if k.REQUEST_MODEL in sp.attributes}
    assert len(models) >= 5
    assert {sp.attributes[k.PROMPT_VERSION] for sp in spans if sp.parent is None} >= {"support-chat-v7", "ops-agent-v5"}


@pytest.mark.parametrize("flavor", [f for f in flavors.FLAVORS if f != flavors.CANONICAL])
def test_flavor_normalizes_to_canonical(flavor):
    """Each flavor emits its library's alias keys, and normalizing them (the alias table's
    contract) gives back exactly the canonical attributes the metrics use."""
    _, canon, _ = send(requests=60)
    _, flavored, _ = send(flavor=flavor, requests=60)
    source = flavors.SOURCE[flavor]
    alias_keys = {a.key for a in aliases.ALIASES if source in a.sources}
    emitted = set()
    metric_keys = (k.OPERATION, k.PROVIDER, k.REQUEST_MODEL, k.INPUT_TOKENS, k.OUTPUT_TOKENS, k.CACHED_INPUT_TOKENS,
                   k.TTFT, k.TOOL_NAME, k.TOOL_OUTCOME, k.RETRIEVAL_RETURNED, k.SAFETY_BLOCKED, k.EVAL_NAME,
                   k.EVAL_SCORE, k.TENANT, k.FEATURE, k.ERROR_TYPE, k.RESPONSE_MODEL)
    assert len(canon) == len(flavored)
    for c, f in zip(canon, flavored):
        emitted |= set(f.attributes) & alias_keys
        normalized = flavors.normalize(dict(f.attributes))
        for key in metric_keys:
            assert normalized.get(key) == c.attributes.get(key), (flavor, c.name, key)
    # The flavor really speaks its library's dialect.
    assert len(emitted) >= 6, emitted
    assert k.PROVIDER not in {key for sp in flavored for key in sp.attributes}


def test_flavor_indexed_keys_and_values_are_in_the_alias_table():
    for name, table in flavors._INDEXED.items():
        for canonical, templates in table.items():
            for template in templates:
                key = template.format(i=3)
                hits = [ix for ix in aliases.INDEXED if re.fullmatch(ix.pattern, key)]
                assert hits and hits[0].canonical == canonical and flavors.SOURCE[name] in hits[0].sources, key
    for name, ops in flavors._OPERATIONS.items():
        for canonical, (key, value) in ops.items():
            assert flavors.normalize({key: value})[k.OPERATION] == canonical, (name, key, value)


def test_one_secret_per_detector():
    for seed in range(30):
        samples = secrets.samples(random.Random(seed))
        text_detectors = [d for d in DETECTORS if not d.by_key]
        assert [s.detector for s in samples] == [d.name for d in text_detectors]
        for sample, detector in zip(samples, text_detectors):
            match = re.search(detector.regex, sample.text)
            assert match and sample.sensitive in sample.text, sample
            # Everything sensitive is inside what the detector replaces.
            assert sample.sensitive not in re.sub(detector.regex, "", sample.text), sample


def test_secret_leak_attempts_leak_every_kind():
    summary, spans, logs = send("secret_leak_attempts", requests=200)
    s = summary.to_dict()
    assert set(s["secrets"]) == {d.name for d in DETECTORS if not d.by_key}
    leaked = set(s["secret_values"])
    debug = [sp.attributes[X.DEBUG_RAW_PROMPT] for sp in spans if X.DEBUG_RAW_PROMPT in sp.attributes]
    assert {v for v in leaked if any(v in text for text in debug)} == leaked
    assert any(r.log_record.body and any(v in str(r.log_record.body) for v in leaked) for r in logs)
    assert len(s["secret_trace_ids"]) == len(debug)


def test_baseline_has_no_secrets_and_no_pii():
    _, spans, logs = send(requests=150)
    texts = [str(v) for sp in spans for v in sp.attributes.values()]
    texts += [str(r.log_record.body) for r in logs] + [str(v) for r in logs for v in r.log_record.attributes.values()]
    for detector in DETECTORS:
        hits = [t for t in texts if re.search(detector.regex, t)]
        assert not hits, (detector.name, hits[:3])


BASE = None


def _base():
    global BASE
    if BASE is None:
        BASE = plan_stats("baseline")
    return BASE


@pytest.mark.parametrize("name", [n for n in scenarios.SCENARIOS if n != "baseline"])
def test_scenario_signature_in_plans(name):
    """Each scenario moves its signal in what the app sends (the e2e test measures it through the pipeline)."""
    base, s = _base(), plan_stats(name)
    checks = {
        "provider_errors": lambda: s["error_share"] >= max(5 * base["error_share"], 0.15),
        "rate_limited": lambda: s["rate_limited_share"] >= 0.10 and s["llm_per_req"] > base["llm_per_req"],
        "latency_regression": lambda: s["p95_duration"] >= 2 * base["p95_duration"],
        "ttft_regression": lambda: s["p95_ttft"] >= 2 * base["p95_ttft"],
        "prompt_bloat": lambda: s["input_per_req"] >= 1.5 * base["input_per_req"],
        "tenant_cost_spike": lambda: s["umbrella_cost_share"] >= 5 * base["umbrella_cost_share"],
        "quality_drop": lambda: s["eval_means"]["faithfulness"] <= base["eval_means"]["faithfulness"] - 0.2,
        "context_recall_drop": lambda: s["eval_means"]["context_recall"] <= base["eval_means"]["context_recall"] - 0.25,
        "tool_loop_runaway": lambda: s["tools_per_req"] >= 3 * base["tools_per_req"],
        "dangerous_tool_denied_spike": lambda: s["denied_per_req"] >= 5 * max(base["denied_per_req"], 1 / 400),
        "safety_block_spike": lambda: s["blocks_per_req"] >= 5 * base["blocks_per_req"],
        "fallback_storm": lambda: sum(s["by_model"].get(m, 0) for m in scenarios.FALLBACK_MODELS) / s["llm"]
        >= 0.25,
        "retrieval_empty": lambda: s["empty_share"] >= 0.5 > base["empty_share"],
        "context_saturation": lambda: s["input_per_req"] >= 5 * base["input_per_req"],
        "secret_leak_attempts": lambda: base["leak_share"] == 0 and s["leak_share"] >= 0.2
        and s["secret_kinds"] == {d.name for d in DETECTORS if not d.by_key},
    }
    assert set(checks) == set(scenarios.SCENARIOS) - {"baseline"}
    assert checks[name]() is True, (name, s, base)


@pytest.mark.parametrize("name", ["provider_errors", "rate_limited", "tenant_cost_spike"])
def test_scenario_signature_in_summary(name):
    base, _, _ = send(requests=300)
    scen, spans, _ = send(name, requests=300)
    b, s = base.to_dict(), scen.to_dict()
    if name == "provider_errors":
        ratio = lambda d: sum(d["llm_errors"].values()) / d["llm_calls"]  # noqa: E731
        assert ratio(s) >= 5 * ratio(b) and ratio(s) >= 0.15
    elif name == "rate_limited":
        assert s["llm_errors"]["rate_limited"] / s["llm_calls"] >= 0.10
        assert s["llm_calls"] / s["requests"] > b["llm_calls"] / b["requests"]
    else:
        share = lambda d: d["cost_by_tenant"]["umbrella"] / d["cost_usd"]  # noqa: E731
        assert share(s) >= 5 * share(b)


def test_scenario_switches_on_after_a_baseline_period():
    summary, spans, _ = send("prompt_bloat", requests=100, after=100 / 10_000 / 2)
    phases = [sp.attributes[X.PHASE] for sp in spans if sp.parent is None]
    assert summary.to_dict()["phases"] == {"baseline": 50, "scenario": 50}
    versions = {sp.attributes[X.PHASE]: set() for sp in spans if sp.parent is None}
    for sp in spans:
        if sp.parent is None:
            versions[sp.attributes[X.PHASE]].add(sp.attributes[k.PROMPT_VERSION])
    assert not any(v.endswith("-verbose") for v in versions["baseline"])
    assert all(v.endswith("-verbose") for v in versions["scenario"])
    assert phases.count("baseline") == 50


def test_cli_rate_default_is_the_schema_default():
    import argparse
    from settings.load import STACK_SCHEMA
    from stackctl import loadgen_cmd
    cli = argparse.ArgumentParser()
    loadgen_cmd.add_parser(cli.add_subparsers())
    args = cli.parse_args(["loadgen"])
    assert args.rate == STACK_SCHEMA["properties"]["loadgen"]["properties"]["rate"]["default"] == 2


def test_cli_help_and_unknown_scenario():
    out = subprocess.run([sys.executable, "-m", "stackctl", "loadgen", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "--scenario" in out.stdout and "tenant_cost_spike" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "stackctl", "loadgen", "--scenario", "nope"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "nope" in bad.stderr


class KeptMetrics(NullMetrics):
    def __init__(self):
        super().__init__()
        self.points = []

    def export(self, metrics_data, timeout_millis: float = 10_000, **kwargs):
        for rm in metrics_data.resource_metrics:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    self.points += [(m.name, p) for p in m.data.data_points]
        return super().export(metrics_data, timeout_millis)


def test_app_histograms_carry_exemplars_of_their_spans():
    """The dashboards' exemplar panels need the app's histograms recorded inside a span."""
    spans, logs, metrics = InMemorySpanExporter(), InMemoryLogRecordExporter(), KeptMetrics()
    run(seed=3, rate=10_000, duration=0.003, exporters=(spans, logs, metrics))
    trace_ids = {format(s.context.trace_id, "032x") for s in spans.get_finished_spans()}
    for name in ("http.server.request.duration", "gen_ai.client.token.usage"):
        exemplars = [e for n, p in metrics.points if n == name for e in (p.exemplars or ())]
        assert exemplars, name
        assert {format(e.trace_id, "032x") for e in exemplars} <= trace_ids, name
