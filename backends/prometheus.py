"""prometheus/prometheus.yml. Retention, the remote-write receiver and exemplar
storage are command-line flags: see backends.services."""
from __future__ import annotations

from backends.common import CONTAINER, REMOTE_WRITE_PASSWORD, Placement, secret_path, to_yaml
from collector_config import Listen
from collector_config.exporters import SAMPLER_SERVICE
from settings import Settings

# Headless Service over the gateway's pods (Kubernetes): its DNS name returns every pod, so
# Prometheus scrapes each replica's own metrics instead of whichever pod the Service picks.
COLLECTOR_PODS = "collector-pods"

SCRAPE_INTERVAL = "15s"
EVALUATION_INTERVAL = "15s"
RULES_GLOB = "prometheus/rules/*.yml"   # under the placement's root
PORT = 9090
ALERTMANAGER = "alertmanager:9093"

# Each backend's own metrics: (job, host:port). Names resolve on both targets
# (Kubernetes Services, Docker network aliases).
BACKEND_TARGETS = {
    "prometheus": "localhost:9090",
    "alertmanager": ALERTMANAGER,
    "tempo": "tempo:3200",
    "jaeger": "jaeger:8888",   # Jaeger v2 is a collector: internal telemetry on 8888
    "loki": "loki:3100",
    "grafana": "grafana:3000",
}


def _static(job: str, target: str) -> dict:
    return {"job_name": job, "static_configs": [{"targets": [target]}]}


def scrape_configs(settings: Settings, place: Placement = CONTAINER) -> list[dict]:
    """`place.peers`, when given, is every job there is (a local run scrapes what runs)."""
    if place.peers is not None:
        return [_static(job, target) for job, target in place.peers.items()]
    port = Listen().telemetry_port
    if settings.target == "kubernetes":
        jobs = [{"job_name": "collector", "dns_sd_configs": [{"names": [COLLECTOR_PODS], "type": "A", "port": port}]}]
    else:
        jobs = [_static("collector", f"collector:{port}")]   # one container on the Docker target
    if settings.two_tier:
        # A headless Service: DNS returns every sampler pod, so each one is scraped.
        jobs.append({"job_name": SAMPLER_SERVICE,
                     "dns_sd_configs": [{"names": [SAMPLER_SERVICE], "type": "A", "port": port}]})
    unused = {"tempo", "jaeger"} - {settings.traces.backend}
    b = settings.backends
    # An external backend is scraped by whoever runs it.
    unused |= {job for job, backend in (("alertmanager", "alerting"), ("tempo", "traces"), ("jaeger", "traces"),
                                        ("loki", "logs"), ("grafana", "dashboards")) if not b.bundled(backend)}
    jobs += [_static(job, target) for job, target in BACKEND_TARGETS.items() if job not in unused]
    return jobs


def remote_write(settings: Settings) -> list[dict]:
    out = []
    for i, rw in enumerate(settings.prometheus.remote_write):
        entry: dict = {"url": rw.url, "name": f"remote-{i}"}
        if rw.username:
            # One password secret serves every entry; the file is mounted from it.
            entry["basic_auth"] = {"username": rw.username,
                                   "password_file": secret_path(REMOTE_WRITE_PASSWORD)}
        out.append(entry)
    return out


def config(settings: Settings, place: Placement = CONTAINER) -> dict:
    alertmanager = (place.peers or {}).get("alertmanager", ALERTMANAGER)
    out = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": EVALUATION_INTERVAL},
        "rule_files": [place.path(RULES_GLOB)],
        "alerting": {"alertmanagers": [{"api_version": "v2", "static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": scrape_configs(settings, place),
    }
    if not settings.backends.bundled("alerting"):   # Grafana-managed alerts: Prometheus only records
        del out["alerting"]
    if settings.prometheus.remote_write:
        out["remote_write"] = remote_write(settings)
    return out


def render(settings: Settings, place: Placement = CONTAINER) -> dict[str, str]:
    return {"prometheus/prometheus.yml": to_yaml(config(settings, place))}
