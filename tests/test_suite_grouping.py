"""The suite's own parallel layout (tests/conftest.py): under `--dist loadgroup` a module's tests run
in one worker, so its module fixtures (a started stack) start once. Nothing fails when grouping
silently stops (a hook order, a pytest release): the fixtures just start once per worker, and the
suite runs minutes longer. So it is checked here, with the real conftest, on cheap tests."""
from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT

GROUPED = "tests/test_alerts_up_local.py"          # a module with module fixtures
CHEAP = "every_failure or profile or timing"       # its tests that start no stack


def test_a_module_runs_in_one_worker_under_loadgroup():
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup",
                          "-v", GROUPED, "-k", CHEAP], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    ran = re.findall(r"^\[(gw\d+)\] .*PASSED (\S+)", out.stdout, re.M)
    assert len(ran) == 4, out.stdout[-3000:]
    assert all(nodeid.endswith("@test_alerts_up_local") for _, nodeid in ran), ran
    assert len({worker for worker, _ in ran}) == 1, ran


def test_the_long_modules_are_dealt_out_first():
    """xdist sorts the groups by their number of tests unless the conftest turns that off; then a long
    module with few tests (LONG_FIRST) starts last and runs alone at the end. One worker, two modules:
    the one in LONG_FIRST runs first although the other has more tests."""
    other = "tests/test_settings_boundaries.py"      # not in LONG_FIRST, more tests than GROUPED's cheap ones
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "1", "--dist", "loadgroup",
                          "-v", GROUPED, other, "-k", f"{CHEAP} or settings_boundaries"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    ran = re.findall(r"^\[gw0\] .*PASSED (\S+?)::", out.stdout, re.M)
    assert ran.count(other) > ran.count(GROUPED) > 0, ran
    assert ran[0] == GROUPED, ran
