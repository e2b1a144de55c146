"""The gateway's normalization against an oracle that is not its code: tests/normalize_reference.py
works out from the alias tables what every record should become, and a few examples below are
worked out by hand for the rules easiest to get wrong. The corpus sends every alias, indexed key
and mapped value of telemetry/aliases.py on spans, span events, log records, data points and the
resource, with the edges: an alias beside its canonical key, two aliases of one key in both
orders, an indexed key colliding with its canonical form, and bad numbers."""
from __future__ import annotations

import itertools
import math
import re

import pytest

from collector_config.normalize import NUMERIC
from collector_config.redact import content_key_regex
from collector_harness import content_hash
from corpus import index_example
from gateway_run import gateway, wait
from normalize_reference import normalize
from telemetry import aliases, keys as k
from telemetry.catalog import BOUNDS

BAD_NUMBERS = (-5, float("nan"), float("inf"), "lots", "-3", "1e3", 1e9, True, [1, 2])
GOOD_NUMBERS = (0, 7, 12.5, "12", "12.5", 999_999_999)
RESOURCE = {"deployment.environment": "staging", "llm.system": "openai"}   # one resource alias, one not
RENAMES = [a for a in aliases.ALIASES if a.key != a.canonical]
# What later stages of the gateway do to a normalized record, outside normalization: a content
# key leaves as `<key>.hmac` (content.mode hash, content.hash hmac: the HMAC-SHA256 of its text
# under the test gateway's key, beside its length);
# cost and redaction add their own keys.
CONTENT = re.compile(content_key_regex())
ADDED_LATER = {k.COST, k.UNPRICED, k.REDACTED, k.CONTENT_GUARDED}
# On data points the gateway's metrics path then removes ids, folds bounded labels (these values
# are in no bound: `other`) and adds remote write's labels.
ID_LABELS = {"user.id", k.CONVERSATION_ID, k.TOOL_CALL_ID}
BOUND_SOURCES = {bound.source for bound in BOUNDS if not bound.resource}
PLUMBING = {"__name__", "job", "instance", "otel_scope_name", "otel_scope_version", "otel_scope_schema_url"}

