"""Every service the stack runs, described once for both targets.

The Kubernetes and Docker components turn each `Service` into their own objects;
nothing target-specific lives here. A service mounts every artifact under its
config directory (`config_files`, keys of artifacts.render_all) at
/etc/llmobs/<key>, its secrets at /etc/llmobs/secrets/<file>, and a volume at
`data_dir`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

import collector_config
from backends import alertmanager as alertmanager_config, debug_access, grafana, jaeger, loki, tempo
from backends import prometheus as prometheus_backend
from backends.common import (CONTAINER, CONTENT_HASH_KEY, FORWARD_TOKENS, GRAFANA_ADMIN_PASSWORD, GRAFANA_SECRET_KEY,
                             INGEST_TOKEN, REMOTE_WRITE_PASSWORD, ROOT, Placement, secret_path)
from collector_config.exporters import SAMPLER_SERVICE
from collector_config.image import LOCAL_REPOSITORY, content_tag
from settings import Settings

ALERTMANAGER_PORT = 9093
AUDIT_PORT_NAME = "audit-grpc"   # the collector's receiver of Grafana's traces (debug.enabled)
VERSIONS_FILE = Path(__file__).resolve().parent.parent / "settings" / "versions.yaml"


@dataclass(frozen=True)
class Port:
    name: str
    port: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class Probe:
    """An HTTP GET on the service's own port."""
    path: str
    port: int


@dataclass(frozen=True)
class Service:
    name: str                 # also the DNS name other services use (Service / network alias)
    image: str                # pinned repository:tag[@digest]
    args: tuple[str, ...]
    ports: tuple[Port, ...]
    probe: Probe              # readiness (and liveness, unless `liveness` is set)
    config_files: tuple[str, ...]             # keys of render_all(), mounted at /etc/llmobs/<key>
    data_dir: str | None                      # state volume, or None
    run_as_user: int                          # the non-root uid the image is built for
    read_only_root: bool
    env: tuple[tuple[str, str], ...]          # non-secret only
    secret_files: tuple[tuple[str, str], ...]  # (file under /etc/llmobs/secrets/, secret key)
    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str
    # Liveness when it differs from readiness: a process busy replaying its WAL is alive
    # but not ready, and restarting it would only start the replay again.
    liveness: Probe | None = None
    startup_seconds: int = 300                 # how long the first start may take
    # Shell run in the image before the service starts, with the same mounts (Kubernetes:
    # an init container; Docker: before exec'ing `entrypoint`).
    prestart: str | None = None
    entrypoint: str | None = None
    tls_secret: str | None = None              # a kubernetes.io/tls Secret mounted at collector_config.TLS_DIR
    # Shell run in the service's container once it runs (Kubernetes: a postStart hook; Docker:
    # in the background next to the entrypoint), e.g. Grafana's debug organization bootstrap.
    poststart: str | None = None


def _pins() -> dict[str, dict[str, str]]:
    return yaml.safe_load(VERSIONS_FILE.read_text())["images"]


def reference(repository: str, tag: str | None, digest: str | None = None) -> str:
    """repository:tag[@digest], or repository@digest without a tag. A tag that carries its own
    digest (tag@sha256:...) keeps it."""
    if not tag:
        return f"{repository}@{digest}"
    if "@" in tag or not digest:
        return f"{repository}:{tag}"
    return f"{repository}:{tag}@{digest}"


def collector_image(settings: Settings) -> str:
    """The gateway's image, the project's distribution: collector.image as given; else the image
    `pulumi up` builds, tagged by the distribution's content hash, in collector.registry
    (Kubernetes: the shell deploys the pushed digest instead) or locally (Docker)."""
    own, registry = settings.collector.image, settings.collector.registry
    if own:
        return reference(own.repository, own.tag, own.digest)
    return f"{registry.repository if registry else LOCAL_REPOSITORY}:{content_tag()}"


def image(settings: Settings, name: str) -> str:
    """repository:tag@digest from settings/versions.yaml. A tag overridden by
    settings.versions drops the pinned digest (it belongs to the pinned tag) unless the
    override brings its own (`2.9.0@sha256:...`). The collector's is collector_image()."""
    if name == "collector":
        return collector_image(settings)
    pins = _pins()
    if name not in pins:
        raise KeyError(f"no image pinned for {name!r} in settings/versions.yaml; known: {', '.join(sorted(pins))}")
    pin = pins[name]
    tag = dict(settings.versions).get(name, pin["tag"])
    return reference(pin["repository"], tag, pin.get("digest") if tag == pin["tag"] else None)


def _config_files(directory: str, rendered: dict[str, str]) -> tuple[str, ...]:
    return tuple(key for key in rendered if key.startswith(f"{directory}/"))


