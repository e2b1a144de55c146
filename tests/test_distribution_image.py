"""The project's own collector: its component's Go tests, and the image recipe that ships the
same manifest (no Docker engine here: the Dockerfile is checked against the pins and the targets)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from backends import services as svc
from components.docker import health
from settings import validate

DIST = Path(__file__).resolve().parent.parent / "collector_config" / "distribution"
VERSIONS = yaml.safe_load((DIST.parent.parent / "settings" / "versions.yaml").read_text())
MANIFEST = yaml.safe_load((DIST / "manifest.yaml").read_text())
DOCKERFILE = (DIST / "Dockerfile").read_text()


def _instructions() -> list[tuple[str, str]]:
    lines = [line for line in DOCKERFILE.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _arg(name: str) -> str:
    return next(v.split("=", 1)[1] for op, v in _instructions() if op == "ARG" and v.startswith(name + "="))


LOCAL = ["./llmredactprocessor", "./llmnormalizeprocessor", "./llmcostprocessor", "./spanlogsconnector",
         "./llmmetricsconnector"]   # in manifest order


@pytest.mark.skipif(shutil.which("go") is None, reason="needs Go (scripts/setup.sh builds the collector with it)")
@pytest.mark.parametrize("component", LOCAL)
def test_local_component_go_tests_pass(component):
    # -race: a component serves concurrent batches (one per receiver connection); state shared
    # between them crashed the collector once, and the race detector names it.
    result = subprocess.run(["go", "test", "-race", "-count=1", "./..."], cwd=DIST / component, capture_output=True,
                            text=True, timeout=900, env={**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok" in result.stdout


def test_every_local_component_is_in_the_image_and_the_cache_key():
    local = [entry["path"] for kind in ("receivers", "processors", "exporters", "connectors", "extensions")
             for entry in MANIFEST.get(kind, []) if "path" in entry]
    assert local == LOCAL
    copied = [v.split()[0] for op, v in _instructions() if op == "COPY" and "--from" not in v]
    for path in local:
        assert path.removeprefix("./") + "/" in copied, copied
    # The binary's cache key and the image's tag hash every Go source and module file beside the
    # manifest: a change rebuilds both.
    from collector_config import image
    hashed = {p.relative_to(DIST).as_posix() for p in image._sources()}
    for path in local:
        sources = {p.relative_to(DIST).as_posix() for p in (DIST / path).rglob("*")
                   if p.suffix == ".go" or p.name in ("go.mod", "go.sum")}
        assert sources and sources <= hashed, path
    script = (DIST.parent.parent / "scripts" / "build-collector.sh").read_text()
    assert "python3 -m collector_config.image --binary-key" in script


# name:tag of a Go patch release, optionally @sha256 (scripts/refresh-digests.py adds it): never a
# moving tag (latest, 1.26-bookworm) and never an image without a tag.
GO_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/-]*:(?P<go>1\.[0-9]+\.[0-9]+)-[a-z0-9.]+(?:@sha256:[a-f0-9]{64})?$")


@pytest.mark.parametrize("ref, pinned", [
    ("golang:1.26.8-bookworm", True), ("golang:1.26.8-bookworm@sha256:" + "a" * 64, True),
    ("golang:latest", False), ("golang", False), ("golang@sha256:" + "a" * 64, False),
    ("golang:1.26-bookworm", False), ("golang:1.26.8-bookworm@sha256:abc", False),
    ("golang:latest@sha256:" + "a" * 64, False)])
def test_go_image_form(ref, pinned):
    assert bool(GO_IMAGE.match(ref)) == pinned


def test_image_pins_follow_the_versions_file():
    assert _arg("OCB_VERSION") == VERSIONS["tools"]["ocb"] == f"v{MANIFEST['dist']['version']}"
    assert _arg("GO_IMAGE") == VERSIONS["tools"]["go_image"]
    m = GO_IMAGE.match(VERSIONS["tools"]["go_image"])
    assert m, VERSIONS["tools"]["go_image"]   # a patch release, never a moving tag
    as_tuple = lambda v: tuple(int(x) for x in v.split("."))   # noqa: E731
    for component in LOCAL:
        go_mod = (DIST / component / "go.mod").read_text()
        needed = re.search(r"^go ([0-9.]+)$", go_mod, re.M).group(1)
        assert as_tuple(m["go"]) >= as_tuple(needed), component


def test_image_runs_the_binary_the_targets_expect_as_a_non_root_user():
    stages = [v for op, v in _instructions() if op == "FROM"]
    assert stages[-1] == "scratch"   # nothing but the binary and CA certificates
    entry = next(v for op, v in _instructions() if op == "ENTRYPOINT")
    binary = "/" + MANIFEST["dist"]["name"]
    assert entry == f'["{binary}"]'
    assert health.OWN_COLLECTOR[0] == binary   # the Docker health check runs that binary's validate
    user = next(v for op, v in _instructions() if op == "USER").split(":")
    collector = next(s for s in svc.services(validate({"target": "docker"})) if s.name == "collector")
    assert user == [str(collector.run_as_user)] * 2 and collector.run_as_user != 0
    # Its output path is where the final stage copies from.
    assert f"/src/{MANIFEST['dist']['output_path'].removeprefix('./')}/{MANIFEST['dist']['name']}" in DOCKERFILE
