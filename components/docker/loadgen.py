"""The loadgen container of the docker target: the project's own code, uploaded into the
pinned python image, running `python -m stackctl loadgen` against the collector.

Pure: returns the files to upload and the command; stack.py places them.
"""
from __future__ import annotations

import shlex
from pathlib import Path

from backends.common import secret_path
from collector_config import TOKEN_ENV

APP_DIR = "/app"
DEPS_DIR = "/tmp/deps"   # pip installs here at start (root filesystem stays the image's)
REQUIREMENTS = "requirements-loadgen.txt"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Packages of the Pulumi program only; the loadgen never imports them.
_SKIP_DIRS = {"components", "tests", "scripts", "venv", ".venv", ".git", "__pycache__"}
_SUFFIXES = {".py", ".yaml", ".yml", ".json"}
COLLECTOR_GRPC = "http://collector:4317"
# `stackctl loadgen` needs a positive duration. One day per run; the restart policy
# (unless-stopped) starts the next run, which also bounds the loadgen's per-run tallies.
RUN_SECONDS = 86400
ENV = {"PYTHONPATH": f"{DEPS_DIR}:{APP_DIR}", "HOME": "/tmp", "PYTHONUNBUFFERED": "1"}


def requirements(text: str) -> str:
    """requirements.txt without the Pulumi SDKs: the loadgen needs the renderers and the
    OpenTelemetry SDK, not 200 MB of Pulumi providers."""
    kept = [line for line in text.splitlines()
            if not line.strip().lower().startswith(("pulumi", "-r "))]
    return "\n".join(kept) + "\n"


def project_files(root: Path = PROJECT_ROOT) -> dict[str, str]:
    """{path under APP_DIR: text} of every Python package of the project the loadgen may
    import, plus a trimmed requirements file. Sorted, so the upload is deterministic."""
    out: dict[str, str] = {}
    for package in sorted(p for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        if package.name in _SKIP_DIRS:
            continue
        for path in sorted(package.rglob("*")):
            if (path.is_file() and path.suffix in _SUFFIXES
                    and not _SKIP_DIRS.intersection(path.relative_to(root).parts)):
                out[path.relative_to(root).as_posix()] = path.read_text()
    out[REQUIREMENTS] = requirements((root / "requirements.txt").read_text())
    return out


def command(scenario: str, rate: float, token_key: str | None) -> tuple[str, ...]:
    """Install the trimmed requirements, then exec the loadgen. The ingest token is read
    from its secret file into the process environment only, so `docker inspect` never
    shows it."""
    loadgen = ["python", "-m", "stackctl", "loadgen", "--endpoint", COLLECTOR_GRPC,
               "--scenario", scenario, "--rate", f"{rate:g}", "--duration", str(RUN_SECONDS)]
    steps = [f"pip install --quiet --no-cache-dir --disable-pip-version-check --target {DEPS_DIR} "
             f"-r {APP_DIR}/{REQUIREMENTS}"]
    if token_key is not None:
        steps.append(f'export {TOKEN_ENV}="$(cat {secret_path(token_key)})"')
    steps.append("exec " + shlex.join(loadgen))
    return ("sh", "-c", " && ".join(steps))