# Hand-worked examples: (where, sent attributes, normalized attributes). Written out from the
# rules in telemetry/aliases.py and collector_config/normalize.py, not computed.
EXAMPLES = [
    # canonical wins over its alias; the first alias listed wins over later ones, whatever the order sent
    ("span", {"gen_ai.system": "aws", "gen_ai.provider.name": "anthropic"}, {"gen_ai.provider.name": "anthropic"}),
    ("span", {"llm.system": "aws", "llm.provider": "OpenAI"}, {"gen_ai.provider.name": "OpenAI"}),
    ("span", {"llm.model_name": "b", "llm.request.model_name": "a"}, {"gen_ai.request.model": "a"}),
    # indexed keys, one index and two; either OpenLLMetry prefix; a long index
    ("span", {"llm.prompts.1.role": "user"}, {"gen_ai.input.messages.1.role": "user"}),
    ("span", {"gen_ai.completion.12.role": "assistant"}, {"gen_ai.output.messages.12.role": "assistant"}),
    ("span", {"gen_ai.prompt.2.tool_calls.1.name": "lookup"}, {"gen_ai.input.messages.2.tool_call_name.1": "lookup"}),
    ("span", {"llm.input_messages.4.message.contents.2.message_content.type": "image"},
     {"gen_ai.input.messages.4.part_type.2": "image"}),
    ("span", {"llm.output_messages.0.message.tool_calls.3.tool_call.function.name": "f", "other.0.role": "kept"},
     {"gen_ai.output.messages.0.tool_call_name.3": "f", "other.0.role": "kept"}),
    # value maps ignore case, match the whole value, and apply after a rename
    ("span", {"openinference.span.kind": "LLM"}, {"gen_ai.operation.name": "chat"}),
    ("span", {"gen_ai.operation.name": "Tool"}, {"gen_ai.operation.name": "execute_tool"}),
    ("span", {"gen_ai.provider.name": "Az.AI.OpenAI"}, {"gen_ai.provider.name": "azure.ai.openai"}),
    ("span", {"gen_ai.provider.name": "awsx"}, {"gen_ai.provider.name": "awsx"}),
    ("span", {"gen_ai.operation.name": "chat"}, {"gen_ai.operation.name": "chat"}),
    # the numeric guard: [0, 1e9), digits with an optional fraction
    ("span", {"gen_ai.usage.input_tokens": 999_999_999}, {"gen_ai.usage.input_tokens": 999_999_999}),
    ("span", {"gen_ai.usage.input_tokens": 1_000_000_000}, {"llmobs.invalid": "gen_ai.usage.input_tokens"}),
    ("span", {"gen_ai.usage.input_tokens": 1e9}, {"llmobs.invalid": "gen_ai.usage.input_tokens"}),
    ("span", {"gen_ai.usage.input_tokens": 0}, {"gen_ai.usage.input_tokens": 0}),
    ("span", {"gen_ai.usage.input_tokens": "007"}, {"gen_ai.usage.input_tokens": "007"}),
    ("span", {"gen_ai.usage.input_tokens": "1.5"}, {"gen_ai.usage.input_tokens": "1.5"}),
    ("span", {"gen_ai.usage.input_tokens": "123456789"}, {"gen_ai.usage.input_tokens": "123456789"}),
    ("span", {"gen_ai.usage.input_tokens": "1234567890"}, {"llmobs.invalid": "gen_ai.usage.input_tokens"}),
    ("span", {"gen_ai.usage.input_tokens": "-1"}, {"llmobs.invalid": "gen_ai.usage.input_tokens"}),
    ("span", {"gen_ai.usage.input_tokens": -1}, {"llmobs.invalid": "gen_ai.usage.input_tokens"}),
    ("span", {"gen_ai.usage.input_tokens": "1e3"}, {"llmobs.invalid": "gen_ai.usage.input_tokens"}),
    ("span", {"gen_ai.usage.input_tokens": "1."}, {"llmobs.invalid": "gen_ai.usage.input_tokens"}),
    ("span", {"gen_ai.usage.input_tokens": True}, {"llmobs.invalid": "gen_ai.usage.input_tokens"}),
    ("span", {"gen_ai.response.time_to_first_chunk": 0.25}, {"gen_ai.response.time_to_first_chunk": 0.25}),
    ("span", {"gen_ai.response.time_to_first_chunk": -0.25},
     {"llmobs.invalid": "gen_ai.response.time_to_first_chunk"}),
    # an alias's bad value is caught under its canonical name; of two bad keys, the later in the guard's list is named
    ("span", {"llm.token_count.prompt": -3}, {"llmobs.invalid": "gen_ai.usage.input_tokens"}),
    ("span", {"gen_ai.usage.output_tokens": "x", "gen_ai.usage.input_tokens": -1},
     {"llmobs.invalid": "gen_ai.usage.output_tokens"}),
    # span events are renamed but not guarded; logs guard the eval score only
    ("event", {"gen_ai.usage.input_tokens": -1, "llm.system": "aws"},
     {"gen_ai.usage.input_tokens": -1, "gen_ai.provider.name": "aws.bedrock"}),
    ("log", {"gen_ai.usage.input_tokens": -1}, {"gen_ai.usage.input_tokens": -1}),
    ("log", {"gen_ai.evaluation.score.value": "high"}, {"llmobs.invalid": "gen_ai.evaluation.score.value"}),
    ("log", {"gen_ai.evaluation.score.value": "0.75"}, {"gen_ai.evaluation.score.value": "0.75"}),
    # the resource: only resource keys' aliases are renamed
    ("resource", {"deployment.environment": "qa", "llm.system": "aws"},
     {"deployment.environment.name": "qa", "llm.system": "aws"}),
    ("resource", {"deployment.environment": "qa", "deployment.environment.name": "prod"},
     {"deployment.environment.name": "prod"}),
]


def _value(canonical: str):
    return 7 if canonical in NUMERIC["span"] or "tokens" in canonical else f"v-{canonical}"


class Sent:
    """What the corpus sent, by span name, log body and metric series."""

    def __init__(self):
        self.spans: dict[str, tuple[dict, list[dict]]] = {}
        self.logs: dict[str, dict] = {}
        self.series: dict[str, dict] = {}
        self.resource: dict = {}


