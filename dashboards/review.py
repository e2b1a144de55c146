"""Committed JSON and alert rules, and the diff a pull request shows against its base branch.

The committed files are rendered from the schema's defaults: dashboards/generated/<slug>.json and
alerts/generated/llm.alerts.yml. `python -m stackctl dashboards render` rewrites both; CI fails when
they are stale. So the base branch's committed files are what the base renders, and
`stackctl dashboards diff --base <ref>` compares them (read with `git show <merge-base>:<path>`)
with a fresh render of the working tree: the PR's own changes, never the PR against itself."""
from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path

import yaml

import dashboards
from settings import REFERENCE_CONFIG, Settings, validate

ROOT = Path(__file__).resolve().parent.parent
GENERATED = Path(__file__).resolve().parent / "generated"
ALERTS_FILE = ROOT / "alerts/generated/llm.alerts.yml"


@functools.cache
def reference_settings() -> Settings:
    """Validated once per process (Settings is frozen): the render asks for it per artifact."""
    return validate(REFERENCE_CONFIG)


def fresh() -> dict[str, dict]:
    s = reference_settings()
    return {e.slug: dashboards.to_json(e, s) for e in dashboards.entries(s)}


def fresh_rules() -> str:
    import alerts   # alerts -> dashboards (links); imported late
    return alerts.render(reference_settings())[alerts.RULES_FILE]


def committed() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(GENERATED.glob("*.json"))}


def committed_rules() -> str:
    return ALERTS_FILE.read_text() if ALERTS_FILE.exists() else ""


def write() -> list[Path]:
    GENERATED.mkdir(exist_ok=True)
    out = []
    for slug, board in fresh().items():
        path = GENERATED / f"{slug}.json"
        path.write_text(json.dumps(board, indent=2, sort_keys=True) + "\n")
        out.append(path)
    ALERTS_FILE.parent.mkdir(exist_ok=True)
    ALERTS_FILE.write_text(fresh_rules())
    return out + [ALERTS_FILE]


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def merge_base(ref: str) -> str:
    out = _git("merge-base", ref, "HEAD")
    if out.returncode != 0:
        raise SystemExit(f"git merge-base {ref} HEAD failed: {out.stderr.strip()} (fetch the base branch: "
                         "actions/checkout with fetch-depth: 0)")
    return out.stdout.strip()


def at_ref(ref: str) -> tuple[dict[str, dict], str]:
    """(dashboards, alert rules text) as committed at `ref`; a file the ref lacks is absent."""
    listing = _git("ls-tree", "--name-only", ref, "dashboards/generated/")
    boards = {}
    for path in listing.stdout.split():
        if path.endswith(".json"):
            boards[Path(path).stem] = json.loads(_git("show", f"{ref}:{path}").stdout)
    rules = _git("show", f"{ref}:{ALERTS_FILE.relative_to(ROOT)}")
    return boards, rules.stdout if rules.returncode == 0 else ""


def _legend(t: dict) -> str | None:
    return t.get("legendFormat")


def _panel_view(p: dict) -> dict:
    defaults = p.get("fieldConfig", {}).get("defaults", {})
    steps = defaults.get("thresholds", {}).get("steps", []) or [s for s in p.get("thresholds", []) or []
                                                                if isinstance(s, dict)]
    return {"title": p.get("title"), "queries": [t.get("expr") or t.get("query") for t in p.get("targets", [])],
            "legends": [_legend(t) for t in p.get("targets", [])],
            "thresholds": [s.get("value") for s in steps],
            "threshold colors": [s.get("color") for s in steps],   # red above a line, or below it
            "unit": defaults.get("unit") or p.get("format"),
            "layout": {k: p.get("gridPos", {}).get(k) for k in ("x", "y", "w", "h")},
            "links": [(link.get("title"), link.get("url")) for link in defaults.get("links", []) + p.get("links", [])],
            "type": p.get("type")}


def _variables(board: dict) -> dict[str, dict]:
    return {v["name"]: {k: v.get(k) for k in ("type", "query", "includeAll", "multi", "allValue")}
            for v in board.get("templating", {}).get("list", [])}


def _board_links(board: dict) -> list:
    return [(link.get("title"), link.get("url"), link.get("tags")) for link in board.get("links", [])]


