"""The Kubernetes target under Pulumi mocks: the resource graph for each option, every
object against the official schema, artifacts byte for byte, and the security checks.

Each check is a function returning a list of problems; `test_checks_catch_breakage`
breaks every one of them on purpose and asserts it reports the breakage.
"""
from __future__ import annotations

import asyncio
import copy
import functools
import json
import re
import runpy
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pytest
from pulumi.runtime.mocks import MockMonitor

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Record:
    typ: str
    name: str
    parent: str          # parent URN ("" for the root stack)
    custom: bool
    inputs: dict = field(default_factory=dict)
    secret_paths: set = field(default_factory=set)   # input paths marked secret
    read_id: str | None = None   # a read of an existing resource (`Resource.get`), by this id


def _unwrap(value, path, secret_paths):
    """Mock inputs carry Pulumi secrets as {sig: ..., value: ...}; unwrap and remember where."""
    if isinstance(value, dict):
        if pulumi.runtime.rpc._special_sig_key in value and "value" in value:
            secret_paths.add(path)
            return _unwrap(value["value"], path, secret_paths)
        return {k: _unwrap(v, f"{path}.{k}" if path else k, secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v, f"{path}[{i}]", secret_paths) for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire has only doubles; Kubernetes wants integers
    return value


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.records: list[Record] = []
        self.parents: dict[str, str] = {}
        self.dependencies: dict[str, list[str]] = {}   # resource name -> URNs it depends on
        self.replace_plans: dict[str, tuple] = {}       # resource name -> (replaceOnChanges, deleteBeforeReplace)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        secret_paths: set = set()
        inputs = _unwrap(args.inputs, "", secret_paths)
        parent = self.parents.pop(args.name, "")
        self.records.append(Record(args.typ, args.name, parent, bool(args.custom), inputs, secret_paths,
                                   args.resource_id or None))
        state = dict(args.inputs)
        if args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = f"generated-{args.name}-0123456789"
        if args.typ == "docker:index/image:Image":   # what a push returns: the repository at the digest
            state["repoDigest"] = args.inputs["imageName"].rsplit(":", 1)[0] + "@" + PUSHED_DIGEST
        return [f"{args.name}-id", state]

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


class Monitor(MockMonitor):
    """Records each registration's parent URN (MockResourceArgs has none)."""
    def RegisterResource(self, request):
        self.mocks.parents[request.name] = request.parent
        self.mocks.dependencies[request.name] = list(request.dependencies)
        self.mocks.replace_plans[request.name] = (list(request.replaceOnChanges), request.deleteBeforeReplace)
        return super().RegisterResource(request)

    def ReadResource(self, request):
        self.mocks.parents[request.name] = request.parent
        return super().ReadResource(request)


MOCKS = Mocks()
PUSHED_DIGEST = "sha256:" + "9a" * 32


def install_mocks() -> None:
    """Other test modules install their own mocks in the same process: reinstall ours per test."""
    pulumi.runtime.set_mocks(MOCKS, project="llm-observability-stack", stack="test", preview=False,
                             monitor=Monitor(MOCKS))


install_mocks()  # before the program pieces are imported

import kubernetes_validate  # noqa: E402
import kubernetes_validate.utils  # noqa: E402
import yaml  # noqa: E402

from components.kubernetes import KubernetesStack, manifests  # noqa: E402
from components.kubernetes.place import CUSTOM  # noqa: E402
from settings import SettingsError, validate  # noqa: E402
from artifacts import render_all  # noqa: E402
from stacks import KUBE

@pytest.fixture(autouse=True)
def _our_mocks():
    install_mocks()
    yield


SECRETS = {"grafana_admin_password": "GrafanaPw-7f3a91-secret", "ingest_token": "IngestTok-51c0e2-secret",
           "alert_webhook_url": "https://hooks.example/T0/B0/WebhookSecret-9d2e", "remote_write_password": "RwPw-33aa-secret",
           "grafana_secret_key": "GrafanaKey-8c1d77-secret", "content_hash_key": "ContentKey-5e2b90-secret-0123456789"}
WORKLOADS = ("Deployment", "StatefulSet")
K8S = "kubernetes:"


@dataclass
class Graph:
    settings: object
    records: list[Record]
    stack: KubernetesStack
    outputs: dict

    def objects(self) -> list[dict]:
        return [r.inputs for r in self.records if r.typ.startswith(K8S) and r.read_id is None]

    def of_kind(self, kind: str) -> list[dict]:
        return [o for o in self.objects() if o["kind"] == kind]

    def get(self, kind: str, name: str) -> dict:
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
        return found[0]


def is_secret(output: pulumi.Output) -> pulumi.Output:
    """An Output of whether `output` is marked secret."""
    async def flag():
        return await output.is_secret()
    return pulumi.Output.from_input(asyncio.ensure_future(flag()))


def build(config: dict, secrets: dict | None = None) -> Graph:
    # Ours, whatever ran before in this process: other modules (test_network_layouts, ...) call build
    # without this module's autouse fixture, and a docker test before them leaves its own mocks.
    install_mocks()
    MOCKS.records.clear()
    MOCKS.parents.clear()
    holder: dict = {}

    @pulumi.runtime.test
    def run():
        stack = KubernetesStack("llmobs", {"config": config, **(secrets or {})})
        holder["stack"] = stack
        names = ["namespace", "otlp_grpc_endpoint", "otlp_http_endpoint", "grafana_url", "grafana_admin_user",
                 "grafana_admin_password"]
        outs = [getattr(stack, n) for n in names]

        def collect(values):
            holder["outputs"] = dict(zip(names + ["grafana_admin_password_is_secret"], values))
        return pulumi.Output.all(*outs, is_secret(stack.grafana_admin_password)).apply(collect)

    run()
    return Graph(validate(config), list(MOCKS.records), holder["stack"], holder["outputs"])


OPTIONS = {
    "default": {**KUBE},
    # Single tier: tail sampling is only correct with one replica (settings refuse more).
    "single_tier": {**KUBE, "kubernetes": {"two_tier": {"enabled": False}},
                    "collector": {**KUBE["collector"], "replicas_min": 1, "replicas_max": 1}},
    "jaeger": {**KUBE, "traces": {"backend": "jaeger"}},
    "two_tier": {**KUBE, "kubernetes": {"two_tier": {"enabled": True, "sampler_replicas": 4}}},
    "object_storage": {**KUBE, "storage": {
        "tempo": {"type": "s3", "bucket": "traces-bucket", "region": "eu-west-1"},
        "loki": {"type": "gcs", "bucket": "logs-bucket"}}},
    "remote_write": {**KUBE, "prometheus": {"remote_write": [
        {"url": "https://mimir.example/api/v1/push", "username": "tenant-1"}]},
        "alerts": {"receivers": {"kind": "slack"}}, "kubernetes": {"storage_class": "fast-ssd"}},
    "tls_secret": {**KUBE, "ingest": {"tls": {"mode": "secret", "secret_name": "my-gateway-tls"}}},
    "tls_single_tier": {**KUBE, "ingest": {"tls": {"mode": "secret"}},
                        "kubernetes": {"two_tier": {"enabled": False}}, "collector": {**KUBE["collector"], "replicas_min": 1, "replicas_max": 1}},
    "prod": yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"],
    "persistent_queue": {**KUBE, "collector": {**KUBE["collector"], "persistent_queue": True}},
}
OPTIONS["prod"] = {k.removeprefix("llmobs:"): v for k, v in OPTIONS["prod"].items()}
_CACHE: dict[str, Graph] = {}


def graph(option: str, secrets: dict | None = SECRETS) -> Graph:
    key = f"{option}/{json.dumps(secrets, sort_keys=True)}"
    if key not in _CACHE:
        _CACHE[key] = build(OPTIONS[option], secrets)
    return _CACHE[key]


# -- checks: each returns a list of problems -----------------------------------------

def pods(objects: list[dict]) -> list[tuple[str, dict]]:
    """(workload name, pod template) of every Deployment and StatefulSet."""
    return [(o["metadata"]["name"], o["spec"]["template"]) for o in objects if o["kind"] in WORKLOADS]


def selects(match_labels: dict, labels: dict) -> bool:
    return bool(match_labels) and all(labels.get(k) == v for k, v in match_labels.items())


# The validator reads its schema files again for every object, the 5 MB _definitions.json
# included: a tenth of the quick tier. The files never change in a run, so they are read once.
kubernetes_validate.utils.schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)


