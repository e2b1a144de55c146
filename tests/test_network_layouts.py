"""NetworkPolicy egress for every layout: trace backend x tier x debug store x TLS mode. The
expected peers and ports are not a second hand-written list: they are read from where each pod
really sends, in the configs the stack mounts (the collectors' exporters and load-balancing
resolver, Prometheus' scrape, alerting and remote-write targets, Grafana's datasources and its
own tracing address), and each target's port is looked up in the Service it names and followed to
the container port of the pods behind it (the services' own port maps)."""
from __future__ import annotations

import configparser
import itertools
from urllib.parse import urlsplit

import pytest
import yaml

from stacks import KUBE
from test_kubernetes import SECRETS, build, check_policy_pairs, check_network_policies

BACKENDS = ("tempo", "jaeger")
TIERS = ("single", "two")
DEBUG_STORE = ("off", "on")
TLS = ("none", "secret", "cert-manager")
LAYOUTS = list(itertools.product(BACKENDS, TIERS, DEBUG_STORE, TLS))
NAME = "app.kubernetes.io/name"


def _config(backend: str, tier: str, debug: str, tls: str) -> dict:
    config: dict = {**KUBE, "traces": {"backend": backend}}
    if tier == "single":
        config["kubernetes"] = {"two_tier": {"enabled": False}}
        config["collector"] = {**KUBE["collector"], "replicas_min": 1, "replicas_max": 1}
    else:
        config["kubernetes"] = {"two_tier": {"enabled": True}}
    if debug == "on":
        config["debug"] = {"enabled": True, "tenants": ["acme"], "viewers": ["alice@example.com"]}
    config["ingest"] = {"tls": {"mode": tls, **({"issuer_name": "letsencrypt"} if tls == "cert-manager" else {})}}
    return config


_GRAPHS: dict[tuple, object] = {}


def _graph(layout: tuple):
    if layout not in _GRAPHS:
        _GRAPHS[layout] = build(_config(*layout), SECRETS)
    return _GRAPHS[layout]


def _files(g) -> dict[str, str]:
    """Every mounted config file, by its key (`collector__agent.yaml`, ...)."""
    return {key: text for o in g.objects() if o["kind"] == "ConfigMap" for key, text in o.get("data", {}).items()}


def _host_port(target: str) -> tuple[str, int | None]:
    parts = urlsplit(target if "://" in target else f"//{target}")
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return (parts.hostname or "").split(".")[0], port


def _collector_targets(text: str) -> list[tuple[str, int | None]]:
    doc = yaml.safe_load(text)
    used = {e for p in doc["service"]["pipelines"].values() for e in p.get("exporters", [])}
    out = []
    for name in used:
        exporter = doc["exporters"].get(name) or {}
        if "endpoint" in exporter:
            out.append(_host_port(exporter["endpoint"]))
        k8s = exporter.get("resolver", {}).get("k8s")
        if k8s:
            out += [(k8s["service"].split(".")[0], port) for port in k8s["ports"]]
    return out


def _prometheus_targets(text: str) -> list[tuple[str, int | None]]:
    doc = yaml.safe_load(text)
    out = []
    for job in doc["scrape_configs"]:
        for static in job.get("static_configs", []):
            out += [_host_port(t) for t in static["targets"]]
        for sd in job.get("dns_sd_configs", []):
            out += [(name.split(".")[0], sd["port"]) for name in sd["names"]]
    for am in doc.get("alerting", {}).get("alertmanagers", []):
        for static in am.get("static_configs", []):
            out += [_host_port(t) for t in static["targets"]]
    out += [_host_port(rw["url"]) for rw in doc.get("remote_write", [])]
    return [(h, p) for h, p in out if h != "localhost"]


