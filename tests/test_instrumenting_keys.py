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
    section = GUIDE.read_text().split("## The keys the gateway reads", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| key")]
    # The first cell names the keys; partial keys (`output_tokens` after `gen_ai.usage.input_tokens /`)
    # are matched as the end of a full key.
    return {key for row in rows for key in re.findall(r"`([a-z_]+(?:\.[a-z_0-9]+)+)", row.split(" | ")[0])}


def test_every_key_the_guide_names_is_one_the_gateway_reads():
    read = {v for name, v in vars(k).items() if name.isupper() and isinstance(v, str)}
    keys = _table_keys() - EVENT_NAMES
    assert len(keys) > 30 and "llmobs.fallback.from_model" in keys and "llmobs.context_window.tokens" in keys
    unread = sorted(key for key in keys if key not in read and not any(v.endswith("." + key) for v in read))
    assert unread == []