def check_schema(objects: list[dict], version: str) -> list[str]:
    """Every object of the official API against its schema (custom resources have their own test)."""
    problems = []
    for o in objects:
        if (o["apiVersion"], o["kind"]) in CUSTOM:
            continue
        try:
            kubernetes_validate.validate(o, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{o['kind']}/{o['metadata'].get('name')}: {exc.message}")
    return problems


def check_no_secret_leaks(objects: list[dict], secret_values: list[str]) -> list[str]:
    """No secret value in a ConfigMap, an annotation, a literal env value, or any non-Secret object."""
    problems = []
    for o in objects:
        where = f"{o['kind']}/{o['metadata']['name']}"
        if o["kind"] == "Secret":
            outside = {k: v for k, v in o.items() if k != "stringData"}
            text = json.dumps(outside)
        else:
            text = json.dumps(o)
        for value in secret_values:
            if value in text:
                problems.append(f"{where}: holds a secret value")
        for meta in [o["metadata"]] + ([o["spec"]["template"]["metadata"]] if o["kind"] in WORKLOADS else []):
            for k, v in (meta.get("annotations") or {}).items():
                if any(s in v for s in secret_values):
                    problems.append(f"{where}: annotation {k} holds a secret value")
        if o["kind"] in WORKLOADS:
            for c in o["spec"]["template"]["spec"]["containers"]:
                for env in c.get("env", []):
                    if "value" in env and (any(s in env["value"] for s in secret_values)
                                           or any(w in env["name"] for w in ("PASSWORD", "TOKEN"))
                                           and not env["name"].endswith("__FILE")):
                        problems.append(f"{where}: env {env['name']} is a literal secret")
    return problems


def check_secret_objects_marked(records: list[Record]) -> list[str]:
    """Every Secret's stringData reaches the engine marked secret."""
    return [f"Secret/{r.inputs['metadata']['name']}: stringData not marked secret"
            for r in records if r.typ == "kubernetes:core/v1:Secret" and r.inputs.get("stringData")
            and not any(p.startswith("stringData") for p in r.secret_paths)]


def check_containers(objects: list[dict]) -> list[str]:
    problems = []
    # A token is only of use to a ServiceAccount some RoleBinding grants rights (in any mode:
    # the single-tier collector has none, so it gets no token either).
    bound = {s["name"] for o in objects if o["kind"] == "RoleBinding" for s in o.get("subjects", [])
             if s["kind"] == "ServiceAccount"}
    for name, pod in pods(objects):
        spec = pod["spec"]
        psc = spec.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True or psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: pod securityContext is not restricted")
        if spec.get("automountServiceAccountToken") is not False and spec.get("serviceAccountName") not in bound:
            problems.append(f"{name}: mounts a service account token without any RoleBinding")
        if spec.get("serviceAccountName") in (None, "default"):
            problems.append(f"{name}: runs as the default ServiceAccount")
        for c in spec["containers"] + spec.get("initContainers", []):
            where = f"{name}/{c['name']}"
            res = c.get("resources", {})
            for part in ("requests", "limits"):
                if not {"cpu", "memory", "ephemeral-storage"} <= set(res.get(part, {})):
                    problems.append(f"{where}: no cpu+memory+ephemeral-storage {part}")
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in c and c in spec["containers"]:   # init containers run to completion
                    problems.append(f"{where}: no {probe}")
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: privilege escalation allowed")
            if sc.get("capabilities", {}).get("drop") != ["ALL"] or sc.get("capabilities", {}).get("add"):
                problems.append(f"{where}: capabilities not dropped")
            if sc.get("runAsNonRoot") is not True or sc.get("privileged") or sc.get("runAsUser", 1) == 0:
                problems.append(f"{where}: may run as root or privileged")
            if sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
                problems.append(f"{where}: no RuntimeDefault seccomp profile")
            image = c["image"]
            if ":" not in image.split("/")[-1] or image.endswith(":latest"):
                problems.append(f"{where}: image {image} is not pinned")
            if manifests.CHECKSUM_ANNOTATION not in (pod["metadata"].get("annotations") or {}):
                problems.append(f"{where}: no config checksum annotation")
    return problems


def policy_selects(policy: dict, labels: dict) -> bool:
    match = policy["spec"]["podSelector"].get("matchLabels", {})
    return not match or selects(match, labels)     # an empty podSelector selects every pod


def check_network_policies(objects: list[dict]) -> list[str]:
    problems = []
    labels = [pod["metadata"]["labels"] for _, pod in pods(objects)]
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    for p in policies:
        where = f"NetworkPolicy/{p['metadata']['name']}"
        if not any(policy_selects(p, lab) for lab in labels):
            problems.append(f"{where}: selects no pod")
        for direction, key in (("ingress", "from"), ("egress", "to")):
            for rule in p["spec"].get(direction, []):
                if not rule.get(key) or not rule.get("ports"):
                    problems.append(f"{where}: an {direction} rule open to every peer or port")
                for peer in rule.get(key, []):
                    if ("podSelector" in peer and "namespaceSelector" not in peer
                            and not any(selects(peer["podSelector"]["matchLabels"], lab) for lab in labels)):
                        problems.append(f"{where}: a '{key}' podSelector selects no pod")
    deny = [p for p in policies if not p["spec"]["podSelector"] and not p["spec"].get("ingress")
            and not p["spec"].get("egress") and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}]
    if not deny:
        problems.append("no default-deny NetworkPolicy for ingress and egress")
    for name, pod in pods(objects):
        own = [p for p in policies if p["spec"]["podSelector"] and policy_selects(p, pod["metadata"]["labels"])]
        if not own:
            problems.append(f"{name}: no NetworkPolicy isolates its pods")
        if not any("Egress" in p["spec"]["policyTypes"] for p in own):
            problems.append(f"{name}: no egress policy")
    return problems


def _allows(rule: dict, key: str, labels: dict, port: int) -> bool:
    ports = [p["port"] for p in rule.get("ports", [])]
    return port in ports and any("podSelector" in peer and "namespaceSelector" not in peer
                                 and selects(peer["podSelector"]["matchLabels"], labels) for peer in rule[key])


def check_policy_pairs(objects: list[dict]) -> list[str]:
    """Each in-namespace egress allowance is met by the peer's ingress allowance (else the
    connection is still dropped at the other end), and the peer serves that port."""
    problems = []
    workloads = {o["metadata"]["name"]: o["spec"]["template"] for o in objects if o["kind"] in WORKLOADS}
    policies = [o for o in objects if o["kind"] == "NetworkPolicy" and o["spec"]["podSelector"]]
    for src_name, src in workloads.items():
        src_labels = src["metadata"]["labels"]
        for p in [p for p in policies if policy_selects(p, src_labels)]:
            for rule in p["spec"].get("egress", []):
                for peer in rule["to"]:
                    if "podSelector" not in peer or "namespaceSelector" in peer:
                        continue
                    for dst_name, dst in workloads.items():
                        if not selects(peer["podSelector"]["matchLabels"], dst["metadata"]["labels"]):
                            continue
                        served = {cp["containerPort"] for c in dst["spec"]["containers"] for cp in c.get("ports", [])}
                        for port in [x["port"] for x in rule["ports"]]:
                            if port not in served:
                                problems.append(f"{src_name} -> {dst_name}:{port}: not a container port")
                            dst_policies = [q for q in policies if policy_selects(q, dst["metadata"]["labels"])]
                            if not any(_allows(r, "from", src_labels, port) for q in dst_policies
                                       for r in q["spec"].get("ingress", [])):
                                problems.append(f"{src_name} -> {dst_name}:{port}: {dst_name} does not admit it")
    return problems


def check_metadata_blocked(objects: list[dict]) -> list[str]:
    """Grafana's egress never reaches the cloud metadata address."""
    import ipaddress
    meta = ipaddress.ip_network("169.254.169.254/32")
    problems = []
    for p in [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "grafana"]:
        for rule in p["spec"].get("egress", []):
            for peer in rule["to"]:
                block = peer.get("ipBlock")
                if block and meta.subnet_of(ipaddress.ip_network(block["cidr"])) and not any(
                        meta.subnet_of(ipaddress.ip_network(e)) for e in block.get("except", [])):
                    problems.append(f"grafana: egress to {block['cidr']} reaches {meta}")
    return problems


def check_statefulsets(objects: list[dict]) -> list[str]:
    """Each StatefulSet's serviceName is a headless Service selecting its pods."""
    problems = []
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    for s in [o for o in objects if o["kind"] == "StatefulSet"]:
        where = f"StatefulSet/{s['metadata']['name']}"
        gov = services.get(s["spec"]["serviceName"])
        if gov is None:
            problems.append(f"{where}: serviceName {s['spec']['serviceName']} is no Service")
        elif gov["spec"].get("clusterIP") != "None":
            problems.append(f"{where}: serviceName {s['spec']['serviceName']} is not headless")
        elif not selects(gov["spec"]["selector"], s["spec"]["template"]["metadata"]["labels"]):
            problems.append(f"{where}: its headless Service selects other pods")
    return problems


def check_spread(objects: list[dict]) -> list[str]:
    """Every workload that runs (or may scale to) more than one pod spreads them over nodes."""
    problems = []
    for o in objects:
        if o["kind"] not in WORKLOADS or o["spec"].get("replicas", 2) < 2:
            continue
        pod = o["spec"]["template"]
        where = f"{o['kind']}/{o['metadata']['name']}"
        hard = [c for c in pod["spec"].get("topologySpreadConstraints", [])
                if c["topologyKey"] == "kubernetes.io/hostname" and c["whenUnsatisfiable"] == "DoNotSchedule"
                and selects(c["labelSelector"]["matchLabels"], pod["metadata"]["labels"])]
        if not hard:
            problems.append(f"{where}: replicas may all land on one node")
    return problems


