"""Issue 34 item 6, keyed content hashes, through the real gateway: under `content.hash: hmac`
(the default) every kept hash is HMAC-SHA256 of the text under the stack's key, computed again
here with hashlib and hmac from the key alone; the same key gives the same hashes in every run,
another key others; `content.hash: sha256` keeps today's plain digest. The key is a file the
gateway reads at start: never in its config text or its logs, and without it the gateway stops."""
from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
import yaml

import settings as settings_pkg
from collector_config import redact
from collector_harness import CONTENT_KEY, RunningCollector
from gateway_run import gateway, wait
from otlp_json import NOW, kv, logs, post, span, traces
from telemetry import keys as k

PROMPT = "yes"   # the short, common content a plain SHA-256 gives away
ANSWER = "Your order 48213 was refunded twice by mistake; the second refund has been reversed."
EVENT_TEXT = "Why was order 48213 refunded twice last week?"
NOTE = "free text the operator never named, long enough and with several words in it"
LLM = {k.OPERATION: "chat", k.REQUEST_MODEL: "gpt-4o"}
OTHER_KEY = "another-stack-content-key-fedcba9876543210"


def keyed(text: str, key: str = CONTENT_KEY) -> str:
    """HMAC-SHA256 of the UTF-8 text under the key, here and not in the gateway."""
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def plain(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _send(gw) -> None:
    content = span("chat", {**LLM, k.INPUT_MESSAGES: PROMPT, "app.note": NOTE}, 1,
                   [{"name": "gen_ai.user.message", "attributes": {"content": EVENT_TEXT}}])
    string_body = {"timeUnixNano": str(NOW), "eventName": "gen_ai.choice", "body": {"stringValue": ANSWER}}
    map_body = {"timeUnixNano": str(NOW), "eventName": "gen_ai.user.message",
                "body": {"kvlistValue": {"values": [kv("content", EVENT_TEXT), kv("role", "user")]}}}
    assert post(gw, "traces", traces([content])) == 200
    assert post(gw, "logs", logs([string_body, map_body])) == 200
    assert wait(lambda: gw.traces.spans() and len(gw.logs.logs()) == 2)


def _delivered(gw) -> tuple[dict, dict, dict, dict]:
    (s,) = gw.traces.spans()
    records = {r["event_name"]: r for r in gw.logs.logs()}
    return s["attributes"], s["events"][0]["attributes"], records["gen_ai.choice"], records["gen_ai.user.message"]


def _hashes(gw) -> dict[str, str]:
    """Every hash the gateway kept, by where it is."""
    a, ev, string_log, map_log = _delivered(gw)
    suffix = "." + next(h for h in ("hmac", "sha256") if k.INPUT_MESSAGES + "." + h in a)
    return {"span": a[k.INPUT_MESSAGES + suffix], "event": ev["content" + suffix],
            "string body": string_log["attributes"]["llmobs.body" + suffix],
            "map body": map_log["attributes"]["llmobs.body.content" + suffix], "guard": a["app.note"]}


@pytest.fixture(scope="module")
def keyed_run():
    with gateway() as gw:
        _send(gw)
        yield gw, _hashes(gw)


def test_every_kept_hash_is_an_hmac_under_the_stacks_key(keyed_run):
    gw, got = keyed_run
    assert got == {"span": keyed(PROMPT), "event": keyed(EVENT_TEXT), "string body": keyed(ANSWER),
                   "map body": keyed(EVENT_TEXT), "guard": f"[CONTENT:hmac:{keyed(NOTE)}]"}
    # Not the digest anyone can compute, and no `.sha256` beside it.
    assert plain(PROMPT) not in str(gw.traces.spans()) and plain(ANSWER) not in str(gw.logs.logs())
    a, ev, string_log, map_log = _delivered(gw)
    assert not [key for attrs in (a, ev, string_log["attributes"], map_log["attributes"]) for key in attrs
                if key.endswith(".sha256")]
    assert a[k.INPUT_MESSAGES + ".length"] == len(PROMPT) and string_log["body"] == "[CONTENT:hash]"
    for text in (ANSWER, EVENT_TEXT, NOTE):
        assert text not in str(gw.traces.spans()) + str(gw.logs.logs())


def test_same_key_same_hashes_another_key_other_hashes(keyed_run):
    """Correlation holds within one key (another run, another process) and not across keys: what a
    rotation does (docs/content-hashing.md)."""
    _, first = keyed_run
    with gateway() as gw:
        _send(gw)
        again = _hashes(gw)
    with gateway(content_key=OTHER_KEY) as gw:
        _send(gw)
        rotated = _hashes(gw)
    assert again == first
    assert rotated == {"span": keyed(PROMPT, OTHER_KEY), "event": keyed(EVENT_TEXT, OTHER_KEY),
                       "string body": keyed(ANSWER, OTHER_KEY), "map body": keyed(EVENT_TEXT, OTHER_KEY),
                       "guard": f"[CONTENT:hmac:{keyed(NOTE, OTHER_KEY)}]"}
    assert not set(rotated.values()) & set(first.values())


def test_sha256_mode_keeps_the_plain_digest():
    with gateway(content={"hash": "sha256"}) as gw:
        assert "hash_key_file" not in gw.collector.config_text
        _send(gw)
        got = _hashes(gw)
        a, *_ = _delivered(gw)
    assert got == {"span": plain(PROMPT), "event": plain(EVENT_TEXT), "string body": plain(ANSWER),
                   "map body": plain(EVENT_TEXT), "guard": f"[CONTENT:sha256:{plain(NOTE)}]"}
    assert not [key for key in a if key.endswith(".hmac")]


def test_the_key_is_read_from_a_file_never_written_in_config_or_logs(keyed_run):
    gw, _ = keyed_run
    config = yaml.safe_load(gw.collector.config_text)
    key_file = Path(gw.collector.dir.name) / redact.CONTENT_KEY
    policies = {name: p for name, p in config["processors"].items() if name.startswith("llmredact/") and "content" in p}
    assert set(policies) == {"llmredact/redact_traces", "llmredact/redact_logs"}
    assert all(p["hash"] == "hmac" and p["hash_key_file"] == str(key_file) for p in policies.values())
    assert CONTENT_KEY not in gw.collector.config_text and CONTENT_KEY not in gw.collector.logs()
    # A hash that needs no key (the metrics step, which runs no content policy) names none.
    assert "hash_key_file" not in config["processors"]["llmredact/redact_metrics"]


def _settings(**content) -> settings_pkg.Settings:
    return settings_pkg.validate({"target": "docker", "content": content})


@pytest.mark.parametrize("case", ["missing", "short"])
def test_the_gateway_stops_at_start_without_a_usable_key(case):
    collector = RunningCollector(_settings())
    key_file = Path(collector.dir.name) / redact.CONTENT_KEY
    if case == "missing":
        key_file.unlink()
        want = f"hash_key_file: open {key_file}"
    else:
        key_file.write_text("short-key\n")
        want = f"hash_key_file {key_file}: the key has 9 bytes; at least 16 wanted"
    try:
        with pytest.raises(RuntimeError, match="collector exited") as err:
            collector.start(timeout=60)
        assert want in str(err.value) and "short-key" not in str(err.value)
    finally:
        collector.stop()
        collector.dir.cleanup()
