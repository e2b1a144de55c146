"""What the docker target runs, as plain data: one `ContainerPlan` per container, from
`backends.services.services(settings)` and `artifacts.render_all(settings)`.

Pure (no Pulumi): stack.py only turns each plan into resources. Everything Docker-specific
that the target-neutral `Service` does not say lives here: which ports a laptop user
needs on 127.0.0.1, the in-image health check command, Docker's units for CPU and memory.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from backends.common import INGEST_TOKEN, ROOT, secret_path
from backends.services import Service, image
from collector_config import image as collector_image
from components.docker import health, loadgen
from settings import Settings, SettingsError

HOST_IP = "127.0.0.1"   # published ports listen on loopback only, never on the LAN
RESTART = "unless-stopped"
LOOPBACK_URL = "http://" + HOST_IP
LOADGEN = "loadgen"
LOADGEN_UID = 65534     # `nobody` in the python image
LOADGEN_MEMORY_MIB = 512

# Ports published on the host, by service and port name. The rest stay on the stack's
# network (the collector and Jaeger both listen on 4317/4318: only the collector's are
# published).
PUBLISHED: dict[str, tuple[str, ...]] = {
    "collector": ("otlp-grpc", "otlp-http", "health"),
    "prometheus": ("http",),
    "alertmanager": ("http",),
    "grafana": ("http",),
    "loki": ("http",),
    "tempo": ("http",),
    "jaeger": ("query",),
}


@dataclass(frozen=True)
class Upload:
    """A file placed into the container before it starts. Exactly one of `text` (an
    artifact, byte-for-byte) and `secret_key` (a secret input, filled in by stack.py)."""
    path: str
    text: str | None = None
    secret_key: str | None = None
    owner: int | None = None
    permissions: str = "0444"


@dataclass(frozen=True)
class Publish:
    name: str
    internal: int
    external: int
    ip: str = HOST_IP


@dataclass(frozen=True)
class ContainerPlan:
    role: str                               # the service name: child names, alias, hostname
    image: str                              # pinned reference, pulled as a RemoteImage (or built: `build`)
    command: tuple[str, ...]                # the image entrypoint's arguments ((): image default)
    ports: tuple[Publish, ...]
    uploads: tuple[Upload, ...]
    env: tuple[tuple[str, str], ...]        # plain values only
    data_dir: str | None
    user: str
    memory_mib: int
    memory_reservation_mib: int
    cpus: str | None
    health: health.HealthCheck
    entrypoint: tuple[str, ...] = ()        # (): the image's own
    build: collector_image.Build | None = None   # the gateway's image: built, not pulled

    @property
    def secret_keys(self) -> set[str]:
        return {u.secret_key for u in self.uploads if u.secret_key}


_MEMORY = re.compile(r"^([0-9]+)(Ki|Mi|Gi|Ti)?$")
_MIB = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024, None: 1 / (1024 * 1024)}


def mebibytes(quantity: str) -> int:
    """A Kubernetes memory quantity (`256Mi`, `4Gi`) in MiB, Docker's unit for `memory`."""
    match = _MEMORY.match(quantity)
    if not match:
        raise ValueError(f"unsupported memory quantity {quantity!r}; use Ki, Mi, Gi or Ti")
    return max(1, int(int(match.group(1)) * _MIB[match.group(2)]))


def cpus(quantity: str) -> str:
    """A Kubernetes CPU quantity (`500m`, `2`) as Docker's `--cpus` (`0.5`, `2`)."""
    if quantity.endswith("m"):
        return f"{int(quantity[:-1]) / 1000:g}"
    return f"{float(quantity):g}"


def _config_arg(args: tuple[str, ...]) -> str | None:
    for arg in args:
        if arg.startswith(("--config=", "-config.file=", "--config.file=")):
            return arg.split("=", 1)[1]
    return None


