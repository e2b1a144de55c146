"""Content policy and secret/PII redaction, on all three signals (transform processor).

Order within the processor: content policy first (so the SHA-256 is of what the
app sent), then the detectors over every string value that remains, previews included.
"""
from __future__ import annotations

import re
from typing import Callable

from collector_config.normalize import any_present
from collector_config.ottl import attr, lit, re_escape
from settings import Settings
from telemetry import aliases, keys as k
from telemetry.detectors import DETECTORS, TAG, Detector

ANY = r"^[\s\S]*$"
NESTED_VALUE = r'":[\[{]'   # a list or map value in the JSON text of a record's attributes
# Attribute keys are rewritten only where the record's key list has something a secret needs
# and plain keys lack: a character outside lower-case identifiers, an IPv4-like or long digit run.
# Written as its complement, the plain key list, anchored: one pass from the start (an unanchored
# search for any of the three restarts at every character and cost twice as much).
PLAIN_KEYS = r'^(?:[a-z_",\[\]]|\.|[0-9]{1,6}(?:[a-z_",\[\]]|\.[a-z_",\[\].]))*(?:[0-9]{1,6}\.?)?$'


def attrs(ctx: str) -> str:
    """The attribute map of a context (exemplars call theirs filtered_attributes)."""
    return "exemplar.filtered_attributes" if ctx == "exemplar" else f"{ctx}.attributes"


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


# Previews are cut first at preview_chars + PREVIEW_MARGIN, then at preview_chars after the
# detectors ran: a secret across the first cut keeps more than any detector's shortest match,
# so it is still found. Cutting at preview_chars first left a secret's first characters.
PREVIEW_MARGIN = 256
PREVIEW_KEY = r"\.preview"


def _content(ctx: str, settings: Settings) -> list[str]:
    mode, n = settings.content.mode, settings.content.preview_chars + PREVIEW_MARGIN
    target = attrs(ctx)
    cache = f'{ctx}.cache["content"]' if ctx in ("span", "log", "spanevent") else None
    out: list[str] = []
    for key in CONTENT_KEYS:  # exact keys: length via Len
        v = attr(ctx, key)
        out.append(f"set({attr(ctx, key + '.length')}, Len(String({v}))) where {v} != nil")
    if cache is None:
        return out + [f"delete_matching_keys({target}, {lit(content_key_regex())})"]
    out += _content_as_text(ctx, mode)
    if mode != "preview":
        return out + _exact_content(ctx, mode) + _other_content(ctx, mode)
    # Previews: every content key through the cache (copy, cut, rename, merge back), only on
    # records whose text names a content key (most spans of a trace carry none).
    has = f'{ctx}.cache["content_keys"]'
    out.append(f'set({has}, true) where IsMatch({ctx}.cache["text"], {lit(content_key_regex(False))})')
    preview = f'{ctx}.cache["preview"]'
    steps = [f"set({cache}, {target})", f"keep_matching_keys({cache}, {lit(content_key_regex())})",
             f"set({preview}, {cache})", f"truncate_all({preview}, {n})",
             f'replace_all_patterns({preview}, "key", "^(.*)$", "${{1}}.preview")',
             f'merge_maps({target}, {preview}, "upsert")',
             f'replace_all_patterns({cache}, "value", {lit(ANY)}, "${{0}}", SHA256)',
             f'replace_all_patterns({cache}, "key", "^(.*)$", "${{1}}.sha256")',
             f'merge_maps({target}, {cache}, "upsert")',
             f"delete_matching_keys({target}, {lit(content_key_regex())})"]
    return out + [f"{step} where {has} == true" for step in steps]


def _content_as_text(ctx: str, mode: str) -> list[str]:
    """A list or map under a content key becomes its JSON text first: the hash and the preview
    steps below rewrite string values only, and kept a structured value whole (as `.sha256`,
    `.preview`). Gated by the record's text showing a structured value at all."""
    if mode == "drop":
        return []
    nested = f'{ctx}.cache["content_nested"]'
    exact = () if mode == "preview" else k.CONTENT_KEYS   # hash mode hashes String() of these already
    out = [f'set({nested}, true) where IsMatch({ctx}.cache["text"], {lit(NESTED_VALUE)})']
    for key in CONTENT_KEYS:
        if key not in exact:
            v = attr(ctx, key)
            out.append(f"set({v}, String({v})) where {nested} == true and (IsMap({v}) or IsList({v}))")
    return out


