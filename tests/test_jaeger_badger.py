"""Jaeger on Kubernetes keeps traces in Badger on its volume: the real Jaeger binary runs
the rendered config (ports and the volume path moved to 127.0.0.1 and a temp dir),
stores a trace, is restarted, and still returns it."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from binaries import binary
import yaml

from backends import jaeger
from components.kubernetes import manifests
from settings import validate
from artifacts import render_all
from stacks import KUBE

ROOT = Path(__file__).resolve().parent.parent
TRACE_ID = "5b8efff798038103d269b633813fc60c"



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _local_config(text: str, data: Path) -> tuple[str, dict[int, int]]:
    ports: dict[int, int] = {}

    def local(m: re.Match) -> str:
        return f"127.0.0.1:{ports.setdefault(int(m.group(1)), _free_port())}"
    text = re.sub(r"0\.0\.0\.0:(\d+)", local, text).replace(jaeger.DATA_DIR, str(data))
    config = yaml.safe_load(text)
    prom = config["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]
    prom.update(host="127.0.0.1", port=_free_port())
    return yaml.safe_dump(config), ports


def _get(url: str, timeout: float = 2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def _wait(url: str, deadline_s: float = 60.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            if _get(url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} not ready in {deadline_s}s")


def _span_payload() -> bytes:
    now = time.time_ns()
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "badger-test"}}]},
        "scopeSpans": [{"spans": [{"traceId": TRACE_ID, "spanId": "eee19b7ec3c1b174", "name": "kept",
                                   "kind": 1, "startTimeUnixNano": str(now - 10**6),
                                   "endTimeUnixNano": str(now)}]}]}]}).encode()


def test_kubernetes_jaeger_config_is_badger_with_retention():
    settings = validate({**KUBE, "traces": {"backend": "jaeger"}, "retention": {"traces": "3d"}})
    config = yaml.safe_load(render_all(settings)["jaeger/config.yaml"])
    backend = config["extensions"]["jaeger_storage"]["backends"][jaeger.STORE]
    assert backend == {"badger": {"directories": {"keys": "/var/lib/jaeger/keys", "values": "/var/lib/jaeger/values"},
                                  "ephemeral": False, "ttl": {"spans": "72h"}}}
    # ... on the StatefulSet's volume, mounted where the config points.
    objects = manifests.stack_manifests(settings)["jaeger"]
    sts = next(m.body for m in objects if m.body["kind"] == "StatefulSet")
    mounts = sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "data", "mountPath": jaeger.DATA_DIR} in mounts
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "50Gi"
    docker = yaml.safe_load(render_all(validate({"target": "docker", "traces": {"backend": "jaeger"}}))[
        "jaeger/config.yaml"])
    assert "memory" in docker["extensions"]["jaeger_storage"]["backends"][jaeger.STORE]


def test_real_jaeger_keeps_traces_across_a_restart(tmp_path):
    jaeger_bin = binary("jaeger")
    settings = validate({**KUBE, "traces": {"backend": "jaeger"}})
    text, ports = _local_config(render_all(settings)["jaeger/config.yaml"], tmp_path / "data")
    (tmp_path / "data").mkdir()
    cfg = tmp_path / "jaeger.yaml"
    cfg.write_text(text)
    env = {**os.environ, "OTEL_TRACES_SAMPLER": "always_off"}
    health = f"http://127.0.0.1:{ports[jaeger.HEALTH_PORT]}/status"
    query = f"http://127.0.0.1:{ports[jaeger.QUERY_PORT]}/api/traces/{TRACE_ID}"

    def run() -> subprocess.Popen:
        proc = subprocess.Popen([jaeger_bin, f"--config={cfg}"], stdout=open(tmp_path / "jaeger.log", "ab"),
                                stderr=subprocess.STDOUT, env=env)
        _wait(health)
        return proc

    def stop(proc: subprocess.Popen) -> None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def found() -> bool:
        try:
            status, body = _get(query)
        except OSError:
            return False
        return status == 200 and any(s["spanID"] == "eee19b7ec3c1b174" for d in json.loads(body)["data"]
                                     for s in d["spans"])

    proc = run()
    try:
        req = urllib.request.Request(f"http://127.0.0.1:{ports[4318]}/v1/traces", data=_span_payload(),
                                     headers={"Content-Type": "application/json"})
        assert urllib.request.urlopen(req, timeout=5).status == 200
        end = time.monotonic() + 30
        while not found() and time.monotonic() < end:
            time.sleep(0.5)
        assert found(), (tmp_path / "jaeger.log").read_text()[-3000:]
    finally:
        stop(proc)
    assert any((tmp_path / "data" / "values").iterdir())
    proc = run()
    try:
        end = time.monotonic() + 15
        while not found() and time.monotonic() < end:
            time.sleep(0.5)
        assert found(), "the trace did not survive the restart"
    finally:
        stop(proc)