def check_services(objects: list[dict]) -> list[str]:
    problems = []
    for s in [o for o in objects if o["kind"] == "Service"]:
        where = f"Service/{s['metadata']['name']}"
        matched = [pod for _, pod in pods(objects) if selects(s["spec"].get("selector", {}), pod["metadata"]["labels"])]
        if not matched:
            problems.append(f"{where}: selects no pod")
            continue
        for port in s["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for pod in matched:
                container_ports = [(cp.get("name"), cp["containerPort"]) for c in pod["spec"]["containers"]
                                   for cp in c.get("ports", [])]
                if not any(target in (n, num) for n, num in container_ports):
                    problems.append(f"{where}: port {port['name']} targets {target}, not a container port")
    return problems


# -- the graph -------------------------------------------------------------------------

def kinds(g: Graph) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for o in g.objects():
        out.setdefault(o["kind"], []).append(o["metadata"]["name"])
    return {k: sorted(v) for k, v in out.items()}


def test_default_graph():
    # The default is two-tier: an agent Deployment that load-balances by trace id to a
    # sampler StatefulSet, so tail sampling sees whole traces however many replicas run.
    g = graph("default")
    assert kinds(g) == {
        "Namespace": ["llmobs"],
        "ServiceAccount": ["alertmanager", "collector", "grafana", "loki", "otel-sampler", "prometheus", "tempo"],
        "ConfigMap": ["collector-config", "grafana-config", "grafana-dashboards", "grafana-provisioning", "loki-config",
                      "otel-sampler-config", "prometheus-config", "prometheus-rules", "tempo-config"],
        "Secret": ["alertmanager-config", "collector-secrets", "grafana-secrets"],
        "Deployment": ["collector"],
        "StatefulSet": ["alertmanager", "grafana", "loki", "otel-sampler", "prometheus", "tempo"],
        "Service": ["alertmanager", "alertmanager-headless", "collector", "collector-pods", "grafana",
                    "grafana-headless", "loki", "loki-headless", "otel-sampler", "prometheus", "prometheus-headless",
                    "tempo", "tempo-headless"],
        "HorizontalPodAutoscaler": ["collector"],
        "PodDisruptionBudget": ["collector", "otel-sampler"],
        "NetworkPolicy": ["alertmanager", "collector", "default-deny", "grafana", "loki", "otel-sampler", "prometheus",
                          "tempo"],
        "Role": ["collector-endpoints-reader"],
        "RoleBinding": ["collector-endpoints-reader"],
    }
    components = {r.name: r.typ for r in g.records if not r.custom}
    assert components == {
        "llmobs": "llmobs:index:KubernetesStack", "llmobs-collector": "llmobs:index:Collector",
        "llmobs-prometheus": "llmobs:index:Prometheus", "llmobs-alertmanager": "llmobs:index:Alertmanager",
        "llmobs-tempo": "llmobs:index:Tempo", "llmobs-loki": "llmobs:index:Loki",
        "llmobs-grafana": "llmobs:index:Grafana"}
    # Secrets were given: nothing generated.
    assert not [r for r in g.records if r.typ.startswith("random:")]


def test_children_are_parented_and_named_by_their_component():
    g = graph("two_tier")
    urns = {r.name: r for r in g.records}
    for r in g.records:
        if r.name == "llmobs":
            assert "::pulumi:pulumi:Stack::" in r.parent
            continue
        parent_name = r.parent.rsplit("::", 1)[-1]
        assert parent_name in urns and not urns[parent_name].custom, r.name
        assert r.name.startswith(f"{parent_name}-"), (r.name, parent_name)
    sampler = urns["llmobs-collector-otel-sampler-statefulset"]
    assert "llmobs:index:KubernetesStack$llmobs:index:Collector" in sampler.parent


@pytest.mark.parametrize("option", ["default", "jaeger"])
def test_traces_backend_by_setting(option):
    g = graph(option)
    backend = g.settings.traces.backend
    other = {"tempo", "jaeger"} - {backend}
    names = {o["metadata"]["name"] for o in g.objects()}
    assert backend in names and not other & names
    assert any(r.typ == f"llmobs:index:{backend.title()}" for r in g.records)
    # Both keep state on a volume (Jaeger: Badger), one replica each.
    assert g.get("StatefulSet", backend)["spec"]["replicas"] == 1
    assert g.get("StatefulSet", backend)["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"


def test_two_tier_mode():
    off, on = graph("single_tier"), graph("two_tier")
    assert "otel-sampler" not in {o["metadata"]["name"] for o in off.objects()}
    assert not off.of_kind("Role")
    sampler = on.get("StatefulSet", "otel-sampler")
    assert sampler["spec"]["replicas"] == 4 and sampler["spec"]["serviceName"] == "otel-sampler"
    headless = on.get("Service", "otel-sampler")
    assert headless["spec"]["clusterIP"] == "None"
    assert "otlp-grpc" in [p["name"] for p in headless["spec"]["ports"]]
    # The agent runs the agent config, the sampler the sampler config, each from its own ConfigMap.
    agent_args = on.get("Deployment", "collector")["spec"]["template"]["spec"]["containers"][0]["args"]
    sampler_args = sampler["spec"]["template"]["spec"]["containers"][0]["args"]
    assert agent_args == ["--config=/etc/llmobs/collector/agent.yaml"]
    assert sampler_args == ["--config=/etc/llmobs/collector/sampler.yaml"]
    maps = {o["metadata"]["name"]: sorted(o["data"]) for o in on.of_kind("ConfigMap")
            if o["metadata"]["name"] in ("collector-config", "otel-sampler-config")}
    assert maps == {"collector-config": ["collector__agent.yaml"], "otel-sampler-config": ["collector__sampler.yaml"]}
    # Least RBAC: the agent's resolver reads endpoints in the namespace, nothing else.
    role = on.get("Role", "collector-endpoints-reader")
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["endpoints"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]}]
    binding = on.get("RoleBinding", "collector-endpoints-reader")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "collector", "namespace": "llmobs"}]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert not on.of_kind("ClusterRole") and not on.of_kind("ClusterRoleBinding")
    tokens = {n: p["spec"]["automountServiceAccountToken"] for n, p in pods(on.objects())}
    assert tokens == {"collector": True, "otel-sampler": False, "prometheus": False, "alertmanager": False,
                      "tempo": False, "loki": False, "grafana": False}
    # The sampler accepts OTLP only from the agent tier.
    policy = on.get("NetworkPolicy", "otel-sampler")
    sources = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert {p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in sources} == {"collector", "prometheus"}
    # Both collector tiers have a disruption budget; only the agent autoscales.
    assert sorted(o["metadata"]["name"] for o in on.of_kind("PodDisruptionBudget")) == ["collector", "otel-sampler"]
    assert [o["metadata"]["name"] for o in on.of_kind("HorizontalPodAutoscaler")] == ["collector"]
    # Switching modes keeps the gateway's (immutable) selector: no Deployment replacement.
    assert on.get("Deployment", "collector")["spec"]["selector"] == off.get("Deployment", "collector")["spec"]["selector"]


def test_fixed_collector_count_has_no_autoscaler_and_pull_policy_follows_the_digest():
    one = graph("single_tier")
    assert not one.of_kind("HorizontalPodAutoscaler")
    assert one.get("Deployment", "collector")["spec"]["replicas"] == 1
    assert "replicas" not in graph("default").get("Deployment", "collector")["spec"]   # the HPA owns it
    for option in ("default", "jaeger"):
        for _, pod in pods(graph(option).objects()):
            for c in pod["spec"]["containers"]:
                assert c["imagePullPolicy"] == ("IfNotPresent" if "@sha256:" in c["image"] else "Always"), c["name"]
    policies = {c["name"]: c["imagePullPolicy"] for _, p in pods(graph("jaeger").objects())
                for c in p["spec"]["containers"]}
    assert policies["jaeger"] == "Always" and policies["prometheus"] == "IfNotPresent"   # jaeger: no digest yet


