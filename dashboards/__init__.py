"""LLM dashboards as typed Python (grafanalib): registry slug -> builder, uid, folder."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from grafanalib._gen import DashboardEncoder

from dashboards import agents, audit, cost, overview, pipeline, product, quality, rag, runbooks, slo
from settings import Settings

FOLDERS = {"oncall": "LLM on-call", "finance": "LLM cost", "quality": "LLM quality", "product": "LLM product",
           "platform": "LLM platform", "audit": "Audit"}


def _always(settings: Settings) -> bool:
    return True


@dataclass(frozen=True)
class Entry:
    slug: str
    uid: str
    folder: str
    build: Callable
    enabled: Callable[[Settings], bool] = _always   # a dashboard of an opt-in part (the debug store's audit)


REGISTRY: tuple[Entry, ...] = tuple(
    Entry(m.SLUG, m.UID, m.FOLDER, m.build) for m in (overview, slo, cost, quality, rag, agents, product, pipeline,
                                                       runbooks)) + (
    Entry(audit.SLUG, audit.UID, audit.FOLDER, audit.build, audit.enabled),)


def entries(settings: Settings) -> tuple[Entry, ...]:
    """The dashboards these settings deploy."""
    return tuple(e for e in REGISTRY if e.enabled(settings))


def to_json(entry: Entry, settings: Settings) -> dict:
    return json.loads(json.dumps(entry.build(settings).to_json_data(), cls=DashboardEncoder))


def render_json(entry: Entry, settings: Settings) -> str:
    return json.dumps(to_json(entry, settings), indent=2, sort_keys=True) + "\n"


def path(entry: Entry) -> str:
    """Where both targets mount it: one directory per audience folder."""
    return f"grafana/dashboards/{entry.folder}/{entry.slug}.json"


def render(settings: Settings) -> dict[str, str]:
    return {path(e): render_json(e, settings) for e in entries(settings)}


def folders(settings: Settings) -> dict[str, str]:
    """Folder slug -> title, of the folders that hold a dashboard these settings deploy."""
    used = {e.folder for e in entries(settings)}
    return {slug: title for slug, title in FOLDERS.items() if slug in used}
