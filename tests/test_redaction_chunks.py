"""A secret split across the streamed chunks of one span (its span events) is caught only where one
chunk alone holds a full match: the documented limit (docs/gateway.md, "Detectors", out of scope). Pins it
both ways, so a change in either direction shows."""
from __future__ import annotations

from gateway_run import gateway, wait
from otlp_json import post, span, traces

KEY = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7CD0ef"


def _chunks(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def test_split_key_caught_only_in_a_chunk_that_holds_a_full_match():
    short = _chunks(KEY, 10)                 # every fragment below sk-proj- + 20
    long = [KEY[:30], KEY[30:]]              # the first holds sk-proj- + 22
    spans = [span(name, {"app.kind": "stream"}, i + 1,
                  [{"name": "chunk", "attributes": {"app.delta": c}} for c in chunks])
             for i, (name, chunks) in enumerate((("short", short), ("long", long)))]
    with gateway() as gw:
        assert post(gw, "traces", traces(spans)) == 200
        assert wait(lambda: len(gw.traces.spans()) >= 2)
        got = {s["name"]: [e["attributes"]["app.delta"] for e in s["events"]] for s in gw.traces.spans()}
    assert got["short"] == short                                    # missed: no fragment is a key
    assert got["long"] == ["[REDACTED:openai_key]", KEY[30:]]       # the head is caught, the tail passes
