"""The two normalize engines on the same traffic: the transform statements (collector.normalize_engine
ottl) and the project's llmnormalize processor (native) must deliver the same spans, span events,
log records, resources and metric series. Every alias, indexed key and mapped value of
telemetry/aliases.py is sent, with the edges: an alias beside its canonical key, two aliases of one
key in both orders, an indexed key colliding with its canonical form, and bad numbers."""
from __future__ import annotations

import contextlib
import itertools
import math

import pytest

from collector_config.normalize import NUMERIC
from corpus import index_example
from gateway_run import OWN_IMAGE, gateway, wait
from telemetry import aliases, keys as k

ENGINES = {"ottl": {}, "native": {"collector": {"image": OWN_IMAGE, "normalize_engine": "native"}}}
BAD_NUMBERS = (-5, float("nan"), float("inf"), "lots", "-3", "1e3", 1e9, True, [1, 2])
GOOD_NUMBERS = (0, 7, 12.5, "12", "12.5", 999_999_999)
RESOURCE = {"deployment.environment": "staging", "llm.system": "openai"}   # one resource alias, one not


def _value(canonical: str):
    return 7 if canonical in NUMERIC["span"] or "tokens" in canonical else f"v-{canonical}"


def _send(app) -> tuple[int, int]:
    """Sends the corpus; returns how many spans and log records."""
    tracer, logger = app.tracer, app.logger
    renames = [a for a in aliases.ALIASES if a.key != a.canonical]
    names, bodies = [], []

    def log(body: str, attributes: dict):
        logger.emit(body=body, attributes=attributes)
        bodies.append(body)

    def span(name: str, attributes: dict, events: tuple = ()):
        with tracer.start_as_current_span(name) as s:
            for key, value in attributes.items():
                s.set_attribute(key, value)
            for event in events:
                s.add_event("event", event)
        names.append(name)

    for a in renames:
        span(f"alias {a.key}", {a.key: _value(a.canonical)}, events=({a.key: "in an event"},))
        span(f"alias beside canonical {a.key}", {a.key: _value(a.canonical), a.canonical: _value(a.canonical)})
        log(f"log alias {a.key}", {a.key: _value(a.canonical)})
    by_canonical = {}
    for a in renames:
        by_canonical.setdefault(a.canonical, []).append(a.key)
    for canonical, keys in by_canonical.items():
        for first, second in itertools.permutations(keys[:3], 2):   # the first listed must win, whatever the order sent
            span(f"two aliases {first} {second}", {first: "a", second: "b"})
    for item in aliases.INDEXED:
        key = index_example(item.pattern, 3)
        span(f"indexed {item.pattern}", {key: "indexed value", "unrelated.0.key": "kept"}, events=({key: "event"},))
        log(f"log indexed {item.pattern}", {key: "log value"})
    first = aliases.INDEXED[0]
    span("indexed collision", {f"{first.canonical}.3.{first.field}": "canonical", index_example(first.pattern, 3): "alias"})
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
    span("two bad numbers", {k.INPUT_TOKENS: -1, k.OUTPUT_TOKENS: "x"})
    counter = app.meter.create_counter("app.normalized")
    for a in renames:
        counter.add(1, {a.key: f"m-{a.key}", "series": a.key})
    app.flush()
    return len(names), len(bodies)


def _view(gw) -> dict:
    def clean(attrs: dict) -> dict:
        # NaN != NaN: compare it by name
        return {key: "NaN" if isinstance(v, float) and math.isnan(v) else v for key, v in attrs.items()}
    spans = {s["name"]: (clean(s["attributes"]), [clean(e["attributes"]) for e in s["events"]], s["resource"])
             for s in gw.traces.spans()}
    logs = {r["body"]: (clean(r["attributes"]), r["resource"]) for r in gw.logs.logs()}
    series = sorted({tuple(sorted(s["labels"].items())) for s in gw.metrics.series()
                     if s["labels"].get("__name__") == "app_normalized_total"})
    return {"spans": spans, "logs": logs, "series": series}


@pytest.fixture(scope="module")
def views():
    out = {}
    with contextlib.ExitStack() as stack:
        gws = {engine: stack.enter_context(gateway(**overrides)) for engine, overrides in ENGINES.items()}
        for engine, gw in gws.items():
            app = gw.app(RESOURCE)
            spans, logs = _send(app)
            app.close()
            assert wait(lambda: len({s["name"] for s in gw.traces.spans()}) >= spans, timeout=60), engine
            assert wait(lambda: len({r["body"] for r in gw.logs.logs()}) >= logs, timeout=60), engine
            series = len([a for a in aliases.ALIASES if a.key != a.canonical])   # one per rename (its `series` label)
            assert wait(lambda: len(_view(gw)["series"]) >= series, timeout=60), engine
            out[engine] = {**_view(gw), "config": gw.collector.config_text}
    return out


def test_each_gateway_runs_its_engine(views):
    for signal in ("traces", "logs", "metrics"):
        assert f"llmnormalize/{signal}:" in views["native"]["config"]
        assert f"transform/normalize_{signal}:" not in views["native"]["config"]
        assert f"transform/normalize_{signal}:" in views["ottl"]["config"]


@pytest.mark.parametrize("part", ["spans", "logs", "series"])
def test_both_engines_deliver_the_same(views, part):
    ottl, native = views["ottl"][part], views["native"][part]
    if isinstance(ottl, dict):
        assert set(ottl) == set(native)
        differ = {key: (ottl[key], native[key]) for key in ottl if ottl[key] != native[key]}
        assert differ == {}, list(differ.items())[:5]
    else:
        assert ottl == native


def test_the_traffic_reaches_every_rule(views):
    """Not a comparison of two no-ops: the sent aliases came out canonical, bad numbers were dropped."""
    spans = views["native"]["spans"]
    for a in (a for a in aliases.ALIASES if a.key != a.canonical):
        attrs, events, resource = spans[f"alias {a.key}"]
        for where in (attrs, events[0]):   # a content key arrives hashed, under <key>.sha256
            assert a.key not in where and (a.canonical in where or a.canonical + ".sha256" in where), (a, where)
    assert resource.get("deployment.environment.name") == "staging" and "deployment.environment" not in resource
    assert resource.get("llm.system") == "openai"   # not a resource key: left alone on the resource
    for key in NUMERIC["span"]:
        for i, _ in enumerate(BAD_NUMBERS):
            attrs, events, _ = spans[f"number {key} {i}"]
            assert key not in attrs and attrs[k.INVALID] == key and key in events[0]
        for i, _ in enumerate(GOOD_NUMBERS, start=len(BAD_NUMBERS)):
            assert key in spans[f"number {key} {i}"][0]
    assert spans["value gen_ai.operation.name LLM"][0][k.OPERATION] == "chat"
    assert spans["value gen_ai.operation.name llmx"][0][k.OPERATION] == "llmx"