def _exact_content(ctx: str, mode: str) -> list[str]:
    """The canonical content keys, one map lookup each: a key-pattern pass over every key of
    the record (copy, keep, rename, merge, delete) cost ~10x more on an LLM span."""
    out = []
    for key in k.CONTENT_KEYS:
        v = attr(ctx, key)
        if mode == "hash":
            out.append(f"set({attr(ctx, key + '.sha256')}, SHA256(String({v}))) where {v} != nil")
        out.append(f"delete_key({attrs(ctx)}, {lit(key)}) where {v} != nil")
    return out


def _other_content(ctx: str, mode: str) -> list[str]:
    """Instrumentations' own content keys and flattened items (dynamic keys): through the cache
    with the key pattern, only where the text shows one. The gates are literal-led matches (a
    key's family, `"ai.` ..., or an item's ending, `.content"` ...): the full key pattern, tried
    at every `"`, cost ~100 µs on a span that has none."""
    target, cache, found = attrs(ctx), f'{ctx}.cache["content"]', f'{ctx}.cache["content_other"]'
    text = f'{ctx}.cache["text"]'
    families = sorted({key.split(".")[0] for key in CONTENT_KEYS if key not in k.CONTENT_KEYS})
    fields = sorted({f.rsplit(".", 1)[-1] for f in k.CONTENT_FIELDS})
    gates = ['"' + re_escape(f + ".") for f in families] + [re_escape("." + f) + '[."]' for f in fields]
    regex = lit(content_key_regex())
    steps = [f"set({cache}, {target})", f"keep_matching_keys({cache}, {regex})"]
    if mode == "hash":
        steps += [f'replace_all_patterns({cache}, "value", {lit(ANY)}, "${{0}}", SHA256)',
                  f'replace_all_patterns({cache}, "key", "^(.*)$", "${{1}}.sha256")',
                  f'merge_maps({target}, {cache}, "upsert")']
    steps.append(f"delete_matching_keys({target}, {regex})")
    gate = " or ".join(f"IsMatch({text}, {lit(g)})" for g in gates)
    return [f"set({found}, true) where {gate}"] + [f"{step} where {found} == true" for step in steps]


# GenAI log events carry content in the body: a string, or a map with these fields.
BODY_FIELDS = ("content", "message", "tool_calls", "arguments", "result")
_GENAI_EVENT = 'IsMatch(log.event_name, "^gen_ai\\\\.")'


def _body_cuts(n: int) -> dict[str | None, str]:
    """The statement that cuts a GenAI event's string body (key None) or one body field to n bytes."""
    out = {None: f"set(log.body, Substring(log.body, 0, {n})) where {_GENAI_EVENT} and IsString(log.body) "
                 f"and Len(log.body) > {n}"}
    for field in BODY_FIELDS:
        v = f"log.body[{lit(field)}]"
        out[field] = (f"set({v}, Substring(String({v}), 0, {n})) "
                      f"where {_GENAI_EVENT} and IsMap(log.body) and {v} != nil and Len(String({v})) > {n}")
    return out


def _log_body(settings: Settings) -> list[str]:
    """GenAI log events carry content in the body (string or {content: ...})."""
    event, preview = _GENAI_EVENT, settings.content.mode == "preview"
    cuts = _body_cuts(settings.content.preview_chars + PREVIEW_MARGIN)
    if preview:
        string_body = [cuts[None]]
    else:
        string_body = [
            f'set(log.attributes["llmobs.body.sha256"], SHA256(log.body)) where {event} and IsString(log.body)',
            f'set(log.attributes["llmobs.body.length"], Len(log.body)) where {event} and IsString(log.body)',
            f'set(log.body, "[CONTENT:{settings.content.mode}]") where {event} and IsString(log.body)',
        ]
    map_body = []
    for field in BODY_FIELDS:
        v = f"log.body[{lit(field)}]"
        cond = f"{event} and IsMap(log.body) and {v} != nil"
        map_body.append(f'set(log.attributes[{lit("llmobs.body." + field + ".sha256")}], SHA256(String({v}))) where {cond}')
        map_body.append(cuts[field] if preview else f"delete_key(log.body, {lit(field)}) where {cond}")
    return string_body + map_body


