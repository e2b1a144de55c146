"""What keeps redaction cheap must not weaken it: every detector's gates are necessary
conditions of its regex (on the text and on its JSON form), and each collector tier's config
stays within its size budget."""
from __future__ import annotations

import json
import random
import re

import pytest

import collector_config
from collector_config import redact
from corpus import HEADER_SECRETS, SECRETS, benign
from loadgen.secrets import samples
from settings import load_stack_file, validate
from telemetry.detectors import DETECTORS, Detector

# Each tier is its own ConfigMap (1 MiB limit), and a reviewer reads it: at most 150 KB a tier
# (issue 28; the single tier was ~620 KB with the OTTL engines, ~130 KB with the project's).
TIER_BUDGET = 150_000


def _texts() -> list[str]:
    out = [text for _, text, _ in SECRETS] + list(benign()) + [key for _, key, _ in HEADER_SECRETS]
    out += [s.text for seed in range(20) for s in samples(random.Random(seed))]
    return out


def gateway_text(attributes: dict) -> str:
    """Text the gateway may scan: llmredact scans a record's raw strings (keys and values), and
    a map or list under a content key in preview mode becomes its JSON text (Go's
    encoding/json: HTML characters and the JS line separators escaped, other non-ASCII as
    UTF-8), quotes and backslashes escaped. (The OTTL engines' unescape steps went with them.)"""
    text = json.dumps(attributes, separators=(",", ":"), ensure_ascii=False)   # Go keeps UTF-8 as is
    for c in "<>&\u2028\u2029":
        text = text.replace(c, "\\u%04x" % ord(c))
    return text


def _search(pattern: str, text: str):
    return re.search(pattern.replace("(?i)", ""), text, re.I if pattern.startswith("(?i)") else 0)


@pytest.mark.parametrize("detector", DETECTORS, ids=[d.name for d in DETECTORS])
def test_gates_are_necessary_conditions(detector: Detector):
    matched = 0
    for text in _texts():
        if _search(detector.regex, text):
            matched += 1
            for scanned in (text, gateway_text({"app.note": text, "n": 3})):
                if _search(detector.regex, scanned):   # necessary: wherever the regex matches
                    assert any(_search(g, scanned) for g in detector.checks), (detector.name, text, scanned)
    assert matched, f"no sample exercises {detector.name}"


def test_every_built_in_detector_is_gated():
    assert all(redact.gated(d) for d in DETECTORS)
    anchored = Detector("order_id", r"^ORD-[0-9]{6}$")
    assert not redact.gated(anchored)


def test_anchored_custom_pattern_runs_ungated():
    settings = validate({"target": "docker", "redaction": {"extra_patterns": [{"name": "order_id", "regex": r"^ORD-[0-9]{6}$"}]}})
    detectors = redact.config(settings)["detectors"]
    assert detectors[0] == {"name": "order_id", "regex": r"^ORD-[0-9]{6}$", "replacement": "[REDACTED:order_id]",
                            "gates": []}   # custom patterns first, and with no gate: run on every value
    assert all(d["gates"] for d in detectors[1:])


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
