"""LLM dashboards as typed Python (grafanalib): registry slug -> builder, uid, folder."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from grafanalib._gen import DashboardEncoder

from dashboards import agents, cost, overview, pipeline, product, quality, rag, runbooks, slo
from settings import Settings

FOLDERS = {"oncall": "LLM on-call", "finance": "LLM cost", "quality": "LLM quality", "product": "LLM product",
           "platform": "LLM platform"}


@dataclass(frozen=True)
class Entry:
    slug: str
    uid: str
    folder: str
    build: Callable


REGISTRY: tuple[Entry, ...] = tuple(Entry(m.SLUG, m.UID, m.FOLDER, m.build)
                                    for m in (overview, slo, cost, quality, rag, agents, product, pipeline, runbooks))


def to_json(entry: Entry, settings: Settings) -> dict:
    return json.loads(json.dumps(entry.build(settings).to_json_data(), cls=DashboardEncoder))


def render_json(entry: Entry, settings: Settings) -> str:
    return json.dumps(to_json(entry, settings), indent=2, sort_keys=True) + "\n"


def path(entry: Entry) -> str:
    """Where both targets mount it: one directory per audience folder."""
    return f"grafana/dashboards/{entry.folder}/{entry.slug}.json"


def render(settings: Settings) -> dict[str, str]:
    return {path(e): render_json(e, settings) for e in REGISTRY}
