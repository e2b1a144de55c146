"""What keeps redaction cheap must not weaken it: every detector's gates are necessary
conditions of its regex (also on the JSON text the gateway scans), and each collector
tier's config stays within its size budget."""
from __future__ import annotations

import json
import random
import re

import pytest

import collector_config
from collector_config import redact
from corpus import SECRETS, benign
from loadgen.secrets import samples
from settings import load_stack_file, validate
from telemetry.detectors import DETECTORS, Detector

# Each tier is its own ConfigMap (1 MiB limit). After contract v2 and the redaction positions the
# single tier is ~522 KiB (the resource context renames only resource-level aliases); the budget
# keeps 3/8 of the limit free, ~118 KiB over today's size for the next additions.
TIER_BUDGET = 640 * 1024


def _texts() -> list[str]:
    out = [text for _, text, _ in SECRETS] + list(benign())
    out += [s.text for seed in range(20) for s in samples(random.Random(seed))]
    return out


def gateway_text(attributes: dict) -> str:
    """What the gateway scans: the attributes as Go's encoding/json writes them (HTML
    characters and the JS line separators escaped, other non-ASCII as UTF-8), then the generator's unescape steps, in order."""
    text = json.dumps(attributes, separators=(",", ":"), ensure_ascii=False)   # Go keeps UTF-8 as is
    for c in "<>&\u2028\u2029":
        text = text.replace(c, "\\u%04x" % ord(c))
    text = text.replace("\\\\", "~")
    text = re.sub(r"\\[nrtbf]", " ", text)
    return re.sub(r"\\(.)", r"\1", text)


def _search(pattern: str, text: str):
    return re.search(pattern.replace("(?i)", ""), text, re.I if pattern.startswith("(?i)") else 0)


@pytest.mark.parametrize("detector", DETECTORS, ids=[d.name for d in DETECTORS])
def test_gates_are_necessary_conditions(detector: Detector):
    matched = 0
    for text in _texts():
        if _search(detector.regex, text):
            matched += 1
            for scanned in (text, gateway_text({"app.note": text, "n": 3})):
                assert any(_search(g, scanned) for g in detector.checks), (detector.name, text, scanned)
    assert matched, f"no sample exercises {detector.name}"


def test_every_built_in_detector_is_gated():
    assert all(redact.gated(d) for d in DETECTORS)
    anchored = Detector("order_id", r"^ORD-[0-9]{6}$")
    assert not redact.gated(anchored)


def test_anchored_custom_pattern_runs_ungated():
    settings = validate({"target": "docker", "redaction": {"extra_patterns": [{"name": "order_id", "regex": r"^ORD-[0-9]{6}$"}]}})
    span = next(g for g in redact.processor("traces", settings)["trace_statements"] if g["context"] == "span")
    rewrite = [s for s in span["statements"] if s.startswith("replace_all_patterns(span.attributes") and "ORD-" in s]
    assert rewrite[0].endswith("[REDACTED:order_id]\")"), rewrite[0]   # first pass: no where clause


@pytest.mark.parametrize("stack", ["Pulumi.dev.yaml", "Pulumi.prod.yaml"])
@pytest.mark.parametrize("tier", collector_config.TIERS)
def test_each_tier_config_within_budget(stack, tier):
    size = len(collector_config.render_yaml(load_stack_file(stack), tier=tier).encode())
    assert size <= TIER_BUDGET, f"{stack} {tier}: {size} bytes > {TIER_BUDGET}"


@pytest.mark.parametrize("gate, body", [
    (r"(?i)bearer\s", r"bearer\s"), (r"(?i)key[\"']?\s*[:=]", r"key[\"']?\s*[:=]"),
    (r"(?i)pass(?:word|wd)?=", r"pass(?:word|wd)?="),
    (r"(?i)[A-Z]x", None), (r"(?i)\x41b", None), (r"(?i)\p{Lu}", None), (r"(?i)ABC", None), ("key", None)])
