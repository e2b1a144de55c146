"""Content policy and secret/PII redaction, on all three signals (transform processor).

Order within the processor: content policy first (so the SHA-256 is of what the
app sent), then the detectors over every string value that remains, previews included.
"""
from __future__ import annotations

from collector_config.ottl import attr, lit, re_escape
from settings import Settings
from telemetry import keys as k
from telemetry.detectors import DETECTORS, Detector

ANY = r"^[\s\S]*$"


def detectors(settings: Settings) -> list[Detector]:
    off = set(settings.redaction.disabled_detectors)
    built_in = [d for d in DETECTORS if d.name not in off]
    extra = [Detector(p.name, p.regex) for p in settings.redaction.extra_patterns]
    # Custom patterns run first: they are usually the most specific.
    return extra + built_in


def content_key_regex() -> str:
    keys = "|".join(re_escape(key) for key in k.CONTENT_KEYS)
    fields = "|".join(re_escape(f) for f in k.CONTENT_FIELDS)
    return rf"^(?:{keys})(?:\.[0-9]+\.(?:{fields})(?:\.[0-9]+)?)?$"


def _content(ctx: str, settings: Settings) -> list[str]:
    mode, n = settings.content.mode, settings.content.preview_chars
    target = f"{ctx}.attributes"
    cache = f'{ctx}.cache["content"]' if ctx in ("span", "log", "spanevent") else None
    out: list[str] = []
    for key in k.CONTENT_KEYS:  # exact canonical keys: length via Len
        v = attr(ctx, key)
        out.append(f"set({attr(ctx, key + '.length')}, Len(String({v}))) where {v} != nil")
    if cache is None:
        return out + [f"delete_matching_keys({target}, {lit(content_key_regex())})"]
    # Flattened items have dynamic keys: copy them to the cache, transform, merge back.
    out.append(f"set({cache}, {target})")
    out.append(f"keep_matching_keys({cache}, {lit(content_key_regex())})")
    if mode == "preview":
        out.append(f'set({ctx}.cache["preview"], {cache})')
        out.append(f'truncate_all({ctx}.cache["preview"], {n})')
        out.append(f'replace_all_patterns({ctx}.cache["preview"], "key", "^(.*)$", "${{1}}.preview")')
        out.append(f'merge_maps({target}, {ctx}.cache["preview"], "upsert")')
    if mode in ("hash", "preview"):
        out.append(f'replace_all_patterns({cache}, "value", {lit(ANY)}, "${{0}}", SHA256)')
        out.append(f'replace_all_patterns({cache}, "key", "^(.*)$", "${{1}}.sha256")')
        out.append(f'merge_maps({target}, {cache}, "upsert")')
    out.append(f"delete_matching_keys({target}, {lit(content_key_regex())})")
    return out


def _log_body(settings: Settings) -> list[str]:
    """GenAI log events carry content in the body (string or {content: ...})."""
    event = 'IsMatch(log.event_name, "^gen_ai\\\\.")'
    if settings.content.mode == "preview":
        n = settings.content.preview_chars
        string_body = [f"set(log.body, Substring(log.body, 0, {n})) where {event} and IsString(log.body) and Len(log.body) > {n}"]
    else:
        string_body = [
            f'set(log.attributes["llmobs.body.sha256"], SHA256(log.body)) where {event} and IsString(log.body)',
            f'set(log.attributes["llmobs.body.length"], Len(log.body)) where {event} and IsString(log.body)',
            f'set(log.body, "[CONTENT:{settings.content.mode}]") where {event} and IsString(log.body)',
        ]
    map_body = []
    for field in ("content", "message", "tool_calls", "arguments", "result"):
        v = f"log.body[{lit(field)}]"
        cond = f"{event} and IsMap(log.body) and {v} != nil"
        map_body.append(f'set(log.attributes[{lit("llmobs.body." + field + ".sha256")}], SHA256(String({v}))) where {cond}')
        if settings.content.mode == "preview":
            map_body.append(f"set({v}, Substring(String({v}), 0, {settings.content.preview_chars})) where {cond} and Len(String({v})) > {settings.content.preview_chars}")
        else:
            map_body.append(f"delete_key(log.body, {lit(field)}) where {cond}")
    return string_body + map_body