def event_content(settings: Settings) -> list[dict]:
    """Span events that carry content under plain field names (aliases.EVENT_CONTENT): each
    field is hashed, previewed or dropped like a content key. One group per event family,
    skipped by its condition for every other event."""
    mode, n = settings.content.mode, settings.content.preview_chars + PREVIEW_MARGIN
    groups = []
    for entry in aliases.EVENT_CONTENT:
        out = []
        for field in entry.fields:
            v = attr("spanevent", field)
            cond = f"{v} != nil"
            out.append(f"set({attr('spanevent', field + '.length')}, Len(String({v}))) where {cond}")
            if mode in ("hash", "preview"):
                out.append(f"set({attr('spanevent', field + '.sha256')}, SHA256(String({v}))) where {cond}")
            if mode == "preview":
                out.append(f"set({attr('spanevent', field + '.preview')}, Substring(String({v}), 0, {n})) "
                           f"where {cond} and Len(String({v})) > {n}")
                out.append(f"set({attr('spanevent', field + '.preview')}, String({v})) "
                           f"where {cond} and Len(String({v})) <= {n}")
            out.append(f"delete_key(spanevent.attributes, {lit(field)}) where {cond}")
        groups.append({"context": "spanevent", "conditions": [f"IsMatch(spanevent.name, {lit(entry.event)})"],
                       "statements": out})
    return groups


# Keys the unknown-key guard never touches: the conventions' and the project's own, the
# canonical keys aliases become, and the allowlist setting.
_GUARD_EXEMPT_PREFIXES = ("gen_ai.", "llmobs.")
# An LLM span, after normalization: it names an operation, a model or a provider.
LLM_SPAN_KEYS = ("gen_ai.operation.name", "gen_ai.request.model", "gen_ai.provider.name")
_LONG, _WORDS = "[llmobs:long]", "[llmobs:words]"   # marks between two guard statements
_ANY_TEXT = r"[\s\S]*"
_MULTI_WORD = r"[\s\S]*\S\s+\S[\s\S]*"


def _guard_exempt(settings: Settings) -> str:
    exact = sorted(key for key in {a.canonical for a in aliases.ALIASES} | set(settings.content.guard.allowlist)
                   | {v for name, v in vars(k).items() if name.isupper() and isinstance(v, str) and re.fullmatch(r"[a-z0-9_.]+", v)}
                   if not key.startswith(_GUARD_EXEMPT_PREFIXES))
    prefixes = "|".join(re_escape(p) for p in _GUARD_EXEMPT_PREFIXES)
    return f"^(?:{prefixes})|^(?:" + "|".join(re_escape(key) for key in exact) + ")$"


def _guard_keep(settings: Settings) -> int:
    """Characters a guarded value keeps in preview mode. RE2 repeats stop at 1000: a longer
    preview setting keeps 1000 here (on either engine)."""
    return min(settings.content.preview_chars, 1000)


def _guard_rewrite(work: str, settings: Settings) -> list[str]:
    """Statements over `work` (a map of unknown keys): long values, then multi-word ones among
    them, become content per mode; every other value is restored."""
    guard, mode = settings.content.guard, settings.content.mode
    long_, words = re_escape(_LONG), re_escape(_WORDS)
    final = {
        "hash": (f"^{words}({_ANY_TEXT})$", "${1}", ', SHA256, "[CONTENT:sha256:%s]"'),
        "drop": (f"^{words}{_ANY_TEXT}$", "[CONTENT:dropped]", ""),
        "preview": (f"^{words}([\\s\\S]{{0,{_guard_keep(settings)}}}){_ANY_TEXT}$",
                    "[CONTENT:preview] ${1}", ""),
    }[mode]
    at_least = "^[\\s\\S]{%d,}$" % guard.min_chars
    return [
        f'replace_all_patterns({work}, "value", {lit(at_least)}, {lit(_LONG + "${0}")})',
        f'replace_all_patterns({work}, "value", {lit(f"^{long_}({_MULTI_WORD})$")}, {lit(_WORDS + "${1}")})',
        f'replace_all_patterns({work}, "value", {lit("^" + long_)}, "")',
        f'replace_all_patterns({work}, "value", {lit(final[0])}, {lit(final[1])}{final[2]})',
    ]


GUARD_BLANK = r' |\\[tnrf]|\\u000[cC]'   # whitespace inside a JSON string, as written or escaped


def guard_long_run(n: int) -> str:
    """n JSON string characters in a row (an escape sequence counts as one)."""
    return '(?:[^"\\\\]|\\\\.){%d}' % n


