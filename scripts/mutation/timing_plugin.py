"""pytest plugin of the mutation runner (scripts/mutation/run.py): writes each test's node id,
outcome and seconds (setup + call + teardown) to $LLMOBS_MUTATION_TIMES as JSON lines."""
from __future__ import annotations

import json
import os


def pytest_runtest_logreport(report):
    path = os.environ.get("LLMOBS_MUTATION_TIMES")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
                                "seconds": report.duration}) + "\n")