def test_persistent_queue_on_an_emptydir_of_each_collector_pod():
    from collector_config import QUEUE_DIR
    on, off = graph("persistent_queue"), graph("default")
    tiers = {"collector": on.get("Deployment", "collector"), "otel-sampler": on.get("StatefulSet", "otel-sampler")}
    for name, workload in tiers.items():
        spec = workload["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        # emptyDir: survives container restarts, not pod deletion (docs/operations.md, Overload and faults); bounded in size.
        assert volumes["data"] == {"name": "data", "emptyDir": {"sizeLimit": manifests.QUEUE_VOLUME_SIZE}}, name
        (container,) = spec["containers"]
        assert {"name": "data", "mountPath": QUEUE_DIR} in container["volumeMounts"], name
        assert container["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]
        # The volume is writable by the pod's user (fsGroup), the config says where.
        assert spec["securityContext"]["fsGroup"] == container["securityContext"]["runAsUser"]
        assert {"name": "GOMEMLIMIT", "value": f"{1024 * 80 // 100}MiB"} in container["env"]
    # The sampler stays a StatefulSet for its stable names, without a claim: no PVC per pod.
    assert "volumeClaimTemplates" not in tiers["otel-sampler"]["spec"]
    assert not [o for o in on.of_kind("PersistentVolumeClaim")]
    # Off (the default): no data volume on either tier.
    for kind, name in (("Deployment", "collector"), ("StatefulSet", "otel-sampler")):
        spec = off.get(kind, name)["spec"]["template"]["spec"]
        assert "data" not in {v["name"] for v in spec["volumes"]}, name


def _tls_items(g):
    pod = g.get("Deployment", "collector")["spec"]["template"]["spec"]
    return [(name, i["key"], i["path"], i.get("mode")) for name, i in _secret_items(pod) if i["key"].startswith("tls.")]


@pytest.mark.parametrize("option, config_key", [("tls_secret", "collector__agent.yaml"),
                                                ("tls_single_tier", "collector__config.yaml")])
def test_gateway_tls_from_a_secret(option, config_key):
    g = graph(option)
    name = g.settings.ingest.tls.secret_name
    assert _tls_items(g) == [(name, "tls.crt", "tls/tls.crt", None), (name, "tls.key", "tls/tls.key", 0o440)]
    config = yaml.safe_load(g.get("ConfigMap", "collector-config")["data"][config_key])
    for proto in ("grpc", "http"):
        assert config["receivers"]["otlp"]["protocols"][proto]["tls"]["cert_file"] == "/etc/llmobs/tls/tls.crt"
    assert not g.of_kind("Certificate")              # the Secret is the user's
    assert g.outputs["otlp_http_endpoint"].startswith("https://")
    if option == "tls_secret":   # the sampler tier stays plaintext inside the namespace and mounts no cert
        sampler = g.get("StatefulSet", "otel-sampler")["spec"]["template"]["spec"]["volumes"][0]["projected"]
        assert not [s for s in sampler["sources"] if "secret" in s and s["secret"]["name"] == name]
    off = graph("default")
    assert _tls_items(off) == [] and off.outputs["otlp_http_endpoint"].startswith("http://")


def test_gateway_tls_from_cert_manager():
    g = graph("prod")
    [cert] = g.of_kind("Certificate")
    rec = next(r for r in g.records if r.typ == "kubernetes:cert-manager.io/v1:Certificate")
    assert rec.name == "llmobs-collector-collector-certificate"
    assert cert["apiVersion"] == "cert-manager.io/v1"
    spec = cert["spec"]
    assert spec["secretName"] == "collector-tls"
    assert spec["issuerRef"] == {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "internal-ca"}
    assert spec["dnsNames"] == ["collector", "collector.llmobs", "collector.llmobs.svc",
                                "collector.llmobs.svc.cluster.local"]
    # By hand: a P-256 ECDSA key made new at each renewal; 90 days, renewed 15 days before the end.
    assert spec["privateKey"] == {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}
    assert (spec["duration"], spec["renewBefore"]) == ("2160h", "360h")
    assert spec["usages"] == ["server auth", "digital signature", "key encipherment"]
    assert _tls_items(g)[0][0] == spec["secretName"]
    # cert-manager writes the key into the Secret; the stack never creates or holds it.
    assert "collector-tls" not in [s["metadata"]["name"] for s in g.of_kind("Secret")]


def test_statefulsets_are_replaced_when_an_immutable_field_changes():
    """Pulumi deletes and creates again a StatefulSet whose immutable fields change (docs/operations.md,
    "Settings that replace a StatefulSet"); tests/test_apiserver.py holds the field list
    against a real server. Nothing else is replaced on a change."""
    g = graph("default")
    plans = {r.name: MOCKS.replace_plans[r.name] for r in g.records if r.typ.startswith(K8S)}
    replaced = {name for name, (paths, _) in plans.items() if paths}
    assert replaced == {f"llmobs-{group}-{svc}-statefulset" for group, svc in [
        ("collector", "otel-sampler"), ("prometheus", "prometheus"), ("alertmanager", "alertmanager"),
        ("tempo", "tempo"), ("loki", "loki"), ("grafana", "grafana")]}
    assert all(plans[name] == (["spec.selector", "spec.serviceName", "spec.volumeClaimTemplates",
                                "spec.podManagementPolicy"], True) for name in replaced)
    assert not any(before for name, (_, before) in plans.items() if name not in replaced)


@pytest.mark.parametrize("option", ["prod", "default", "tls_secret"])
def test_a_needed_crd_is_read_from_the_cluster_before_the_services(option):
    """`pulumi preview` fails on this read when cert-manager's CRD is missing (docs/getting-started/kubernetes.md);
    tests/test_apiserver.py holds required_crds against a real server with and without it."""
    g = graph(option)
    reads = [(r.typ, r.name, r.read_id, r.parent.rsplit("::", 1)[-1]) for r in g.records if r.read_id]
    if option != "prod":
        assert reads == []
        return
    crd = "certificates.cert-manager.io"
    assert reads == [("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", f"llmobs-needs-crd-{crd}", crd,
                      "llmobs")]
    urn = next(u for u in MOCKS.dependencies["llmobs-collector"] if u.endswith(f"::llmobs-needs-crd-{crd}"))
    assert all(urn in MOCKS.dependencies[f"llmobs-{group}"] for group in ("collector", "prometheus", "grafana"))


def test_docker_refuses_tls():
    from components.docker import plan as docker_plan
    from backends.services import services as all_services
    settings = validate({"target": "docker", "ingest": {"tls": {"mode": "secret"}}})
    with pytest.raises(SettingsError, match=r"llmobs:ingest\.tls\.mode"):
        docker_plan.plan(settings, all_services(settings), render_all(settings))


def test_object_storage_option():
    local, remote = graph("default"), graph("object_storage")

    def claim(g, name):
        return g.get("StatefulSet", name)["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
    assert claim(local, "tempo") == "50Gi" and claim(remote, "tempo") == "10Gi"
    assert claim(local, "loki") == "50Gi" and claim(remote, "loki") == "10Gi"
    tempo = yaml.safe_load(remote.get("ConfigMap", "tempo-config")["data"]["tempo__tempo.yaml"])
    assert tempo["storage"]["trace"]["backend"] == "s3" and tempo["storage"]["trace"]["s3"]["bucket"] == "traces-bucket"
    loki = remote.get("ConfigMap", "loki-config")["data"]["loki__loki.yaml"]
    assert "logs-bucket" in loki and "logs-bucket" not in local.get("ConfigMap", "loki-config")["data"]["loki__loki.yaml"]


def test_remote_write_option():
    off, on = graph("default"), graph("remote_write")
    off_cfg = yaml.safe_load(off.get("ConfigMap", "prometheus-config")["data"]["prometheus__prometheus.yml"])
    on_cfg = yaml.safe_load(on.get("ConfigMap", "prometheus-config")["data"]["prometheus__prometheus.yml"])
    assert "remote_write" not in off_cfg
    assert on_cfg["remote_write"][0]["basic_auth"] == {
        "username": "tenant-1", "password_file": "/etc/llmobs/secrets/remote_write_password"}
    # The password reaches Prometheus as a mounted Secret file, nowhere else.
    secret = on.get("Secret", "prometheus-secrets")
    assert secret["stringData"] == {"remote_write_password": SECRETS["remote_write_password"]}
    volume = on.get("StatefulSet", "prometheus")["spec"]["template"]["spec"]["volumes"][0]
    items = [i for s in volume["projected"]["sources"] if "secret" in s for i in s["secret"]["items"]]
    assert items == [{"key": "remote_write_password", "path": "secrets/remote_write_password", "mode": 0o440}]
    assert "prometheus-secrets" not in {o["metadata"]["name"] for o in off.objects()}
    # storage class and size from settings
    pvc = on.get("StatefulSet", "prometheus")["spec"]["volumeClaimTemplates"][0]["spec"]
    assert pvc["storageClassName"] == "fast-ssd" and pvc["resources"]["requests"]["storage"] == "50Gi"
    args = on.get("StatefulSet", "prometheus")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--web.enable-remote-write-receiver" in args and "--storage.tsdb.retention.time=15d" in args


def test_prometheus_retention_from_settings():
    args = graph("prod").get("StatefulSet", "prometheus")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--storage.tsdb.retention.time=30d" in args
    pvc = graph("prod").get("StatefulSet", "prometheus")["spec"]["volumeClaimTemplates"][0]["spec"]
    assert pvc["resources"]["requests"]["storage"] == "100Gi"


# -- schema, artifacts, security -----------------------------------------------------------

@pytest.mark.parametrize("option", list(OPTIONS))
def test_every_object_is_schema_valid(option):
    g = graph(option)
    assert g.objects()
    assert check_schema(g.objects(), g.settings.kubernetes.version) == []


def test_schema_valid_for_each_supported_cluster_version():
    objects = graph("two_tier").objects()
    for version in ("1.30", "1.33", "1.37"):  # oldest, default, newest the validator ships
        assert check_schema(objects, version) == [], version


@pytest.mark.parametrize("option", list(OPTIONS))
def test_config_objects_equal_render_all_byte_for_byte(option):
    g = graph(option)
    rendered = render_all(g.settings)
    placed: dict[str, str] = {}
    for o in g.of_kind("ConfigMap") + g.of_kind("Secret"):
        for key, text in (o.get("data") or o.get("stringData") or {}).items():
            placed.setdefault(key, text)
    for path, text in rendered.items():
        assert placed.get(manifests.data_key(path)) == text, path
    # ... and mounted where the services read them: /etc/llmobs/<path>.
    mounted = set()
    for _, pod in pods(g.objects()):
        for volume in pod["spec"]["volumes"]:
            for source in volume.get("projected", {}).get("sources", []):
                for item in (source.get("configMap") or source.get("secret"))["items"]:
                    mounted.add(item["path"])
    assert set(rendered) <= mounted


def test_prod_config_maps_equal_stackctl_render_output(tmp_path):
    subprocess.run([sys.executable, "-m", "stackctl", "render", "--config", str(ROOT / "Pulumi.prod.yaml"),
                    "--out", str(tmp_path)], cwd=ROOT, check=True, capture_output=True)
    files = {str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert files
    g = graph("prod")
    placed = {k: v.encode() for o in g.of_kind("ConfigMap") + g.of_kind("Secret")
              for k, v in (o.get("data") or o.get("stringData") or {}).items()}
    for rel, data in files.items():
        assert placed[manifests.data_key(rel)] == data, rel


@pytest.mark.parametrize("option", list(OPTIONS))
def test_no_secret_value_outside_secrets(option):
    g = graph(option)
    assert check_no_secret_leaks(g.objects(), list(SECRETS.values())) == []
    assert check_secret_objects_marked(g.records) == []
    # The ingest token reaches the gateway as a mounted file, not as env.
    pod = g.get("Deployment", "collector")["spec"]["template"]["spec"]
    assert not [e for e in pod["containers"][0].get("env", []) if "valueFrom" in e]
    sources = [v for v in pod["volumes"] if v["name"] == "config"][0]["projected"]["sources"]
    items = [i for src in sources if "secret" in src and src["secret"]["name"] == "collector-secrets"
             for i in src["secret"]["items"]]
    assert [(i["key"], i["path"]) for i in items] == [("ingest_token", "secrets/ingest_token"),
                                                      ("content_hash_key", "secrets/content_hash_key")]


def test_generated_secrets_never_leak_and_are_secret_outputs():
    g = graph("default", secrets={})
    generated = [r for r in g.records if r.typ == "random:index/randomPassword:RandomPassword"]
    assert sorted(r.name for r in generated) == ["llmobs-content-hash-key", "llmobs-grafana-admin-password",
                                                 "llmobs-grafana-secret-key", "llmobs-ingest-token"]
    values = [f"generated-{r.name}-0123456789" for r in sorted(generated, key=lambda r: r.name)]
    assert check_no_secret_leaks(g.objects(), values) == []
    assert check_secret_objects_marked(g.records) == []
    assert g.get("Secret", "grafana-secrets")["stringData"] == {"grafana_admin_password": values[1],
                                                                "grafana_secret_key": values[2]}
    assert g.get("Secret", "collector-secrets")["stringData"]["content_hash_key"] == values[0]
    assert {r.name: r.inputs["length"] for r in generated}["llmobs-content-hash-key"] == 64
    assert g.outputs["grafana_admin_password"] == values[1]
    assert g.outputs["grafana_admin_password_is_secret"] is True


KEY_FILE = "/etc/llmobs/secrets/content_hash_key"


def _redactors(config_text: str) -> list[dict]:
    """The llmredact processors that hash content (the content policy) in a collector config."""
    processors = yaml.safe_load(config_text)["processors"]
    return [p for name, p in processors.items() if name.startswith("llmredact/") and "content" in p]


def _key_items(pod: dict) -> list[dict]:
    return [i for _, i in _secret_items(pod) if i["key"] == "content_hash_key"]


def _secret_items(pod: dict) -> list[tuple[str, dict]]:
    """(the Secret's name, item) of every Secret key a pod mounts, projected or plain."""
    out = []
    for v in pod.get("volumes", []):
        sources = v.get("projected", {}).get("sources", []) + ([{"secret": v["secret"]}] if "secret" in v else [])
        for src in sources:
            if "secret" in src:
                name = src["secret"].get("name") or src["secret"].get("secretName")
                out += [(name, item) for item in src["secret"].get("items", [])]
    return out


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_every_secret_key_a_pod_mounts_is_in_the_secret_the_stack_creates(option):
    """A key missing from its Secret leaves the pod in ContainerCreating (kubelet cannot project it)."""
    g = graph(option)
    made = {s["metadata"]["name"]: set(s.get("stringData") or {}) | set(s.get("data") or {}) for s in g.of_kind("Secret")}
    for kind in WORKLOADS:
        for w in g.of_kind(kind):
            for name, item in _secret_items(w["spec"]["template"]["spec"]):
                if name in made:
                    assert item["key"] in made[name], (w["metadata"]["name"], name, item)


def test_a_forwarders_token_is_the_file_its_authenticator_reads():
    """forward_tokens.<name> (secret config) -> that key of collector-secrets -> secrets/forward_<name>
    under the config mount -> the bearertokenauth extension's filename. A forwarder without auth has none."""
    config = {**KUBE, "forwarding": [{"name": "vendor", "endpoint": "https://otel.vendor.example/v1", "auth": "bearer"},
                                     {"name": "open", "endpoint": "https://open.example/v1", "auth": "none"}]}
    g = build(config, {**SECRETS, "forward_tokens": {"vendor": "FwdTok-40c2-secret"}})
    assert g.get("Secret", "collector-secrets")["stringData"]["forward_tokens.vendor"] == "FwdTok-40c2-secret"
    pod = g.get("Deployment", "collector")["spec"]["template"]["spec"]
    forward = [item for name, item in _secret_items(pod) if "forward" in item["key"]]
    assert forward == [{"key": "forward_tokens.vendor", "path": "secrets/forward_vendor", "mode": manifests.SECRET_FILE_MODE}]
    front = yaml.safe_load(g.get("ConfigMap", "collector-config")["data"]["collector__agent.yaml"])
    assert front["extensions"]["bearertokenauth/forward_vendor"]["filename"] == "/etc/llmobs/secrets/forward_vendor"
    assert not [k for k in front["extensions"] if k.endswith("forward_open")]
    assert check_no_secret_leaks(g.objects(), ["FwdTok-40c2-secret"]) == []


@pytest.mark.parametrize("option", ["default", "single_tier"])
def test_content_hash_key_is_a_mounted_secret_never_in_a_config_map(option):
    """The key (content.hash hmac, the default) reaches the tier that hashes content as a file from
    a Secret, marked secret; ConfigMaps name its path only. The sampler tier hashes nothing."""
    g = graph(option)
    key = SECRETS["content_hash_key"]
    secret = g.get("Secret", "collector-secrets")
    assert secret["stringData"]["content_hash_key"] == key
    (record,) = [r for r in g.records if r.typ == "kubernetes:core/v1:Secret"
                 and r.inputs["metadata"]["name"] == "collector-secrets"]
    assert any(p.startswith("stringData") for p in record.secret_paths)
    assert check_no_secret_leaks(g.objects(), [key]) == []
    assert not [o["metadata"]["name"] for o in g.of_kind("ConfigMap") if key in json.dumps(o)]
    pod = g.get("Deployment", "collector")["spec"]["template"]["spec"]
    assert _key_items(pod) == [{"key": "content_hash_key", "path": "secrets/content_hash_key",
                                "mode": manifests.SECRET_FILE_MODE}]
    assert pod["containers"][0]["volumeMounts"][0] == {"name": "config", "mountPath": "/etc/llmobs", "readOnly": True}
    configs = {k: v for cm in g.of_kind("ConfigMap") for k, v in cm["data"].items() if k.startswith("collector__")}
    front = configs["collector__agent.yaml" if g.settings.two_tier else "collector__config.yaml"]
    assert _redactors(front) and all(p["hash"] == "hmac" and p["hash_key_file"] == KEY_FILE for p in _redactors(front))
    if g.settings.two_tier:
        sampler = g.get("StatefulSet", "otel-sampler")["spec"]["template"]["spec"]
        assert _key_items(sampler) == [] and "hash_key_file" not in configs["collector__sampler.yaml"]
        assert not [s for s in g.of_kind("Secret") if "content_hash_key" in (s.get("stringData") or {})
                    and s["metadata"]["name"] != "collector-secrets"]


def test_sha256_content_hashes_need_no_key():
    config = {**KUBE, "content": {"hash": "sha256"}}
    g = build(config, {})
    assert "llmobs-content-hash-key" not in {r.name for r in g.records}
    assert not [s for s in g.of_kind("Secret") if "content_hash_key" in (s.get("stringData") or {})]
    assert _key_items(g.get("Deployment", "collector")["spec"]["template"]["spec"]) == []
    for cm in g.of_kind("ConfigMap"):
        assert "hash_key_file" not in json.dumps(cm)


@pytest.mark.parametrize("option", list(OPTIONS))
def test_containers_are_restricted_limited_and_probed(option):
    g = graph(option)
    assert check_containers(g.objects()) == []
    namespace = g.get("Namespace", g.settings.namespace)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for sa in g.of_kind("ServiceAccount"):
        assert sa["automountServiceAccountToken"] is False
    for _, pod in pods(g.objects()):
        assert pod["spec"]["serviceAccountName"] in {sa["metadata"]["name"] for sa in g.of_kind("ServiceAccount")}


@pytest.mark.parametrize("option", list(OPTIONS))
def test_statefulsets_are_governed_by_headless_services_and_replicas_spread(option):
    g = graph(option)
    assert check_statefulsets(g.objects()) == []
    assert check_spread(g.objects()) == []
    # The clients' Services stay ClusterIP; the headless ones are extra.
    for s in g.of_kind("StatefulSet"):
        if s["metadata"]["name"] != "otel-sampler":
            assert "clusterIP" not in g.get("Service", s["metadata"]["name"])["spec"]


def test_replicated_tiers_spread_over_nodes_and_zones():
    g = graph("two_tier")
    for kind, name in (("Deployment", "collector"), ("StatefulSet", "otel-sampler")):
        spec = g.get(kind, name)["spec"]["template"]["spec"]
        keys = {(c["topologyKey"], c["whenUnsatisfiable"]) for c in spec["topologySpreadConstraints"]}
        assert keys == {("kubernetes.io/hostname", "DoNotSchedule"), ("topology.kubernetes.io/zone", "ScheduleAnyway")}
        term = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
        assert term["podAffinityTerm"]["labelSelector"]["matchLabels"]["app.kubernetes.io/name"] == name
    # One-replica StatefulSets have nothing to spread.
    assert "topologySpreadConstraints" not in g.get("StatefulSet", "prometheus")["spec"]["template"]["spec"]


def test_probes_liveness_healthy_readiness_ready_startup_budget():
    g = graph("prod")
    for name, port in (("prometheus", 9090), ("alertmanager", 9093)):
        c = g.get("StatefulSet", name)["spec"]["template"]["spec"]["containers"][0]
        assert c["livenessProbe"]["httpGet"] == {"path": "/-/healthy", "port": port}
        assert c["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": port}
        assert c["startupProbe"]["httpGet"] == {"path": "/-/ready", "port": port}
    prom = g.get("StatefulSet", "prometheus")["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
    assert prom["periodSeconds"] * prom["failureThreshold"] == 30 * 60   # prometheus.startup_budget_minutes default
    longer = build({**KUBE, "prometheus": {"startup_budget_minutes": 90}}, SECRETS)
    prom = longer.get("StatefulSet", "prometheus")["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
    assert prom["periodSeconds"] * prom["failureThreshold"] == 90 * 60
    am = g.get("StatefulSet", "alertmanager")["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
    assert am["periodSeconds"] * am["failureThreshold"] == 300
    # Every workload, by hand: restarted after 30 s without a live answer (3 x 10 s, 5 s each), out of
    # its Service after 15 s not ready (3 x 5 s, 3 s each); startup checks every 10 s, 5 s each.
    for _, pod in pods(g.objects()):
        for c in pod["spec"]["containers"]:
            timing = {p: {k: c[p][k] for k in ("periodSeconds", "failureThreshold", "timeoutSeconds")}
                      for p in ("livenessProbe", "readinessProbe")}
            assert timing == {"livenessProbe": {"periodSeconds": 10, "failureThreshold": 3, "timeoutSeconds": 5},
                              "readinessProbe": {"periodSeconds": 5, "failureThreshold": 3, "timeoutSeconds": 3}}, c["name"]
            assert (c["startupProbe"]["periodSeconds"], c["startupProbe"]["timeoutSeconds"]) == (10, 5), c["name"]


@pytest.mark.parametrize("option", list(OPTIONS))
def test_every_container_has_ephemeral_storage_bounds(option):
    for _, pod in pods(graph(option).objects()):
        for c in pod["spec"]["containers"] + pod["spec"].get("initContainers", []):
            res = c["resources"]
            assert res["requests"]["ephemeral-storage"] == manifests.EPHEMERAL_REQUEST
            assert res["limits"]["ephemeral-storage"] == manifests.EPHEMERAL_LIMIT


@pytest.mark.parametrize("option", list(OPTIONS))
def test_network_policies_and_services_select_existing_pods(option):
    g = graph(option)
    assert check_network_policies(g.objects()) == []
    assert check_services(g.objects()) == []


@pytest.mark.parametrize("option", list(OPTIONS))
def test_network_policies_pair_up_and_keep_grafana_off_the_metadata_address(option):
    g = graph(option)
    assert check_policy_pairs(g.objects()) == []
    assert check_metadata_blocked(g.objects()) == []


def _egress(g, name):
    return g.get("NetworkPolicy", name)["spec"]["egress"]


def _peer_ports(g, name):
    """{peer service name: ports} of a pod's in-namespace egress."""
    out = {}
    for rule in _egress(g, name):
        for peer in rule["to"]:
            if "podSelector" in peer and "namespaceSelector" not in peer:
                out.setdefault(peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"], set()).update(
                    p["port"] for p in rule["ports"])
    return out


def _outside(g, name):
    return [(sorted(b["ipBlock"]["cidr"] for b in rule["to"]), sorted(p["port"] for p in rule["ports"]),
             [b["ipBlock"].get("except") for b in rule["to"]])
            for rule in _egress(g, name) if all("ipBlock" in b for b in rule["to"])]


def test_default_deny_and_dns_for_every_pod():
    g = graph("default")
    deny = g.get("NetworkPolicy", "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for p in g.of_kind("NetworkPolicy"):
        if p is deny:
            continue
        dns = p["spec"]["egress"][0]
        assert dns["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                              "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]
        assert sorted((x["protocol"], x["port"]) for x in dns["ports"]) == [("TCP", 53), ("UDP", 53)]
    custom = build({**KUBE, "kubernetes": {"network": {
        "dns_namespace": "dns", "dns_pod_labels": {"app": "coredns"}}}}, SECRETS)
    dns = custom.get("NetworkPolicy", "loki")["spec"]["egress"][0]["to"][0]
    assert dns == {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dns"}},
                   "podSelector": {"matchLabels": {"app": "coredns"}}}


def test_egress_peers_follow_the_pipeline():
    g = graph("default")   # two-tier, Tempo, everything in the namespace
    assert _peer_ports(g, "collector") == {"otel-sampler": {4317}, "loki": {3100}, "prometheus": {9090}}
    assert _peer_ports(g, "otel-sampler") == {"tempo": {4317}, "prometheus": {9090}}
    assert _peer_ports(g, "grafana") == {"prometheus": {9090}, "alertmanager": {9093}, "tempo": {3200},
                                         "loki": {3100}}
    assert _peer_ports(g, "prometheus") == {"alertmanager": {9093}, "collector": {8888}, "otel-sampler": {8888},
                                            "tempo": {3200}, "loki": {3100}, "grafana": {3000}}
    for name in ("tempo", "loki", "alertmanager"):
        assert _peer_ports(g, name) == {} and _outside(g, name) == [], name
    # Only the agent talks to the API server (its resolver), on the API ports.
    assert _outside(g, "collector") == [(["0.0.0.0/0"], [443, 6443], [None])]
    assert _outside(graph("single_tier"), "collector") == []
    jaeger = graph("jaeger")
    assert _peer_ports(jaeger, "otel-sampler") == {"jaeger": {4317}, "prometheus": {9090}}
    assert _peer_ports(jaeger, "grafana")["jaeger"] == {16686}


def test_egress_to_outside_targets_from_settings():
    stores = graph("object_storage")
    assert _outside(stores, "tempo") == [(["0.0.0.0/0"], [443], [None])]
    assert _outside(stores, "loki") == [(["0.0.0.0/0"], [443], [None])]
    rw = graph("remote_write")
    assert _outside(rw, "prometheus") == [(["0.0.0.0/0"], [443], [None])]
    assert _outside(rw, "alertmanager") == [(["0.0.0.0/0"], [443], [None])]   # the slack receiver
    narrow = build({**KUBE, "kubernetes": {"network": {"external_cidrs": ["203.0.113.0/24"]}},
                    "storage": {"tempo": {"type": "s3", "bucket": "b1", "endpoint": "https://s3.example:9000"}},
                    "endpoints": {"metrics": "https://mimir.example/api/v1/push"}}, SECRETS)
    assert _outside(narrow, "tempo") == [(["203.0.113.0/24"], [9000], [None])]
    # An endpoint outside the stack: the gateway goes out on its port, no longer to Prometheus.
    assert "prometheus" not in _peer_ports(narrow, "collector")
    assert (["203.0.113.0/24"], [443], [None]) in _outside(narrow, "collector")


def test_grafana_ingress_source_and_metadata_block():
    g = graph("default")
    ingress = g.get("NetworkPolicy", "grafana")["spec"]["ingress"]
    assert [[p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in r["from"]] for r in ingress] == [
        ["prometheus"]]
    assert _outside(g, "grafana") == []
    opened = build({**KUBE, "alerts": {"engine": "grafana", "receivers": {"kind": "webhook"}},
                    "kubernetes": {"network": {"grafana_ingress_namespaces": ["ingress-nginx"]}}}, SECRETS)
    ingress = opened.get("NetworkPolicy", "grafana")["spec"]["ingress"]
    assert ingress[0] == {"from": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "ingress-nginx"}}}], "ports": [{"protocol": "TCP", "port": 3000}]}
    # Grafana alerting calls the webhook: out on 443, never to the metadata address.
    assert _outside(opened, "grafana") == [(["0.0.0.0/0"], [443], [["169.254.169.254/32"]])]
    assert check_metadata_blocked(opened.objects()) == []
    assert check_policy_pairs(opened.objects()) == []


def test_network_policy_sources():
    g = graph("prod")
    collector = g.get("NetworkPolicy", "collector")["spec"]["ingress"]
    apps = collector[0]
    assert apps["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}
                            for ns in ("default", "llm-apps")]
    assert sorted(p["port"] for p in apps["ports"]) == [4317, 4318]
    scrape = collector[1]
    assert scrape["ports"] == [{"protocol": "TCP", "port": 8888}]
    assert [p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in scrape["from"]] == ["prometheus"]
    allowed = {"collector", "otel-sampler", "grafana", "prometheus"}
    for name in ("prometheus", "alertmanager", "tempo", "loki"):
        peers = [peer for rule in g.get("NetworkPolicy", name)["spec"]["ingress"] for peer in rule["from"]]
        assert peers and all("namespaceSelector" not in p for p in peers)
        assert {p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in peers} == allowed - {name}


def test_labels_and_selectors():
    g = graph("default")
    for name, pod in pods(g.objects()):
        workload = next(o for o in g.objects() if o["kind"] in WORKLOADS and o["metadata"]["name"] == name)
        labels = pod["metadata"]["labels"]
        for key in ("name", "instance", "version", "component", "part-of"):
            assert f"app.kubernetes.io/{key}" in labels, (name, key)
        sel = workload["spec"]["selector"]["matchLabels"]
        assert "app.kubernetes.io/version" not in sel and selects(sel, labels)


def test_checksum_rolls_only_pods_whose_config_changed():
    base = graph("default")
    changed = build({**KUBE, "sampling": {"keep_fraction": 0.42}}, SECRETS)

    def sums(g):
        return {n: p["metadata"]["annotations"][manifests.CHECKSUM_ANNOTATION] for n, p in pods(g.objects())}
    a, b = sums(base), sums(changed)
    assert {n for n in a if a[n] != b[n]} == {"otel-sampler"}   # tail sampling runs in the sampler tier


def test_grafana_secret_key_file_and_admin_password_sync():
    g = graph("default")
    pod = g.get("StatefulSet", "grafana")["spec"]["template"]["spec"]
    main = pod["containers"][0]
    env = {e["name"]: e["value"] for e in main["env"]}
    assert env["GF_SECURITY_SECRET_KEY__FILE"] == "/etc/llmobs/secrets/grafana_secret_key"
    assert g.get("Secret", "grafana-secrets")["stringData"]["grafana_secret_key"] == SECRETS["grafana_secret_key"]
    sources = pod["volumes"][0]["projected"]["sources"]
    items = {i["key"]: i["path"] for s in sources if "secret" in s for i in s["secret"]["items"]}
    assert items["grafana_secret_key"] == "secrets/grafana_secret_key"
    # Rotation: an init container resets the admin password from the mounted file (stdin,
    # never argv) on an existing database, before the server starts.
    [init] = pod["initContainers"]
    assert init["image"] == main["image"] and init["volumeMounts"] == main["volumeMounts"]
    assert init["securityContext"] == main["securityContext"]
    script = init["command"][2]
    assert init["command"][:2] == ["sh", "-c"]
    assert "admin reset-admin-password --password-from-stdin < /etc/llmobs/secrets/grafana_admin_password" in script
    assert "--config /etc/llmobs/grafana/grafana.ini" in script and "[ -f /var/lib/grafana/grafana.db ]" in script
    assert not any(v in json.dumps(init) for v in SECRETS.values())
    # Only Grafana has such a step.
    assert [n for n, p in pods(g.objects()) if p["spec"].get("initContainers")] == ["grafana"]


def test_password_sync_script_runs_only_on_an_existing_database(tmp_path):
    """The script under a real shell, with a stand-in `grafana` that records its argv and stdin."""
    from backends import grafana as gf
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "grafana").write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/argv\ncat > {tmp_path}/stdin\n')
    (fake / "grafana").chmod(0o755)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "grafana_admin_password").write_text("Rotated-Pw-1")
    db = tmp_path / "grafana.db"
    script = gf.password_sync().replace("/etc/llmobs/secrets", str(secrets)).replace(gf.DATABASE, str(db))
    env = {"PATH": f"{fake}:/usr/bin:/bin"}
    first = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, timeout=10)
    assert first.returncode == 0 and not (tmp_path / "argv").exists() and "new database" in first.stdout
    db.write_text("")
    again = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, timeout=10)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "stdin").read_text() == "Rotated-Pw-1"
    argv = (tmp_path / "argv").read_text()
    assert "reset-admin-password --password-from-stdin" in argv and "Rotated-Pw-1" not in argv


