"""Images are pinned by tag and digest (settings/versions.yaml), and the digest refresher
works against a registry: here a fake one on 127.0.0.1 speaking the distribution API
with a bearer-token challenge, as Docker Hub does."""
from __future__ import annotations

import hashlib
import http.server
import importlib.util
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from backends import services as svc
from collector_config import image as collector_image
from components.docker import plan as docker_plan
from components.kubernetes import manifests
from settings import validate
from artifacts import render_all
from stacks import KUBE

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = yaml.safe_load((ROOT / "settings" / "versions.yaml").read_text())
PINS = VERSIONS["images"]
DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
# Images whose digest could not be verified from public material yet (see the report of
# issue 12): run scripts/refresh-digests.py where a registry is reachable, then empty this.
WITHOUT_DIGEST = {"jaeger"}


def _load_script():
    spec = importlib.util.spec_from_file_location("refresh_digests", ROOT / "scripts" / "refresh-digests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_image_has_a_digest():
    missing = {name for name, pin in PINS.items() if not pin.get("digest")}
    assert missing == WITHOUT_DIGEST, "a digest was added or lost: update WITHOUT_DIGEST (it should only shrink)"
    for name, pin in PINS.items():
        if pin.get("digest"):
            assert DIGEST.match(pin["digest"]), name


@pytest.mark.parametrize("config", [{**KUBE}, {**KUBE, "traces": {"backend": "jaeger"}},
                                    {"target": "docker", "loadgen": {"enabled": True}}])
def test_deployed_images_are_tag_at_digest(config):
    settings = validate(config)
    if settings.target == "kubernetes":
        images = {c["name"]: c["image"] for group in manifests.stack_manifests(settings).values() for m in group
                  if m.body["kind"] in ("Deployment", "StatefulSet")
                  for c in m.body["spec"]["template"]["spec"]["containers"]}
    else:
        images = {p.role: p.image for p in docker_plan.plan(settings, svc.services(settings), render_all(settings))}
    gateway = svc.collector_image(settings)
    for role, ref in images.items():
        if role in ("collector", "otel-sampler"):   # the project's distribution, not a pinned release
            assert ref == gateway, role
            continue
        pin = PINS[role]
        if pin.get("digest"):
            assert ref == f"{pin['repository']}:{pin['tag']}@{pin['digest']}", role
        else:
            assert ref == f"{pin['repository']}:{pin['tag']}", role


OWN = {"repository": "ghcr.io/acme/otelcol-llmobs", "tag": "0.161.0-1", "digest": "sha256:" + "c" * 64}


@pytest.mark.parametrize("config", [{**KUBE, "kubernetes": {"two_tier": {"enabled": True}}},
                                    {"target": "docker"}])
def test_the_collector_image_setting_names_the_gateway_on_both_targets(config):
    settings = validate({**config, "collector": {"image": OWN}})
    own = f"{OWN['repository']}:{OWN['tag']}@{OWN['digest']}"
    if settings.target == "kubernetes":
        images = {m.body["metadata"]["name"]: c["image"] for group in manifests.stack_manifests(settings).values()
                  for m in group if m.body["kind"] in ("Deployment", "StatefulSet")
                  for c in m.body["spec"]["template"]["spec"]["containers"]}
        assert images["collector"] == own and images["otel-sampler"] == own, images
    else:
        plans = {p.role: p for p in docker_plan.plan(settings, svc.services(settings), render_all(settings))}
        images = {role: p.image for role, p in plans.items()}
        assert images["collector"] == own, images
        assert plans["collector"].build is None   # given: pulled, not built
        # Built FROM scratch: Docker's health check is that binary's own config validation.
        assert plans["collector"].health.test[1:3] == ("/otelcol-llmobs", "validate")
    # Every other image keeps its pin; a tag alone (a local build) or a digest alone is taken as given.
    assert images["prometheus"] == svc.image(validate({"target": "docker"}), "prometheus")
    tag_only = validate({"target": "docker", "collector": {"image": {"repository": OWN["repository"], "tag": "dev"}}})
    assert svc.image(tag_only, "collector") == f"{OWN['repository']}:dev"
    digest_only = validate({**KUBE, "collector": {"image": {"repository": OWN["repository"], "digest": OWN["digest"]}}})
    assert svc.image(digest_only, "collector") == f"{OWN['repository']}@{OWN['digest']}"


def test_a_default_docker_stack_builds_the_gateway_from_the_distribution():
    settings = validate({"target": "docker"})
    plans = {p.role: p for p in docker_plan.plan(settings, svc.services(settings), render_all(settings))}
    collector = plans["collector"]
    assert collector.image == f"llmobs/otelcol-llmobs:{collector_image.content_tag()}"
    assert collector.build == collector_image.Build(
        context=str(ROOT / "collector_config" / "distribution"),
        dockerfile=str(ROOT / "collector_config" / "distribution" / "Dockerfile"),
        args=(("GO_IMAGE", VERSIONS["tools"]["go_image"]), ("OCB_VERSION", VERSIONS["tools"]["ocb"])))
    assert collector.health.test[1:3] == ("/otelcol-llmobs", "validate")
    assert all(p.build is None for role, p in plans.items() if role != "collector")


def _shell_key(directory: Path, *extra: str) -> str:
    """The key as build-collector.sh computed it in shell before it asked collector_config.image."""
    script = ("find . -type f \\( -name manifest.yaml -o -name '*.go' -o -name go.mod -o -name go.sum "
              + "".join(f"-o -name {name} " for name in extra) + "\\) -not -path './_build/*' "
              "| LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16")
    return subprocess.run(["bash", "-c", script], cwd=directory, capture_output=True, text=True, check=True).stdout.strip()


def test_the_gateway_image_is_tagged_by_the_distributions_content(tmp_path, monkeypatch):
    copy = tmp_path / "distribution"
    shutil.copytree(collector_image.DISTRIBUTION, copy, ignore=shutil.ignore_patterns("_build"))
    monkeypatch.setattr(collector_image, "DISTRIBUTION", copy)
    monkeypatch.setattr(collector_image, "DOCKERFILE", copy / "Dockerfile")
    key = collector_image._key
    before = collector_image.binary_key()
    assert before == _shell_key(copy)
    tag = "src-" + key(collector_image._sources() + [copy / "Dockerfile"])
    assert tag == "src-" + _shell_key(copy, "Dockerfile")
    (copy / "README.md").write_text("docs only\n")            # not built from: same tag
    assert "src-" + key(collector_image._sources() + [copy / "Dockerfile"]) == tag
    go = next(copy.rglob("*.go"))
    go.write_text(go.read_text() + "\n// changed\n")         # a source: a new tag, a new binary key
    assert "src-" + key(collector_image._sources() + [copy / "Dockerfile"]) != tag
    assert collector_image.binary_key() == _shell_key(copy) != before


def test_tag_override_drops_the_pinned_digest_unless_it_brings_one():
    base = validate({"target": "docker"})
    assert svc.image(base, "prometheus").endswith("@" + PINS["prometheus"]["digest"])
    bumped = validate({"target": "docker", "versions": {"prometheus": "v3.6.0"}})
    assert svc.image(bumped, "prometheus") == "prom/prometheus:v3.6.0"
    own = "v3.6.0@sha256:" + "b" * 64
    assert svc.image(validate({"target": "docker", "versions": {"prometheus": own}}), "prometheus") == \
        f"prom/prometheus:{own}"
    assert manifests.version_of(svc.image(base, "prometheus")) == "v3.5.0"


def test_registry_paths():
    script = _load_script()
    assert script.split("python", None) == ("https://registry-1.docker.io", "library/python")
    assert script.split("prom/prometheus", None) == ("https://registry-1.docker.io", "prom/prometheus")
    assert script.split("quay.io/prometheus/busybox", None) == ("https://quay.io", "prometheus/busybox")


class FakeRegistry(http.server.BaseHTTPRequestHandler):
    TOKEN = "anon-pull-token"
    tags: dict[str, str] = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/token"):
            body = b'{"token": "%s"}' % self.TOKEN.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(404)
        self.end_headers()

    def do_HEAD(self):
        m = re.fullmatch(r"/v2/(.+)/manifests/([^/]+)", self.path)
        if self.headers.get("Authorization") != f"Bearer {self.TOKEN}":
            self.send_response(401)
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            self.send_header("WWW-Authenticate", f'Bearer realm="{host}/token",service="fake",'
                                                 f'scope="repository:{m[1] if m else ""}:pull"')
            self.end_headers()
            return
        key = f"{m[1]}:{m[2]}" if m else ""
        if key not in self.tags or "index" not in self.headers.get("Accept", ""):
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Docker-Content-Digest", self.tags[key])
        self.end_headers()


def _ref_digest(script, ref: str) -> tuple[str, str]:
    """(registry path:tag, the fake registry's digest for it)."""
    repository, tag, _ = script.parse_ref(ref)
    _, path = script.split(repository, None)
    return f"{path}:{tag}", "sha256:" + hashlib.sha256(f"{path}:{tag}".encode()).hexdigest()


def test_refresh_script_against_a_fake_registry(tmp_path):
    script = _load_script()
    text = (ROOT / "settings" / "versions.yaml").read_text()
    real_dockerfile = script.DOCKERFILE.read_text()
    versions, dockerfile = tmp_path / "versions.yaml", tmp_path / "Dockerfile"
    versions.write_text(text)
    dockerfile.write_text(real_dockerfile)
    go_image = yaml.safe_load(text)["tools"]["go_image"]
    fresh = dict([_ref_digest(script, go_image)])
    for pin in PINS.values():
        _, path = script.split(pin["repository"], None)
        fresh[f"{path}:{pin['tag']}"] = "sha256:" + hashlib.sha256(path.encode()).hexdigest()
    FakeRegistry.tags = fresh
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        files = ["--file", str(versions), "--dockerfile", str(dockerfile)]
        assert script.main(["--registry", url, *files, "--check"]) == 1
        assert versions.read_text() == text                                   # --check writes nothing
        assert dockerfile.read_text() == real_dockerfile
        assert script.main(["--registry", url, *files, "--only", "tempo"]) == 0
        assert yaml.safe_load(versions.read_text())["images"]["tempo"]["digest"] == fresh[f"grafana/tempo:{PINS['tempo']['tag']}"]
        assert yaml.safe_load(versions.read_text())["images"]["grafana"].get("digest") == PINS["grafana"]["digest"]
        assert yaml.safe_load(versions.read_text())["tools"]["go_image"] == go_image
        assert dockerfile.read_text() == real_dockerfile                      # go_image was not asked for
        assert script.main(["--registry", url, *files]) == 0
        assert script.main(["--registry", url, *files, "--check"]) == 0
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    new = yaml.safe_load(versions.read_text())
    for name, pin in new["images"].items():
        _, path = script.split(pin["repository"], None)
        assert pin["digest"] == fresh[f"{path}:{pin['tag']}"], name
    # The build stage's image: tag and digest, in versions.yaml and as the Dockerfile's default.
    pinned = f"{go_image}@{_ref_digest(script, go_image)[1]}"
    assert new["tools"]["go_image"] == pinned
    assert f"\nARG GO_IMAGE={pinned}\n" in dockerfile.read_text()
    assert dockerfile.read_text().replace(pinned, go_image) == real_dockerfile
    assert script.DOCKERFILE.read_text() == real_dockerfile                   # the real one untouched
    # Only the digest fields changed: comments, tools and the other fields stay.
    old_lines, new_lines = text.splitlines(), versions.read_text().splitlines()
    assert len(old_lines) == len(new_lines)
    unpin = lambda line: re.sub(r', digest: "[^"]*"|@sha256:[a-f0-9]{64}', "", line)  # noqa: E731
    for a, b in zip(old_lines, new_lines):
        assert unpin(a) == unpin(b)
    assert sum(a != b for a, b in zip(old_lines, new_lines)) == len(PINS) + 1   # every image, and go_image


GO_LINE = "tools:\n  ocb: v0.161.0\n  go_image: golang:1.26.8-bookworm   # build stage\n"


def test_refresh_pins_the_go_image_with_a_fake_lookup():
    script = _load_script()
    asked = []
    digests = iter(["sha256:" + "a" * 64, "sha256:" + "b" * 64])

    def lookup(repository, tag):
        asked.append((repository, tag))
        return next(digests)

    once, changes = script.refresh(GO_LINE, lookup)
    assert asked == [("golang", "1.26.8-bookworm")]
    assert once == GO_LINE.replace("bookworm ", f"bookworm@sha256:{'a' * 64} ")   # the comment stays
    assert changes == {"go_image": (None, "sha256:" + "a" * 64)}
    # Refreshed again: the digest is replaced (looked up by the tag), not appended.
    twice, changes = script.refresh(once, lookup)
    assert asked[-1] == ("golang", "1.26.8-bookworm")
    assert twice == GO_LINE.replace("bookworm ", f"bookworm@sha256:{'b' * 64} ")
    assert changes == {"go_image": ("sha256:" + "a" * 64, "sha256:" + "b" * 64)}
    assert script.refresh(twice, lookup, only={"tempo"}) == (twice, {})
    assert script.tool_ref(twice, "go_image") == f"golang:1.26.8-bookworm@sha256:{'b' * 64}"
    # A registry with a port in the name keeps it in the repository.
    assert script.parse_ref("localhost:5000/golang:1.26.8-bookworm") == ("localhost:5000/golang", "1.26.8-bookworm", None)
    for bad in ("golang", "golang@sha256:" + "a" * 64, "golang:1.26.8@sha256:abc", "localhost:5000/golang"):
        with pytest.raises(SystemExit, match="not repository:tag"):
            script.parse_ref(bad)


def test_the_dockerfile_go_image_follows_only_from_the_value_it_agrees_with():
    script = _load_script()
    before, after = "golang:1.26.8-bookworm", "golang:1.26.8-bookworm@sha256:" + "a" * 64
    dockerfile = f"# build\nARG GO_IMAGE={before}\nFROM ${{GO_IMAGE}} AS build\n"
    assert script.pin_go_image(dockerfile, before, after) == dockerfile.replace(before, after)
    assert script.pin_go_image(dockerfile.replace(before, after), before, after) == dockerfile.replace(before, after)
    with pytest.raises(SystemExit, match="make them agree"):
        script.pin_go_image(dockerfile.replace("1.26.8", "1.26.7"), before, after)
    with pytest.raises(SystemExit, match="no ARG GO_IMAGE"):
        script.pin_go_image("FROM golang:1.26.8-bookworm\n", before, after)


def test_refresh_script_fails_on_a_missing_tag(tmp_path):
    script = _load_script()
    versions = tmp_path / "versions.yaml"
    versions.write_text((ROOT / "settings" / "versions.yaml").read_text())
    FakeRegistry.tags = {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(SystemExit, match="answered 404"):
            script.main(["--registry", f"http://127.0.0.1:{server.server_address[1]}", "--file", str(versions)])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