def _guard(ctx: str, settings: Settings) -> list[str]:
    """Free text under keys the alias table does not know, on LLM spans (LLM_SPAN_KEYS) and
    GenAI log events: a string of at least min_chars with whitespace between words is content.
    The unknown keys are copied out, rewritten by replacements that only touch matching
    values, and merged back; the first key (in key order) that fired is named for the counter."""
    guard = settings.content.guard
    if not guard.enabled or ctx not in ("span", "log"):
        return []
    on, work, text = (f'{ctx}.cache["{name}"]' for name in ("guard", "guard_map", "guard_text"))
    llm = _llm_record(ctx)
    # Gate on the JSON text after the detectors (NOW; content keys already hashed, secrets
    # redacted; a preview cut since only shortens it), so clean LLM spans skip the guard: a
    # guarded value puts a space or an escaped blank in that text, and a run of min_chars JSON
    # string characters (an escape counts as one).
    now = NOW.format(ctx)
    # One literal-led match per alternative: Go's regexp skips to a literal, but tries an
    # alternation at every position of the text.
    blank = " or ".join(f"IsMatch({now}, {lit(b)})" for b in GUARD_BLANK.split("|"))
    long_run = lit(guard_long_run(guard.min_chars))
    out = [f"set({on}, true) where {llm} and ({blank}) and IsMatch({now}, {long_run})"]
    fired = re_escape("[CONTENT:")
    first_key = lit(f'"(?P<guarded>[^"]+)":"{fired}')
    for target in [f"{ctx}.attributes"] + (["log.body"] if ctx == "log" else []):
        when = f"{on} == true" + (" and IsMap(log.body)" if target == "log.body" else "")
        steps = [f"set({work}, {target})", f"delete_matching_keys({work}, {lit(_guard_exempt(settings))})"]
        if target == "log.body":   # the body's own content fields are the body policy's
            steps.append(f"delete_matching_keys({work}, {lit('^(?:' + '|'.join(BODY_FIELDS) + ')$')})")
        steps += _guard_rewrite(work, settings)
        steps += [f'merge_maps({target}, {work}, "upsert")', f"set({text}, String({work}))"]
        out += [f"{step} where {when}" for step in steps]
        out.append(f'merge_maps({ctx}.cache, ExtractPatterns({text}, {first_key}), "upsert") '
                   f'where {when} and {ctx}.cache["guarded"] == nil and IsMatch({text}, {lit(fired)})')
    out.append(f'set({attr(ctx, k.CONTENT_GUARDED)}, {ctx}.cache["guarded"]) where {ctx}.cache["guarded"] != nil')
    return out


def _where(*conditions: str | None) -> str:
    present = [c for c in conditions if c]
    return " where " + " and ".join(present) if present else ""


def _replace(ctx: str, d: Detector, when: str | None) -> list[str]:
    pattern, repl = lit(d.regex), lit(d.replacement)
    out = [f'replace_all_patterns({attrs(ctx)}, "value", {pattern}, {repl}){_where(when)}']
    if ctx == "log":
        out.append(f'replace_all_patterns(log.body, "value", {pattern}, {repl}){_where("IsMap(log.body)", when)}')
    return out


# Free-text fields besides attributes that detectors rewrite. They are parked in the
# attributes under these keys while the detectors run, so each detector is one statement.
_FREE_TEXT = {
    "span": {"span.name": "llmobs.redact.name", "span.status.message": "llmobs.redact.status"},
    "spanevent": {"spanevent.name": "llmobs.redact.name"},
    "log": {"log.body": "llmobs.redact.body"},
}
# Each context's scanned text: every string a detector rewrites, in one text.
_SCANNED = {
    "span": "Concat([String(span.attributes), span.name, span.status.message], \" \")",
    "spanevent": "Concat([String(spanevent.attributes), spanevent.name], \" \")",
    "log": "Concat([String(log.attributes), String(log.body)], \" \")",
}


def _park(ctx: str, when: str) -> tuple[list[str], list[str]]:
    """Statements that move the free-text fields into the attributes, and back."""
    park, restore = [], []
    for field, key in _FREE_TEXT.get(ctx, {}).items():
        only = "IsString(log.body)" if field == "log.body" else None
        park.append(f"set({attr(ctx, key)}, {field}){_where(when, only)}")
        restore.append(f"set({field}, {attr(ctx, key)}){_where(when, f'{attr(ctx, key)} != nil')}")
        restore.append(f"delete_key({ctx}.attributes, {lit(key)}){_where(when)}")
    return park, restore


def _unescaped(ctx: str, into: str, when: str | None = None) -> list[str]:
    """`into` := the context's strings as one text with JSON escapes undone, so that a
    detector matching any value also matches this text (attribute maps arrive as JSON)."""
    bs = "\\"
    return [
        f"set({into}, {_SCANNED.get(ctx, f'String({attrs(ctx)})')}){_where(when)}",
        # An escaped backslash first (kept as one non-space char), then \n \t ... as
        # whitespace (so `Bearer\tTOKEN` still matches), then the rest (\" -> ").
        f'replace_pattern({into}, {lit(bs * 4)}, "~"){_where(when)}',
        f'replace_pattern({into}, {lit(bs * 2 + "[nrtbf]")}, " "){_where(when)}',
        f'replace_pattern({into}, {lit(bs * 2 + "(.)")}, "${{1}}"){_where(when)}',
    ]