def test_outputs():
    g = graph("default")
    assert g.outputs["namespace"] == "llmobs"
    assert g.outputs["otlp_grpc_endpoint"] == "collector.llmobs.svc.cluster.local:4317"
    assert g.outputs["otlp_http_endpoint"] == "http://collector.llmobs.svc.cluster.local:4318"
    assert g.outputs["grafana_url"] == "http://grafana.llmobs.svc.cluster.local:3000"
    assert g.outputs["grafana_admin_user"] == "admin"
    assert g.outputs["grafana_admin_password"] == SECRETS["grafana_admin_password"]
    assert g.outputs["grafana_admin_password_is_secret"] is True


# -- the gateway's image -------------------------------------------------------------

REGISTRY = {"target": "kubernetes", "kubernetes": {"two_tier": {"enabled": True}},
            "collector": {"registry": {"repository": "registry.example.internal/llmobs/otelcol-llmobs",
                                       "username": "ci-bot"}}}


def test_registry_mode_builds_pushes_and_deploys_the_gateway_by_digest():
    from collector_config import image as distribution
    g = build(REGISTRY, {**SECRETS, "registry_password": "RegistryPw-77e1-secret"})
    (built,) = [r for r in g.records if r.typ == "docker:index/image:Image"]
    repository = "registry.example.internal/llmobs/otelcol-llmobs"
    assert built.inputs["imageName"] == f"{repository}:{distribution.content_tag()}"
    assert built.inputs["registry"] == {"server": "registry.example.internal", "username": "ci-bot",
                                        "password": "RegistryPw-77e1-secret"}
    assert built.secret_paths & {"registry", "registry.password"}, built.secret_paths
    assert built.inputs["build"]["context"] == str(distribution.DISTRIBUTION)
    assert not built.inputs.get("skipPush")
    # Both tiers run what was pushed, by its digest; no other image changes.
    pushed = f"{repository}@{PUSHED_DIGEST}"
    images = {o["metadata"]["name"]: [c["image"] for c in o["spec"]["template"]["spec"]["containers"]]
              for o in g.objects() if o["kind"] in WORKLOADS}
    assert images["collector"] == [pushed] and images["otel-sampler"] == [pushed], images
    assert all(pushed not in refs for name, refs in images.items() if name not in ("collector", "otel-sampler"))


