"""End to end through the real gateway collector: redaction, content policy, aliases, cost, derived metrics."""
from __future__ import annotations


import pytest
from opentelemetry.trace import Status, StatusCode

from collector_config.normalize import NUMERIC
from content_keys import CANONICAL
from corpus import SECRETS, benign, index_example
from collector_harness import content_hash
from gateway_run import gateway, wait
from telemetry import aliases, keys as k
from telemetry.catalog import BY_NAME

PROM = {name: m.prometheus for name, m in BY_NAME.items()}
LLM_CALLS = [  # model, provider, input, output, cached, error type (None = ok)
    ("gpt-4o", "openai", 1200, 300, 200, None),
    ("gpt-4o-2024-08-06", "openai", 900, 100, 0, None),   # priced by pattern as gpt-4o
    ("gpt-4o-mini", "openai", 5000, 800, 4000, None),
    ("claude-sonnet-4-20250514", "anthropic", 2000, 700, 0, None),
    ("claude-sonnet-4", "anthropic", 10, 0, 0, "rate_limited"),
    ("gemini-2.5-flash", "gcp.gemini", 321, 123, 0, None),
    ("acme-private-llm", "acme", 100, 50, 0, None),      # unpriced: counted, never guessed
    ("acme-private-llm", "acme", 200, 60, 0, "timeout"),
]
# USD the gateway must attach to each call above, worked out by hand from settings/prices.yaml
# (USD per million tokens; cached tokens are part of the input and charged at the cached price),
# so a mistake shared by the OTTL formula and collector_config.cost.cost_usd still fails.
EXPECTED_COST = {
    "gpt-4o": 0.00575,                   # (1000*2.50 + 200*1.25 + 300*10.00) / 1e6
    "gpt-4o-2024-08-06": 0.00325,        # gpt-4o prices: (900*2.50 + 100*10.00) / 1e6
    "gpt-4o-mini": 0.00093,              # (1000*0.15 + 4000*0.075 + 800*0.60) / 1e6
    "claude-sonnet-4-20250514": 0.0165,  # claude-sonnet-4 prices: (2000*3.00 + 700*15.00) / 1e6
    "claude-sonnet-4": 0.00003,          # 10*3.00 / 1e6; a failed call is priced for what was sent
    "gemini-2.5-flash": 0.0004038,       # (321*0.30 + 123*2.50) / 1e6
}
TENANTS = ["acme", "globex", "hooli"]  # hooli is outside the bound -> other


@pytest.fixture(scope="module")
def run(request):
    with gateway() as gw:
        app = gw.app({"deployment.note": "owner " + SECRETS[17][1]})
        sent = _send_everything(app)
        app.close()
        # Everything derived must have arrived before the assertions run.
        expected_requests = len(LLM_CALLS)
        assert wait(lambda: gw.sum_of(PROM["llm.requests"]) == expected_requests), gw.collector.logs()[-3000:]
        assert wait(lambda: len(gw.traces.spans()) >= sent["spans"]), (len(gw.traces.spans()), sent["spans"])
        assert wait(lambda: len(gw.logs.logs()) >= sent["logs"])
        assert wait(lambda: gw.sum_of("app_events_total") > 0)
        yield gw, sent