def from_service(svc: Service, artifacts: dict[str, str],
                 self_checks: dict[str, tuple[str, ...]] | None = None) -> ContainerPlan:
    missing = [key for key in svc.config_files if key not in artifacts]
    if missing:
        raise ValueError(f"{svc.name}: config files {missing} are not in render_all()")
    by_name = {p.name: p.port for p in svc.ports}
    published = tuple(Publish(n, by_name[n], by_name[n]) for n in PUBLISHED.get(svc.name, ()) if n in by_name)
    uploads = tuple(Upload(f"{ROOT}/{key}", text=artifacts[key]) for key in svc.config_files)
    uploads += tuple(Upload(secret_path(file), secret_key=key, owner=svc.run_as_user, permissions="0400")
                     for file, key in svc.secret_files)
    entrypoint: tuple[str, ...] = ()
    if svc.prestart or svc.poststart:
        if not svc.entrypoint:
            raise ValueError(f"{svc.name}: a prestart or poststart step needs the image's entrypoint to exec after it")
        # `"$0" "$@"`: the entrypoint and the service's own arguments, after the step; a poststart
        # step runs in the background, in the container, while the entrypoint serves.
        steps = [s for s in (svc.prestart, f"{{ ( {svc.poststart} ) & }}" if svc.poststart else None) if s]
        entrypoint = ("sh", "-c", " && ".join(steps + ['exec "$0" "$@"']), svc.entrypoint)
    return ContainerPlan(
        role=svc.name, image=svc.image, command=svc.args, ports=published, uploads=uploads, entrypoint=entrypoint,
        env=svc.env, data_dir=svc.data_dir, user=str(svc.run_as_user),
        memory_mib=mebibytes(svc.memory_limit), memory_reservation_mib=mebibytes(svc.memory_request),
        cpus=cpus(svc.cpu_limit),
        health=health.for_http(svc.image, svc.probe.port, svc.probe.path, config=_config_arg(svc.args),
                               self_checks=self_checks))


def loadgen_plan(settings: Settings) -> ContainerPlan:
    token = INGEST_TOKEN if settings.ingest.auth else None
    ref = image(settings, LOADGEN)
    uploads = tuple(Upload(f"{loadgen.APP_DIR}/{rel}", text=text) for rel, text in loadgen.project_files().items())
    if token:
        uploads += (Upload(secret_path(token), secret_key=token, owner=LOADGEN_UID, permissions="0400"),)
    return ContainerPlan(
        role=LOADGEN, image=ref,
        command=loadgen.command(settings.loadgen.scenario, settings.loadgen.rate, token),
        ports=(), uploads=uploads, env=tuple(loadgen.ENV.items()), data_dir=None,
        user=str(LOADGEN_UID), memory_mib=LOADGEN_MEMORY_MIB, memory_reservation_mib=128, cpus="0.5",
        # No endpoint to ask: healthy once the dependencies installed and the code imports.
        health=health.HealthCheck(test=("CMD", "python", "-c", "import opentelemetry.sdk, stackctl"),
                                  interval="30s", start_period="180s"))


def plan(settings: Settings, services: tuple[Service, ...], artifacts: dict[str, str]) -> list[ContainerPlan]:
    """Every container of the docker target. Raises SettingsError for a config this target
    cannot run, before anything is registered."""
    if settings.target != "docker":
        raise SettingsError(f"llmobs:target: {settings.target!r} is not a docker stack; "
                            "DockerStack deploys stacks with llmobs:target docker")
    if settings.ingest.tls.mode != "none":
        raise SettingsError("llmobs:ingest.tls.mode: TLS is for the Kubernetes target; the docker target publishes "
                            "the gateway on 127.0.0.1 only, where the token never crosses a network; use none")
    gateway = image(settings, "collector")
    self_checks = {health.repository(gateway): health.OWN_COLLECTOR}
    plans = [from_service(svc, artifacts, self_checks) for svc in services]
    if not settings.collector.image:   # the gateway's image is built here, tagged by content hash
        plans = [dataclasses.replace(p, build=collector_image.build()) if p.image == gateway else p for p in plans]
    if settings.loadgen.enabled:
        plans.append(loadgen_plan(settings))
    return plans


# Output name -> (service, port name), the endpoints a laptop user opens.
OUTPUT_PORTS = {
    "grafana_url": ("grafana", "http"),
    "otlp_grpc_endpoint": ("collector", "otlp-grpc"),
    "otlp_http_endpoint": ("collector", "otlp-http"),
    "prometheus_url": ("prometheus", "http"),
}
TRACES_PORT = {"jaeger": "query", "tempo": "http"}


def urls(settings: Settings, plans: list[ContainerPlan]) -> dict[str, tuple[str, str]]:
    """Output name -> (service, URL on 127.0.0.1), from the published ports (a port not
    published is an error here, not a dead link later)."""
    published = {(p.role, pub.name): pub.external for p in plans for pub in p.ports}
    wanted = {**OUTPUT_PORTS,
              "traces_url": (settings.traces.backend, TRACES_PORT[settings.traces.backend])}
    roles = {p.role for p in plans}
    out = {}
    for output, key in wanted.items():
        if key[0] not in roles:   # an external backend: no URL of the stack's
            continue
        if key not in published:
            raise ValueError(f"{output}: {key[0]} port {key[1]!r} is not published")
        out[output] = (key[0], f"{LOOPBACK_URL}:{published[key]}")
    return out