def _annotation_diff(slug: str, old: dict, new: dict) -> list[str]:
    before = {a["name"]: a.get("expr") for a in old.get("annotations", {}).get("list", [])}
    after = {a["name"]: a.get("expr") for a in new.get("annotations", {}).get("list", [])}
    out = [f"{slug}: + annotation {n!r}: {after[n]}" for n in sorted(set(after) - set(before))]
    out += [f"{slug}: - annotation {n!r}" for n in sorted(set(before) - set(after))]
    return out + [f"{slug}/annotation {n}: query: {before[n]!r} -> {after[n]!r}"
                  for n in sorted(set(before) & set(after)) if before[n] != after[n]]


def diff(old: dict[str, dict], new: dict[str, dict]) -> list[str]:
    """Human lines: dashboards and panels added or removed, and per dashboard and panel what changed."""
    out = []
    for slug in sorted(set(old) | set(new)):
        if slug not in old:
            out.append(f"+ dashboard {slug} ({len(new[slug].get('panels', []))} panels)")
            continue
        if slug not in new:
            out.append(f"- dashboard {slug}")
            continue
        out += _annotation_diff(slug, old[slug], new[slug])
        before_vars, after_vars = _variables(old[slug]), _variables(new[slug])
        out += [f"{slug}: + variable ${n}: {after_vars[n]}" for n in sorted(set(after_vars) - set(before_vars))]
        out += [f"{slug}: - variable ${n}" for n in sorted(set(before_vars) - set(after_vars))]
        out += [f"{slug}: variable ${n}: {before_vars[n]!r} -> {after_vars[n]!r}"
                for n in sorted(set(before_vars) & set(after_vars)) if before_vars[n] != after_vars[n]]
        if _board_links(old[slug]) != _board_links(new[slug]):
            out.append(f"{slug}: links: {_board_links(old[slug])!r} -> {_board_links(new[slug])!r}")
        before = {p["id"]: _panel_view(p) for p in old[slug].get("panels", [])}
        after = {p["id"]: _panel_view(p) for p in new[slug].get("panels", [])}
        for pid in sorted(set(before) | set(after), key=str):
            if pid not in before:
                out.append(f"{slug}: + panel {after[pid]['title']!r}")
            elif pid not in after:
                out.append(f"{slug}: - panel {before[pid]['title']!r}")
            else:
                for field in ("title", "type", "queries", "legends", "unit", "thresholds", "threshold colors",
                              "layout", "links"):
                    if before[pid][field] != after[pid][field]:
                        out.append(f"{slug}/{after[pid]['title']}: {field}: {before[pid][field]!r} -> {after[pid][field]!r}")
    return out


def _rules(text: str) -> dict[tuple[str, str], dict]:
    """(alert name, severity) -> the rule as rendered."""
    doc = yaml.safe_load(text) if text else None
    return {(r["alert"], r.get("labels", {}).get("severity", "")): r
            for g in (doc or {}).get("groups", []) for r in g.get("rules", []) if "alert" in r}


def rules_diff(old_text: str, new_text: str) -> list[str]:
    """Per alert (name and severity): added, removed, and each of expr, for, keep_firing_for, every
    label and every annotation that changed."""
    old, new = _rules(old_text), _rules(new_text)
    out = []
    for key in sorted(set(old) | set(new)):
        name = f"{key[0]} ({key[1]})"
        if key not in old:
            out.append(f"+ alert {name}: {new[key]['expr']} for {new[key].get('for')}")
            continue
        if key not in new:
            out.append(f"- alert {name}")
            continue
        a, b = old[key], new[key]
        for field in ("expr", "for", "keep_firing_for"):
            if a.get(field) != b.get(field):
                out.append(f"alert {name}: {field}: {a.get(field)!r} -> {b.get(field)!r}")
        for section in ("labels", "annotations"):
            x, y = a.get(section, {}), b.get(section, {})
            out += [f"alert {name}: {section}.{k}: {x.get(k)!r} -> {y.get(k)!r}"
                    for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]
    return out


def report(base_boards: dict[str, dict], base_rules: str, boards: dict[str, dict], rules: str) -> list[str]:
    """The job summary: dashboards, then alert rules."""
    lines = diff(base_boards, boards)
    alert_lines = rules_diff(base_rules, rules)
    return (["### Dashboards", *(lines or ["no change"]), "", "### Alert rules", *(alert_lines or ["no change"])])
