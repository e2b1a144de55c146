#!/usr/bin/env python3
"""Refresh the image digests in settings/versions.yaml from the registries.

For each `images.<name>` it asks the registry (OCI distribution API) for the manifest of
exactly the pinned tag, with the multi-arch index media types first, and takes the
`Docker-Content-Digest` header: the digest `docker pull repository:tag@digest` verifies.
Docker Hub needs an anonymous pull token (auth.docker.io); other registries answer a 401
with a `WWW-Authenticate: Bearer realm=...` challenge, which is followed the same way.
With `crane` on PATH (`go install github.com/google/go-containerregistry/cmd/crane`),
`--crane` uses `crane digest repository:tag` instead.

The Dockerfile's build stage image, `tools.go_image` (`name:tag`, then `name:tag@digest`), is
looked up the same way, and the `ARG GO_IMAGE=` default of collector_config/distribution/Dockerfile
is rewritten with it: the two stay equal (tests/test_distribution_image.py).

Only the digest fields are rewritten, in place: comments and layout stay. The development
machines of this project cannot reach a container registry, so this runs where one is
reachable (a CI job with network, a laptop); the tests run it against a local fake
registry. Usage: scripts/refresh-digests.py [--only NAME,...] [--registry URL] [--crane] [--check]
  --check  exit 1 if a digest differs or is missing, write nothing.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ROOT / "settings" / "versions.yaml"
DOCKERFILE = ROOT / "collector_config" / "distribution" / "Dockerfile"
DOCKER_HUB = "https://registry-1.docker.io"
ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
LINE = re.compile(r'^(?P<head>  (?P<name>[\w-]+):\s+\{repository: (?P<repo>[^,]+), tag: "(?P<tag>[^"]+)")'
                  r'(?:, digest: "(?P<digest>[^"]*)")?\}(?P<tail>.*)$')
# The tools entries that are image references (name:tag, optionally @sha256:...): go_image.
TOOL_LINE = re.compile(r"^(?P<head>  (?P<name>go_image):\s+)(?P<ref>[^\s#]+)(?P<tail>.*)$")
GO_IMAGE_ARG = re.compile(r"^ARG GO_IMAGE=(?P<ref>\S+)$", re.M)
TIMEOUT = 20


def split(repository: str, registry: str | None) -> tuple[str, str]:
    """(registry base URL, repository path): `prom/prometheus` -> Docker Hub, `python` ->
    `library/python`, `quay.io/x/y` -> https://quay.io, `x/y`."""
    first = repository.split("/", 1)[0]
    if "." in first or ":" in first or first == "localhost":
        base, path = f"https://{first}", repository.split("/", 1)[1]
    else:
        base, path = DOCKER_HUB, repository if "/" in repository else f"library/{repository}"
    return (registry.rstrip("/") if registry else base), path


def _bearer(challenge: str, path: str) -> str:
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    query = {"service": fields.get("service", ""), "scope": fields.get("scope", f"repository:{path}:pull")}
    url = f"{fields['realm']}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
        body = json.load(r)
    return body.get("token") or body["access_token"]


