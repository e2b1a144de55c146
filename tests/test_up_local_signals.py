"""up-local's lifecycle: SIGINT, a crashed service, and up-local itself killed. Each leaves nothing behind."""
from __future__ import annotations

import os
import signal

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


def test_a_crashed_service_stops_the_stack(up):
    os.kill(up.endpoints["pids"]["collector"], signal.SIGKILL)
    assert up.proc.wait(timeout=30) == 1
    assert "collector exited" in up.stderr_text()
    assert leftovers(up.endpoints, up.workdir) == []


def test_services_die_with_up_local(up):
    up.stop(sig=signal.SIGKILL)   # no chance to clean up: the kernel's parent-death signal does it
    wait_for(lambda: leftovers(up.endpoints, up.workdir) == [], timeout=30)
