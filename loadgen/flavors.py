"""Attribute flavors: the same telemetry as each instrumentation library would emit it.

`canonical` emits telemetry/keys.py keys. `openllmetry`, `openlit` and `openinference`
emit, for each canonical key, the alias that telemetry/aliases.py lists for their
source (the first one listed, as a library emits one spelling), their indexed
per-message keys for content, and their own values where a VALUE_MAP exists (span
kinds such as `LLM`/`TOOL`). Keys with no alias for the source stay canonical.
The gateway's normalization must turn all four into the same canonical telemetry;
`normalize()` below is that contract in Python, used by the unit tests.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from telemetry import aliases, keys as k

CANONICAL = "canonical"
FLAVORS = (CANONICAL, "openllmetry", "openlit", "openinference")
SOURCE = {"openllmetry": aliases.OLLM, "openlit": aliases.OLIT, "openinference": aliases.OINF}


def _first_alias(canonical: str, source: str) -> str | None:
    for alias in aliases.ALIASES:
        if alias.canonical == canonical and source in alias.sources:
            return alias.key
    return None


# Operation names as each library spells them: (key, value) per canonical operation.
# Values are checked against aliases.VALUE_MAPS by tests/test_loadgen.py.
_OPERATIONS = {
    "openllmetry": {"chat": ("llm.request.type", "chat"), "embeddings": ("llm.request.type", "embedding"),
                    "execute_tool": ("traceloop.span.kind", "tool"), "invoke_workflow": ("traceloop.span.kind", "workflow")},
    "openinference": {"chat": ("openinference.span.kind", "LLM"), "embeddings": ("openinference.span.kind", "EMBEDDING"),
                      "retrieval": ("openinference.span.kind", "RETRIEVER"),
                      "execute_tool": ("openinference.span.kind", "TOOL"),
                      "invoke_workflow": ("openinference.span.kind", "CHAIN")},
}

# Per-message keys (content): {i} is the message index; checked against aliases.INDEXED.
_INDEXED = {
    "openllmetry": {k.INPUT_MESSAGES: ("gen_ai.prompt.{i}.role", "gen_ai.prompt.{i}.content"),
                    k.OUTPUT_MESSAGES: ("gen_ai.completion.{i}.role", "gen_ai.completion.{i}.content")},
    "openinference": {k.INPUT_MESSAGES: ("llm.input_messages.{i}.message.role", "llm.input_messages.{i}.message.content"),
                      k.OUTPUT_MESSAGES: ("llm.output_messages.{i}.message.role", "llm.output_messages.{i}.message.content")},
}
_OPENINFERENCE_DOCS = ("retrieval.documents.{i}.document.id", "retrieval.documents.{i}.document.score",
                       "retrieval.documents.{i}.document.content")


@dataclass(frozen=True)
class Flavor:
    name: str
    keys: dict = field(default_factory=dict)   # canonical key -> emitted key

    def key(self, canonical: str) -> str:
        return self.keys.get(canonical, canonical)

    def attributes(self, attrs: dict, content: dict | None = None) -> dict:
        """Canonical attributes (+ structured content) -> attributes as this library emits them."""
        out: dict = {}
        for key, value in attrs.items():
            if key == k.OPERATION and self.name in _OPERATIONS and value in _OPERATIONS[self.name]:
                op_key, op_value = _OPERATIONS[self.name][value]
                out[op_key] = op_value
            elif key == k.FINISH_REASONS and self.key(key) != key:
                out[self.key(key)] = value[0] if value else ""   # the aliases carry one string
            else:
                out[self.key(key)] = value
        for key, value in (content or {}).items():
            out.update(self._content(key, value))
        return out

    def _content(self, key: str, value) -> dict:
        """value: a list of {"role", "content"} messages, a list of documents, or a string."""
        if key in (k.INPUT_MESSAGES, k.OUTPUT_MESSAGES) and self.name in _INDEXED:
            role_key, content_key = _INDEXED[self.name][key]
            out = {}
            for i, msg in enumerate(value):
                out[role_key.format(i=i)] = msg["role"]
                out[content_key.format(i=i)] = msg["content"]
            return out
        if key == k.RETRIEVED_DOCUMENTS and self.name == "openinference":
            out = {}
            for i, doc in enumerate(value):
                for template, field_ in zip(_OPENINFERENCE_DOCS, ("id", "score", "content")):
                    out[template.format(i=i)] = doc[field_]
            return out
        if isinstance(value, str):
            return {self.key(key): value}
        if self.name == "openlit" and key in (k.INPUT_MESSAGES, k.OUTPUT_MESSAGES):
            # OpenLIT (< 1.35) puts the text itself, role-prefixed, under gen_ai.prompt/gen_ai.completion.
            return {self.key(key): "\n".join(f"{m['role']}: {m['content']}" for m in value)}
        if key in (k.INPUT_MESSAGES, k.OUTPUT_MESSAGES):
            # GenAI semconv JSON: [{"role", "parts": [{"type": "text", "content"}]}]
            value = [{"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]} for m in value]
        return {self.key(key): json.dumps(value, separators=(",", ":"))}


def _build(name: str) -> Flavor:
    if name == CANONICAL:
        return Flavor(name)
    source = SOURCE[name]
    emitted = {}
    for canonical in {a.canonical for a in aliases.ALIASES}:
        if canonical == k.OPERATION:
            continue  # per value, see _OPERATIONS
        key = _first_alias(canonical, source)
        if key is not None:
            emitted[canonical] = key
    return Flavor(name, emitted)


_BY_NAME = {name: _build(name) for name in FLAVORS}


def get(name: str) -> Flavor:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown flavor {name!r}; use one of: {', '.join(FLAVORS)}") from None


def normalize(attrs: dict) -> dict:
    """What the gateway's normalization does to attributes, per telemetry/aliases.py:
    aliases renamed (canonical and the first-listed alias win), indexed keys re-rooted,
    values mapped case-insensitively."""
    out = dict(attrs)
    for alias in aliases.ALIASES:
        if alias.key in out:
            value = out.pop(alias.key)
            out.setdefault(alias.canonical, value)
    for indexed in aliases.INDEXED:
        for key in [key for key in out if re.fullmatch(indexed.pattern, key)]:
            index = re.fullmatch(indexed.pattern, key).group(1)
            out[f"{indexed.canonical}.{index}.{indexed.field}"] = out.pop(key)
    for vmap in aliases.VALUE_MAPS:
        value = out.get(vmap.canonical)
        if isinstance(value, str):
            out[vmap.canonical] = dict(vmap.values).get(value.lower(), value)
    return out