def registry_digest(repository: str, tag: str, registry: str | None = None) -> str:
    base, path = split(repository, registry)
    url = f"{base}/v2/{path}/manifests/{tag}"
    headers = {"Accept": ACCEPT}
    for _ in range(2):   # once anonymous, once with the token the challenge names
        req = urllib.request.Request(url, method="HEAD", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
                digest = r.headers.get("Docker-Content-Digest", "")
                break
        except urllib.error.HTTPError as exc:
            challenge = exc.headers.get("WWW-Authenticate", "")
            if exc.code != 401 or not challenge.lower().startswith("bearer") or "Authorization" in headers:
                raise SystemExit(f"{repository}:{tag}: {url} answered {exc.code}") from None
            headers["Authorization"] = f"Bearer {_bearer(challenge, path)}"
    else:
        raise SystemExit(f"{repository}:{tag}: not authorized")
    if not DIGEST.match(digest):
        raise SystemExit(f"{repository}:{tag}: no Docker-Content-Digest in the answer ({digest!r})")
    return digest


def crane_digest(repository: str, tag: str) -> str:
    out = subprocess.run(["crane", "digest", f"{repository}:{tag}"], capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip()
    if not DIGEST.match(out):
        raise SystemExit(f"{repository}:{tag}: crane printed {out!r}")
    return out


def parse_ref(ref: str) -> tuple[str, str, str | None]:
    """`repository:tag[@sha256:...]` -> (repository, tag, digest or None)."""
    name, _, digest = ref.partition("@")
    repository, colon, tag = name.rpartition(":")
    if not colon or not repository or not tag or "/" in tag or (digest and not DIGEST.match(digest)):
        raise SystemExit(f"{ref}: not repository:tag or repository:tag@sha256:<64 hex>")
    return repository, tag, digest or None


def tool_ref(text: str, name: str) -> str | None:
    """The image reference of `tools.<name>` in versions.yaml text."""
    section = None
    for line in text.splitlines():
        if re.match(r"^\S", line):
            section = line.split(":", 1)[0]
        m = TOOL_LINE.match(line)
        if section == "tools" and m and m["name"] == name:
            return m["ref"]
    return None


def refresh(text: str, lookup, only: set[str] | None = None) -> tuple[str, dict[str, tuple[str | None, str]]]:
    """(new text, {name: (old digest, new digest)}) for the image lines of versions.yaml and
    the image references among its tools."""
    lines, changes, section = [], {}, None
    for line in text.splitlines():
        if re.match(r"^\S", line):
            section = line.split(":", 1)[0]
        m = LINE.match(line)
        if section == "images" and m and (not only or m["name"] in only):
            new = lookup(m["repo"], m["tag"])
            if new != m["digest"]:
                changes[m["name"]] = (m["digest"], new)
            line = f'{m["head"]}, digest: "{new}"}}{m["tail"]}'
        t = TOOL_LINE.match(line)
        if section == "tools" and t and (not only or t["name"] in only):
            repository, tag, old = parse_ref(t["ref"])
            new = lookup(repository, tag)
            if new != old:
                changes[t["name"]] = (old, new)
            line = f'{t["head"]}{repository}:{tag}@{new}{t["tail"]}'
        lines.append(line)
    return "\n".join(lines) + "\n", changes


def pin_go_image(dockerfile: str, before: str, after: str) -> str:
    """The Dockerfile with its `ARG GO_IMAGE=` default set to `after`. It must hold `before`
    (versions.yaml's value until now) or `after` already: anything else is a drift to fix by hand."""
    m = GO_IMAGE_ARG.search(dockerfile)
    if not m or m["ref"] not in (before, after):
        found = m["ref"] if m else "no ARG GO_IMAGE="
        raise SystemExit(f"Dockerfile: {found}, but tools.go_image is {before}: make them agree first")
    return dockerfile[:m.start("ref")] + after + dockerfile[m.end("ref"):]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="comma-separated image names (images.<name>, go_image)")
    ap.add_argument("--registry", help="ask this registry base URL instead of each image's own")
    ap.add_argument("--crane", action="store_true", help="use `crane digest`")
    ap.add_argument("--check", action="store_true", help="report differences, write nothing")
    ap.add_argument("--file", type=Path, default=VERSIONS)
    ap.add_argument("--dockerfile", type=Path,
                    help="its ARG GO_IMAGE follows tools.go_image (default: the distribution's Dockerfile, "
                         "unless --file names another versions file)")
    args = ap.parse_args(argv)
    dockerfile = args.dockerfile or (DOCKERFILE if args.file.resolve() == VERSIONS else None)
    if args.crane and not shutil.which("crane"):
        raise SystemExit("--crane: crane is not on PATH")

    def lookup(repo: str, tag: str) -> str:
        return crane_digest(repo, tag) if args.crane else registry_digest(repo, tag, args.registry)

    only = {n for n in args.only.split(",") if n} or None
    before = args.file.read_text()
    text, changes = refresh(before, lookup, only)
    docker_before = docker_after = None
    if dockerfile and (not only or "go_image" in only) and tool_ref(before, "go_image"):
        docker_before = dockerfile.read_text()
        docker_after = pin_go_image(docker_before, tool_ref(before, "go_image"), tool_ref(text, "go_image"))
    for name, (old, new) in sorted(changes.items()):
        print(f"{name}: {old or '(none)'} -> {new}")
    if docker_after != docker_before:
        print(f"{dockerfile}: ARG GO_IMAGE={tool_ref(text, 'go_image')}")
    if args.check:
        return 1 if changes or docker_after != docker_before else 0
    args.file.write_text(text)
    if docker_after != docker_before:
        dockerfile.write_text(docker_after)
    return 0


if __name__ == "__main__":
    sys.exit(main())