def _send_everything(app) -> dict:
    tracer, logger = app.tracer, app.logger
    spans = logs = 0
    # Secrets and PII in every position a span has.
    for i, (kind, text, _core) in enumerate(SECRETS):
        with tracer.start_as_current_span(f"handle {text}") as span:
            span.set_attribute("app.note", text)
            span.set_attribute("app.list", ["ok", text])
            span.set_attribute(k.INPUT_MESSAGES, f'[{{"role":"user","content":"{text}"}}]')
            span.set_attribute("input.value", text)                # OpenInference alias
            span.set_attribute("gen_ai.prompt.0.content", text)    # OpenLLMetry indexed alias
            span.add_event(f"event {text}", {"detail": text})
            span.set_status(Status(StatusCode.ERROR, f"failed: {text}"))
        spans += 1
        logger.emit(body=f"debug: {text}", attributes={"app.note": text}, severity_text="DEBUG")
        logger.emit(body={"content": text, "note": text}, attributes={"kind": kind}, event_name="gen_ai.user.message")
        logs += 2
    counter = app.meter.create_counter("app.events")
    for _, text, _ in SECRETS:
        counter.add(1, {"detail": text})
    # Benign text must pass unchanged.
    with tracer.start_as_current_span("benign") as span:
        for i, text in enumerate(benign()):
            span.set_attribute(f"benign.{i}", text)
    spans += 1
    for text in benign():
        logger.emit(body=text, attributes={"benign": True})
        logs += 1
    # LLM calls for cost and metrics.
    for i, (model, provider, inp, out, cached, error) in enumerate(LLM_CALLS):
        with tracer.start_as_current_span("request") as root:
            root.set_attribute(k.TENANT, TENANTS[i % 3])
            with tracer.start_as_current_span(f"chat {model}") as span:
                span.set_attribute(k.OPERATION, "chat")
                span.set_attribute(k.PROVIDER, provider)
                span.set_attribute(k.REQUEST_MODEL, model)
                span.set_attribute(k.INPUT_TOKENS, inp)
                span.set_attribute(k.OUTPUT_TOKENS, out)
                span.set_attribute(k.TENANT, TENANTS[i % 3])
                span.set_attribute(k.FEATURE, "chat")
                span.set_attribute(k.TTFT, 0.3 + i / 10)
                if cached:
                    span.set_attribute(k.CACHED_INPUT_TOKENS, cached)
                if error:
                    span.set_attribute(k.ERROR_TYPE, error)
                    span.set_status(Status(StatusCode.ERROR, error))
            for tool, outcome in (("search_orders", "ok"), ("delete_account", "denied")):
                with tracer.start_as_current_span(f"execute_tool {tool}") as span:
                    span.set_attribute(k.OPERATION, "execute_tool")
                    span.set_attribute(k.TOOL_NAME, tool)
                    span.set_attribute(k.TOOL_OUTCOME, outcome)
            with tracer.start_as_current_span("retrieve") as span:
                span.set_attribute(k.OPERATION, "retrieval")
                span.set_attribute(k.RETRIEVAL_RETURNED, i)
            with tracer.start_as_current_span("eval faithfulness") as span:
                span.set_attribute(k.EVAL_NAME, "faithfulness")
                span.set_attribute(k.EVAL_SCORE, 0.5 + i / 20)
            with tracer.start_as_current_span("safety") as span:
                span.set_attribute(k.SAFETY_BLOCKED, i == 0)
                span.set_attribute(k.SAFETY_CATEGORY, "self_harm")
        spans += 7
        logger.emit(body="feedback", attributes={k.FEEDBACK: "down" if i % 2 else "up", k.FEATURE: "chat"},
                    event_name="llmobs.feedback")
        logger.emit(body="eval", attributes={k.EVAL_NAME: "answer_relevance", k.EVAL_SCORE: 0.9},
                    event_name="gen_ai.evaluation.result")
        logs += 2
    # Every alias a library emits, one span each.
    for alias in aliases.ALIASES:
        with tracer.start_as_current_span(f"alias {alias.key}") as span:
            span.set_attribute(alias.key, _alias_value(alias.canonical))
        spans += 1
    for indexed in aliases.INDEXED:
        with tracer.start_as_current_span(f"indexed {indexed.pattern}") as span:
            span.set_attribute(index_example(indexed.pattern), "indexed value 42")
        spans += 1
    app.flush()
    return {"spans": spans, "logs": logs}


def _alias_value(canonical: str):
    numeric = "tokens" in canonical or canonical.endswith("count") or canonical in NUMERIC["span"]
    return 7 if numeric else f"value-for-{canonical}"


def _by_name(gw, prefix):
    return [s for s in gw.traces.spans() if s["name"].startswith(prefix)]


def test_no_secret_survives_anywhere(run):
    gw, _ = run
    leaks = []
    for sink in (gw.traces, gw.logs, gw.metrics):
        strings = sink.all_strings()
        for kind, _text, core in SECRETS:
            leaks += [(type(sink).__name__, kind, s) for s in strings if core in s]
    assert leaks == []


def test_redaction_keeps_type_tags(run):
    gw, _ = run
    notes = {s["attributes"].get("app.note") for s in gw.traces.spans() if "app.note" in s["attributes"]}
    for kind, _text, _core in SECRETS:
        assert any(f"[REDACTED:{kind}]" in n for n in notes), kind
    assert all(s["attributes"].get(k.REDACTED) is True for s in _by_name(gw, "handle "))
    assert gw.sum_of(PROM["llm.redacted.spans"]) == len(SECRETS)
    assert gw.sum_of(PROM["llm.redacted.logs"]) == 2 * len(SECRETS)
    # A GenAI event's long free-text `note` is also content to the unknown-key guard, after the detectors.
    assert gw.sum_of(PROM["llm.content.guarded.logs"], llmobs_content_guarded="note") > 0


