"""A pure core, a thin shell: the core and the Pulumi components never import the command line,
and Pulumi type tokens are written out (a token built from a class name changes with a rename,
and Pulumi then replaces every child resource)."""
from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

SHELL = {"stackctl", "tests", "tools", "scripts", "node_modules", ".bin", ".git"}


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if not SHELL.intersection(rel.parts):
            yield rel, ast.parse(path.read_text())


def test_core_and_components_never_import_the_cli():
    offenders = []
    for rel, tree in _modules():
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{rel}:{node.lineno} imports {n}" for n in names if n.split(".")[0] == "stackctl"]
    assert offenders == []
    assert any(rel.parts[0] == "components" for rel, _ in _modules())   # the scan saw the components


def test_pulumi_type_tokens_are_literals():
    built = []
    for rel, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr) and any(
                    isinstance(v, ast.Constant) and "llmobs:index:" in str(v.value) for v in node.values):
                built.append(f"{rel}:{node.lineno}")
    assert built == [], "write the type token out: 'llmobs:index:ClassName'"
    from components.kubernetes.workloads import ServiceComponent
    classes = ServiceComponent.__subclasses__()
    assert len(classes) >= 7
    for cls in classes:
        assert cls.__dict__.get("TYPE") == f"llmobs:index:{cls.__name__}", cls