def collectors(settings: Settings, rendered: dict[str, str]) -> list[Service]:
    listen = collector_config.Listen()
    ports = (Port("otlp-grpc", listen.grpc_port), Port("otlp-http", listen.http_port),
             Port("health", listen.health_port), Port("metrics", listen.telemetry_port))
    mib = settings.collector.memory_limit_mib

    # Each forwarder's token: the file its bearertokenauth reads, from the secret forward_tokens.<name>.
    forward_secrets = tuple((f"forward_{f.name}", f"{FORWARD_TOKENS}.{f.name}")
                            for f in settings.forwarding if f.auth != "none")
    # Each external backend's token (backends.<signal>.auth), mounted as the file its authenticator reads.
    backend_secrets = tuple((collector_config.exporters.token_key(s), collector_config.exporters.token_key(s))
                            for s in collector_config.exporters.authenticated(settings))

    # Grafana's own traces, for the debug store's access audit: the tier that receives.
    audit = (Port(AUDIT_PORT_NAME, listen.audit_port),) if settings.debug.enabled else ()

    def one(name: str, config: str, auth: bool, tls: bool = False, front: bool = True) -> Service:
        # The content hash key: a file only the tier that hashes content reads (never config text).
        content_key = ((CONTENT_HASH_KEY, CONTENT_HASH_KEY),) if collector_config.needs_content_key(
            settings, "single" if front else "sampler") else ()
        return Service(
            name=name, image=image(settings, "collector"), args=tuple(collector_config.argv(f"{ROOT}/{config}")),
            # Each tier mounts only its own file (a tier's config is ~0.5 MiB).
            # The persistent sending queue, when on, is the collector's only state.
            ports=ports + (audit if front else ()), probe=Probe("/", listen.health_port), config_files=(config,),
            data_dir=collector_config.QUEUE_DIR if settings.collector.persistent_queue else None,
            run_as_user=10001, read_only_root=True, env=tuple(collector_config.runtime_env(settings).items()),
            secret_files=(((INGEST_TOKEN, INGEST_TOKEN),) if auth else ()) + (forward_secrets if front else ())
            + content_key + backend_secrets,
            # Request = limit: the memory_limiter works against the limit, and a
            # gateway evicted under node pressure drops telemetry.
            cpu_request="250m", cpu_limit="2", memory_request=f"{mib}Mi", memory_limit=f"{mib}Mi",
            tls_secret=settings.ingest.tls.secret_name if tls else None)

    tls = collector_config.tls_on(settings, "single")
    if not settings.two_tier:
        return [one("collector", "collector/config.yaml", settings.ingest.auth, tls)]
    # The sampler tier only hears from the agent tier, which authenticated already.
    return [one("collector", "collector/agent.yaml", settings.ingest.auth, tls),
            one(SAMPLER_SERVICE, "collector/sampler.yaml", False, front=False)]