def test_registry_without_username_uses_the_engines_own_login():
    config = {**REGISTRY, "collector": {"registry": {"repository": "ghcr.io/acme/otelcol-llmobs"}}}
    g = build(config, SECRETS)
    (built,) = [r for r in g.records if r.typ == "docker:index/image:Image"]
    assert "registry" not in built.inputs


def test_a_prebuilt_image_is_deployed_as_given_and_nothing_is_built():
    g = build(KUBE, SECRETS)
    assert not [r for r in g.records if r.typ.startswith("docker:")]
    image = KUBE["collector"]["image"]
    ref = f"{image['repository']}:{image['tag']}@{image['digest']}"
    assert g.get("Deployment", "collector")["spec"]["template"]["spec"]["containers"][0]["image"] == ref


# -- failures before registration --------------------------------------------------------

@pytest.mark.parametrize("config, secrets, message", [
    ({**KUBE, "traces": {"backend": "zipkin"}}, SECRETS, "llmobs:traces.backend"),
    ({**KUBE, "versions": {"grafana": "latest"}}, SECRETS, "pin a version"),
    ({**KUBE, "collector": {**KUBE["collector"], "replicas_min": 5, "replicas_max": 2}}, SECRETS, "replicas_min"),
    ({"target": "docker"}, SECRETS, "llmobs:target"),
    ({**KUBE, "alerts": {"receivers": {"kind": "webhook"}}}, {}, "llmobs:alert_webhook_url"),
    ({**KUBE, "prometheus": {"remote_write": [{"url": "https://x.example/push", "username": "u"}]}},
     {}, "llmobs:remote_write_password"),
    ({"target": "kubernetes"}, SECRETS, "llmobs:collector.image or llmobs:collector.registry"),
    ({"target": "kubernetes", "collector": {"registry": {"repository": "ghcr.io/acme/otelcol-llmobs",
                                                         "username": "ci"}}}, SECRETS, "llmobs:registry_password"),
])
def test_bad_config_fails_before_any_resource(config, secrets, message):
    MOCKS.records.clear()

    @pulumi.runtime.test   # waits for every registration in flight before it re-raises
    def run():
        KubernetesStack("llmobs", {"config": config, **secrets})
    with pytest.raises(SettingsError, match=message.replace(".", r"\.")):
        run()
    assert MOCKS.records == []


