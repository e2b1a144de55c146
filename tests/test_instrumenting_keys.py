"""docs/instrumenting.md tells application developers, in a table written by hand, which attribute
keys to set. Each key it names must be one the gateway reads (telemetry/keys.py): a key renamed in
the code but not in the guide (or the reverse) means applications set a key nothing reads."""
from __future__ import annotations

import re
from pathlib import Path

from telemetry import keys as k

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "instrumenting.md"
EVENT_NAMES = {"gen_ai.evaluation.result"}   # a log event's name in the table, not an attribute key


def _table_keys() -> set[str]:
    """The keys in the first cell of each row. A short form after ` / ` continues the key before it
    (`gen_ai.usage.input_tokens` / `output_tokens` / `cache_read.input_tokens` are three keys under
    `gen_ai.usage.`)."""
    section = GUIDE.read_text().split("## The keys the gateway reads", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| key")]
    keys = set()
    for row in rows:
        cell = row.split(" | ")[0]
        for chain in re.findall(r"`[a-z_.0-9]+`(?: / `[a-z_.0-9]+`)*", cell):
            first, *short = re.findall(r"`([a-z_.0-9]+)`", chain)
            if "." not in first:
                continue
            keys.add(first)
            keys |= {first.rsplit(".", 1)[0] + "." + s for s in short}
    return keys


def test_every_key_the_guide_names_is_one_the_gateway_reads():
    read = {v for name, v in vars(k).items() if name.isupper() and isinstance(v, str)}
    keys = _table_keys() - EVENT_NAMES
    assert {"llmobs.fallback.from_model", "llmobs.context_window.tokens", "gen_ai.usage.output_tokens",
            "gen_ai.usage.cache_creation.input_tokens"} <= keys and len(keys) > 35
    assert sorted(keys - read) == []
