"""Per-tenant content policy: tenants whose content is never retained (content.never_retain).

The redaction processor applies content.mode to every record; for a never-retain tenant this
processor, right after it, removes what that mode kept beyond the tenant's `keep` (previews,
and for `drop` the hashes too). So the redaction processor stays one config for all tenants,
and the stricter rule always runs last. Hashes are the redaction processor's alone (content.hash:
keyed or plain); this processor only removes what a tenant may not keep."""
from __future__ import annotations

from collector_config.ottl import lit, re_escape
from collector_config.redact import BODY_FIELDS, hash_mark, hash_suffix
from collector_config.tenants import tenant_in
from settings import Settings

EVENT = 'IsMatch(log.event_name, "^gen_ai[.]")'


def needed(settings: Settings, mode: str) -> bool:
    """Whether records redacted in `mode` keep more than never-retain tenants allow."""
    keep = settings.content.never_retain
    # Drop mode still hashes a log body (llmobs.body.<hash>), so keep=drop always has work.
    return bool(keep.tenants) and (mode == "preview" or keep.keep == "drop")


def _marks(settings: Settings, mode: str, keep: str) -> tuple[list[str], str | None]:
    """(key suffixes to delete, regex of guard values to blank)."""
    suffixes, guarded = [], []
    if mode == "preview":
        suffixes.append(".preview")
        guarded.append(re_escape("[CONTENT:preview]"))
    if keep == "drop":
        suffixes.append(hash_suffix(settings))
        guarded.append(re_escape(hash_mark(settings)))
    return suffixes, ("^(?:" + "|".join(guarded) + r")[\s\S]*$") if guarded else None


def _attributes(settings: Settings, target: str, mode: str, keep: str) -> list[str]:
    suffixes, guarded = _marks(settings, mode, keep)
    out = [f"delete_matching_keys({target}, {lit('(?:' + '|'.join(re_escape(s) for s in suffixes) + ')$')})"]
    if guarded:
        out.append(f'replace_all_patterns({target}, "value", {lit(guarded)}, "[CONTENT:dropped]")')
    return out


def processor(signal: str, settings: Settings, mode: str) -> dict:
    """After a redaction processor in `mode`: never-retain tenants keep only hash and length, or length."""
    keep = settings.content.never_retain
    tenants = keep.tenants
    groups = []
    contexts = ("span", "spanevent") if signal == "traces" else ("log",)
    for ctx in contexts:
        statements = _attributes(settings, f"{ctx}.attributes", mode, keep.keep)
        if ctx == "log":
            mark = lit(f"[CONTENT:{keep.keep}]")
            # The body is now a preview, or the mode's own mark: either way the tenant's mark replaces it.
            statements.append(f"set(log.body, {mark}) where {EVENT} and IsString(log.body)")
            statements += [f"delete_key(log.body, {lit(f)}) where {EVENT} and IsMap(log.body)" for f in BODY_FIELDS]
            statements += [f"{s} where IsMap(log.body)" for s in _attributes(settings, "log.body", mode, keep.keep)]
        groups.append({"context": ctx, "conditions": [tenant_in(ctx, tenants)], "statements": statements})
    return {"error_mode": "ignore", ("trace_statements" if signal == "traces" else "log_statements"): groups}

