"""`python -m stackctl up-local`: the stack on real binaries on 127.0.0.1, no Docker.

Renders every artifact for the stack file (artifacts.render_all) as `stackctl render`
does, renders the backends' configs again for a placement on free 127.0.0.1 ports and
the work directory (backends.common.Placement; nothing is edited after rendering), and
starts:

  collector     the built gateway (scripts/build-collector.sh) on the rendered pipeline
  prometheus    Debian's Prometheus with the rendered rules; metrics arrive by remote write
  alertmanager  Debian's Alertmanager with the rendered config
  jaeger        Jaeger v2 (scripts/install-binaries.sh) as the traces backend

Loki, Tempo and Grafana cannot run here: logs go to the collector's `file` exporter
(the only change to the pipeline), traces to Jaeger. When every health check passes,
one JSON object with the endpoints is printed on stdout and `<workdir>/otel.env` is
written (the OTLP exporter's variables and the backends' URLs, for `. <workdir>/otel.env` in
another shell); SIGINT/SIGTERM, or `--duration` seconds, stop every
process (children also die with this process: PR_SET_PDEATHSIG). In Python, LocalStack
also stops and starts one service (stop_service/start_service: same argv, ports and data),
for the fault tests (tests/test_faults.py).
"""
from __future__ import annotations

import argparse
import ctypes
import dataclasses
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import collector_config
from backends import alertmanager as alertmanager_backend
from backends import jaeger as jaeger_backend
from backends import prometheus as prometheus_backend
from backends import services as backend_services
from backends.common import Placement
from collector_config import Listen
from settings import Settings, validate
from settings.model import Traces
from settings.load import split_stack_config
from artifacts import render_all