def gated(d: Detector) -> bool:
    """A detector anchored to the start or end of a value cannot be pre-checked on the
    joined text: it runs on every record."""
    outside_classes = re.sub(r"\\.|\[(?:\\.|[^\]])*\]", "", d.regex)
    return not re.search(r"[$^]", outside_classes) and "\\A" not in d.regex and "\\z" not in d.regex


def _gates(found: list[Detector]) -> dict[str, str]:
    """{gate regex: cache flag}, one flag per distinct gate."""
    out: dict[str, str] = {}
    for d in found:
        for g in d.checks if gated(d) else ():
            out.setdefault(g, f"g{len(out)}")
    return out


def _utf8(ctx: str, text: str) -> list[str]:
    """Invalid UTF-8 would make a backend reject the whole batch. Go's regexp reads each
    invalid byte as U+FFFD, so replacing U+FFFD by itself writes valid UTF-8. Attribute maps
    show invalid bytes as `\ufffd` in their JSON (`ufffd` once unescaped: a literal, cheap to
    find); the short free-text fields are checked as they are."""
    bad, rune = f'{ctx}.cache["utf8"]', lit(chr(0xFFFD))
    fields = [f for f in _FREE_TEXT.get(ctx, {}) if f != "log.body"]
    found = [f'IsMatch({text}, "ufffd")'] + [f"IsMatch({f}, {rune})" for f in fields]
    if ctx == "log":
        found.append(f"(IsString(log.body) and IsMatch(log.body, {rune}))")
    out = [f"set({bad}, true) where " + " or ".join(found),
           f'replace_all_patterns({attrs(ctx)}, "value", {rune}, {rune}) where {bad} == true']
    if ctx == "log":
        out.append(f"replace_pattern(log.body, {rune}, {rune}) where {bad} == true and IsString(log.body)")
    out += [f"replace_pattern({f}, {rune}, {rune}) where {bad} == true" for f in fields]
    return out


# A `(?i)` gate whose body is plain lowercase text (no class, escape or letter that the
# lowercasing would change) is checked case-sensitively on a lowercased copy of the text:
# Go's regexp then jumps to its literal instead of trying every position (~40x cheaper).
_LOWERABLE = re.compile(r"""(?:[a-z0-9_ :=@/%-]|\\[s."'-]|\[[:="'\\]+\]|\(\?:|[|)?*+])+""")
# Go's (?i) also folds `s` with U+017F (long s), which lowercasing keeps: a text holding one
# makes every lowered gate true, so no match is lost.
_LONG_S = "\u017f"


def lowered(gate: str) -> str | None:
    """The case-sensitive body of a `(?i)` gate that can run on lowercased text, or None."""
    body = gate.removeprefix("(?i)")
    return body if body != gate and _LOWERABLE.fullmatch(body) else None


def _gate_flags(ctx: str, text: str, gates: dict[str, str], flag: dict[str, str]) -> list[str]:
    lower, fold = f'{ctx}.cache["lower"]', f'{ctx}.cache["fold"]'
    out = []
    if any(lowered(g) for g in gates):
        out += [f"set({lower}, ToLowerCase({text}))", f"set({fold}, true) where IsMatch({text}, {lit(_LONG_S)})"]
    for g in gates:
        body = lowered(g)
        match = f"IsMatch({text}, {lit(g)})" if body is None else f"({fold} == true or IsMatch({lower}, {lit(body)}))"
        out.append(f"set({flag[g]}, true) where {match}")
    return out


# Contexts whose key rewrite is also gated on the key list itself (long key lists: spans, logs).
KEY_GATED = ("span", "log")
BACKSLASH = r"\\"


