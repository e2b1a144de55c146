"""Small typed helpers for OTTL text, so no statement is built by ad-hoc string pasting."""
from __future__ import annotations

from typing import Iterable


def lit(text: str) -> str:
    """An OTTL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def attr(ctx: str, key: str) -> str:
    return f"{ctx}.attributes[{lit(key)}]"


def any_of(values: Iterable[str]) -> str:
    """RE2 full-match alternation of literal values."""
    return "^(?:" + "|".join(re_escape(v) for v in values) + ")$"


def re_escape(text: str) -> str:
    return "".join("\\" + c if c in r".^$*+?()[]{}|\/-" else c for c in text)


def escape_dollars(value):
    """The collector config expands `${...}`; `$$` is a literal `$` in OTTL text."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, list):
        return [escape_dollars(v) for v in value]
    if isinstance(value, dict):
        return {k: escape_dollars(v) for k, v in value.items()}
    return value
