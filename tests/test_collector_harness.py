"""The test gateway harness itself: a port taken between free_port() and the collector's bind (another
test's process took it once in a cold CI run) moves the collector to fresh ports, a bounded number of times."""
from __future__ import annotations

import socket

import pytest

from collector_harness import PortTaken, RunningCollector
from settings import validate


def _taken(port: int) -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.listen()
    return s


def test_a_taken_port_moves_the_collector_to_fresh_ports():
    collector = RunningCollector(validate({"target": "docker"}))
    old = collector.listen.grpc_port
    with _taken(old), collector:
        assert collector.listen.grpc_port != old
        assert f"127.0.0.1:{collector.listen.grpc_port}" in collector.config_text
        assert f"127.0.0.1:{old}" not in collector.config_text
        assert collector.proc.poll() is None


def test_the_retries_are_bounded():
    collector = RunningCollector(validate({"target": "docker"}))
    with _taken(collector.listen.grpc_port), pytest.raises(PortTaken, match="address already in use"):
        try:
            collector.start(attempts=1)
        finally:
            collector.stop()
            collector.dir.cleanup()
