"""Docker health checks: the in-image command that asks a service's probe endpoint.

Kubernetes probes from the kubelet and needs nothing inside the image; Docker runs its
health check *inside* the container, so this target must know which HTTP client each
pinned image carries. That knowledge lives here, keyed by image repository, and is
re-checked whenever settings/versions.yaml bumps an image (see `docker inspect
--format '{{json .State.Health}}' <container>` after `pulumi up`).
"""
from __future__ import annotations

from dataclasses import dataclass

import collector_config
from collector_config.image import BINARY

# busybox `wget` exits non-zero on a connection error or an HTTP status >= 400.
_WGET = ("wget", "-q", "-O", "/dev/null")
_BUSYBOX_WGET = ("/busybox/wget", "-q", "-O", "/dev/null")

# image repository -> argv prefix of an HTTP GET that fails on a non-2xx answer.
HTTP_CLIENTS: dict[str, tuple[str, ...]] = {
    "prom/prometheus": _WGET,               # quay.io/prometheus/busybox base
    "prom/alertmanager": _WGET,             # quay.io/prometheus/busybox base
    "grafana/grafana": _WGET,               # alpine base
    "jaegertracing/jaeger": _WGET,          # alpine base
    "grafana/loki": _BUSYBOX_WGET,          # distroless/static:debug base, busybox under /busybox
    "grafana/tempo": _BUSYBOX_WGET,         # distroless/static:debug base, busybox under /busybox
}

# Images built FROM scratch carry no HTTP client and no shell: the only program inside is
# the service binary. For these the check runs the binary's own config validation, which
# proves the container can start its process with the uploaded config, not that it serves.
# The served health endpoint is published on 127.0.0.1 so `curl` from the host can ask it.
# The gateway is the project's own distribution (collector_config/distribution/Dockerfile),
# under whatever repository it is built or pulled as.
OWN_COLLECTOR: tuple[str, ...] = (BINARY, "validate", *collector_config.argv("{config}"))


@dataclass(frozen=True)
class HealthCheck:
    test: tuple[str, ...]      # Docker form: ("CMD", argv...)
    interval: str = "15s"
    timeout: str = "5s"
    retries: int = 5
    start_period: str = "30s"


def repository(image: str) -> str:
    """`grafana/loki:3.5.0` or `grafana/loki@sha256:...` -> `grafana/loki`."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name[: len(name) - len(last)] + last.split(":", 1)[0]


def for_http(image: str, port: int, path: str, config: str | None = None,
             self_checks: dict[str, tuple[str, ...]] | None = None) -> HealthCheck:
    """The Docker health check of a service whose probe is an HTTP GET on localhost:port/path.
    `self_checks`: repositories built FROM scratch, with the argv of their self-check (the
    project's own collector image)."""
    repo = repository(image)
    checks = self_checks or {}
    if repo in HTTP_CLIENTS:
        url = f"http://127.0.0.1:{port}{path if path.startswith('/') else '/' + path}"
        return HealthCheck(test=("CMD", *HTTP_CLIENTS[repo], url))
    if repo in checks:
        if config is None:
            raise ValueError(f"{repo}: its self-check needs the path of its config file")
        argv = tuple(a.format(config=config) for a in checks[repo])
        # validate loads every component factory: run it rarely.
        return HealthCheck(test=("CMD", *argv), interval="60s", timeout="20s", retries=3)
    raise ValueError(f"no known health check client in image {image!r}; add its repository to "
                     "components/docker/health.py (HTTP_CLIENTS)")