# -- the program ----------------------------------------------------------------------

def test_main_builds_the_kubernetes_stack_and_exports(monkeypatch):
    exported: dict = {}
    monkeypatch.setattr(pulumi, "export", lambda key, value: exported.__setitem__(key, value))
    config = {"llmobs:target": "kubernetes", "llmobs:namespace": "obs",
              "llmobs:kubernetes": json.dumps({"two_tier": {"enabled": True}}),
              "llmobs:collector": json.dumps({"registry": {"repository": "ghcr.io/acme/otelcol-llmobs"}})}
    for key, value in config.items():
        pulumi.runtime.set_config(key, value)
    monkeypatch.setattr(pulumi.runtime.config, "_SECRET_KEYS", pulumi.runtime.config._SECRET_KEYS)
    MOCKS.records.clear()
    holder = {}

    @pulumi.runtime.test
    def run():
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        keys = sorted(exported)
        keys.append("secret")
        return pulumi.Output.all(*[exported[k] for k in keys[:-1]], is_secret(exported["grafana_admin_password"])
                                 ).apply(lambda v: holder.update(zip(keys, v)))

    try:
        run()
    finally:
        pulumi.runtime.config.CONFIG.get().clear()
    assert holder["namespace"] == "obs"
    assert holder["otlp_grpc_endpoint"] == "collector.obs.svc.cluster.local:4317"
    assert holder["otlp_http_endpoint"] == "http://collector.obs.svc.cluster.local:4318"
    assert holder["grafana_url"] == "http://grafana.obs.svc.cluster.local:3000"
    assert holder["grafana_admin_password"].startswith("generated-")
    assert holder["secret"] is True
    assert any(r.name == "llmobs-collector-otel-sampler-statefulset" for r in MOCKS.records)
    assert any(r.name == "llmobs-collector-image" and r.typ == "docker:index/image:Image" for r in MOCKS.records)


def test_main_fails_on_bad_config_before_any_resource():
    pulumi.runtime.set_config("llmobs:target", "kubernetes")
    pulumi.runtime.set_config("llmobs:traces", json.dumps({"backend": "zipkin"}))
    MOCKS.records.clear()

    @pulumi.runtime.test
    def run():
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
    try:
        with pytest.raises(pulumi.RunError, match=r"llmobs:traces\.backend"):
            run()
    finally:
        pulumi.runtime.config.CONFIG.get().clear()
    assert MOCKS.records == []


# -- every check, broken once on purpose -------------------------------------------------

def _first(objects, kind, name=None):
    return next(o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name))


