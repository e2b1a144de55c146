"""OTTL conditions on a record's tenant or feature: the record's own attribute, else the resource's."""
from __future__ import annotations

from typing import Iterable

from collector_config.ottl import any_of, attr, lit
from telemetry import keys as k


def _owner(ctx: str) -> str:
    return "span" if ctx == "spanevent" else ctx   # a span event belongs to its span's tenant


def value_in(ctx: str, key: str, values: Iterable[str]) -> str:
    """True when the record's `key` is one of `values`. IsMatch is false on nil, so a record
    without the key anywhere never matches, and no branch can raise an OTTL error."""
    own, res = attr(_owner(ctx), key), attr("resource", key)
    pattern = lit(any_of(sorted(values)))
    return f"(({own} != nil and IsMatch({own}, {pattern})) or ({own} == nil and IsMatch({res}, {pattern})))"


def tenant_in(ctx: str, tenants: Iterable[str]) -> str:
    return value_in(ctx, k.TENANT, tenants)


def feature_in(ctx: str, features: Iterable[str]) -> str:
    return value_in(ctx, k.FEATURE, features)