def test_benign_text_unchanged(run):
    gw, _ = run
    corpus = benign()
    (span,) = _by_name(gw, "benign")
    changed = [t for i, t in enumerate(corpus) if span["attributes"][f"benign.{i}"] != t]
    bodies = {r["body"] for r in gw.logs.logs() if r["attributes"].get("benign") is True}
    changed += [t for t in corpus if t not in bodies]
    print(f"\nbenign corpus: {len(corpus)} strings x 2 positions, false positives: {len(changed)}")
    assert changed == []


def test_content_hashed_not_kept(run):
    gw, _ = run
    spans = _by_name(gw, "handle ")
    assert len(spans) == len(SECRETS)
    for span, (_, text, _) in zip(sorted(spans, key=lambda s: s["start_ns"]), SECRETS):
        a = span["attributes"]
        message = f'[{{"role":"user","content":"{text}"}}]'
        assert k.INPUT_MESSAGES not in a and "input.value" not in a and "gen_ai.prompt.0.content" not in a
        assert a[k.INPUT_MESSAGES + ".hmac"] == content_hash(message)
        assert a[k.INPUT_MESSAGES + ".length"] == len(message.encode())   # UTF-8 bytes
        assert a[k.INPUT_MESSAGES + ".0.content.hmac"] == content_hash(text)
    events = [r for r in gw.logs.logs() if r["event_name"] == "gen_ai.user.message"]
    assert events and all("content" not in r["body"] and "llmobs.body.content.hmac" in r["attributes"] for r in events)


def test_aliases_arrive_canonical(run):
    gw, _ = run
    for alias in aliases.ALIASES:
        (span,) = [s for s in gw.traces.spans() if s["name"] == f"alias {alias.key}"]
        a = span["attributes"]
        assert alias.key not in a or alias.key == alias.canonical, alias
        if alias.canonical in aliases_content_keys():
            assert a[alias.canonical + ".hmac"] == content_hash(str(_alias_value(alias.canonical)))
        else:
            sent = _alias_value(alias.canonical)
            assert a[alias.canonical] == ([sent] if alias.canonical in aliases.LIST_KEYS else sent), alias
    for indexed in aliases.INDEXED:
        (span,) = [s for s in gw.traces.spans() if s["name"] == f"indexed {indexed.pattern}"]
        keys = set(span["attributes"])
        assert index_example(indexed.pattern) not in keys
        assert any(key.startswith(indexed.canonical + ".0.") for key in keys), (indexed, keys)


def aliases_content_keys() -> set[str]:
    """Hand-written (tests/content_keys.py), not telemetry.keys.CONTENT_KEYS: the list under test."""
    return set(CANONICAL)


def test_cost_matches_hand_computed_fixtures(run):
    gw, _ = run
    chats = {s["attributes"][k.REQUEST_MODEL]: s for s in _by_name(gw, "chat ")}
    for model, *_ in LLM_CALLS:
        a = chats[model]["attributes"]
        if model not in EXPECTED_COST:
            assert k.COST not in a and a[k.UNPRICED] is True, model
            continue
        assert a[k.COST] == pytest.approx(EXPECTED_COST[model], rel=1e-9, abs=1e-15), model
        assert k.UNPRICED not in a