def _grafana_targets(files: dict[str, str]) -> list[tuple[str, int | None]]:
    sources = yaml.safe_load(files["grafana__provisioning__datasources__datasources.yaml"])["datasources"]
    out = [_host_port(d["url"]) for d in sources if d.get("url") and "$" not in d["url"]]
    ini = configparser.ConfigParser(interpolation=None)
    ini.read_string(files["grafana__grafana.ini"])
    if ini.has_option("tracing.opentelemetry.otlp", "address"):
        out.append(_host_port(ini.get("tracing.opentelemetry.otlp", "address")))
    return out


def expected_peers(g) -> dict[str, dict[str, set[int]]]:
    """{pod: {peer pod: container ports}} from the configs and the Services' port maps."""
    files = _files(g)
    sends = {"prometheus": _prometheus_targets(files["prometheus__prometheus.yml"]),
             "grafana": _grafana_targets(files)}
    for key, text in files.items():
        if key.startswith("collector__"):
            pod = "otel-sampler" if key == "collector__sampler.yaml" else "collector"
            sends[pod] = _collector_targets(text)
    services = {o["metadata"]["name"]: o for o in g.objects() if o["kind"] == "Service"}
    pod_ports = {}
    for o in g.objects():
        template = o.get("spec", {}).get("template")
        if template:
            pod_ports[template["metadata"]["labels"][NAME]] = {
                p["name"]: p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports", [])}
    out: dict[str, dict[str, set[int]]] = {}
    for pod, targets in sends.items():
        peers: dict[str, set[int]] = {}
        for host, port in targets:
            svc = services.get(host)
            if svc is None:
                continue   # outside the namespace: not a pod peer
            (svc_port,) = [p for p in svc["spec"]["ports"] if p["port"] == port] or [None]
            assert svc_port is not None, f"{pod} sends to {host}:{port}, which Service {host} does not expose"
            peer = svc["spec"]["selector"][NAME]
            target = svc_port.get("targetPort", port)
            peers.setdefault(peer, set()).add(pod_ports[peer][target] if isinstance(target, str) else target)
        out[pod] = peers
    return out


def actual_peers(g, pod: str) -> dict[str, set[int]]:
    policy = next(o for o in g.objects() if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == pod)
    out: dict[str, set[int]] = {}
    for rule in policy["spec"].get("egress", []):
        for peer in rule["to"]:
            if "podSelector" in peer and "namespaceSelector" not in peer:
                out.setdefault(peer["podSelector"]["matchLabels"][NAME], set()).update(p["port"] for p in rule["ports"])
    return out


@pytest.mark.parametrize("layout", LAYOUTS, ids=["-".join(x) for x in LAYOUTS])
def test_egress_is_exactly_where_the_configs_send(layout):
    g = _graph(layout)
    want = expected_peers(g)
    policies = {o["metadata"]["name"] for o in g.objects() if o["kind"] == "NetworkPolicy"} - {"default-deny"}
    got = {pod: actual_peers(g, pod) for pod in policies}
    assert got == {pod: want.get(pod, {}) for pod in policies}
    # The layout is what it says: the backend, the sampler tier, the audit port.
    assert (layout[0] in got["otel-sampler" if layout[1] == "two" else "collector"]) is True
    assert ("otel-sampler" in got) is (layout[1] == "two")
    assert ("collector" in got["grafana"]) is (layout[2] == "on")


@pytest.mark.parametrize("layout", LAYOUTS, ids=["-".join(x) for x in LAYOUTS])
def test_policies_pair_up_and_select_pods(layout):
    g = _graph(layout)
    assert check_policy_pairs(g.objects()) == []
    assert check_network_policies(g.objects()) == []


def test_a_layout_builds_whatever_mocks_ran_before():
    """Under xdist a docker test may run just before in the same process and leave its mocks installed:
    build() installs ours (it did not once, and a layout had no ConfigMaps: a KeyError in a CI run)."""
    import pulumi
    import test_docker_stack
    pulumi.runtime.set_mocks(test_docker_stack.MOCKS, preview=False)
    g = build(_config(*LAYOUTS[0]), SECRETS)
    assert "prometheus__prometheus.yml" in _files(g)