def _key_flag(ctx: str, keys: str, hit: str, nested: str, gates: dict[str, str], flag: dict[str, str],
              by_key: bool) -> list[str]:
    """`keys` := the key rewrite must run. It changes a key only where a detector matches it, and
    then one of that detector's gates matches the key (gates are necessary on any string) and,
    the key being in the record's text, the text: so besides a key list that is not PLAIN_KEYS,
    a gate whose flag is set must match the key list. That holds where each key is in the JSON
    key list as it is (no backslash: JSON escapes every character that would change) and in
    the text (not flattened since; the keys the content policy added since, a content key and a
    fixed suffix, match no detector: tests/test_redaction_cost.py). A telemetrygen span, whose
    IPv4 value passed its gate, then skips PLAIN_KEYS (~30 µs on 20 keys) for one literal-led
    match of that gate on its key list."""
    targets = [(attrs(ctx), None)] + ([("log.body", "IsMap(log.body)")] if ctx == "log" else [])
    out, tests = [], []
    for n, (target, only) in enumerate(targets):
        key_list = f'{ctx}.cache["key_list{n or ""}"]'
        if not by_key:
            tests.append(f"{only + ' and ' if only else ''}not IsMatch(String(Keys({target})), {lit(PLAIN_KEYS)})")
            continue
        out.append(f"set({key_list}, String(Keys({target}))){_where(f'{hit} == true', only)}")
        in_keys = " or ".join([f"{nested} == true", f"IsMatch({key_list}, {lit(BACKSLASH)})"]
                              + [f"({flag[g]} == true and IsMatch({key_list}, {lit(g)}))" for g in gates])
        tests.append(f"{only + ' and ' if only else ''}({in_keys}) and not IsMatch({key_list}, {lit(PLAIN_KEYS)})")
    tests = [f"({t})" if len(tests) > 1 else t for t in tests]
    return out + [f"set({keys}, true) where {hit} == true and (" + " or ".join(tests) + ")"]


def _detect(ctx: str, settings: Settings) -> list[str]:
    """Each detector's gates are checked once on the record's text; a detector runs only
    where one of its gates matched, so a clean record pays a few cheap scans instead of a
    pass per detector over every value. Strings inside list or map values escape
    replace_all_patterns: where the record has such values and its text matches a detector,
    the attributes (and a map body) are flattened first, so one pass reaches every string.
    Key names are rewritten by one statement (all detectors, tag `key`), and only where the
    key list is not PLAIN_KEYS: keys rarely hold secrets, and one statement per detector and
    context would double the config."""
    found = detectors(settings)
    gates = _gates(found)
    text, hit, nested, keys = (f'{ctx}.cache["{name}"]' for name in ("text", "hit", "nested", "keys"))
    flag = {g: f'{ctx}.cache["{name}"]' for g, name in gates.items()}
    # The text was built at the start of the processor (the content policy reads it too).
    out = _utf8(ctx, text) + _gate_flags(ctx, text, gates, flag)
    out.append(f"set({hit}, true) where " + " or ".join(f"{f} == true" for f in flag.values()))
    # Nested values show in the JSON text as `":[` or `":{`.
    anything = lit("|".join(f"(?:{d.regex})" for d in found))
    # Small, rarely nested maps (resource, scope, exemplar) skip the exact check: flattening
    # one whose text merely passed a gate costs less than the check's config size.
    exact = f" and IsMatch({text}, {anything})" if ctx in ("span", "spanevent", "log", "datapoint") else ""
    out.append(f"set({nested}, true) where {hit} == true and IsMatch({text}, {lit(NESTED_VALUE)}){exact}")
    out.append(f"flatten({attrs(ctx)}) where {nested} == true")
    if ctx == "log":
        out.append(f"flatten(log.body) where {nested} == true and IsMap(log.body)")
    always = not all(gated(d) for d in found)   # an anchored custom pattern runs on every record
    out += _key_flag(ctx, keys, hit, nested, gates, flag, by_key=ctx in KEY_GATED and not always)

    def when(d: Detector) -> str | None:
        return "(" + " or ".join(f"{flag[g]} == true" for g in d.checks) + ")" if gated(d) else None

    park, restore = _park(ctx, None if always else f"{hit} == true")
    out += park + [line for d in found for line in _replace(ctx, d, when(d))] + restore
    # A key is cut at its first match: detectors overlap (a key name, then a PEM block), and one
    # alternation cannot apply them in order the way the value statements do.
    key_match = lit("^([\\s\\S]*?)(?:" + "|".join(f"(?:{d.regex})" for d in found) + ")[\\s\\S]*$")
    key_tag = lit("${1}" + TAG.format("key"))
    out.append(f'replace_all_patterns({attrs(ctx)}, "key", {key_match}, {key_tag}) where {keys} == true')
    if ctx == "log":
        out.append(f'replace_all_patterns(log.body, "key", {key_match}, {key_tag}) where {keys} == true and IsMap(log.body)')
    return out


def _flag(ctx: str, settings: Settings) -> list[str]:
    if ctx not in ("span", "log"):
        return []
    subject = "String(log.body)" if ctx == "log" else f"{ctx}.name"
    # Only a detector that ran can have redacted something (ungated ones run always).
    gate = None if not all(gated(d) for d in detectors(settings)) else f'{ctx}.cache["hit"] == true'
    # NOW holds the attributes' text (and a log's body) as they are after the detectors.
    found = f'(IsMatch({NOW.format(ctx)}, "\\\\[REDACTED:")' + ("" if ctx == "log" else f' or IsMatch({subject}, "\\\\[REDACTED:")') + ")"
    return [f"set({attr(ctx, k.REDACTED)}, true){_where(gate, found)}"]


