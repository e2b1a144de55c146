"""up-local chooses free ports, but another process can bind one before the stack does (parallel
tests on a busy machine): the stack then starts again on other ports, instead of failing."""
from __future__ import annotations

import dataclasses
import socket
import urllib.request

import pytest

from stackctl import up_local
from up_local_run import stack_file_for_tests


def _taking(port: int, times: int):
    """Ports.allocate whose collector gRPC port is `port` (already bound) the first `times` times."""
    real, calls = up_local.Ports.allocate, []

    def allocate():
        ports = real()
        calls.append(1)
        if len(calls) > times:
            return ports
        return dataclasses.replace(ports, collector=dataclasses.replace(ports.collector, grpc_port=port))
    return staticmethod(allocate)


@pytest.fixture
def taken():
    """A port on 127.0.0.1 that something else listens on."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        yield squatter.getsockname()[1]


def _stack(tmp_path):
    return up_local.LocalStack(stack_file_for_tests(tmp_path), tmp_path / "work", binaries=up_local.find_binaries())


def test_a_port_taken_between_choice_and_bind_starts_the_stack_on_other_ports(tmp_path, monkeypatch, taken):
    monkeypatch.setattr(up_local.Ports, "allocate", _taking(taken, times=1))
    stack = _stack(tmp_path)
    try:
        stack.start(timeout=300)
        grpc = stack.ports.collector.grpc_port
        assert grpc != taken
        with socket.create_connection(("127.0.0.1", grpc), timeout=5):
            pass
        with urllib.request.urlopen(f"http://127.0.0.1:{stack.ports.collector.health_port}/", timeout=5) as r:
            assert r.status == 200
    finally:
        stack.stop()


def test_a_port_taken_on_every_attempt_fails_with_the_reason(tmp_path, monkeypatch, taken):
    monkeypatch.setattr(up_local.Ports, "allocate", _taking(taken, times=99))
    stack = _stack(tmp_path)
    try:
        with pytest.raises(RuntimeError, match="address already in use"):
            stack.start(timeout=300, attempts=2)
    finally:
        stack.stop()