REPO = Path(__file__).resolve().parent.parent
NOT_RUNNING = {
    "loki": "Loki cannot run on this machine: logs go to the collector's file exporter (logs_file)",
    "grafana": "Grafana cannot run on this machine: query Prometheus and Jaeger directly",
}
BINARY_ENV = {"prometheus": "LLMOBS_PROMETHEUS", "alertmanager": "LLMOBS_ALERTMANAGER", "jaeger": "LLMOBS_JAEGER",
              "collector": "LLMOBS_OTELCOL"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log(message: str) -> None:
    print(f"up-local: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- binaries

def find_binaries(names=("prometheus", "alertmanager", "jaeger", "collector")) -> dict[str, str]:
    """Paths from LLMOBS_* overrides, else scripts/install-binaries.sh and build-collector.sh (both cached)."""
    out = {name: os.environ[env] for name, env in BINARY_ENV.items() if name in names and os.environ.get(env)}
    missing = [n for n in names if n not in out and n != "collector"]
    if missing:
        done = subprocess.run(["bash", str(REPO / "scripts/install-binaries.sh"), "--only", ",".join(missing)],
                              check=True, capture_output=True, text=True, timeout=3600)
        for line in done.stdout.splitlines():
            name, _, path = line.partition("=")
            if name in missing:
                out[name] = path
    if "collector" in names and "collector" not in out:
        done = subprocess.run(["bash", str(REPO / "scripts/build-collector.sh")], check=True,
                              capture_output=True, text=True, timeout=3600)
        out["collector"] = done.stdout.strip().splitlines()[-1]
    return out


# ---------------------------------------------------------------- configuration

class PortTaken(RuntimeError):
    """A process could not bind a port chosen as free: something else took it meanwhile."""


@dataclass(frozen=True)
class Ports:
    collector: Listen
    prometheus: int
    alertmanager: int
    jaeger: dict  # container port -> local port

    @classmethod
    def allocate(cls) -> "Ports":
        collector = Listen(host="127.0.0.1", grpc_port=free_port(), http_port=free_port(),
                           health_port=free_port(), telemetry_port=free_port(), audit_port=free_port())
        jaeger = {port: free_port() for port in (4317, 4318, jaeger_backend.QUERY_PORT, 16685,
                                                 jaeger_backend.HEALTH_PORT, jaeger_backend.METRICS_PORT)}
        return cls(collector, free_port(), free_port(), jaeger)


def local_settings(stack_file: str | Path, ports: Ports) -> tuple[Settings, list[str]]:
    """The stack's settings for a run on this machine, and what that changed: the
    exporters point at the local backends; nothing goes to external storage or receivers
    (their secrets live in the stack's secret config, not here)."""
    doc = yaml.safe_load(Path(stack_file).read_text()) or {}
    config, _secrets = split_stack_config(doc.get("config") or {})
    notes = []
    config["endpoints"] = {
        "metrics": f"http://127.0.0.1:{ports.prometheus}/api/v1/write",
        "traces": f"127.0.0.1:{ports.jaeger[4317]}",
    }
    if (config.get("prometheus") or {}).get("remote_write"):
        config["prometheus"] = {**config["prometheus"], "remote_write": []}
        notes.append("prometheus: remote_write to external storage dropped for the local run")
    if (config.get("alerts") or {}).get("receivers"):
        config["alerts"] = {**config["alerts"], "receivers": {"kind": "none"}}
        notes.append("alertmanager: receivers (webhook, Slack, PagerDuty, email) need their secrets; "
                     "alerts stay in Alertmanager locally")
    return validate(config), notes


def placements(ports: Ports, local: Path, data: Path) -> dict[str, Placement]:
    """Each backend on 127.0.0.1: files under `local`, state under `data`, free ports."""
    peers = {"collector": f"127.0.0.1:{ports.collector.telemetry_port}",
             "prometheus": f"127.0.0.1:{ports.prometheus}",
             "alertmanager": f"127.0.0.1:{ports.alertmanager}",
             "jaeger": f"127.0.0.1:{ports.jaeger[jaeger_backend.METRICS_PORT]}"}

    def place(name: str, **kw) -> Placement:
        return Placement(root=str(local), data=str(data / name), host="127.0.0.1", **kw)
    return {"prometheus": place("prometheus", ports={prometheus_backend.PORT: ports.prometheus}, peers=peers),
            "alertmanager": place("alertmanager", ports={backend_services.ALERTMANAGER_PORT: ports.alertmanager}),
            "jaeger": place("jaeger", ports=ports.jaeger)}


def dropped_scrape_jobs(settings: Settings, place: Placement) -> list[str]:
    return [f"prometheus: scrape job {job['job_name']!r} dropped (not running locally)"
            for job in prometheus_backend.scrape_configs(settings) if job["job_name"] not in place.peers]


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


# ---------------------------------------------------------------- processes

def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM when up-local dies, however it dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class Proc:
    name: str
    argv: list[str]
    health: str
    log: Path
    env: dict = field(default_factory=dict)
    popen: subprocess.Popen | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.popen = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          env={**os.environ, **self.env}, start_new_session=True,
                                          preexec_fn=_die_with_parent)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.health, timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15) -> None:
        p = self.popen
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


