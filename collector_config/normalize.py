"""Aliases that instrumentation libraries emit -> canonical GenAI keys (transform processor)."""
from __future__ import annotations

import re

from collector_config.ottl import any_of, attr, lit, re_escape
from telemetry import aliases, keys as k

# Where attributes live in each signal's OTTL contexts.
CONTEXTS = {
    "traces": ("span", "spanevent", "resource"),
    "logs": ("log", "resource"),
    "metrics": ("datapoint", "resource"),
}


def _rename(ctx: str, old: str, new: str) -> list[str]:
    # Canonical wins when both are present: the alias is dropped, never overwrites.
    return [
        f"set({attr(ctx, new)}, {attr(ctx, old)}) where {attr(ctx, old)} != nil and {attr(ctx, new)} == nil",
        f"delete_key({ctx}.attributes, {lit(old)}) where {attr(ctx, old)} != nil",
    ]


def statements(ctx: str) -> list[str]:
    out: list[str] = []
    for alias in aliases.ALIASES:
        if alias.key != alias.canonical:
            out += _rename(ctx, alias.key, alias.canonical)
    for indexed in aliases.INDEXED:
        # gen_ai.prompt.3.content -> gen_ai.input.messages.3.content (flattened canonical form);
        # a second index (tool call, content part) follows the field.
        target = indexed.canonical + ".${1}." + indexed.field + (".${2}" if re.compile(indexed.pattern).groups > 1 else "")
        out.append(f'replace_all_patterns({ctx}.attributes, "key", {lit(indexed.pattern)}, {lit(target)})')
    for vmap in aliases.VALUE_MAPS:
        for old, new in vmap.values:
            key = attr(ctx, vmap.canonical)
            out.append(f'set({key}, {lit(new)}) where IsString({key}) and IsMatch({key}, {lit("(?i)^" + re_escape(old) + "$")})')
    return out


def processor(signal: str) -> dict:
    groups = [{"context": ctx, "statements": statements(ctx)} for ctx in CONTEXTS[signal]]
    key = {"traces": "trace_statements", "logs": "log_statements", "metrics": "metric_statements"}[signal]
    return {"error_mode": "ignore", key: groups}


def llm_condition(ctx: str = "span") -> str:
    return f"IsMatch({attr(ctx, k.OPERATION)}, {lit(any_of(k.LLM_OPERATIONS))})"
