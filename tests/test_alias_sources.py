"""The alias table against the instrumentation packages themselves (telemetry/ALIAS_SOURCES.md):
every key a library is said to emit is a string that library's pinned release really defines, so
a typo such as `llm.token_count.prompts` fails here even though the flavors and the gateway, both
generated from the same table, would agree with it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from alias_packages import IMPORTED, WHEELS, _parse_literals, _wheel_literals, content_strings, imported, of_source, strings
from telemetry import aliases


@pytest.mark.parametrize("source", aliases.SOURCES, ids=[f"{s.package}=={s.version}" for s in aliases.SOURCES])
def test_every_source_release_is_checked(source):
    """Each release the table cites is either imported (pinned in requirements-dev.txt) or read from its wheel."""
    assert strings(source), source
    if source.package in IMPORTED and imported(source):
        assert len(strings(source)) > 20


@pytest.mark.parametrize("alias", aliases.ALIASES, ids=[a.key for a in aliases.ALIASES])
def test_alias_key_is_defined_by_each_source_it_names(alias):
    missing = [name for name in alias.sources if alias.key not in of_source(name)]
    assert not missing, f"{alias.key!r} is not defined by any checked release of {missing}"


def _pieces(pattern: str) -> set[str]:
    """The fixed pieces of an indexed pattern, each alternative of a (?:a|b) group on its own:
    '^(?:gen_ai\\.prompt|llm\\.prompts)\\.(\\d+)\\.role$' -> {'gen_ai.prompt', 'llm.prompts', 'role'}."""
    body = pattern.strip("^$")
    pieces = [alt for group in re.findall(r"\(\?:([^)]*)\)", body) for alt in group.split("|")]
    pieces += re.split(r"\((?:\?:)?[^)]*\)", body)
    return {p.replace("\\.", ".").strip(".") for p in pieces} - {""}


def _defined(part: str, defined: frozenset[str]) -> bool:
    """A piece is a constant, or one dotted end of one (f"{LLM_PROMPTS}.{i}.role" gives ".role")."""
    return any(s.strip(".") == part or s.strip(".").startswith(part + ".") or s.strip(".").endswith("." + part)
               for s in defined)


@pytest.mark.parametrize("indexed", aliases.INDEXED, ids=[i.pattern for i in aliases.INDEXED])
def test_indexed_pattern_pieces_are_defined_by_its_sources(indexed):
    defined = frozenset().union(*(of_source(name) for name in indexed.sources))
    missing = {part for part in _pieces(indexed.pattern) if not _defined(part, defined)}
    assert not missing, (indexed.pattern, missing)


def test_the_oracle_rejects_typos():
    assert "llm.token_count.prompt" in of_source("openinference")
    for typo in ("llm.token_count.prompts", "gen_ai.usage.input_token", "gen_ai.sytem"):
        assert all(typo not in of_source(name) for name in ("otel-genai", "openllmetry", "openlit", "openinference"))


CHECKED = {s.name for s in aliases.CHECKED_CONTENT_SOURCES}


@pytest.mark.parametrize("content", [c for c in aliases.CONTENT_KEYS if set(c.sources) & CHECKED],
                         ids=[c.key for c in aliases.CONTENT_KEYS if set(c.sources) & CHECKED])
def test_content_key_is_defined_by_each_checked_source(content):
    missing = [name for name in content.sources if content.key not in content_strings(name)]
    assert not missing, f"{content.key!r} is not defined by any checked release of {missing}"


def test_each_checked_content_source_is_read_and_checks_keys():
    """Written by hand: the sources whose releases define their content keys as literals. A source
    renamed in the table would otherwise drop its keys from the check above without a failure."""
    assert CHECKED == {"mlflow", "langfuse", "pydantic-ai"}
    for name, key in (("mlflow", "mlflow.spanOutputs"), ("langfuse", "langfuse.observation.input"),
                      ("pydantic-ai", "final_result")):
        assert key in content_strings(name)
        assert [c.key for c in aliases.CONTENT_KEYS if name in c.sources and c.key == key] == [key]


def test_the_content_oracle_rejects_typos():
    assert "mlflow.spanInputs" in content_strings("mlflow")
    for name, typo in (("mlflow", "mlflow.spanInput"), ("langfuse", "langfuse.observation.inputs"),
                       ("pydantic-ai", "all_message_events")):
        assert typo not in content_strings(name)


def test_the_cached_literals_are_what_the_wheel_parses_to():
    """alias_packages keeps each wheel's literals on disk; the cache must not go stale or lose any."""
    wheel = min(WHEELS.glob("*.whl"), key=lambda p: p.stat().st_size)
    for keywords in (False, True):
        _wheel_literals(wheel, keywords)                      # fills the cache when it is cold
        assert _wheel_literals(wheel, keywords) == _parse_literals(wheel, keywords)


DOC = (Path(__file__).resolve().parent.parent / "telemetry" / "ALIAS_SOURCES.md").read_text()
ALL_SOURCES = aliases.SOURCES + aliases.CONTENT_SOURCES + aliases.CHECKED_CONTENT_SOURCES


@pytest.mark.parametrize("source", ALL_SOURCES, ids=[f"{s.package}=={s.version}" for s in ALL_SOURCES])
def test_alias_sources_md_names_each_release_the_tables_cite(source):
    """The tables and the hand-written account of what was read from which release agree."""
    package = source.package.removesuffix(" (npm)")
    pattern = rf"`{re.escape(package)}`[^|]*?(?<![\w.]){re.escape(source.version)}(?![\w.])"
    assert any(re.search(pattern, line) for line in DOC.splitlines()), source