def test_only_plain_lowercase_case_insensitive_gates_run_on_the_lowered_text(gate, body):
    assert redact.lowered(gate) == body


# What PLAIN_KEYS replaced: a key list needs the key rewrite where it has any of these.
KEY_NEEDS = r'[^a-z0-9_.",\[\]]|[0-9]\.[0-9]|[0-9]{7}'


def test_plain_keys_is_the_complement_of_what_a_key_secret_needs():
    rnd = random.Random(7)
    alphabet = 'ab_.",[]0123456789'
    for _ in range(100_000):
        text = "".join(rnd.choice(alphabet + "A- =:" if rnd.random() < 0.1 else alphabet)
                       for _ in range(rnd.randint(0, 16)))
        assert (re.fullmatch(redact.PLAIN_KEYS, text) is None) == bool(re.search(KEY_NEEDS, text)), text


def test_every_secret_as_a_key_fails_plain_keys():
    for text in _texts():
        if any(_search(d.regex, text) for d in DETECTORS):
            keys = json.dumps(["gen_ai.request.model", text], separators=(",", ":"))
            assert re.fullmatch(redact.PLAIN_KEYS, keys) is None, text


def test_other_content_gates_are_necessary():
    """Every content key outside the canonical ones, and every flattened item of any, as the
    gateway's text shows it, passes a gate of the cache path (the canonical keys go by lookup)."""
    import telemetry.keys as k
    first = redact._other_content("span", "hash")[0]
    gates = [json.loads(f'"{g}"') for g in re.findall(r'IsMatch\(span\.cache\["text"\], "((?:[^"\\]|\\.)*)"\)', first)]
    assert len(gates) >= 4, first
    keys = [key for key in redact.CONTENT_KEYS if key not in k.CONTENT_KEYS]
    keys += [f"{key}.{i}.{field}{tail}" for key in redact.CONTENT_KEYS for field in k.CONTENT_FIELDS
             for i, tail in ((0, ""), (12, ".3"))]
    for key in keys:
        assert re.fullmatch(redact.content_key_regex(), key)
        text = gateway_text({"a": 1, key: "x", "z": "y"})
        assert any(re.search(g, text) for g in gates), (key, text)


def test_keys_the_content_policy_adds_pass_the_key_gate():
    """The key rewrite runs where a gate whose flag the record's text set also matches the key
    list (redact._key_flag). The keys added after the text was built are the content policy's: a
    content key (or a flattened item of one, any index) with a fixed suffix, and the body's
    hashes. Wherever a detector matches one, a gate of it matches the text (which holds the key
    without the suffix) and the key list (which holds it with)."""
    import telemetry.keys as k
    rnd = random.Random(11)
    digits = lambda: str(rnd.randint(0, 10 ** rnd.randint(1, 20)))  # noqa: E731
    added = [("llmobs.body.sha256", "llmobs.body.sha256"), ("llmobs.body.length", "llmobs.body.length")]
    added += [(f"llmobs.body.{field}.sha256",) * 2 for field in redact.BODY_FIELDS]
    for key in redact.CONTENT_KEYS:
        for field in k.CONTENT_FIELDS:
            for _ in range(8):
                for item in (key, f"{key}.{digits()}.{field}", f"{key}.{digits()}.{field}.{digits()}"):
                    assert re.fullmatch(redact.content_key_regex(), item)
                    added += [(item, item + suffix) for suffix in (".length", ".sha256", ".preview")]
    matched = 0
    for item, key in added:
        text = gateway_text({"a": 1, item: "x"})
        key_list = json.dumps(["a", key], separators=(",", ":"))
        for d in DETECTORS:
            if _search(d.regex, key):
                matched += 1
                assert any(_search(g, text) and _search(g, key_list) for g in d.checks), (d.name, key)
    assert matched, "no added key exercises a detector"
