"""Committed JSON and the panel-by-panel diff a pull request shows.

The committed files (dashboards/generated/<slug>.json) are rendered from the schema's
defaults; `python -m stackctl dashboards render` rewrites them, CI fails when they are stale."""
from __future__ import annotations

import json
from pathlib import Path

import dashboards
from settings import REFERENCE_CONFIG, Settings, validate

GENERATED = Path(__file__).resolve().parent / "generated"


def reference_settings() -> Settings:
    return validate(REFERENCE_CONFIG)


def fresh() -> dict[str, dict]:
    s = reference_settings()
    return {e.slug: dashboards.to_json(e, s) for e in dashboards.REGISTRY}


def committed() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(GENERATED.glob("*.json"))}


def write() -> list[Path]:
    GENERATED.mkdir(exist_ok=True)
    out = []
    for slug, board in fresh().items():
        path = GENERATED / f"{slug}.json"
        path.write_text(json.dumps(board, indent=2, sort_keys=True) + "\n")
        out.append(path)
    return out


def _panel_view(p: dict) -> dict:
    return {"title": p.get("title"), "queries": [t.get("expr") or t.get("query") for t in p.get("targets", [])],
            "thresholds": [s.get("value") for s in p.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {})
                           .get("steps", [])] or [s.get("value") for s in p.get("thresholds", []) or []
                                                   if isinstance(s, dict)],
            "unit": p.get("fieldConfig", {}).get("defaults", {}).get("unit")}


def _annotation_diff(slug: str, old: dict, new: dict) -> list[str]:
    before = {a["name"]: a.get("expr") for a in old.get("annotations", {}).get("list", [])}
    after = {a["name"]: a.get("expr") for a in new.get("annotations", {}).get("list", [])}
    out = [f"{slug}: + annotation {n!r}: {after[n]}" for n in sorted(set(after) - set(before))]
    out += [f"{slug}: - annotation {n!r}" for n in sorted(set(before) - set(after))]
    return out + [f"{slug}/annotation {n}: query: {before[n]!r} -> {after[n]!r}"
                  for n in sorted(set(before) & set(after)) if before[n] != after[n]]


def diff(old: dict[str, dict], new: dict[str, dict]) -> list[str]:
    """Human lines: dashboards and panels added or removed, and per panel what changed."""
    out = []
    for slug in sorted(set(old) | set(new)):
        if slug not in old:
            out.append(f"+ dashboard {slug} ({len(new[slug].get('panels', []))} panels)")
            continue
        if slug not in new:
            out.append(f"- dashboard {slug}")
            continue
        out += _annotation_diff(slug, old[slug], new[slug])
        before = {p["id"]: _panel_view(p) for p in old[slug].get("panels", [])}
        after = {p["id"]: _panel_view(p) for p in new[slug].get("panels", [])}
        for pid in sorted(set(before) | set(after), key=str):
            if pid not in before:
                out.append(f"{slug}: + panel {after[pid]['title']!r}")
            elif pid not in after:
                out.append(f"{slug}: - panel {before[pid]['title']!r}")
            else:
                for field in ("title", "queries", "thresholds", "unit"):
                    if before[pid][field] != after[pid][field]:
                        out.append(f"{slug}/{after[pid]['title']}: {field}: {before[pid][field]!r} -> {after[pid][field]!r}")
    return out
