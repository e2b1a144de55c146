"""Helpers for tests that run `stackctl up-local` and read the real backends."""
from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from conftest import ROOT


def install_binaries() -> dict[str, str]:
    """Cached after the first run; a cold Jaeger build takes minutes (see scripts/install-binaries.sh)."""
    out = subprocess.run(["bash", str(ROOT / "scripts/install-binaries.sh"), "--only", "prometheus,alertmanager,jaeger"],
                         check=True, capture_output=True, text=True, timeout=3600)
    return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)


def stack_file_for_tests(tmp: Path, **overrides) -> Path:
    """Pulumi.dev.yaml with a short tail-sampling wait and metrics flush, so traces reach Jaeger
    and derived metrics Prometheus quickly."""
    doc = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    doc["config"]["llmobs:sampling"] = {**doc["config"].get("llmobs:sampling", {}), "decision_wait_s": 1}
    doc["config"]["llmobs:collector"] = {**doc["config"].get("llmobs:collector", {}), "metrics_flush_s": 1}
    for key, value in overrides.items():
        if key == "collector":   # keep the short flush unless the test sets its own
            value = {**doc["config"]["llmobs:collector"], **value}
        doc["config"][f"llmobs:{key}"] = value
    path = tmp / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


class UpLocal:
    """`python -m stackctl up-local` as a subprocess: start, read the endpoints line, stop."""

    def __init__(self, stack_file: Path, workdir: Path, *extra_args: str):
        self.workdir = workdir
        self.stderr_path = workdir.parent / "up-local.stderr"
        self.stderr = open(self.stderr_path, "w")
        t0 = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "stackctl", "up-local", "--config", str(stack_file),
                                      "--workdir", str(workdir), *extra_args], cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True)
        lines: queue.Queue = queue.Queue()
        # None at the end of its output: an up-local that exits is reported at once, not after 180 s.
        threading.Thread(target=lambda: ([lines.put(line) for line in self.proc.stdout], lines.put(None)),
                         daemon=True).start()
        try:
            line = lines.get(timeout=180)
        except queue.Empty:
            self.stop()
            raise TimeoutError(f"up-local printed no endpoints in 180s:\n{self.stderr_text()}")
        if line is None:
            self.stop()
            raise RuntimeError(f"up-local exited with {self.proc.returncode} before its endpoints:\n"
                               f"{self.stderr_text()}")
        self.wall_ready_s = time.monotonic() - t0
        self.endpoints = json.loads(line)

    def stderr_text(self) -> str:
        if not self.stderr.closed:
            self.stderr.flush()
        return self.stderr_path.read_text()

    def stop(self, timeout: float = 60, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.stderr.close()
        return self.proc.returncode


def get_json(url: str, timeout: float = 10) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


class Prom:
    def __init__(self, base: str):
        self.base = base

    def query(self, expr: str) -> list:
        data = get_json(f"{self.base}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        assert data["status"] == "success", data
        return data["data"]["result"]

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        if not result:
            return None
        assert len(result) == 1, (expr, result)
        return float(result[0]["value"][1])

    def all_strings(self) -> set[str]:
        """Every label name and value Prometheus holds."""
        out = set()
        for name in get_json(f"{self.base}/api/v1/labels")["data"]:
            out.add(name)
            out.update(get_json(f"{self.base}/api/v1/label/{name}/values")["data"])
        return out


def wait_for(predicate, timeout: float = 60, interval: float = 0.25):
    """Poll until predicate() is truthy (returns it) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, KeyError, IndexError, AssertionError) as exc:
            last = exc
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met in {timeout}s (last: {last!r})")
        time.sleep(interval)


def listening(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, int(port))) == 0


def processes_mentioning(text: str) -> list[str]:
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            out.append(f"{pid}: {cmdline}")
    return out


def leftovers(endpoints: dict, workdir: Path) -> list[str]:
    """Listening ports and processes a stopped up-local left behind (should be none)."""
    addresses = [endpoints["otlp_grpc"], endpoints["jaeger_otlp_grpc"]] + [
        endpoints[key].split("//")[1].rstrip("/")
        for key in ("prometheus", "alertmanager", "jaeger_query", "otlp_http", "collector_health", "collector_metrics")]
    return [f"listening {a}" for a in addresses if listening(a.split("/")[0])] + processes_mentioning(str(workdir))