def _send(app, sent: Sent) -> None:
    tracer, logger = app.tracer, app.logger
    sent.resource = dict(app.tracer_provider.resource.attributes)

    def log(body: str, attributes: dict):
        logger.emit(body=body, attributes=attributes)
        sent.logs[body] = attributes

    def span(name: str, attributes: dict, events: tuple = ()):
        with tracer.start_as_current_span(name) as s:
            for key, value in attributes.items():
                s.set_attribute(key, value)
            for event in events:
                s.add_event("event", event)
        sent.spans[name] = (attributes, list(events))

    for a in RENAMES:
        span(f"alias {a.key}", {a.key: _value(a.canonical)}, events=({a.key: "in an event"},))
        span(f"alias beside canonical {a.key}", {a.key: _value(a.canonical), a.canonical: _value(a.canonical)})
        log(f"log alias {a.key}", {a.key: _value(a.canonical)})
        log(f"log alias beside canonical {a.key}", {a.key: "alias", a.canonical: _value(a.canonical)})
    by_canonical: dict[str, list[str]] = {}
    for a in RENAMES:
        by_canonical.setdefault(a.canonical, []).append(a.key)
    for keys in by_canonical.values():
        for first, second in itertools.permutations(keys[:3], 2):
            span(f"two aliases {first} {second}", {first: "a", second: "b"})
    for item in aliases.INDEXED:
        key = index_example(item.pattern, 3)
        span(f"indexed {item.pattern}", {key: "indexed value", "unrelated.0.key": "kept"}, events=({key: "event"},))
        log(f"log indexed {item.pattern}", {key: "log value"})
    first = aliases.INDEXED[0]
    canonical_form = f"{first.canonical}.3.{first.field}"
    span("indexed collision", {canonical_form: "canonical", index_example(first.pattern, 3): "alias"})
    span("indexed collision reversed", {index_example(first.pattern, 3): "alias", canonical_form: "canonical"})
    for vmap in aliases.VALUE_MAPS:
        for old, _new in vmap.values:
            for value in (old, old.upper(), old.title(), old + "x"):
                span(f"value {vmap.canonical} {value}", {vmap.canonical: value})
                log(f"log value {vmap.canonical} {value}", {vmap.canonical: value})
    for key in NUMERIC["span"]:
        for i, value in enumerate(BAD_NUMBERS + GOOD_NUMBERS):
            span(f"number {key} {i}", {key: value, k.OPERATION: "chat"}, events=({key: value},))
    for key in NUMERIC["log"]:
        for i, value in enumerate(BAD_NUMBERS + GOOD_NUMBERS):
            log(f"log number {key} {i}", {key: value})
    for i, (place, attributes, _) in enumerate(EXAMPLES):
        if place == "span":
            span(f"example {i}", attributes)
        elif place == "event":
            span(f"example {i}", {}, events=(attributes,))
        elif place == "log":
            log(f"example {i}", attributes)
    counter = app.meter.create_counter("app.normalized")

    def point(series: str, attributes: dict):
        counter.add(1, {**attributes, "series": series})
        sent.series[series] = {**attributes, "series": series}

    for a in RENAMES:
        point(a.key, {a.key: f"m-{a.key}"})
        point(f"beside canonical {a.key}", {a.key: "m-alias", a.canonical: f"m-{a.canonical}"})
    for item in aliases.INDEXED:
        point(item.pattern, {index_example(item.pattern, 5): "m-indexed", "unrelated.0.key": "kept"})
    for vmap in aliases.VALUE_MAPS:
        for old, _new in vmap.values:
            for value in (old.upper(), old + "x"):
                point(f"{vmap.canonical} {value}", {vmap.canonical: value})
    app.flush()


def _comparable(attrs: dict) -> dict:
    """A record's attributes as delivered, with the keys later stages add left out; NaN by name
    (NaN != NaN)."""
    return {key: "NaN" if isinstance(value, float) and math.isnan(value) else value for key, value in attrs.items()
            if key not in ADDED_LATER and not (key.endswith(".length") and CONTENT.match(key.removesuffix(".length")))}


def _hashed(attrs: dict) -> dict:
    """Content keys as the content policy leaves them: `<key>.hmac`, the keyed hash of the text."""
    return {f"{key}.hmac" if CONTENT.match(key) else key:
            content_hash(value) if CONTENT.match(key) else value for key, value in attrs.items()}


def _expected(attrs: dict, place: str) -> dict:
    return _comparable(_hashed(normalize(attrs, place)))