class LocalStack:
    def __init__(self, stack_file: str | Path, workdir: str | Path, token: str | None = None,
                 binaries: dict[str, str] | None = None, keep_traces: bool = False):
        """`keep_traces`: Jaeger stores traces in Badger under the work directory, as on
        Kubernetes, so a restarted Jaeger (start_service) still has them; else in memory."""
        self.stack_file = Path(stack_file)
        self.keep_traces = keep_traces
        self.workdir = Path(workdir).resolve()
        self.token_arg = token
        self.binaries = binaries
        self.procs: list[Proc] = []
        self.notes: list[str] = []

    def prepare(self) -> None:
        w = self.workdir
        self.ports = Ports.allocate()
        self.settings, self.notes = local_settings(self.stack_file, self.ports)
        self.token = None
        if self.settings.ingest.auth:
            self.token = self.token_arg or os.environ.get(collector_config.TOKEN_ENV) or secrets.token_urlsafe(24)
        rendered = render_all(self.settings)
        _write(w / "artifacts", rendered)           # as `stackctl render` writes them
        self.logs_file = w / "sinks" / "logs.jsonl"
        self.logs_file.parent.mkdir(parents=True, exist_ok=True)
        places = placements(self.ports, w / "local", w / "data")
        _write(w / "local", self._local_files(rendered, places))
        if self.settings.traces.backend == "tempo":
            self.notes.append("tempo cannot run on this machine: Jaeger receives the traces (same OTLP exporter)")
        self.notes += dropped_scrape_jobs(self.settings, places["prometheus"])
        self.procs = self._procs(rendered, places, self.binaries or find_binaries())

    def _token_file(self) -> Path:
        """The ingest token goes to the gateway the way the targets give it: as a file only it reads."""
        token_file = self.workdir / "secrets" / "ingest_token"
        token_file.parent.mkdir(parents=True, exist_ok=True)
        token_file.write_text((self.token or "") + "\n")
        token_file.chmod(0o600)
        return token_file

    def _content_key_file(self) -> Path:
        """The content hash key (content.hash hmac), as the targets give it: a file beside the
        token. Generated on the first run and kept in the work directory after that, so hashes
        from one work directory's runs stay joinable (docs/content-hashing.md)."""
        key_file = self.workdir / "secrets" / collector_config.redact.CONTENT_KEY
        key_file.parent.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            key_file.touch(mode=0o600)
            key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
        return key_file

    def _local_files(self, rendered: dict[str, str], places: dict[str, Placement]) -> dict[str, str]:
        """The renderers' own output for this placement; nothing is edited after rendering."""
        settings = self.settings
        if collector_config.needs_content_key(settings):
            self._content_key_file()   # where render_yaml's config reads it: beside the token file
        files = {
            # The single-tier gateway on local ports, logs to the file exporter instead of Loki.
            # Its persistent queue (when on) under the work directory's data, like the backends' state.
            "collector/config.yaml": collector_config.render_yaml(settings, self.ports.collector,
                                                                  logs_file=str(self.logs_file),
                                                                  token_file=str(self._token_file()),
                                                                  queue_dir=str(self.workdir / "data/collector/queue")),
            **prometheus_backend.render(settings, places["prometheus"]),
            **alertmanager_backend.render(settings),
            **jaeger_backend.render(self._jaeger_settings(), places["jaeger"]),
        }
        files.update({rel: text for rel, text in rendered.items() if rel.startswith("prometheus/rules/")})
        return files

    def _jaeger_settings(self) -> Settings:
        """Jaeger is the local traces backend whichever the stack deploys; its storage is the
        docker target's (memory) or, with keep_traces, the Kubernetes target's (Badger)."""
        target = {"target": "kubernetes"} if self.keep_traces else {}
        return dataclasses.replace(self.settings, traces=Traces("jaeger"), **target)

    def _procs(self, rendered: dict[str, str], places: dict[str, Placement], bins: dict[str, str]) -> list[Proc]:
        settings, ports, logs = self.settings, self.ports, self.workdir / "logs"
        prom = backend_services.prometheus(settings, rendered, places["prometheus"])
        am = backend_services.alertmanager(settings, rendered, places["alertmanager"])
        jaeger = backend_services.traces_backend(self._jaeger_settings(), rendered, places["jaeger"])
        return [
            Proc("alertmanager", [bins["alertmanager"], *am.args],
                 f"http://127.0.0.1:{ports.alertmanager}{am.probe.path}", logs / "alertmanager.log"),
            Proc("prometheus", [bins["prometheus"], *prom.args],
                 f"http://127.0.0.1:{ports.prometheus}{prom.probe.path}", logs / "prometheus.log"),
            # Jaeger traces itself to localhost:4317 by default: its own receiver in a container, but
            # any process on that port here. Keep self-tracing off and pointed at its own receiver.
            Proc("jaeger", [bins["jaeger"], *jaeger.args],
                 f"http://127.0.0.1:{ports.jaeger[jaeger.probe.port]}{jaeger.probe.path}", logs / "jaeger.log",
                 env={"OTEL_TRACES_SAMPLER": "always_off",
                      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://127.0.0.1:{ports.jaeger[4317]}"}),
            Proc("collector", [bins["collector"], *collector_config.argv(str(self.workdir / 'local/collector/config.yaml'))],
                 f"http://127.0.0.1:{ports.collector.health_port}/", logs / "collector.log",
                 env=collector_config.runtime_env(settings)),
        ]

    def start(self, timeout: float = 120.0, attempts: int = 3) -> dict:
        """Start every process and wait until each is healthy. The ports are free when chosen,
        but another process may take one before ours binds it (a busy machine, parallel tests):
        then the whole stack starts again on new ports, at most `attempts` times in all."""
        t0 = time.monotonic()
        for attempt in range(1, attempts + 1):
            try:
                self.prepare()
                for proc in self.procs:
                    proc.start()
                self._wait_ready(t0 + timeout)
                break
            except PortTaken as exc:
                self.stop()
                for proc in self.procs:   # the next attempt's logs start empty
                    proc.log.unlink(missing_ok=True)
                if attempt == attempts:
                    raise RuntimeError(str(exc)) from exc
                _log(f"{exc.args[0].splitlines()[0]}; starting again on other ports")
            except BaseException:
                self.stop()
                raise
        return self.endpoints(time.monotonic() - t0)

    def proc(self, name: str) -> Proc:
        return next(p for p in self.procs if p.name == name)

    def stop_service(self, name: str) -> None:
        """Stop one process (SIGTERM, as `stop`); its ports and data stay its own."""
        self.proc(name).stop()

    def start_service(self, name: str, timeout: float = 60.0) -> None:
        """Start one stopped process again, same argv, ports and data; return once healthy."""
        proc = self.proc(name)
        if proc.popen is not None and proc.popen.poll() is None:
            raise RuntimeError(f"{name} is running")
        proc.start()
        self._wait_ready(time.monotonic() + timeout, [proc])

    def _wait_ready(self, deadline: float, procs: list[Proc] | None = None) -> None:
        pending = list(self.procs if procs is None else procs)
        while pending:
            for proc in list(pending):
                if proc.popen.poll() is not None:
                    tail = proc.tail()
                    error = PortTaken if "address already in use" in tail else RuntimeError
                    raise error(f"{proc.name} exited with {proc.popen.returncode}:\n{tail}")
                if proc.healthy():
                    pending.remove(proc)
            if pending and time.monotonic() > deadline:
                names = ", ".join(p.name for p in pending)
                raise TimeoutError(f"not healthy in time: {names}\n" + "\n".join(p.tail(10) for p in pending))
            if pending:
                time.sleep(0.05)  # poll interval between health checks

    def endpoints(self, ready_s: float) -> dict:
        p = self.ports
        grpc = f"127.0.0.1:{p.collector.grpc_port}"
        token_flag = " --token $LLMOBS_INGEST_TOKEN" if self.token else ""
        return {
            "status": "ready",
            "ready_s": round(ready_s, 2),
            "workdir": str(self.workdir),
            "otlp_grpc": grpc,
            "otlp_http": f"http://127.0.0.1:{p.collector.http_port}",
            "ingest_token": self.token,
            "content_hash_key_file": (str(self.workdir / "secrets" / collector_config.redact.CONTENT_KEY)
                                      if collector_config.needs_content_key(self.settings) else None),
            "collector_health": f"http://127.0.0.1:{p.collector.health_port}/",
            "collector_metrics": f"http://127.0.0.1:{p.collector.telemetry_port}/metrics",
            "prometheus": f"http://127.0.0.1:{p.prometheus}",
            "alertmanager": f"http://127.0.0.1:{p.alertmanager}",
            "jaeger_query": f"http://127.0.0.1:{p.jaeger[jaeger_backend.QUERY_PORT]}",
            "jaeger_otlp_grpc": f"127.0.0.1:{p.jaeger[4317]}",
            "logs_file": str(self.logs_file),
            "logs_dir": str(self.workdir / "logs"),
            "not_running": {**NOT_RUNNING, **({"tempo": "replaced by Jaeger"} if self.settings.traces.backend == "tempo" else {})},
            "notes": self.notes,
            "pids": {proc.name: proc.popen.pid for proc in self.procs},
            "loadgen": f"python -m stackctl loadgen --endpoint http://{grpc}{token_flag}",
        }

    def dead(self) -> Proc | None:
        return next((p for p in self.procs if p.popen and p.popen.poll() is not None), None)

    def stop(self) -> None:
        # The gateway first, so it can flush to backends that are still up; then the rest together.
        def stop_one(proc: Proc) -> None:
            t0 = time.monotonic()
            if proc.popen is not None and proc.popen.poll() is None:
                proc.stop()
                _log(f"{proc.name} stopped in {time.monotonic() - t0:.1f}s")

        first = [p for p in self.procs if p.name == "collector"]
        for proc in first:
            stop_one(proc)
        threads = [threading.Thread(target=stop_one, args=(p,)) for p in self.procs if p not in first]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def add_parser(sub) -> None:
    p = sub.add_parser("up-local", help="run the stack on real binaries on 127.0.0.1 (no Docker)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="a Pulumi.<stack>.yaml")
    p.add_argument("--workdir", required=True, help="where artifacts, data, logs and the logs sink go")
    p.add_argument("--token", default=None,
                   help=f"ingest token when llmobs:ingest.auth is on (default: ${collector_config.TOKEN_ENV}, else generated)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for every health check")
    p.add_argument("--duration", type=float, default=None, metavar="S",
                   help="stop everything S seconds after it is ready (default: run until Ctrl-C or SIGTERM)")
    p.set_defaults(func=cmd_up_local)


ENV_FILE = "otel.env"


def env_file(endpoints: dict) -> str:
    """Shell exports for a client of this stack: what the OpenTelemetry SDKs read
    (endpoint, ingest token header), the token for loadgen, and the backends' URLs."""
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{endpoints['otlp_grpc']}",
           "LLMOBS_OTLP_HTTP": endpoints["otlp_http"],
           "LLMOBS_PROMETHEUS_URL": endpoints["prometheus"],
           "LLMOBS_ALERTMANAGER_URL": endpoints["alertmanager"],
           "LLMOBS_JAEGER_URL": endpoints["jaeger_query"]}
    if endpoints["ingest_token"]:
        env[collector_config.TOKEN_ENV] = endpoints["ingest_token"]
        env["OTEL_EXPORTER_OTLP_HEADERS"] = f"authorization=Bearer {endpoints['ingest_token']}"
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())


def cmd_up_local(args: argparse.Namespace) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    env_path = Path(args.workdir) / ENV_FILE
    env_path.unlink(missing_ok=True)                    # one a killed run left behind
    stack = LocalStack(args.config, args.workdir, token=args.token)
    try:
        try:
            endpoints = stack.start(timeout=args.timeout)
        except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:
            _log(f"failed: {exc}")
            return 1
        for name, why in endpoints["not_running"].items():
            _log(f"{name}: {why}")
        for note in endpoints["notes"]:
            _log(note)
        env_path.touch(mode=0o600)                      # it holds the ingest token
        env_path.write_text(env_file(endpoints))
        until = f"for {args.duration:g}s, or until Ctrl-C or SIGTERM" if args.duration else "until Ctrl-C or SIGTERM"
        _log(f"ready in {endpoints['ready_s']}s; running {until}; `. {env_path}` in another shell sets "
             "OTEL_EXPORTER_OTLP_ENDPOINT and _HEADERS for your app")
        print(json.dumps(endpoints), flush=True)
        deadline = time.monotonic() + args.duration if args.duration else None
        while not stop.wait(0.5):
            if deadline is not None and time.monotonic() >= deadline:
                _log(f"--duration {args.duration:g}s reached")
                break
            dead = stack.dead()
            if dead:
                _log(f"{dead.name} exited with {dead.popen.returncode}; stopping:\n{dead.tail()}")
                return 1
        _log("stopping")
        return 0
    finally:
        env_path.unlink(missing_ok=True)                # no stale endpoints for the next shell
        stack.stop()