def prometheus(settings: Settings, rendered: dict[str, str], place: Placement = CONTAINER) -> Service:
    data = place.data or "/prometheus"
    port = prometheus_backend.PORT
    # Leave headroom on the volume: size-based retention stops the disk filling up.
    size_gb = max(1, settings.prometheus.storage_gib * 85 // 100)
    secrets = (((REMOTE_WRITE_PASSWORD, REMOTE_WRITE_PASSWORD),)
               if any(rw.username for rw in settings.prometheus.remote_write) else ())
    return Service(
        name="prometheus", image=image(settings, "prometheus"),
        args=(f"--config.file={place.path('prometheus/prometheus.yml')}",
              f"--web.listen-address={place.listen(port)}",
              f"--storage.tsdb.path={data}",
              f"--storage.tsdb.retention.time={settings.retention.metrics}",
              f"--storage.tsdb.retention.size={size_gb}GB",
              "--web.enable-remote-write-receiver",     # the collector pushes to /api/v1/write
              "--enable-feature=exemplar-storage"),      # exemplars link metrics to traces
        ports=(Port("http", port),), probe=Probe("/-/ready", port), liveness=Probe("/-/healthy", port),
        startup_seconds=settings.prometheus.startup_budget_minutes * 60,
        config_files=_config_files("prometheus", rendered), data_dir=data,
        run_as_user=65534, read_only_root=True, env=(), secret_files=secrets,
        cpu_request="250m", cpu_limit="2", memory_request="1Gi", memory_limit="4Gi")


def alertmanager(settings: Settings, rendered: dict[str, str], place: Placement = CONTAINER) -> Service:
    data = place.data or "/alertmanager"
    return Service(
        name="alertmanager", image=image(settings, "alertmanager"),
        args=(f"--config.file={place.path('alertmanager/alertmanager.yml')}", f"--storage.path={data}",
              f"--web.listen-address={place.listen(ALERTMANAGER_PORT)}",
              "--cluster.listen-address="),  # one replica: no gossip
        ports=(Port("http", ALERTMANAGER_PORT),), probe=Probe("/-/ready", ALERTMANAGER_PORT),
        liveness=Probe("/-/healthy", ALERTMANAGER_PORT),
        config_files=_config_files("alertmanager", rendered), data_dir=data,
        run_as_user=65534, read_only_root=True, env=(),
        secret_files=alertmanager_config.secret_files(settings),
        cpu_request="50m", cpu_limit="500m", memory_request="64Mi", memory_limit="256Mi")


def traces_backend(settings: Settings, rendered: dict[str, str], place: Placement = CONTAINER) -> Service:
    if settings.traces.backend == "tempo":
        return Service(
            name="tempo", image=image(settings, "tempo"), args=(f"-config.file={ROOT}/tempo/tempo.yaml",),
            ports=(Port("http", tempo.HTTP_PORT), Port("grpc", tempo.GRPC_PORT),
                   Port("otlp-grpc", tempo.OTLP_GRPC_PORT)),
            probe=Probe("/ready", tempo.HTTP_PORT), config_files=_config_files("tempo", rendered),
            data_dir=tempo.DATA_DIR, run_as_user=10001, read_only_root=True, env=(), secret_files=(),
            cpu_request="250m", cpu_limit="2", memory_request="512Mi", memory_limit="4Gi")
    return Service(
        name="jaeger", image=image(settings, "jaeger"), args=(f"--config={place.path('jaeger/config.yaml')}",),
        ports=(Port("otlp-grpc", jaeger.OTLP_GRPC_PORT), Port("otlp-http", jaeger.OTLP_HTTP_PORT), Port("query", jaeger.QUERY_PORT),
               Port("health", jaeger.HEALTH_PORT), Port("metrics", jaeger.METRICS_PORT)),
        probe=Probe("/status", jaeger.HEALTH_PORT), config_files=_config_files("jaeger", rendered),
        data_dir=(place.data or jaeger.DATA_DIR) if jaeger.persistent(settings) else None,
        run_as_user=10001, read_only_root=True, env=(), secret_files=(),
        cpu_request="250m", cpu_limit="2", memory_request="512Mi", memory_limit="2Gi")


def loki_service(settings: Settings, rendered: dict[str, str]) -> Service:
    return Service(
        name="loki", image=image(settings, "loki"), args=(f"-config.file={ROOT}/loki/loki.yaml",),
        ports=(Port("http", loki.HTTP_PORT), Port("grpc", loki.GRPC_PORT)),
        probe=Probe("/ready", loki.HTTP_PORT), config_files=_config_files("loki", rendered),
        data_dir=loki.DATA_DIR, run_as_user=10001, read_only_root=True, env=(), secret_files=(),
        cpu_request="250m", cpu_limit="2", memory_request="512Mi", memory_limit="4Gi")


def grafana_service(settings: Settings, rendered: dict[str, str]) -> Service:
    return Service(
        name="grafana", image=image(settings, "grafana"), args=(),
        ports=(Port("http", grafana.HTTP_PORT),), probe=Probe("/api/health", grafana.HTTP_PORT),
        config_files=_config_files("grafana", rendered), data_dir=grafana.DATA_DIR,
        run_as_user=472, read_only_root=True,
        env=(("GF_PATHS_CONFIG", grafana.CONFIG),
             ("GF_SECURITY_ADMIN_PASSWORD__FILE", secret_path(GRAFANA_ADMIN_PASSWORD)),
             # Without it Grafana encrypts data-source secrets with its public default key.
             ("GF_SECURITY_SECRET_KEY__FILE", secret_path(GRAFANA_SECRET_KEY))),
        secret_files=((GRAFANA_ADMIN_PASSWORD, GRAFANA_ADMIN_PASSWORD), (GRAFANA_SECRET_KEY, GRAFANA_SECRET_KEY))
        # Grafana alerting reads contact point credentials from the files ($__file{...}).
        + (alertmanager_config.secret_files(settings) if settings.alerts.engine == "grafana" else ()),
        cpu_request="100m", cpu_limit="1", memory_request="256Mi", memory_limit="1Gi",
        prestart=grafana.password_sync(), entrypoint=grafana.ENTRYPOINT,
        poststart=debug_access.bootstrap(settings.grafana.admin_user) if settings.debug.enabled else None)


def services(settings: Settings) -> tuple[Service, ...]:
    from artifacts import render_all  # late: artifacts imports backends

    rendered = render_all(settings)
    b = settings.backends
    # An external backend is one the team runs: its bundled service is not deployed.
    return (*collectors(settings, rendered),
            *([prometheus(settings, rendered)] if b.bundled("metrics") else []),
            *([alertmanager(settings, rendered)] if b.bundled("alerting") else []),
            *([traces_backend(settings, rendered)] if b.bundled("traces") else []),
            *([loki_service(settings, rendered)] if b.bundled("logs") else []),
            *([grafana_service(settings, rendered)] if b.bundled("dashboards") else []))
