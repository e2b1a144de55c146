"""NetworkPolicies of the stack, as plain dicts: a pure function of Settings.

The namespace denies all ingress and egress (`default-deny`); each service's policy then
allows its pods exactly what they serve and what they call: cluster DNS, the peers in the
namespace they talk to, and the outside addresses the settings name (object storage,
remote-write targets, alert receivers), on those ports only.

An `ipBlock` cannot name a host: outside targets are reached on their port through
`kubernetes.network.external_cidrs` (narrow it to your provider's ranges). Grafana's
outside egress always excludes the cloud metadata address: its data-source proxy fetches
URLs on a user's behalf and must not reach instance credentials.
"""
from __future__ import annotations

import ipaddress
from typing import Iterable
from urllib.parse import urlsplit

from backends import alertmanager, grafana, jaeger, loki, tempo
from backends.services import AUDIT_PORT_NAME, Service
from collector_config import Listen
from collector_config.exporters import SAMPLER_SERVICE, endpoints
from components.kubernetes.manifests import (BACKEND_CLIENTS, COLLECTOR, OTLP_PORT_NAMES, Manifest, meta,
                                             selector)
from settings import Settings

DEFAULT_DENY = "default-deny"
METADATA_CIDR = "169.254.169.254/32"
API_SERVER_PORTS = (443, 6443)
HTTPS = 443
DNS_PORT = 53
# Which of the stack's own services each one calls, and on which port.
OWN_PORTS = {"prometheus": 9090, "alertmanager": 9093, "loki": loki.HTTP_PORT, "tempo": tempo.HTTP_PORT,
             "jaeger": jaeger.QUERY_PORT, "grafana": grafana.HTTP_PORT}


def default_deny(settings: Settings) -> Manifest:
    body = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(settings, DEFAULT_DENY),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    return Manifest("default-deny-networkpolicy", body)


def _tcp(*ports: int) -> list[dict]:
    return [{"protocol": "TCP", "port": p} for p in sorted(set(ports))]


def _ports(svc: Service, names: Iterable[str] | None = None) -> list[dict]:
    out = [{"protocol": p.protocol, "port": p.port} for p in svc.ports if names is None or p.name in names]
    if not out:  # an empty `ports` would allow every port
        raise ValueError(f"{svc.name}: no port named {', '.join(names or ())}")
    return out


def url_port(url: str) -> int:
    parts = urlsplit(url if "://" in url else f"//{url}")
    return parts.port or (80 if parts.scheme == "http" else HTTPS)


def _dns(settings: Settings) -> dict:
    net = settings.kubernetes.network
    peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": net.dns_namespace}},
            "podSelector": {"matchLabels": dict(net.dns_pod_labels)}}
    return {"to": [peer], "ports": [{"protocol": "UDP", "port": DNS_PORT}, {"protocol": "TCP", "port": DNS_PORT}]}


def _external(settings: Settings, ports: Iterable[int], block_metadata: bool) -> list[dict]:
    ports = sorted(set(ports))
    if not ports:
        return []
    blocks = []
    for cidr in settings.kubernetes.network.external_cidrs:
        block: dict = {"cidr": cidr}
        if block_metadata and _contains(cidr, METADATA_CIDR):
            block["except"] = [METADATA_CIDR]
        blocks.append({"ipBlock": block})
    return [{"to": blocks, "ports": _tcp(*ports)}]


def _contains(cidr: str, inner: str) -> bool:
    return ipaddress.ip_network(inner).subnet_of(ipaddress.ip_network(cidr))


def _store_ports(settings: Settings, name: str) -> list[int]:
    store = {"tempo": settings.storage.tempo, "loki": settings.storage.loki}.get(name)
    if store is None or store.type == "local":
        return []
    return [url_port(store.endpoint) if store.endpoint else HTTPS]


def cluster_namespace(target: str) -> str | None:
    """The namespace of an in-cluster Service address (`<service>.<namespace>.svc[.cluster.local]`,
    as URL or host:port), else None: an address outside the cluster."""
    host = urlsplit(target if "://" in target else f"//{target}").hostname or ""
    parts = host.split(".")
    return parts[1] if len(parts) >= 3 and parts[2] == "svc" else None