def _label(key: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", key)


@pytest.fixture(scope="module")
def delivered():
    with gateway() as gw:
        app = gw.app(RESOURCE)
        sent = Sent()
        _send(app, sent)
        app.close()
        for i, (place, attributes, _) in enumerate(EXAMPLES):
            if place == "resource":   # one app per resource example, one span from it
                other = gw.app(attributes)
                with other.tracer.start_as_current_span(f"example {i}"):
                    pass
                other.close()
        spans = len(sent.spans) + sum(place == "resource" for place, *_ in EXAMPLES)
        assert wait(lambda: len({s["name"] for s in gw.traces.spans()}) >= spans, timeout=60)
        assert wait(lambda: len({r["body"] for r in gw.logs.logs()}) >= len(sent.logs), timeout=60)
        assert wait(lambda: len({s["labels"]["series"] for s in gw.metrics.series()
                                 if s["labels"]["__name__"] == "app_normalized_total"}) >= len(sent.series), timeout=60)
        yield {"sent": sent,
               "spans": {s["name"]: s for s in gw.traces.spans()},
               "logs": {r["body"]: r for r in gw.logs.logs()},
               "series": {s["labels"]["series"]: s["labels"] for s in gw.metrics.series()
                          if s["labels"]["__name__"] == "app_normalized_total"}}


def test_reference_agrees_with_the_hand_worked_examples():
    assert [normalize(attributes, place) for place, attributes, _ in EXAMPLES] == [want for *_, want in EXAMPLES]


def test_gateway_agrees_with_the_hand_worked_examples(delivered):
    got = []
    for i, (place, attributes, want) in enumerate(EXAMPLES):
        if place == "span":
            got.append(_comparable(delivered["spans"][f"example {i}"]["attributes"]))
        elif place == "event":
            got.append(_comparable(delivered["spans"][f"example {i}"]["events"][0]["attributes"]))
        elif place == "log":
            got.append(_comparable(delivered["logs"][f"example {i}"]["attributes"]))
        else:   # the SDK adds its own resource attributes: only the example's keys are compared
            resource = delivered["spans"][f"example {i}"]["resource"]
            got.append({key: v for key, v in resource.items() if key in attributes or key in want})
    wrong = [{"where": place, "sent": attributes, "want": want, "got": g}
             for (place, attributes, want), g in zip(EXAMPLES, got) if g != want]
    assert not wrong, wrong


def test_spans_and_their_events_as_the_reference_says(delivered):
    wrong = {}
    for name, (attributes, events) in delivered["sent"].spans.items():
        span = delivered["spans"][name]
        want = (_expected(attributes, "span"), [_expected(e, "event") for e in events])
        got = (_comparable(span["attributes"]), [_comparable(e["attributes"]) for e in span["events"]])
        if got != want:
            wrong[name] = {"sent": (attributes, events), "want": want, "got": got}
    assert not wrong, list(wrong.items())[:5]


def test_logs_as_the_reference_says(delivered):
    wrong = {}
    for body, attributes in delivered["sent"].logs.items():
        want, got = _expected(attributes, "log"), _comparable(delivered["logs"][body]["attributes"])
        if got != want:
            wrong[body] = {"sent": attributes, "want": want, "got": got}
    assert not wrong, list(wrong.items())[:5]


def test_resource_as_the_reference_says(delivered):
    want = normalize(delivered["sent"].resource, "resource")
    assert want == {**{key: v for key, v in delivered["sent"].resource.items() if key != "deployment.environment"},
                    "deployment.environment.name": "staging"}   # not a no-op
    for signal in ("spans", "logs"):
        for name in getattr(delivered["sent"], signal):
            assert delivered[signal][name]["resource"] == want, (signal, name, delivered[signal][name]["resource"])


def test_data_points_as_the_reference_says(delivered):
    wrong = {}
    for series, attributes in delivered["sent"].series.items():
        want = {_label(key): "other" if key in BOUND_SOURCES else value
                for key, value in normalize(attributes, "datapoint").items() if key not in ID_LABELS}
        got = {name: value for name, value in delivered["series"][series].items() if name not in PLUMBING}
        if got != want:
            wrong[series] = {"sent": attributes, "want": want, "got": got}
    assert not wrong, list(wrong.items())[:5]


def test_the_corpus_reaches_every_rule(delivered):
    """Not a comparison of no-ops: what the reference changed is most of what was sent."""
    sent = delivered["sent"]
    changed = sum(normalize(a, "span") != a for a, _ in sent.spans.values())
    assert changed >= len(RENAMES) * 2 + len(aliases.INDEXED)
    for a in RENAMES:
        assert a.key not in delivered["spans"][f"alias {a.key}"]["attributes"], a
    invalid = [n for n, s in delivered["spans"].items() if s["attributes"].get(k.INVALID)]
    assert len(invalid) >= len(NUMERIC["span"]) * len(BAD_NUMBERS)
