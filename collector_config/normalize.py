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


def _keys_match(ctx: str, gates: list[str]) -> list[str]:
    """Group conditions (any true runs the group), each a match over the record's keys as
    JSON (`["a","b"]`). Every gate starts with a literal so Go's regexp skips ahead cheaply;
    one big alternation of all keys costs ~10x more (measured with go test-style loops)."""
    return [f"IsMatch(String(Keys({ctx}.attributes)), {lit(g)})" for g in gates]


def any_present(ctx: str, keys: list[str]) -> list[str]:
    """One group condition: any of these exact keys is set. Map lookups on the attributes cost a
    fraction of a regex over the JSON key list (~22 against ~110 µs per clean span for the rename
    group, measured on the transform processor alone)."""
    return [" or ".join(f"{attr(ctx, key)} != nil" for key in keys)]


def indexed_gate() -> str:
    """Each indexed pattern's part before its first `.<index>`, then `.<digit>`."""
    heads = sorted({i.pattern.removeprefix("^").split(r"\.(\d+)")[0] for i in aliases.INDEXED})
    return '"(?:' + "|".join(heads) + r')\.[0-9]'


# Canonical keys that live on the resource. The resource context renames only their
# aliases: the other aliases are span, event, log or data-point attributes, and renaming
# them on every resource too cost a third of the config (~140 KiB) for nothing.
RESOURCE_KEYS = frozenset({k.ENVIRONMENT})


def _target(item: aliases.IndexedAlias) -> str:
    """gen_ai.prompt.3.content -> gen_ai.input.messages.3.content (flattened canonical form);
    a second index (tool call, content part) follows the field."""
    return item.canonical + ".${1}." + item.field + (".${2}" if re.compile(item.pattern).groups > 1 else "")


def _renames() -> list[aliases.Alias]:
    return [a for a in aliases.ALIASES if a.key != a.canonical]


def groups(ctx: str) -> list[dict]:
    """Statement groups for one context. Most records carry no alias: each group's condition
    (one match over the record's key list) skips the whole group for them."""
    renames = _renames()
    if ctx == "resource":
        renames = [a for a in renames if a.canonical in RESOURCE_KEYS]
        return [{"context": ctx, "conditions": any_present(ctx, [a.key for a in renames]),
                 "statements": [line for a in renames for line in _rename(ctx, a.key, a.canonical)]}]
    out = [{"context": ctx, "conditions": any_present(ctx, [a.key for a in renames]),
            "statements": [line for a in renames for line in _rename(ctx, a.key, a.canonical)]}]
    indexed = [f'replace_all_patterns({ctx}.attributes, "key", {lit(item.pattern)}, {lit(_target(item))})'
               for item in aliases.INDEXED]
    # `.<digit>` first: a literal-led scan that fails fast on most key lists, where the gate's
    # alternation is tried at every `"` (~3x the cost of the whole rename group's lookups).
    out.append({"context": ctx, "conditions": [" and ".join(_keys_match(ctx, [r"\.[0-9]", indexed_gate()]))],
                "statements": indexed})
    for vmap in aliases.VALUE_MAPS:
        key = attr(ctx, vmap.canonical)
        olds = "|".join(re_escape(old) for old, _ in vmap.values)
        out.append({"context": ctx, "conditions": [f'IsString({key}) and IsMatch({key}, {lit(f"(?i)^(?:{olds})$")})'],
                    "statements": [f'set({key}, {lit(new)}) where IsMatch({key}, {lit("(?i)^" + re_escape(old) + "$")})'
                                   for old, new in vmap.values]})
    return out


# Numbers the gateway computes with: a bad value would make a counter go negative, NaN or
# infinite (cost, tokens) or corrupt a histogram. Valid: a number in [0, 1e9).
NUMERIC = {"span": (k.INPUT_TOKENS, k.OUTPUT_TOKENS, k.CACHED_INPUT_TOKENS, k.CACHE_WRITE_TOKENS, k.TTFT, k.EVAL_SCORE,
                  k.RETRIEVAL_RETURNED, k.RETRIEVAL_TOP_K, k.CONTEXT_WINDOW, k.AGENT_ITERATIONS, k.RETRY_ATTEMPT),
           "log": (k.EVAL_SCORE,)}
NUMBER = r"^[0-9]{1,9}(?:\.[0-9]+)?$"
MAX_NUMBER = 1e9


def numeric_guard(ctx: str) -> list[dict]:
    """Drop a bad numeric value and name it in `llmobs.invalid` (counted by llm.invalid.values).
    One group per key, in order (the last bad key is named, as in one group): a record lacking
    the key pays one lookup instead of four (a missing key is a scan of every attribute)."""
    groups = []
    for key in NUMERIC.get(ctx, ()):
        v, statements = attr(ctx, key), []
        # A string must look like a number (Double() of "lots" fails, and a failed condition
        # skips its statement); any other value must be a number in [0, 1e9): a bool, map, list
        # or bytes value is bad (IsInt/IsDouble first: Double() of a map fails, as above).
        in_range = f"Double({v}) >= 0.0 and Double({v}) < {MAX_NUMBER:.1f}"
        for bad in (f"IsString({v}) and not IsMatch({v}, {lit(NUMBER)})",
                    f"{v} != nil and not IsString({v}) and not ((IsInt({v}) or IsDouble({v})) and {in_range})"):
            statements += [f"set({attr(ctx, k.INVALID)}, {lit(key)}) where {bad}",
                           f"delete_key({ctx}.attributes, {lit(key)}) where {bad}"]
        groups.append({"context": ctx, "conditions": [f"{v} != nil"], "statements": statements})
    return groups


def _transform(signal: str) -> dict:
    key = {"traces": "trace_statements", "logs": "log_statements", "metrics": "metric_statements"}[signal]
    return {"error_mode": "ignore", key: [g for ctx in CONTEXTS[signal] for g in groups(ctx) + numeric_guard(ctx)]}


def _native() -> dict:
    """The same tables for the project's llmnormalize processor: one config for every signal,
    in the order of the statements above."""
    renames = _renames()
    return {
        "renames": [{"from": a.key, "to": a.canonical} for a in renames],
        "resource_renames": [{"from": a.key, "to": a.canonical} for a in renames if a.canonical in RESOURCE_KEYS],
        "indexed": [{"pattern": item.pattern, "replacement": _target(item)} for item in aliases.INDEXED],
        "values": [{"key": v.canonical, "values": [{"from": old, "to": new} for old, new in v.values]}
                   for v in aliases.VALUE_MAPS],
        "numeric": {"spans": list(NUMERIC["span"]), "logs": list(NUMERIC["log"]), "pattern": NUMBER,
                    "max": MAX_NUMBER, "attribute": k.INVALID},
    }


def stage(signal: str, engine: str) -> tuple[str, dict]:
    """The normalize processor's name and config: transform statements (`collector.normalize_engine:
    ottl`, the contrib image) or the project's llmnormalize processor (native)."""
    if engine == "native":
        return f"llmnormalize/{signal}", _native()
    return f"transform/normalize_{signal}", _transform(signal)


def llm_condition(ctx: str = "span") -> str:
    return f"IsMatch({attr(ctx, k.OPERATION)}, {lit(any_of(k.LLM_OPERATIONS))})"
