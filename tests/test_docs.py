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
    assert blocks[0].code.strip() in ci[-2]                     # bash scripts/setup.sh
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
