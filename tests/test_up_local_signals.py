"""up-local's lifecycle: SIGINT, --duration, a crashed service, and up-local itself killed. Each leaves
nothing behind."""
from __future__ import annotations

import os
import signal
import subprocess

import pytest

from up_local_run import UpLocal, install_binaries, leftovers, stack_file_for_tests, wait_for


@pytest.fixture(scope="module", autouse=True)
def binaries():
    install_binaries()


@pytest.fixture
def up(tmp_path):
    stack = UpLocal(stack_file_for_tests(tmp_path), tmp_path / "work")
    yield stack
    stack.stop(sig=signal.SIGKILL)


def test_sigint_stops_everything(up):
    assert up.stop(sig=signal.SIGINT) == 0, up.stderr_text()
    assert "stopping" in up.stderr_text()
    assert leftovers(up.endpoints, up.workdir) == []
    assert not (up.workdir / "otel.env").exists()


def test_duration_stops_everything_and_the_env_file_names_the_stack(tmp_path):
    """The README's quickstart: `--duration` bounds the run; `. <workdir>/otel.env` in another
    shell points an OpenTelemetry SDK (and loadgen) at this stack, token included."""
    up = UpLocal(stack_file_for_tests(tmp_path), tmp_path / "work", "--duration", "4")
    try:
        env_file, ep = up.workdir / "otel.env", up.endpoints
        assert env_file.stat().st_mode & 0o777 == 0o600         # it holds the ingest token
        shell = subprocess.run(["bash", "-c", f". {env_file} && env"], capture_output=True, text=True, check=True)
        env = dict(line.split("=", 1) for line in shell.stdout.splitlines() if "=" in line)
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://{ep['otlp_grpc']}"
        assert env["OTEL_EXPORTER_OTLP_HEADERS"] == f"authorization=Bearer {ep['ingest_token']}"
        assert env["LLMOBS_INGEST_TOKEN"] == ep["ingest_token"]
        assert (env["LLMOBS_PROMETHEUS_URL"], env["LLMOBS_JAEGER_URL"], env["LLMOBS_ALERTMANAGER_URL"]) == \
            (ep["prometheus"], ep["jaeger_query"], ep["alertmanager"])
        assert up.proc.wait(timeout=60) == 0, up.stderr_text()
        assert "--duration 4s reached" in up.stderr_text()
        assert not env_file.exists()
        wait_for(lambda: leftovers(ep, up.workdir) == [], timeout=30)
    finally:
        up.stop(sig=signal.SIGKILL)


def test_a_crashed_service_stops_the_stack(up):
    os.kill(up.endpoints["pids"]["collector"], signal.SIGKILL)
    assert up.proc.wait(timeout=30) == 1
    assert "collector exited" in up.stderr_text()
    assert leftovers(up.endpoints, up.workdir) == []


def test_services_die_with_up_local(up):
    up.stop(sig=signal.SIGKILL)   # no chance to clean up: the kernel's parent-death signal does it
    wait_for(lambda: leftovers(up.endpoints, up.workdir) == [], timeout=30)
