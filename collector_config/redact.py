"""Content policy and secret/PII redaction, on all three signals: the project's llmredact processor.

One pass per record: the content policy first (so the hash is of what the app sent), then the
detectors over every string that remains (previews, names, status messages, keys, bodies), then
the preview cut and the free-text guard. This module renders its config from the typed
detector table (telemetry/detectors.py) and the alias tables (telemetry/aliases.py).
"""
from __future__ import annotations

import re

from collector_config.ottl import re_escape
from settings import Settings
from telemetry import aliases, keys as k
from telemetry.detectors import DETECTORS, TAG, Detector

def detectors(settings: Settings) -> list[Detector]:
    off = set(settings.redaction.disabled_detectors)
    built_in = [d for d in DETECTORS if d.name not in off]
    extra = [Detector(p.name, p.regex) for p in settings.redaction.extra_patterns]
    # Custom patterns run first: they are usually the most specific.
    return extra + built_in


# Canonical content keys, then the instrumentations' own (kept under their names).
CONTENT_KEYS = k.CONTENT_KEYS + tuple(c.key for c in aliases.CONTENT_KEYS)


def content_key_body() -> str:
    """A content key or a flattened item of one, unanchored."""
    keys = "|".join(re_escape(key) for key in CONTENT_KEYS)
    fields = "|".join(re_escape(f) for f in k.CONTENT_FIELDS)
    return rf"(?:{keys})(?:\.[0-9]+\.(?:{fields})(?:\.[0-9]+)?)?"


def content_key_regex(anchored: bool = True) -> str:
    body = content_key_body()
    # Unanchored: the key as it appears in the record's JSON text, `"key":`.
    return f"^{body}$" if anchored else f'"{body}":'

# The content hash key (content.hash hmac): a secret file, one per stack, that the llmredact
# processor reads when the collector starts; its value is never in the config text
# (docs/content-hashing.md). Containers mount it here; local runs pass their own path.
CONTENT_KEY = "content_hash_key"
KEY_FILE = f"/etc/llmobs/secrets/{CONTENT_KEY}"


def hash_config(settings: Settings, key_file: str = KEY_FILE) -> dict:
    """The processor's `hash` (hmac | sha256) and, for hmac, the key's file."""
    name = settings.content.hash
    return {"hash": name, **({"hash_key_file": key_file} if name == "hmac" else {})}


def hash_suffix(settings: Settings) -> str:
    """What a kept content hash is named after its key: `<key>.hmac` or `<key>.sha256`."""
    return f".{settings.content.hash}"


def hash_mark(settings: Settings) -> str:
    """How the guard's hashed values begin: `[CONTENT:hmac:` or `[CONTENT:sha256:`."""
    return f"[CONTENT:{settings.content.hash}:"


# Previews are cut first at preview_chars + PREVIEW_MARGIN, then at preview_chars after the
# detectors ran: a secret across the first cut keeps more than any detector's shortest match,
# so it is still found. Cutting at preview_chars first left a secret's first characters.
PREVIEW_MARGIN = 256

# GenAI log events carry content in the body: a string, or a map with these fields.
BODY_FIELDS = ("content", "message", "tool_calls", "arguments", "result")

# Keys the unknown-key guard never touches: the conventions' and the project's own, the
# canonical keys aliases become, and the allowlist setting.
_GUARD_EXEMPT_PREFIXES = ("gen_ai.", "llmobs.")
# An LLM span, after normalization: it names an operation, a model or a provider.
LLM_SPAN_KEYS = ("gen_ai.operation.name", "gen_ai.request.model", "gen_ai.provider.name")
# ... or it carried an instrumentation's content key (MLflow, Langfuse, pydantic-ai spans have no
# gen_ai.* marker): the content policy has left `<key>.length` by the time the guard runs.
CONTENT_SPAN_KEYS = tuple(f"{c.key}.length" for c in aliases.CONTENT_KEYS)


def _guard_exempt(settings: Settings) -> str:
    exact = sorted(key for key in {a.canonical for a in aliases.ALIASES} | set(settings.content.guard.allowlist)
                   | {v for name, v in vars(k).items() if name.isupper() and isinstance(v, str) and re.fullmatch(r"[a-z0-9_.]+", v)}
                   if not key.startswith(_GUARD_EXEMPT_PREFIXES))
    prefixes = "|".join(re_escape(p) for p in _GUARD_EXEMPT_PREFIXES)
    return f"^(?:{prefixes})|^(?:" + "|".join(re_escape(key) for key in exact) + ")$"