def egress_targets(settings: Settings, svc: Service, by_name: dict[str, Service]
                   ) -> tuple[dict[str, list[int]], list[int], dict[str, list[int]]]:
    """({peer service in the namespace: ports}, [outside ports], {other namespace: ports}) that the
    service calls. The other namespaces are those of external backends in the cluster."""
    peers: dict[str, list[int]] = {}
    outside: list[int] = []
    others: dict[str, list[int]] = {}
    telemetry = Listen().telemetry_port

    def call(name: str, port: int) -> None:
        if name in by_name:
            peers.setdefault(name, []).append(port)

    def reach(target: str) -> None:
        """An address a setting names: a peer, a Service in another namespace, or outside."""
        host = urlsplit(target if "://" in target else f"//{target}").hostname or ""
        ns = cluster_namespace(target)
        if host in by_name:
            call(host, url_port(target))
        elif ns is not None:
            others.setdefault(ns, []).append(url_port(target))
        else:
            outside.append(url_port(target))

    if svc.name in (COLLECTOR, SAMPLER_SERVICE):
        ep = endpoints(settings)
        agent = svc.name == COLLECTOR and settings.two_tier
        wanted = {"metrics": ep["metrics"]}
        if svc.name == COLLECTOR:
            wanted["logs"] = ep["logs"]
            # Forwarders run on the tier that receives (single or agent).
            wanted.update({f"forward_{f.name}": f.endpoint for f in settings.forwarding})
        if agent:
            call(SAMPLER_SERVICE, Listen().grpc_port)
        if not agent or settings.debug.enabled:   # the agent tier exports Grafana's audit traces itself
            wanted["traces"] = ep["traces"]
        for target in wanted.values():
            reach(target)
    elif svc.name == "prometheus":
        call("alertmanager", OWN_PORTS["alertmanager"])
        call(COLLECTOR, telemetry)
        call(SAMPLER_SERVICE, telemetry)
        for name in ("tempo", "loki", "grafana"):
            call(name, OWN_PORTS[name])
        call("jaeger", jaeger.METRICS_PORT)
        outside += [url_port(rw.url) for rw in settings.prometheus.remote_write]
    elif svc.name == "alertmanager":
        outside += alertmanager.egress_ports(settings)
    elif svc.name == "grafana":
        for name in ("prometheus", "alertmanager", "tempo", "jaeger", "loki"):
            call(name, OWN_PORTS[name])
        if settings.debug.enabled:   # its own traces, for the debug store's access audit
            call(COLLECTOR, Listen().audit_port)
        if settings.alerts.engine == "grafana":
            outside += alertmanager.egress_ports(settings)
        for signal in ("metrics", "traces", "logs"):   # external backends' data sources
            backend = getattr(settings.backends, signal)
            if backend.external and backend.query_url:
                reach(backend.query_url)
    else:
        outside += _store_ports(settings, svc.name)
    return peers, outside, others


def network_policy(settings: Settings, svc: Service, by_name: dict[str, Service]) -> Manifest:
    """The service's ingress and egress allow-lists; the namespace default denies the rest."""
    def pods(*names: str) -> list[dict]:
        return [{"podSelector": {"matchLabels": selector(settings, by_name[n])}} for n in names if n in by_name]

    def namespaces(names: Iterable[str]) -> list[dict]:
        return [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}} for ns in names]

    scrapers = pods("prometheus")
    if svc.name in (COLLECTOR, SAMPLER_SERVICE) and settings.backends.metrics.monitor != "none":
        # The Prometheus Operator's Prometheus scrapes the gateway's own metrics (ServiceMonitor/PodMonitor).
        scrapers += namespaces([settings.backends.metrics.prometheus_namespace])
    scrape = {"from": scrapers, "ports": _ports(svc, ("metrics",) if svc.name in (
        COLLECTOR, SAMPLER_SERVICE) else None)}
    if svc.name == COLLECTOR:
        apps = namespaces(settings.kubernetes.app_namespaces)
        ingress = [{"from": apps, "ports": _ports(svc, OTLP_PORT_NAMES)}] if apps else []
        if any(p.name == AUDIT_PORT_NAME for p in svc.ports):   # only Grafana sends its traces there
            ingress.append({"from": pods("grafana"), "ports": _ports(svc, (AUDIT_PORT_NAME,))})
        ingress.append(scrape)
    elif svc.name == SAMPLER_SERVICE:
        ingress = [{"from": pods(COLLECTOR), "ports": _ports(svc, ("otlp-grpc",))}, scrape]
    elif svc.name == "grafana":
        ingress = [scrape]
        users = namespaces(settings.kubernetes.network.grafana_ingress_namespaces)
        if users:
            ingress.insert(0, {"from": users, "ports": _ports(svc)})
    else:
        clients = pods(*[n for n in BACKEND_CLIENTS if n != svc.name])
        d = settings.backends.dashboards
        if d.external and d.kind == "sidecar" and svc.name in ("tempo", "jaeger", "loki"):
            clients += namespaces([d.grafana_namespace])   # the existing Grafana queries them
        ingress = [{"from": clients, "ports": _ports(svc)}]

    # A rule without sources would allow every source: one whose sources are all external backends
    # (no bundled Prometheus to scrape, say) is left out.
    ingress = [rule for rule in ingress if rule["from"]]
    peers, outside, others = egress_targets(settings, svc, by_name)
    egress = [_dns(settings)]
    egress += [{"to": pods(name), "ports": _tcp(*ports)} for name, ports in sorted(peers.items())]
    egress += [{"to": namespaces([ns]), "ports": _tcp(*ports)} for ns, ports in sorted(others.items())]
    if svc.name == COLLECTOR and settings.two_tier:
        # The agent's k8s resolver watches the sampler's endpoints through the API server.
        egress.append({"to": [{"ipBlock": {"cidr": c}} for c in settings.kubernetes.network.api_server_cidrs],
                       "ports": _tcp(*API_SERVER_PORTS)})
    egress += _external(settings, outside, block_metadata=svc.name == "grafana")
    body = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(settings, svc.name, svc),
            "spec": {"podSelector": {"matchLabels": selector(settings, svc)}, "policyTypes": ["Ingress", "Egress"],
                     **({"ingress": ingress} if ingress else {}), "egress": egress}}
    return Manifest(f"{svc.name}-networkpolicy", body)
