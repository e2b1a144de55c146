"""The gateway's image: collector_config/distribution built with its Dockerfile.

Its tag is the distribution's content hash, so an unchanged distribution is never rebuilt
(Docker target) or pushed again (Kubernetes with collector.registry). The binary that
scripts/build-collector.sh caches for tests, up-local and the bench is keyed the same way,
without the Dockerfile (`python3 -m collector_config.image --binary-key`).
"""
from __future__ import annotations

import functools
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

DISTRIBUTION = Path(__file__).resolve().parent / "distribution"
DOCKERFILE = DISTRIBUTION / "Dockerfile"
VERSIONS_FILE = Path(__file__).resolve().parent.parent / "settings" / "versions.yaml"
# The Docker target's local image (no registry): repository, tagged by content hash.
LOCAL_REPOSITORY = "llmobs/otelcol-llmobs"
BINARY = "/otelcol-llmobs"   # where the Dockerfile puts the collector


def _sources() -> list[Path]:
    """What the binary is built from: the manifest and the components' Go sources and modules."""
    names = ("manifest.yaml", "go.mod", "go.sum")
    return [p for p in DISTRIBUTION.rglob("*") if p.is_file() and "_build" not in p.parts
            and (p.name in names or p.suffix == ".go")]


def _key(files: list[Path]) -> str:
    """sha256 over `sha256sum`'s listing of the files (LC_ALL=C order, `./` paths), cut to 16:
    the same key scripts/build-collector.sh computed in shell before it asked this module."""
    rel = sorted(((f"./{p.relative_to(DISTRIBUTION).as_posix()}", p) for p in files), key=lambda i: i[0].encode())
    listing = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {name}\n" for name, p in rel)
    return hashlib.sha256(listing.encode()).hexdigest()[:16]


def binary_key() -> str:
    return _key(_sources())


@functools.cache
def content_tag() -> str:
    """The image's tag: the binary's sources plus the Dockerfile."""
    return "src-" + _key(_sources() + [DOCKERFILE])


def build_args() -> dict[str, str]:
    """The Dockerfile's ARGs, from settings/versions.yaml (the one place that pins them)."""
    tools = yaml.safe_load(VERSIONS_FILE.read_text())["tools"]
    return {"GO_IMAGE": tools["go_image"], "OCB_VERSION": tools["ocb"]}


@dataclass(frozen=True)
class Build:
    """What pulumi-docker's Image builds the gateway from."""
    context: str
    dockerfile: str
    args: tuple[tuple[str, str], ...]


def build() -> Build:
    return Build(context=str(DISTRIBUTION), dockerfile=str(DOCKERFILE), args=tuple(sorted(build_args().items())))


if __name__ == "__main__":
    print(binary_key() if sys.argv[1:] == ["--binary-key"] else content_tag())
