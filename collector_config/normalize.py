"""Aliases that instrumentation libraries emit -> canonical GenAI keys: the project's llmnormalize processor.

Its config is the alias tables (telemetry/aliases.py) in order: renames (canonical wins when
both are present), indexed keys flattened into the canonical form, value maps, the numeric
guard on the numbers the gateway computes with, then single strings under list keys wrapped.
"""
from __future__ import annotations

import re

from collector_config.ottl import any_of, attr, lit
from telemetry import aliases, keys as k


def any_present(ctx: str, keys: list[str]) -> list[str]:
    """One OTTL condition: any of these exact keys is set (map lookups, cheaper than a regex
    over the key list)."""
    return [" or ".join(f"{attr(ctx, key)} != nil" for key in keys)]


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


# Numbers the gateway computes with: a bad value would make a counter go negative, NaN or
# infinite (cost, tokens) or corrupt a histogram. Valid: a number in [0, 1e9).
NUMERIC = {"span": (k.INPUT_TOKENS, k.OUTPUT_TOKENS, k.CACHED_INPUT_TOKENS, k.CACHE_WRITE_TOKENS, k.TTFT, k.EVAL_SCORE,
                  k.RETRIEVAL_RETURNED, k.RETRIEVAL_TOP_K, k.CONTEXT_WINDOW, k.AGENT_ITERATIONS, k.RETRY_ATTEMPT),
           "log": (k.EVAL_SCORE,)}
NUMBER = r"^[0-9]{1,9}(?:\.[0-9]+)?$"
MAX_NUMBER = 1e9


def config() -> dict:
    """llmnormalize's config, one for every signal."""
    renames = _renames()
    return {
        "renames": [{"from": a.key, "to": a.canonical} for a in renames],
        "resource_renames": [{"from": a.key, "to": a.canonical} for a in renames if a.canonical in RESOURCE_KEYS],
        "indexed": [{"pattern": item.pattern, "replacement": _target(item)} for item in aliases.INDEXED],
        "values": [{"key": v.canonical, "values": [{"from": old, "to": new} for old, new in v.values]}
                   for v in aliases.VALUE_MAPS],
        "lists": list(aliases.LIST_KEYS),
        "numeric": {"spans": list(NUMERIC["span"]), "logs": list(NUMERIC["log"]), "pattern": NUMBER,
                    "max": MAX_NUMBER, "attribute": k.INVALID},
    }


def stage(signal: str) -> tuple[str, dict]:
    """The normalize processor's name and config for one signal's pipeline."""
    return f"llmnormalize/{signal}", config()


def llm_condition(ctx: str = "span") -> str:
    return f"IsMatch({attr(ctx, k.OPERATION)}, {lit(any_of(k.LLM_OPERATIONS))})"