def test_derived_metrics(run):
    gw, _ = run
    requests = gw.metrics.latest(PROM["llm.requests"])
    assert sum(requests.values()) == len(LLM_CALLS)
    by_model = {}
    for labels, value in requests.items():
        by_model[dict(labels)["gen_ai_request_model"]] = by_model.get(dict(labels)["gen_ai_request_model"], 0) + value
    assert by_model == {m: sum(1 for c in LLM_CALLS if c[0] == m) for m, *_ in LLM_CALLS}
    assert gw.sum_of(PROM["llm.tokens.input"]) == sum(c[2] for c in LLM_CALLS)
    assert gw.sum_of(PROM["llm.tokens.output"]) == sum(c[3] for c in LLM_CALLS)
    assert gw.sum_of(PROM["llm.tokens.cached_input"]) == sum(c[4] for c in LLM_CALLS)
    assert gw.sum_of(PROM["llm.errors"], error_type="rate_limited") == 1
    assert gw.sum_of(PROM["llm.errors"], error_type="timeout") == 1
    assert gw.sum_of(PROM["llm.unpriced.requests"]) == 2
    assert gw.sum_of(PROM["llm.cost"]) == pytest.approx(sum(EXPECTED_COST.values()), rel=1e-9)
    tenants = {dict(l).get("llmobs_tenant_bounded") for l in requests}
    assert tenants == {"acme", "globex", "other"}
    assert gw.sum_of(PROM["gen_ai.client.operation.duration"] + "_count") == len(LLM_CALLS)
    assert gw.sum_of(PROM["llm.time_to_first_token"] + "_count") == len(LLM_CALLS)
    assert gw.sum_of(PROM["llm.tool.calls"], gen_ai_tool_name="delete_account", llmobs_tool_outcome="denied") == len(LLM_CALLS)
    assert gw.sum_of(PROM["llm.tool.calls"], llmobs_tool_outcome="ok") == len(LLM_CALLS)
    assert gw.sum_of(PROM["llm.retrieval.documents"] + "_sum") == sum(range(len(LLM_CALLS)))
    assert gw.sum_of(PROM["llm.retrieval.duration"] + "_count") == len(LLM_CALLS)
    assert gw.sum_of(PROM["llm.safety.blocks"]) == 1
    assert gw.sum_of(PROM["llm.eval.score"] + "_count", gen_ai_evaluation_name="faithfulness") == len(LLM_CALLS)
    assert gw.sum_of(PROM["llm.eval.score.events"] + "_count", gen_ai_evaluation_name="answer_relevance") == len(LLM_CALLS)
    assert gw.sum_of(PROM["llm.feedback"], llmobs_feedback="down") == len(LLM_CALLS) // 2


# Written out here, not read from telemetry/catalog.py (the catalog is what this test polices):
# labels whose values come from a small vocabulary, the bounded tenant/feature copies (counters
# only), and what the remote-write translation and the collector add.
BOUNDED_LABELS = {"gen_ai_provider_name", "gen_ai_request_model", "gen_ai_operation_name", "error_type",
                  "gen_ai_tool_name", "llmobs_tool_outcome", "llmobs_safety_category", "gen_ai_evaluation_name",
                  "llmobs_feedback", "llmobs_invalid",
                  # contract v2: enums, bounded-by-settings labels (values checked below), hash buckets
                  "llmobs_request_outcome", "llmobs_safety_stage", "gen_ai_evaluation_score_label",
                  "llmobs_tool_approval", "llmobs_retrieval_method", "llmobs_retrieval_index",
                  "llmobs_retrieval_index_version", "gen_ai_agent_name", "llmobs_fallback_from_model",
                  "llmobs_user_bucket", "llmobs_session_bucket", "llmobs_label",
                  # the content guard names the key it fired on (keys come from code, not from users)
                  "llmobs_content_guarded"}
# Labels bounded by settings: gateway_run leaves them at their defaults; this traffic sets none.
DEFAULT_BOUNDED = {"llmobs_prompt_version": {"other", "unknown"},
                   "deployment_environment_name": {"production", "staging", "development", "other", "unknown"}}
# gateway_run's llmobs:labels; `unknown` where a span (a root span here) has no value
COUNTER_ONLY_LABELS = {"llmobs_tenant_bounded": {"acme", "globex", "other", "unknown"},
                       "llmobs_feature_bounded": {"chat", "search", "other", "unknown"}}
PLUMBING_LABELS = {"__name__", "job", "instance", "le", "service_name", "llmobs_gateway_instance",
                   "otel_scope_name", "otel_scope_version", "otel_scope_schema_url"}


def test_metric_labels_are_bounded(run):
    gw, _ = run
    checked = 0
    for series in gw.metrics.series():
        labels = series["labels"]
        name = labels["__name__"]
        if not name.startswith(("llm_", "gen_ai_")):
            continue
        checked += 1
        extra = set(labels) - BOUNDED_LABELS - set(COUNTER_ONLY_LABELS) - set(DEFAULT_BOUNDED) - PLUMBING_LABELS
        assert not extra, (name, extra)
        for label, values in DEFAULT_BOUNDED.items():
            assert labels.get(label, "unknown") in values, (name, label, labels.get(label))
        for label, values in COUNTER_ONLY_LABELS.items():
            if label in labels:
                assert name.endswith("_total"), (name, label, "tenant and feature only on counters")
                assert labels[label] in values, (name, label, labels[label])
    assert checked > 0


def test_unauthenticated_ingest_rejected(run):
    gw, _ = run
    before = len(gw.traces.spans())
    app = gw.app(token="wrong-token")
    with app.tracer.start_as_current_span("intruder"):
        pass
    app.close()
    assert not wait(lambda: _by_name(gw, "intruder"), timeout=3)
    assert len(gw.traces.spans()) == before
