"""The pinned binaries scripts/install-binaries.sh links into .bin/ (versions from settings/versions.yaml).

Never a copy found on PATH: a distribution's promtool or amtool is another version than the one deployed."""
from __future__ import annotations

from pathlib import Path

BIN = Path(__file__).resolve().parent.parent / ".bin"


def binary(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{path} missing: run scripts/setup.sh (or scripts/install-binaries.sh --only {name})"
    return str(path)


def promtool() -> str:
    return binary("promtool")


def amtool() -> str:
    return binary("amtool")
