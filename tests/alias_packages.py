"""The strings the alias table's source packages really define: the oracle for tests/test_alias_sources.py.

Packages pinned in requirements-dev.txt are imported and their attribute constants read (module and
class attributes, enum values). The other releases in telemetry.aliases.SOURCES cannot be installed
beside them, so scripts/setup.sh downloads their wheels (no dependencies, never installed) and the
string literals of their Python files are read with `ast`, f-string pieces included."""
from __future__ import annotations

import ast
import enum
import fcntl
import hashlib
import importlib
import importlib.metadata
import inspect
import json
import os
import pkgutil
import sys
import tempfile
import zipfile
from functools import cache
from pathlib import Path

from telemetry.aliases import CHECKED_CONTENT_SOURCES, SOURCES, Source

WHEELS = Path(__file__).resolve().parent.parent / ".bin" / "alias-wheels"
# package -> modules whose constants it defines (the packages requirements-dev.txt installs)
IMPORTED = {
    "opentelemetry-semantic-conventions": "opentelemetry.semconv._incubating.attributes",
    "opentelemetry-semantic-conventions-ai": "opentelemetry.semconv_ai",
    "openinference-semantic-conventions": "openinference.semconv",
}


def imported(source: Source) -> bool:
    return source.package in IMPORTED and importlib.metadata.version(source.package) == source.version


def wheel_specs() -> list[str]:
    return [f"{s.package}=={s.version}" for s in SOURCES + CHECKED_CONTENT_SOURCES if not (s.package in IMPORTED and _pinned(s))]


def _pinned(source: Source) -> bool:
    """The release requirements-dev.txt pins (whether or not it is installed yet)."""
    lines = (Path(__file__).resolve().parent.parent / "requirements-dev.txt").read_text().splitlines()
    return f"{source.package}=={source.version}" in lines


def _constants(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, type) and issubclass(value, enum.Enum):
        return {m.value for m in value if isinstance(m.value, str)}
    if isinstance(value, type):
        return {v for name, v in vars(value).items() if isinstance(v, str) and not name.startswith("__")}
    return set()


def _module_constants(package: str) -> set[str]:
    root = importlib.import_module(package)
    modules = [root] + [importlib.import_module(m.name)
                        for m in pkgutil.walk_packages(getattr(root, "__path__", []), package + ".")]
    return {c for m in modules for name, v in vars(m).items() if not name.startswith("__") for c in _constants(v)}


def _wheel(source: Source) -> Path:
    prefix = f"{source.package.replace('-', '_')}-{source.version}-"
    found = sorted(WHEELS.glob(prefix + "*.whl"))
    assert found, f"no wheel {prefix}*.whl in {WHEELS}: run scripts/setup.sh"
    return found[0]


def _wheel_literals(path: Path, keywords: bool = False) -> set[str]:
    """_parse_literals, kept on disk beside the wheels: parsing the big wheels (mlflow, langfuse) takes
    tens of CPU-seconds, and each xdist worker would pay it again. Keyed by the wheel's bytes, the
    flag, the Python version (whose parser reads the files) and _parse_literals' own source, so a
    change to the parser never reads an old cache."""
    parser = inspect.getsource(_parse_literals).encode()
    digest = hashlib.sha256(path.read_bytes() + parser).hexdigest()[:24]
    cached = path.resolve().parent / ".literals" / f"{digest}-{int(keywords)}-py{sys.version_info[0]}{sys.version_info[1]}.json"
    if cached.exists():
        return set(json.loads(cached.read_text()))
    cached.parent.mkdir(exist_ok=True)
    # On a cold cache the xdist workers all ask at once: one parses, the others wait for its file.
    with open(cached.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cached.exists():
            return set(json.loads(cached.read_text()))
        out = _parse_literals(path, keywords)
        fd, tmp = tempfile.mkstemp(dir=cached.parent)      # write whole, then rename: never half a file
        with os.fdopen(fd, "w") as f:
            json.dump(sorted(out), f)
        os.replace(tmp, cached)
    return out


def _parse_literals(path: Path, keywords: bool) -> set[str]:
    """String literals; with `keywords`, also keyword-argument names (a logfire span's attributes)."""
    out: set[str] = set()
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".py"):
                tree = ast.parse(z.read(name).decode("utf-8"))
                out |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
                if keywords:
                    out |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.keyword) and n.arg}
    return out


@cache
def content_strings(name: str) -> frozenset[str]:
    """What the wheels of one checked content source ("mlflow", ...) define."""
    return frozenset().union(*(_wheel_literals(_wheel(s), keywords=True) for s in CHECKED_CONTENT_SOURCES if s.name == name))


@cache
def strings(source: Source) -> frozenset[str]:
    if source.package in IMPORTED and _pinned(source):
        assert imported(source), f"{source.package}=={source.version} not installed: run scripts/setup.sh"
        return frozenset(_module_constants(IMPORTED[source.package]))
    return frozenset(_wheel_literals(_wheel(source)))


def of_source(name: str) -> frozenset[str]:
    """Everything the packages of one source name ("openllmetry", ...) define."""
    return frozenset().union(*(strings(s) for s in SOURCES if s.name == name))
