"""The documentation: the site builds strictly (a broken link, a missing page or a page left out
of the nav fails), and the generated pages are current."""
from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT


def test_site_builds_strictly(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    pages = {p.relative_to(tmp_path / "site").as_posix() for p in (tmp_path / "site").rglob("index.html")}
    # The pages the nav names, and the generated runbooks, are on the site.
    for page in ("getting-started/up-local/index.html", "configuration/index.html", "operations/index.html",
                 "troubleshooting/index.html", "runbooks/LlmProviderErrorRateHigh/index.html"):
        assert page in pages, sorted(pages)


def test_readme_is_short_with_the_quickstart_first():
    from readme import quickstart_lines, readme
    assert len(readme().splitlines()) <= 250
    start, end = quickstart_lines()
    assert end <= 60, f"the quickstart ends on line {end}"


def test_readme_runs_the_tests_as_ci_does():
    """The quickstart's test command is the one .ci/run runs, after the same setup."""
    from readme import quickstart_blocks
    blocks = quickstart_blocks()
    ci = (ROOT / ".ci/run").read_text().splitlines()
    assert blocks[0].code.strip() in ci[:-1]                    # bash scripts/setup.sh, before the tests
    pytest_blocks = [b.code.strip() for b in blocks if "pytest" in b.code]
    assert pytest_blocks == [ci[-1]]


def test_capacity_table_is_current():
    """docs/operations.md's capacity table is the one docs/benchmarks.json gives."""
    from stackctl.capacity import table
    assert table() in (ROOT / "docs/operations.md").read_text(), \
        "run: python -m stackctl.capacity, paste into docs/operations.md"


def test_dashboards_page_is_current():
    """docs/dashboards.md's per-dashboard sections are what the typed definitions render."""
    from dashboards.docs import reference
    assert reference() in (ROOT / "docs/dashboards.md").read_text(), \
        "run: python -m dashboards.docs, paste into docs/dashboards.md"


def test_alerts_page_links_every_runbook():
    page = (ROOT / "docs/alerts.md").read_text()
    missing = [p.name for p in (ROOT / "runbooks").glob("*.md") if f"](runbooks/{p.name})" not in page]
    assert not missing, f"docs/alerts.md, section Runbooks: add {missing}"


# How the README names each external kind of the schema (by hand: a new kind needs a README word).
README_KINDS = {"prometheus-operator": "`PrometheusRule`", "servicemonitor": "`ServiceMonitor`", "podmonitor": "`PodMonitor`",
                "alertmanager-config": "`AlertmanagerConfig`", "team": "routing left to your team",
                "grafana": "Grafana-managed alert rules", "sidecar": "Grafana dashboard sidecar",
                "grafana-api": "Grafana API"}


def test_readme_documents_each_external_mode_and_each_example_from_what_you_run():
    """Issue 31: the README documents each mode briefly, linking the page, and each bring-your-own
    example has a paragraph that starts from what you already run, linking the example."""
    import re

    import yaml
    from readme import readme
    text = readme()
    schema = yaml.safe_load((ROOT / "settings/stack.schema.yaml").read_text())["properties"]["backends"]["properties"]
    kinds = {k for backend in schema.values() for field in ("kind", "rules", "monitor")
             for k in backend["properties"].get(field, {}).get("enum", []) if k != "none"}
    assert sorted(kinds) == sorted(README_KINDS)
    section = text[text.index("## Bring your own backends"):]
    section = section[:section.index("\n## ", 1)]
    assert "(docs/external-backends.md)" in section
    for backend in schema:
        assert re.search(rf"^\| [^|]*\b{backend}\b", section, re.M), f"README: no row for backends.{backend}"
    for kind, words in README_KINDS.items():
        assert words in section, f"README: external kind {kind!r} ({words}) not documented"
    examples = sorted(p.name for p in ROOT.glob("Pulumi.*.yaml")
                      if "llmobs:backends" in (yaml.safe_load(p.read_text()).get("config") or {}))
    assert examples == ["Pulumi.grafana-cloud.yaml", "Pulumi.kube-prometheus.yaml"]
    paragraphs = section.split("\n\n")
    for example in examples:
        [paragraph] = [p for p in paragraphs if f"]({example})" in p]
        assert paragraph.startswith("**You already run "), paragraph[:80]
    for link in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", section):   # every local link resolves
        assert (ROOT / link).exists(), link