BREAKAGES = {
    "schema: unknown field": (check_schema, lambda o: _first(o, "Deployment")["spec"].update(replica=2)),
    "schema: wrong type": (check_schema, lambda o: _first(o, "Service")["spec"]["ports"][0].update(port="4317")),
    "leak: secret in ConfigMap": (check_no_secret_leaks,
                                  lambda o: _first(o, "ConfigMap")["data"].update(x=SECRETS["ingest_token"])),
    "leak: secret in annotation": (check_no_secret_leaks, lambda o: _first(o, "Deployment")["spec"]["template"][
        "metadata"]["annotations"].update(x=SECRETS["grafana_admin_password"])),
    "leak: literal env": (check_no_secret_leaks, lambda o: _first(o, "Deployment")["spec"]["template"]["spec"][
        "containers"][0].__setitem__("env", [{"name": "LLMOBS_INGEST_TOKEN", "value": "t"}])),
    "containers: no limits": (check_containers, lambda o: _first(o, "StatefulSet")["spec"]["template"]["spec"][
        "containers"][0]["resources"].pop("limits")),
    "containers: no liveness": (check_containers, lambda o: _first(o, "StatefulSet")["spec"]["template"]["spec"][
        "containers"][0].pop("livenessProbe")),
    "containers: escalation": (check_containers, lambda o: _first(o, "Deployment")["spec"]["template"]["spec"][
        "containers"][0]["securityContext"].update(allowPrivilegeEscalation=True)),
    "containers: caps": (check_containers, lambda o: _first(o, "Deployment")["spec"]["template"]["spec"][
        "containers"][0]["securityContext"]["capabilities"].update(add=["NET_ADMIN"])),
    "containers: root": (check_containers, lambda o: _first(o, "StatefulSet")["spec"]["template"]["spec"][
        "containers"][0]["securityContext"].update(runAsUser=0)),
    "containers: latest": (check_containers, lambda o: _first(o, "StatefulSet")["spec"]["template"]["spec"][
        "containers"][0].update(image="grafana/loki:latest")),
    "containers: token": (check_containers, lambda o: _first(o, "StatefulSet")["spec"]["template"]["spec"].update(
        automountServiceAccountToken=True)),
    "containers: checksum": (check_containers, lambda o: _first(o, "StatefulSet")["spec"]["template"]["metadata"][
        "annotations"].clear()),
    "netpol: selects nothing": (check_network_policies, lambda o: _first(o, "NetworkPolicy", "tempo")["spec"]["podSelector"][
        "matchLabels"].update({"app.kubernetes.io/name": "nope"})),
    "netpol: from nothing": (check_network_policies, lambda o: _first(o, "NetworkPolicy", "loki")["spec"]["ingress"][0][
        "from"][0]["podSelector"]["matchLabels"].update({"app.kubernetes.io/component": "nope"})),
    "containers: no ephemeral limit": (check_containers, lambda o: _first(o, "Deployment")["spec"]["template"][
        "spec"]["containers"][0]["resources"]["limits"].pop("ephemeral-storage")),
    "statefulset: ClusterIP serviceName": (check_statefulsets, lambda o: _first(o, "StatefulSet", "prometheus")[
        "spec"].update(serviceName="prometheus")),
    "statefulset: no Service": (check_statefulsets, lambda o: _first(o, "StatefulSet", "loki")[
        "spec"].update(serviceName="nope")),
    "spread: none on the gateway": (check_spread, lambda o: _first(o, "Deployment", "collector")["spec"]["template"][
        "spec"].pop("topologySpreadConstraints")),
    "spread: soft on the sampler": (check_spread, lambda o: _first(o, "StatefulSet", "otel-sampler")["spec"][
        "template"]["spec"]["topologySpreadConstraints"][0].update(whenUnsatisfiable="ScheduleAnyway")),
    "netpol: no default deny": (check_network_policies, lambda o: o.remove(_first(o, "NetworkPolicy", "default-deny"))),
    "netpol: no egress": (check_network_policies, lambda o: _first(o, "NetworkPolicy", "tempo")["spec"].update(
        policyTypes=["Ingress"])),
    "netpol: open egress rule": (check_network_policies, lambda o: _first(o, "NetworkPolicy", "grafana")["spec"][
        "egress"].append({"ports": [{"protocol": "TCP", "port": 80}]})),
    "pairs: peer does not admit": (check_policy_pairs, lambda o: _first(o, "NetworkPolicy", "loki")["spec"][
        "ingress"][0]["from"].pop(0)),
    "pairs: wrong port": (check_policy_pairs, lambda o: _first(o, "NetworkPolicy", "collector")["spec"]["egress"][1][
        "ports"][0].update(port=3101)),
    "metadata: grafana reaches it": (check_metadata_blocked, lambda o: _first(o, "NetworkPolicy", "grafana")["spec"][
        "egress"].append({"to": [{"ipBlock": {"cidr": "169.254.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 80}]})),
    "service: selects nothing": (check_services, lambda o: _first(o, "Service", "loki")["spec"]["selector"].update(
        {"app.kubernetes.io/instance": "other"})),
    "service: bad target port": (check_services, lambda o: _first(o, "Service", "grafana")["spec"]["ports"][0].update(
        targetPort="htp")),
}


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_checks_catch_breakage(name):
    check, breaks = BREAKAGES[name]
    g = graph("default")
    objects = copy.deepcopy(g.objects())
    args = {check_schema: (g.settings.kubernetes.version,), check_no_secret_leaks: (list(SECRETS.values()),)}
    assert check(objects, *args.get(check, ())) == []
    breaks(objects)
    assert check(objects, *args.get(check, ())), f"{name}: the check did not notice"


def test_token_check_covers_the_collector_without_two_tier():
    objects = copy.deepcopy(graph("single_tier").objects())
    assert not [o for o in objects if o["kind"] == "RoleBinding"] and check_containers(objects) == []
    _first(objects, "Deployment", "collector")["spec"]["template"]["spec"]["automountServiceAccountToken"] = True
    assert check_containers(objects) == ["collector: mounts a service account token without any RoleBinding"]


def test_secret_marking_check_catches_plain_secret():
    records = copy.deepcopy(graph("default").records)
    secret = next(r for r in records if r.typ == "kubernetes:core/v1:Secret")
    secret.secret_paths.clear()
    assert check_secret_objects_marked(records)


def test_failure_before_registration_check_catches_late_failure():
    """A component that validates after registering itself: the record check notices."""
    from components.kubernetes.workloads import settings_of

    class Late(pulumi.ComponentResource):
        def __init__(self, name, args):
            super().__init__("llmobs:index:Late", name, None, None)
            settings_of(args)

    MOCKS.records.clear()

    @pulumi.runtime.test
    def run():
        Late("late", {"config": {**KUBE, "traces": {"backend": "zipkin"}}})
    with pytest.raises(SettingsError):
        run()
    assert [r.name for r in MOCKS.records] == ["late"]


def test_main_refuses_a_secret_key_set_in_plain_text():
    """`pulumi config set ingest_token x` (no --secret): refused like in a stack file, before any resource."""
    pulumi.runtime.set_config("llmobs:target", "kubernetes")
    pulumi.runtime.set_config("llmobs:ingest_token", "plain-token-0123456789")
    assert not pulumi.runtime.config.is_config_secret("llmobs:ingest_token")
    MOCKS.records.clear()

    @pulumi.runtime.test
    def run():
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
    try:
        with pytest.raises(pulumi.RunError, match=r"^llmobs:ingest_token: must be a secret"):
            run()
    finally:
        pulumi.runtime.config.CONFIG.get().clear()
    assert MOCKS.records == []


def test_main_selects_the_docker_target():
    """target docker: __main__ builds components.docker.DockerStack with the same StackArgs."""
    pulumi.runtime.set_config("llmobs:target", "docker")
    MOCKS.records.clear()

    @pulumi.runtime.test
    def run():
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
    try:
        run()
    finally:
        pulumi.runtime.config.CONFIG.get().clear()
    types = {r.typ for r in MOCKS.records}
    assert "llmobs:index:DockerStack" in types
    assert not any(t.startswith("kubernetes:") or t == "llmobs:index:KubernetesStack" for t in types)


def test_prometheus_scrapes_every_collector_replica():
    """The gateway scales out (HPA): each replica is a scrape target of its own, through a headless
    Service over the collector pods, not one pod per scrape through the ClusterIP Service."""
    g = graph("default")
    prom = yaml.safe_load(g.get("ConfigMap", "prometheus-config")["data"]["prometheus__prometheus.yml"])
    job = next(j for j in prom["scrape_configs"] if j["job_name"] == "collector")
    assert job["dns_sd_configs"] == [{"names": ["collector-pods"], "type": "A", "port": 8888}]
    pods = g.get("Service", "collector-pods")
    assert pods["spec"]["clusterIP"] == "None"
    assert [p["name"] for p in pods["spec"]["ports"]] == ["metrics"]
    assert pods["spec"]["selector"] == g.get("Service", "collector")["spec"]["selector"]
    docker = yaml.safe_load(render_all(validate({"target": "docker"}))["prometheus/prometheus.yml"])
    assert next(j for j in docker["scrape_configs"] if j["job_name"] == "collector")["static_configs"]


def test_two_artifacts_on_one_configmap_key_are_refused(monkeypatch):
    """Two files of one ConfigMap whose keys collide would silently lose one: refused, naming the service."""
    from artifacts import render_all
    from backends.services import services
    settings = validate(KUBE)
    rendered = render_all(settings)
    svc = next(s for s in services(settings) if any(len(paths) > 1 for paths in manifests.config_groups(s).values()))
    monkeypatch.setattr(manifests, "data_key", lambda path: "same-key")
    with pytest.raises(ValueError, match=re.escape(f"{svc.name}: two artifact paths map to one ConfigMap key") + "$"):
        manifests.config_objects(settings, svc, rendered)


def _reads(spec) -> set[tuple[str, str]]:
    """(kind, name) of every ServiceAccount, ConfigMap and Secret a pod spec names."""
    out = set()
    if isinstance(spec, dict):
        if spec.get("serviceAccountName"):
            out.add(("ServiceAccount", spec["serviceAccountName"]))
        for key, kind in (("configMap", "ConfigMap"), ("configMapKeyRef", "ConfigMap"), ("configMapRef", "ConfigMap"),
                          ("secret", "Secret"), ("secretKeyRef", "Secret"), ("secretRef", "Secret")):
            ref = spec.get(key)
            if isinstance(ref, dict) and (ref.get("name") or ref.get("secretName")):
                out.add((kind, ref.get("name") or ref.get("secretName")))
        for value in spec.values():
            out |= _reads(value)
    elif isinstance(spec, list):
        for value in spec:
            out |= _reads(value)
    return out


def test_each_workload_starts_after_the_objects_its_pods_read():
    """A Deployment or StatefulSet depends on the ServiceAccount, ConfigMaps and Secrets its pods name
    (they would start without their config otherwise), and never on another workload."""
    g = build(OPTIONS["default"], SECRETS)
    depends = {name: {urn.rsplit("::", 1)[-1] for urn in urns} for name, urns in MOCKS.dependencies.items()}
    kind = {r.name: r.typ.rsplit(":", 1)[-1] for r in g.records}
    placed = {(kind[r.name], r.inputs.get("metadata", {}).get("name")): r.name for r in g.records}
    workloads = [r for r in g.records if kind[r.name] in ("Deployment", "StatefulSet")]
    assert {kind[w.name] for w in workloads} == {"Deployment", "StatefulSet"}
    for w in workloads:
        read = {placed[ref] for ref in _reads(w.inputs["spec"]["template"]["spec"]) if ref in placed}
        assert any(kind[r] == "ServiceAccount" for r in read), w.name
        assert read <= depends[w.name], (w.name, read - depends[w.name])
        assert not depends[w.name] & {o.name for o in workloads}, w.name


def test_component_guards_name_what_is_wrong():
    """The guards a wrong call meets before any object is made, each message whole."""
    from components.args import forward_token_inputs
    from components.kubernetes.workloads import settings_of
    with pytest.raises(SettingsError) as caught:
        settings_of({"kind": "kubernetes"})
    assert str(caught.value) == "llmobs: the component needs args {'config': {...llmobs:* keys...}}"
    with pytest.raises(ValueError) as caught:
        manifests.stack_manifests(validate({"target": "docker"}))
    assert str(caught.value) == "llmobs:target is 'docker'; these are Kubernetes objects"
    settings = validate({**KUBE, "forwarding": [{"name": "vendor", "endpoint": "https://otel.vendor.example/v1",
                                                 "auth": "bearer"}]})
    holder = {}

    @pulumi.runtime.test
    def run():
        token = forward_token_inputs(settings, {"forward_tokens": {"other": "x"}})["forward_tokens.vendor"]
        return token.apply(lambda t: holder.setdefault("token", t))
    with pytest.raises(ValueError) as caught:
        run()
    assert str(caught.value) == ("llmobs:forward_tokens: no token for the forwarder 'vendor'; set it with "
                                 "`pulumi config set --secret --path 'llmobs:forward_tokens.vendor' ...`")
    assert "token" not in holder


def test_the_version_label_is_the_image_tag():
    """app.kubernetes.io/version: the tag a person reads, without the digest; a registry's port is no tag."""
    assert [manifests.version_of(i) for i in (
        "grafana/grafana:12.1.0@sha256:" + "a" * 64, "quay.io/prometheus/prometheus:v3.5.0", "registry:5000/llmobs/collector",
        "otel/collector:0.161.0+build.7", "busybox")] == ["12.1.0", "v3.5.0", "unknown", "0.161.0_build.7", "unknown"]


def test_a_missing_secret_is_named_with_how_to_set_it():
    from components.kubernetes import place
    with pytest.raises(ValueError) as caught:
        place.resolve_secrets({"stringData": {"k": manifests.SecretValue("ingest_token")}}, {})
    assert str(caught.value) == ("llmobs:ingest_token: a workload needs this secret but it is not set; "
                                 "`pulumi config set --secret ingest_token ...`")
