"""What the gateway's normalization should make of a record's attributes, worked out in Python
from the alias tables (telemetry/aliases.py) and the rules written down beside them and in
collector_config/normalize.py, without the collector's code: the tests' oracle for the
llmnormalize processor.

The rules, in the order they apply to one attribute map:
1. Renames (ALIASES). Per canonical key: if the canonical key is set, it stays and every alias
   of it is dropped; else it takes the value of the alias listed first in ALIASES among those
   present, and every alias of it is dropped. On a resource only the aliases of RESOURCE_KEYS.
2. Indexed keys (INDEXED): a key a pattern matches in full becomes
   `<canonical>.<index>.<field>`, or `<canonical>.<index>.<field>.<index 2>` when the pattern has
   a second group. When two keys end up as one, the later one in the record's order wins.
3. Value maps (VALUE_MAPS): a string value equal, ignoring case, to a listed value becomes its
   canonical value.
4. Numeric guard (NUMERIC): a value of one of these keys is valid when it is an int or a float
   in [0, 1e9), or a string matching NUMBER; anything else (NaN, infinity, a negative number,
   a bool, a list, a map, bytes, other text) is dropped and `llmobs.invalid` names the key (the
   last bad one in NUMERIC's order when several are).
5. Lists (LIST_KEYS): a string value of one of these keys becomes a one-item list, on spans,
   span events and log records (a data point's attributes are label values, and stay strings).
Steps 2-5 do not apply to resources; step 4 applies to spans and log records only.
"""
from __future__ import annotations

import math
import re
from typing import Any

from collector_config.normalize import MAX_NUMBER, NUMBER, NUMERIC, RESOURCE_KEYS
from telemetry import aliases, keys as k

# Where an attribute map sits: span, span event, log record, data point or resource.
PLACES = ("span", "event", "log", "datapoint", "resource")
_GUARDED = {"span": NUMERIC["span"], "log": NUMERIC["log"]}


def _aliases_by_canonical(resource: bool) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for a in aliases.ALIASES:
        if a.key == a.canonical or (resource and a.canonical not in RESOURCE_KEYS):
            continue
        out.setdefault(a.canonical, []).append(a.key)
    return out


def renamed(attrs: dict[str, Any], resource: bool = False) -> dict[str, Any]:
    out = dict(attrs)
    for canonical, keys in _aliases_by_canonical(resource).items():
        present = [key for key in keys if key in attrs]
        if not present:
            continue
        if canonical not in attrs:
            out[canonical] = attrs[present[0]]
        for key in present:
            del out[key]
    return out


def indexed_key(key: str) -> str:
    """The flattened canonical form of an indexed alias key; other keys unchanged."""
    for item in aliases.INDEXED:
        match = re.fullmatch(item.pattern, key)
        if match:
            return ".".join([item.canonical, match.group(1), item.field, *match.groups()[1:]])
    return key


def reindexed(attrs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attrs.items():   # a later key overwrites an earlier one
        out[indexed_key(key)] = value
    return out


def _value_maps() -> dict[str, dict[str, str]]:
    return {vmap.canonical: {old.lower(): new for old, new in vmap.values} for vmap in aliases.VALUE_MAPS}


def mapped(attrs: dict[str, Any]) -> dict[str, Any]:
    out = dict(attrs)
    for key, table in _value_maps().items():
        value = out.get(key)
        if isinstance(value, str) and value.lower() in table:
            out[key] = table[value.lower()]
    return out


def valid_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value < MAX_NUMBER
    if isinstance(value, float):
        return not math.isnan(value) and 0.0 <= value < MAX_NUMBER
    if isinstance(value, str):
        return re.fullmatch(NUMBER.strip("^$"), value) is not None
    return False   # list, map, bytes


def guarded(attrs: dict[str, Any], place: str) -> dict[str, Any]:
    out = dict(attrs)
    for key in _GUARDED.get(place, ()):
        if key in out and not valid_number(out[key]):
            del out[key]
            out[k.INVALID] = key
    return out


def listed(attrs: dict[str, Any], place: str) -> dict[str, Any]:
    if place == "datapoint":
        return dict(attrs)
    return {key: [value] if key in aliases.LIST_KEYS and isinstance(value, str) else value for key, value in attrs.items()}


def normalize(attrs: dict[str, Any], place: str) -> dict[str, Any]:
    """The attributes of one record after the gateway's normalization."""
    if place not in PLACES:
        raise ValueError(f"place must be one of {PLACES}")
    if place == "resource":
        return renamed(attrs, resource=True)
    return listed(guarded(mapped(reindexed(renamed(attrs))), place), place)