def _guard_keep(settings: Settings) -> int:
    """Characters a guarded value keeps in preview mode. RE2 repeats stop at 1000: a longer
    preview setting keeps 1000 here (as documented)."""
    return min(settings.content.preview_chars, 1000)


GENAI_EVENT_NAME = "^gen_ai[.]"


def gated(d: Detector) -> bool:
    """A detector anchored to the start or end of a value cannot be pre-checked on the
    joined text: it runs on every record. A by-key detector's gates check the keys."""
    if d.by_key:
        return bool(d.gates)
    outside_classes = re.sub(r"\\.|\[(?:\\.|[^\]])*\]", "", d.regex)
    return not re.search(r"[$^]", outside_classes) and "\\A" not in d.regex and "\\z" not in d.regex


# A `(?i)` gate whose body is plain lowercase text (no class, escape or letter that the
# lowercasing would change) is checked case-sensitively on a lowercased copy of the text:
# Go's regexp then jumps to its literal instead of trying every position (~40x cheaper).
_LOWERABLE = re.compile(r"""(?:[a-z0-9_ :=@/%-]|\\[s."'-]|\[[:="'\\]+\]|\(\?:|[|)?*+])+""")


def lowered(gate: str) -> str | None:
    """The case-sensitive body of a `(?i)` gate that can run on lowercased text, or None."""
    body = gate.removeprefix("(?i)")
    return body if body != gate and _LOWERABLE.fullmatch(body) else None


def _gate(gate: str) -> dict:
    body = lowered(gate)
    return {"regex": body, "lower": True} if body is not None else {"regex": gate}


def _detector(d: Detector) -> dict:
    out = {"name": d.name, "regex": d.regex, "replacement": d.replacement,
           "gates": [_gate(g) for g in d.checks] if gated(d) else []}
    if d.check:
        out["check"] = d.check
    if d.by_key:
        out["by_key"] = True
    return out


def content_policy(settings: Settings) -> dict:
    """The content policy: content keys (canonical, then the instrumentations'), span-event
    fields, GenAI event bodies, the mode and the first cut (preview_chars + PREVIEW_MARGIN)."""
    return {"mode": settings.content.mode, "cut": settings.content.preview_chars + PREVIEW_MARGIN,
            "keys": list(CONTENT_KEYS), "key_regex": content_key_regex(),
            "events": [{"name": e.event, "fields": list(e.fields)} for e in aliases.EVENT_CONTENT],
            "event_name": GENAI_EVENT_NAME, "body_fields": list(BODY_FIELDS), "body_key": "llmobs.body"}


def config(settings: Settings, drop_links: bool = False, policy: bool = False, key_file: str = KEY_FILE) -> dict:
    """The llmredact processor's config: the detectors in order (custom patterns first), each
    with the gates that must match the record's text before its regexp runs; with `policy`,
    the content policy before them and the preview cut and the free-text guard after them, and
    how both hash (content.hash; for hmac, the key's file `key_file`)."""
    out: dict = {"decode_bytes": True,
                 "detectors": [_detector(d) for d in detectors(settings)],
                 "key_replacement": TAG.format("key"), "flag_attribute": k.REDACTED}
    if drop_links:
        out["drop_links"] = True
    if not policy:
        return out
    content = settings.content
    out["content"] = content_policy(settings)
    if content.mode == "preview":
        out["preview_cut"] = content.preview_chars
    if content.guard.enabled:
        out["guard"] = {"min_chars": content.guard.min_chars, "mode": content.mode, "preview_chars": _guard_keep(settings),
                        "exempt": _guard_exempt(settings), "body_exempt": list(BODY_FIELDS),
                        "span_keys": list(LLM_SPAN_KEYS + CONTENT_SPAN_KEYS), "event_name": GENAI_EVENT_NAME, "attribute": k.CONTENT_GUARDED}
    out.update(hash_config(settings, key_file))
    return out


def _policy_on(signal: str, keep_content: bool) -> bool:
    return signal != "metrics" and not keep_content


def stage_name(name: str) -> str:
    """The llmredact processor's name for a redaction step (`redact_traces` -> `llmredact/redact_traces`)."""
    return f"llmredact/{name}"


def stage(name: str, signal: str, settings: Settings, keep_content: bool = False,
          key_file: str = KEY_FILE) -> dict[str, dict]:
    """{processor name: config} of the step that redacts `signal`. `keep_content`: every detector
    runs, the content policy does not (content stays, secret-redacted): for the debug sample
    store, which cuts the content itself afterwards. `key_file`: the content hash key's file."""
    drop = signal == "traces" and settings.redaction.span_links == "drop"
    return {stage_name(name): config(settings, drop_links=drop, policy=_policy_on(signal, keep_content),
                                     key_file=key_file)}
