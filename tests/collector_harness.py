"""Run the real gateway collector on 127.0.0.1 for tests: free ports, health-checked, always stopped."""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import os
import re
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import collector_config
from collector_config import Listen, redact
from settings import Settings
from stackctl.up_local import PortTaken, free_port   # up-local's: a port chosen as free, taken meanwhile

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-ingest-token-0123456789"
PORT_FIELDS = ("grpc_port", "http_port", "health_port", "telemetry_port", "audit_port")
# The content hash key every test gateway reads (content.hash hmac), beside its token file.
CONTENT_KEY = "test-content-hash-key-0123456789abcdef"


def content_hash(text: str, key: str = CONTENT_KEY) -> str:
    """What the gateway keeps of `text` under content.hash hmac, computed here with hashlib and
    hmac (HMAC-SHA256 of the UTF-8 text under the key, the key file's text without its newline)."""
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


@functools.cache
def collector_binary() -> str:
    """The built gateway (built if its key changed): asked once per process, not per config
    (the key hashes every Go source file)."""
    override = os.environ.get("LLMOBS_OTELCOL")
    if override:
        return override
    out = subprocess.run(["bash", str(ROOT / "scripts/build-collector.sh")], check=True,
                         capture_output=True, text=True, timeout=1800)
    return out.stdout.strip().splitlines()[-1]




def validate(config_text: str) -> subprocess.CompletedProcess:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(config_text)
    try:
        return subprocess.run([collector_binary(), "validate", *collector_config.argv(f.name)], capture_output=True,
                              text=True, timeout=120)
    finally:
        os.unlink(f.name)


class RunningCollector:
    def __init__(self, settings: Settings, tier: str = "single", content_key: str = CONTENT_KEY):
        self.listen = Listen(host="127.0.0.1", grpc_port=free_port(), http_port=free_port(),
                             health_port=free_port(), telemetry_port=free_port(), audit_port=free_port())
        self.dir = tempfile.TemporaryDirectory()
        token_file = Path(self.dir.name) / "ingest_token"
        token_file.write_text(TOKEN + "\n")
        token_file.chmod(0o600)
        key_file = Path(self.dir.name) / redact.CONTENT_KEY
        key_file.write_text(content_key + "\n")
        key_file.chmod(0o600)
        self.config_text = collector_config.render_yaml(settings, self.listen, tier, token_file=str(token_file))
        self.proc: subprocess.Popen | None = None

    @property
    def grpc_endpoint(self) -> str:
        return f"127.0.0.1:{self.listen.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.listen.http_port}"

    def start(self, timeout: float = 30, attempts: int = 3) -> "RunningCollector":
        """Started and healthy. free_port() only finds a port free at that moment: when another test's
        process takes one before the collector binds it (seen once in a cold CI run), the collector is
        started again on fresh ports, at most `attempts` times."""
        for attempt in range(attempts):
            try:
                return self._start(timeout)
            except PortTaken:
                if attempt == attempts - 1:
                    raise
                self._move_ports()

    def _move_ports(self) -> None:
        """Fresh ports, in the config text as it stands (a test may have edited it before start)."""
        old = self.listen
        self.listen = dataclasses.replace(old, **{field: free_port() for field in PORT_FIELDS})
        for field in PORT_FIELDS:
            self.config_text = re.sub(rf"127\.0\.0\.1:{getattr(old, field)}(?!\d)",
                                      f"127.0.0.1:{getattr(self.listen, field)}", self.config_text)

    def _start(self, timeout: float) -> "RunningCollector":
        path = Path(self.dir.name) / "config.yaml"
        path.write_text(self.config_text)
        self.log = open(Path(self.dir.name) / "collector.log", "w")
        self.proc = subprocess.Popen([collector_binary(), *collector_config.argv(str(path))], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.close()
                logs = self.logs()
                if "bind: address already in use" in logs:
                    raise PortTaken(logs)
                raise RuntimeError(f"collector exited {self.proc.returncode}:\n{logs}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.listen.health_port}/", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"collector not healthy in {timeout}s:\n{self.logs()}")

    def logs(self) -> str:
        return (Path(self.dir.name) / "collector.log").read_text()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if getattr(self, "log", None):
            self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.dir.cleanup()