NOW = '{}.cache["now"]'


GENAI_EVENT_NAME = "^gen_ai[.]"


def _llm_record(ctx: str) -> str:
    """An LLM span (it names an operation, model or provider: exact-key lookups) or GenAI event."""
    if ctx == "log":
        return f"IsMatch(log.event_name, {lit(GENAI_EVENT_NAME)})"
    return f"({any_present('span', list(LLM_SPAN_KEYS))[0]})"


def _current_text(ctx: str) -> str:
    """The record's attributes (and a log's body) as text, as they are now."""
    return 'Concat([String(log.attributes), String(log.body)], " ")' if ctx == "log" else f"String({ctx}.attributes)"


def _now(ctx: str, settings: Settings, policy: bool) -> list[str]:
    """The record's text after the detectors, built once for the redacted flag and the guard."""
    if ctx not in ("span", "log"):
        return []
    flag = None if not all(gated(d) for d in detectors(settings)) else f'{ctx}.cache["hit"] == true'
    guard = _llm_record(ctx) if policy and settings.content.guard.enabled else None
    current = _current_text(ctx)
    when = None if flag is None else f"{flag} or {guard}" if guard else flag
    return [f"set({NOW.format(ctx)}, {current}){_where(when)}"]


# A bytes value is none of OTTL's other types (nor an empty value).
def _is_bytes(v: str) -> str:
    return " or ".join(f"{t}({v})" for t in ("not (IsString", "IsInt", "IsDouble", "IsBool", "IsMap", "IsList", "IsEmpty")) + ")"


def _bytes(ctx: str) -> list[str]:
    """Bytes values become UTF-8 text (invalid sequences as U+FFFD) before anything reads the
    record, so every detector and the content policy see them as they see strings. Lambdas
    (MapEach, Any) are the only way OTTL v0.161 reaches values by type; they need the
    `ottl.functions.enableLambda` gate (FEATURE_GATES). MapEach fails on a map holding an empty
    value, so those (no type, no content) are filtered out of a record that has bytes.
    Bytes inside list or map values stay bytes."""
    keep = "(_, v) => IsString(v) or IsMap(v) or IsList(v) or not IsEmpty(v)"
    is_bytes = _is_bytes("v")
    convert = f'(_, v) => When(() => {is_bytes}, Decode(v, "utf-8"), v)'

    def each(target: str, only: str = "") -> str:
        return f"set({target}, MapEach(Filter({target}, {keep}), {convert})) where {only}Any({target}, (_, v) => {is_bytes})"

    out = [each(attrs(ctx))]
    if ctx == "log":
        out += [each("log.body", "IsMap(log.body) and "),
                f'set(log.body, Decode(log.body, "utf-8")) where {_is_bytes("log.body")}']
    return out


def _links(ctx: str, settings: Settings) -> list[str]:
    """Link attributes cannot be read or rewritten (`span.links` is opaque to OTTL v0.161), so
    by default the links go, counted as dropped the way an SDK counts links over its limit."""
    if ctx != "span" or settings.redaction.span_links != "drop":
        return []
    has = "Len(span.links) > 0"
    return [f"set(span.dropped_links_count, span.dropped_links_count + Len(span.links)) where {has}",
            f"set(span.links, nil) where {has}"]


def _cut_previews(ctx: str, settings: Settings) -> list[str]:
    """After the detectors: previews down to preview_chars (see PREVIEW_MARGIN)."""
    if settings.content.mode != "preview" or ctx not in ("span", "spanevent", "log"):
        return []
    n, cut, target = settings.content.preview_chars, f'{ctx}.cache["cut"]', attrs(ctx)
    quoted_key = lit(PREVIEW_KEY + '"')   # as the key ends in the JSON key list
    has = f"IsMatch(String(Keys({target})), {quoted_key})"
    out = [f"{step} where {has}" for step in (
        f"set({cut}, {target})", f"keep_matching_keys({cut}, {lit(PREVIEW_KEY + '$')})", f"truncate_all({cut}, {n})",
        f'merge_maps({target}, {cut}, "upsert")')]
    if ctx == "log":
        out += _body_cuts(n).values()
    return out


