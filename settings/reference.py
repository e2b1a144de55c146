"""The configuration reference table of docs/configuration.md, generated from the schema."""
from __future__ import annotations

import json

from settings.load import STACK_SCHEMA, resolve as _resolve

BEGIN, END = "<!-- config-reference:begin -->", "<!-- config-reference:end -->"


def _allowed(schema: dict) -> str:
    if "enum" in schema:
        return " \\| ".join(map(str, schema["enum"]))
    kind = schema.get("type", "")
    bounds = [f"{op} {schema[key]}" for key, op in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"))
              if key in schema]
    if kind == "array":
        item = _resolve(schema.get("items", {}))
        return f"list of {item.get('type', 'object')}"
    return ", ".join(filter(None, [kind, *bounds]))


def rows(schema: dict = STACK_SCHEMA, prefix: str = "llmobs:") -> list[str]:
    out = []
    for name, sub in schema.get("properties", {}).items():
        sub = _resolve(sub)
        key = f"{prefix}{name}"
        if sub.get("type") == "object" and "properties" in sub:
            # An object default given where the object is used (labels.environment) beats its children's.
            given = sub.get("default") or {}
            props = {n: {**_resolve(c), **({"default": given[n]} if n in given else {})}
                     for n, c in sub["properties"].items()}
            out += rows({**sub, "properties": props}, key + ".")
            continue
        default = json.dumps(sub["default"]) if "default" in sub else ("required" if name in schema.get("required", []) else "")
        desc = sub.get("description", "").replace("|", "\\|")
        out.append(f"| `{key}` | {_allowed(sub)} | {default} | {desc} |")
    return out


def table() -> str:
    head = ["| key | allowed | default | meaning |", "|---|---|---|---|"]
    return "\n".join([BEGIN, *head, *rows(), END])


if __name__ == "__main__":
    print(table())