def _replace(ctx: str, d: Detector, when: str = "") -> list[str]:
    pattern, repl = lit(d.regex), lit(d.replacement)
    cond = f" where {when}" if when else ""
    both = f" and {when}" if when else ""
    out = [f'replace_all_patterns({ctx}.attributes, "value", {pattern}, {repl}){cond}']
    if ctx == "log":
        out.append(f'replace_all_patterns(log.body, "value", {pattern}, {repl}) where IsMap(log.body){both}')
    if when:
        return out
    if ctx == "span":
        out.append(f"replace_pattern(span.name, {pattern}, {repl})")
        out.append(f"replace_pattern(span.status.message, {pattern}, {repl})")
    if ctx == "spanevent":
        out.append(f"replace_pattern(spanevent.name, {pattern}, {repl})")
    if ctx == "log":
        out.append(f"replace_pattern(log.body, {pattern}, {repl}) where IsString(log.body)")
    return out


def _detect(ctx: str, settings: Settings) -> list[str]:
    found = detectors(settings)
    out = [line for d in found for line in _replace(ctx, d)]
    # Strings inside list or map values escape replace_all_patterns: where the JSON form
    # still matches a detector, flatten that record's attributes (lists become
    # key.0, key.1, ...) and run the detectors again.
    anything = lit("|".join(f"(?:{d.regex})" for d in found))
    nested = f'{ctx}.cache["nested_secret"] == true'
    # JSON escapes (\\") would hide quoted secrets from the detectors: drop backslashes first.
    json = f'{ctx}.cache["json"]'
    out.append(f"set({json}, String({ctx}.attributes))")
    out.append(f'replace_pattern({json}, "\\\\\\\\", "")')
    out.append(f"set({ctx}.cache[\"nested_secret\"], true) where IsMatch({json}, {anything})")
    out.append(f"flatten({ctx}.attributes) where {nested}")
    if ctx == "log":
        out.append('set(log.cache["json"], "") where not IsMap(log.body)')
        out.append('set(log.cache["json"], String(log.body)) where IsMap(log.body)')
        out.append('replace_pattern(log.cache["json"], "\\\\\\\\", "")')
        out.append(f"set(log.cache[\"nested_body\"], true) where IsMatch(log.cache[\"json\"], {anything})")
        out.append('flatten(log.body) where log.cache["nested_body"] == true')
        nested = f'({nested} or log.cache["nested_body"] == true)'
    return out + [line for d in found for line in _replace(ctx, d, nested)]


def _flag(ctx: str) -> list[str]:
    if ctx not in ("span", "log"):
        return []
    subject = "String(log.body)" if ctx == "log" else f"{ctx}.name"
    return [f'set({attr(ctx, k.REDACTED)}, true) where IsMatch(String({ctx}.attributes), "\\\\[REDACTED:") '
            f'or IsMatch({subject}, "\\\\[REDACTED:")']


def processor(signal: str, settings: Settings) -> dict:
    contexts = {"traces": ("resource", "span", "spanevent"), "logs": ("resource", "log"),
                "metrics": ("resource", "datapoint")}[signal]
    groups = []
    for ctx in contexts:
        statements = [] if signal == "metrics" else _content(ctx, settings)
        if ctx == "log":
            statements += _log_body(settings)
        statements += _detect(ctx, settings) + _flag(ctx)
        groups.append({"context": ctx, "statements": statements})
    key = {"traces": "trace_statements", "logs": "log_statements", "metrics": "metric_statements"}[signal]
    return {"error_mode": "ignore", key: groups}
