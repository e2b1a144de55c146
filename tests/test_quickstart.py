"""The README's quickstart, as a newcomer follows it: a fresh `git clone` of this repository in a
tmp dir, then every fenced block of the quickstart as written, in order. The up-local block runs
in "terminal 1" (a background process, stopped at the end with Ctrl-C's SIGINT); the others run
in one "terminal 2" shell, so `. .llmobs/otel.env` carries over; the Python block is saved as the
file the text names. One exception: the test-suite block runs with PYTEST_ADDOPTS=--collect-only
(the command as written, collecting the suite rather than running all of it inside itself).

Checks: loadgen's traffic is in Prometheus, and the first-trace example reaches the gateway and
leaves it priced, its content hashed: its span is in Jaeger without the card number.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import ROOT
from readme import quickstart_blocks

WORKDIR = ".llmobs"


def _clone(tmp_path):
    clone = tmp_path / "llm-observability-stack"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    return clone


def _run(script: str, cwd, timeout: float, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory):
    """Run the quickstart once; yield each block's output."""
    blocks = quickstart_blocks()
    clone = _clone(tmp_path_factory.mktemp("newcomer"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LLMOBS_", "PYTEST_"))}
    out: dict[str, str] = {}
    setup, up, rest = blocks[0], None, []
    assert setup.code.strip() == "bash scripts/setup.sh", setup.code
    done = _run(setup.code, clone, 3600, env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for block in blocks[1:]:
        if block.lang == "sh" and "stackctl up-local" in block.code:
            up = block
        else:
            rest.append(block)
    assert up is not None, "the quickstart runs up-local"
    terminal1 = subprocess.Popen(["bash", "-euo", "pipefail", "-c", up.code], cwd=clone, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        env_file = clone / WORKDIR / "otel.env"
        deadline = time.monotonic() + 600
        while not env_file.exists():
            assert terminal1.poll() is None, terminal1.communicate()
            assert time.monotonic() < deadline, "up-local wrote no otel.env in 600 s"
            time.sleep(1)
        # Terminal 2: one shell; each block's output between markers; the Python block saved as a file.
        script = []
        for i, block in enumerate(rest):
            if block.lang == "python":
                (clone / block.file).write_text(block.code)
                continue
            code = block.code
            if "pytest" in code:
                code = "PYTEST_ADDOPTS=--collect-only " + code.strip()
            script += [f"printf '\\n@@{i}@@\\n'", code]   # a newline first: curl ends without one
        done = _run("\n".join(script), clone, 900, env)
        assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
        for i, text in re.findall(r"@@(\d+)@@\n(.*?)(?=@@\d+@@\n|\Z)", done.stdout, re.S):
            out[rest[int(i)].code] = text
        out["stderr"] = done.stderr
    finally:
        os.killpg(terminal1.pid, signal.SIGINT)            # Ctrl-C in terminal 1
        try:
            stdout, stderr = terminal1.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(terminal1.pid, signal.SIGKILL)
            stdout, stderr = terminal1.communicate()
    out["up-local"] = stdout + stderr
    out["up-local rc"] = terminal1.returncode
    yield out


def _block(out: dict, needle: str) -> str:
    return next(text for code, text in out.items() if needle in code)


def test_loadgen_traffic_reaches_prometheus(newcomer):
    text = _block(newcomer, "stackctl loadgen")
    assert re.search(r"exported\s+spans (\d+)/\1 \(failed 0\)", text), text
    query = json.loads(text.strip().splitlines()[-1])                 # curl's answer, the block's last line
    counts = {r["metric"].get("job"): float(r["value"][1]) for r in query["data"]["result"]}
    assert counts.get("llm-app", 0) > 0, query


def test_first_trace_reaches_the_gateway_priced_and_hashed(newcomer):
    text = _block(newcomer, "first_trace.py")
    traces = json.loads(text.strip().splitlines()[-1])["data"]
    assert traces, text
    tags = {t["key"]: t["value"] for trace in traces for span in trace["spans"] for t in span["tags"]}
    assert tags["gen_ai.request.model"] == "gpt-4o" and tags["llmobs.cost.usd"] > 0, tags
    assert "gen_ai.input.messages.hmac" in tags and "gen_ai.input.messages" not in tags, tags
    assert "4111" not in text


def test_the_test_command_collects_the_suite(newcomer):
    assert re.search(r"\d+ tests collected", _block(newcomer, "pytest")), _block(newcomer, "pytest")


def test_up_local_stopped_on_ctrl_c(newcomer):
    assert newcomer["up-local rc"] == 0, newcomer["up-local"][-3000:]
    assert "stopping" in newcomer["up-local"]
