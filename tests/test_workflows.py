"""The pull-request workflows pass actionlint (pinned, built by scripts/install-binaries.sh)."""
from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _actionlint(*args: str) -> subprocess.CompletedProcess:
    binary = ROOT / ".bin/actionlint"
    assert binary.exists(), "run scripts/setup.sh (actionlint)"
    return subprocess.run([str(binary), "-shellcheck=", *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_workflows_pass_actionlint():
    workflows = sorted(str(p) for p in (ROOT / ".github/workflows").glob("*.yml"))
    assert workflows
    out = _actionlint(*workflows)
    assert out.returncode == 0, out.stdout + out.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n")
    assert _actionlint(str(bad)).returncode != 0
