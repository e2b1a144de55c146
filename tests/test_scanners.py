"""checkov and kube-score over the Kubernetes objects of every example stack, plus a
one-tier + Jaeger variant; any finding not dismissed in scanners/allowlist.yaml fails.

The objects are the pure core's (`manifests.stack_manifests`), the same dicts the
Pulumi shell places (test_kubernetes checks that under mocks), with secret markers
replaced by a placeholder. Both scanners are pinned in settings/versions.yaml and
installed by scripts/install-binaries.sh.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from binaries import binary
import yaml

from components.kubernetes import manifests
from settings import validate
from settings.load import load_stack_file
from stacks import KUBE

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = yaml.safe_load((ROOT / "scanners" / "allowlist.yaml").read_text())
TIMEOUT = 300



def _stacks() -> dict[str, object]:
    out = {}
    for path in sorted(ROOT.glob("Pulumi.*.yaml")):
        settings = load_stack_file(path)
        if settings.target == "kubernetes":
            out[path.name] = settings
    out["one-tier+jaeger"] = validate({**KUBE, "traces": {"backend": "jaeger"},
                                       "kubernetes": {"two_tier": {"enabled": False}},
                                       "collector": {**KUBE["collector"], "replicas_min": 1, "replicas_max": 1}})
    out["persistent-queue"] = validate({**KUBE, "collector": {**KUBE["collector"], "persistent_queue": True}})
    return out


def _plain(value):
    if isinstance(value, manifests.SecretValue):
        return "placeholder"
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _write(settings, path: Path) -> Path:
    docs = [_plain(m.body) for group in manifests.stack_manifests(settings).values() for m in group]
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def kube_score(files: list[Path]) -> set[tuple[str, str, str]]:
    """(tool, check, Kind/name) of every check graded below 10 (warning or critical)."""
    run = subprocess.run([binary("kube-score"), "score", "-o", "json", *map(str, files)], capture_output=True,
                         text=True, timeout=TIMEOUT)
    if not run.stdout.strip():
        raise AssertionError(f"kube-score printed nothing: {run.stderr}")
    found = set()
    for obj in json.loads(run.stdout):
        for check in obj["checks"]:
            if not check["skipped"] and check["grade"] < 10:
                found.add(("kube-score", check["check"]["id"],
                           f"{obj['type_meta']['kind']}/{obj['object_meta']['name']}"))
    return found


def checkov(files: list[Path]) -> set[tuple[str, str, str]]:
    args = [binary("checkov"), "--framework", "kubernetes", "-o", "json", "--quiet", "--skip-download"]
    for f in files:
        args += ["-f", str(f)]
    run = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, env={
        "PATH": "/usr/bin:/bin", "HOME": str(files[0].parent), "BC_SKIP_MAPPING": "TRUE"})
    reports = json.loads(run.stdout)
    found = set()
    for report in reports if isinstance(reports, list) else [reports]:
        for f in report["results"]["failed_checks"]:
            kind, _, name = f["resource"].split(".", 2)     # Kind.namespace.name
            found.add(("checkov", f["check_id"], f"{kind}/{name}"))
        if report["summary"]["passed"] == 0:
            raise AssertionError("checkov passed no check: did it parse the objects?")
    return found


def dismissed(finding: tuple[str, str, str]) -> dict | None:
    tool, check, obj = finding
    for entry in ALLOWLIST:
        if entry["tool"] == tool and entry["check"] == check and ("*" in entry["objects"] or obj in entry["objects"]):
            return entry
    return None


def test_allowlist_entries_have_reasons():
    for entry in ALLOWLIST:
        assert set(entry) == {"tool", "check", "objects", "reason"}, entry
        assert entry["tool"] in ("checkov", "kube-score") and len(entry["reason"]) > 40, entry


@pytest.fixture(scope="module")
def findings(tmp_path_factory) -> dict[str, set]:
    tmp = tmp_path_factory.mktemp("scan")
    files = [_write(s, tmp / f"{name.replace('+', '-')}.yaml") for name, s in _stacks().items()]
    # kube-score links objects by name (an HPA to its Deployment): one stack per run.
    found = set().union(*(kube_score([f]) for f in files))
    return {"files": files, "found": found | checkov(files)}


def test_scanners_find_nothing_unlisted(findings):
    unlisted = sorted(f for f in findings["found"] if dismissed(f) is None)
    assert unlisted == [], f"new scanner findings {unlisted}: fix them, or dismiss each in scanners/allowlist.yaml with a reason"


def test_every_allowlist_entry_still_matches(findings):
    for entry in ALLOWLIST:
        matched = [f for f in findings["found"] if dismissed(f) is entry]
        objects = {f[2] for f in matched}
        assert matched, f"{entry['tool']} {entry['check']}: no longer found, remove it from the allowlist"
        if "*" not in entry["objects"]:
            assert objects == set(entry["objects"]), (entry["check"], objects)


def test_scanners_catch_a_bad_object(tmp_path):
    """Both scanners really read our files: a privileged, unlimited pod is reported by each."""
    bad = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bad", "namespace": "llmobs"},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "bad"}}, "template": {
               "metadata": {"labels": {"app": "bad"}},
               "spec": {"containers": [{"name": "bad", "image": "busybox:latest",
                                        "securityContext": {"privileged": True}}]}}}}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    ks, ck = kube_score([path]), checkov([path])
    assert ("kube-score", "container-resources", "Deployment/bad") in ks
    assert ("checkov", "CKV_K8S_16", "Deployment/bad") in ck   # privileged container
    assert [f for f in ks | ck if dismissed(f) is None]   # the allowlist does not hide them