CONTEXTS = {"traces": ("resource", "scope", "span", "spanevent"), "logs": ("resource", "scope", "log"),
            "metrics": ("resource", "scope", "datapoint", "exemplar")}


def processor(signal: str, settings: Settings, keep_content: bool = False) -> dict:
    """`keep_content`: every detector runs, the content policy does not (content stays, secret-
    redacted): for the debug sample store, which cuts the content itself afterwards."""
    # Span links are out of OTTL's reach in v0.161: dropped or kept (README).
    contexts = CONTEXTS[signal]
    policy = _policy_on(signal, keep_content)
    groups = []
    for ctx in contexts:
        statements = _bytes(ctx) + _unescaped(ctx, f'{ctx}.cache["text"]')
        statements += _content(ctx, settings) if policy else []
        if ctx == "log" and policy:
            statements += _log_body(settings)
        # The guard runs last: detectors see the original text first, so redaction stays counted.
        statements += _detect(ctx, settings) + _now(ctx, settings, policy) + _flag(ctx, settings) + _links(ctx, settings)
        statements += _cut_previews(ctx, settings) if policy else []
        statements += _guard(ctx, settings) if policy else []
        if ctx == "spanevent" and policy:
            groups += event_content(settings)
        groups.append({"context": ctx, "statements": statements})
    key = {"traces": "trace_statements", "logs": "log_statements", "metrics": "metric_statements"}[signal]
    return {"error_mode": "ignore", key: groups}


# redaction.engine native: the content policy (first: it hashes what the app sent), the detectors
# (and the bytes, UTF-8 and span-link steps), the preview cuts and the guard run in one pass of the
# project's llmredact processor.
def _native_gate(gate: str) -> dict:
    body = lowered(gate)
    return {"regex": body, "lower": True} if body is not None else {"regex": gate}


def native_content(settings: Settings) -> dict:
    """The content policy for llmredact: the keys, modes and cuts of _content, _log_body and
    event_content."""
    return {"mode": settings.content.mode, "cut": settings.content.preview_chars + PREVIEW_MARGIN,
            "keys": list(CONTENT_KEYS), "key_regex": content_key_regex(),
            "events": [{"name": e.event, "fields": list(e.fields)} for e in aliases.EVENT_CONTENT],
            "event_name": GENAI_EVENT_NAME, "body_fields": list(BODY_FIELDS), "body_key": "llmobs.body"}


def native(settings: Settings, drop_links: bool = False, policy: bool = False) -> dict:
    """The llmredact processor's config: the same detectors, in the same order, with the same
    gates; with `policy`, the content policy before them and the preview cut and the guard after
    them, as _content, _cut_previews and _guard do."""
    out: dict = {"decode_bytes": True,
                 "detectors": [{"name": d.name, "regex": d.regex, "replacement": d.replacement,
                                "gates": [_native_gate(g) for g in d.checks] if gated(d) else []}
                               for d in detectors(settings)],
                 "key_replacement": TAG.format("key"), "flag_attribute": k.REDACTED}
    if drop_links:
        out["drop_links"] = True
    if not policy:
        return out
    content = settings.content
    out["content"] = native_content(settings)
    if content.mode == "preview":
        out["preview_cut"] = content.preview_chars
    if content.guard.enabled:
        out["guard"] = {"min_chars": content.guard.min_chars, "mode": content.mode, "preview_chars": _guard_keep(settings),
                        "exempt": _guard_exempt(settings), "body_exempt": list(BODY_FIELDS),
                        "span_keys": list(LLM_SPAN_KEYS), "event_name": GENAI_EVENT_NAME, "attribute": k.CONTENT_GUARDED}
    return out


def _policy_on(signal: str, keep_content: bool) -> bool:
    return signal != "metrics" and not keep_content


def _stage(name: str, signal: str, settings: Settings, keep_content: bool) -> dict[str, Callable[[], dict]]:
    """{processor name: its config, built on call}, in pipeline order, that redact `signal` where
    the one OTTL processor `name` does."""
    if settings.redaction.engine != "native":
        return {name: lambda: processor(signal, settings, keep_content)}
    base = "llmredact/" + name.split("/", 1)[1]
    drop = signal == "traces" and settings.redaction.span_links == "drop"
    return {base: lambda: native(settings, drop_links=drop, policy=_policy_on(signal, keep_content))}


def stage(name: str, signal: str, settings: Settings, keep_content: bool = False) -> dict[str, dict]:
    return {n: build() for n, build in _stage(name, signal, settings, keep_content).items()}


def stage_names(name: str, signal: str, settings: Settings, keep_content: bool = False) -> list[str]:
    return list(_stage(name, signal, settings, keep_content))
