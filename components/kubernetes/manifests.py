"""Kubernetes objects of the stack, as plain dicts: a pure function of Settings.

No Pulumi in here. `stack_manifests(settings)` turns every `backends.services.Service`
and every rendered artifact (`artifacts.render_all`) into Kubernetes
objects, grouped by the component that places them. The only value the core
cannot know is a secret: a Secret's `stringData` holds `SecretValue(key)` markers,
which the Pulumi shell replaces with the secret inputs.

Keys inside the object dicts are Kubernetes JSON (camelCase); that is the JSON itself.
"""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Iterable

from backends.common import ROOT, SECRETS_DIR
from backends.services import Probe, Service, services
from backends.prometheus import COLLECTOR_PODS
from collector_config import TLS_DIR
from collector_config.exporters import SAMPLER_SERVICE
from settings import Settings
from artifacts import render_all

PART_OF = "llm-observability-stack"
MANAGED_BY = "pulumi"
CHECKSUM_ANNOTATION = "checksum/config"
COLLECTOR = "collector"          # the Service applications send OTLP to (gateway or agent tier)
# Services whose config files go to a Secret instead of a ConfigMap: the file
# names the receiver credentials' location, and the issue keeps it out of ConfigMaps.
CONFIG_IN_SECRET = frozenset({"alertmanager"})
# Which component (and Pulumi ComponentResource) each service belongs to.
GROUP = {COLLECTOR: "collector", SAMPLER_SERVICE: "collector", "prometheus": "prometheus",
         "alertmanager": "alertmanager", "tempo": "tempo", "jaeger": "jaeger", "loki": "loki",
         "grafana": "grafana"}
ROLE = {"prometheus": "metrics", "alertmanager": "alerting", "tempo": "traces", "jaeger": "traces",
        "loki": "logs", "grafana": "dashboards", SAMPLER_SERVICE: "sampler"}
# Backends accept traffic only from these services (the collector tiers, Grafana,
# and Prometheus, which scrapes every backend's own metrics).
BACKEND_CLIENTS = (COLLECTOR, SAMPLER_SERVICE, "grafana", "prometheus")
OTLP_PORT_NAMES = ("otlp-grpc", "otlp-http")
# PersistentVolumeClaim sizes (GiB) for services with state; Prometheus's is a setting.
VOLUME_GIB = {"alertmanager": 1, "grafana": 2, "tempo": 50, "loki": 50, "jaeger": 50}
WAL_ONLY_GIB = 10                 # Tempo/Loki with object storage keep only WAL and caches locally
TMP_SIZE = "256Mi"
# The collectors' persistent queue (their only data dir) is an emptyDir, on both tiers: it
# survives container restarts (a crash, an OOM kill), not pod deletion. A PVC per pod would
# need a StatefulSet for the autoscaled gateway, and a scaled-down pod's queue would wait on
# its claim with nobody to send it. Above collector_config.QUEUE_BUDGET_MIB (bbolt's own bounds)
# plus rebound compaction's small copy; with /tmp, within the pod's ephemeral-storage limit.
QUEUE_VOLUME_SIZE = "512Mi"
QUEUE_ON_EMPTYDIR = frozenset({COLLECTOR, SAMPLER_SERVICE})
# Node-local disk: /tmp (TMP_SIZE) plus the container's own log files; a pod past the
# limit is evicted instead of filling the node's disk.
EPHEMERAL_REQUEST = "128Mi"
EPHEMERAL_LIMIT = "1Gi"
HOSTNAME_KEY = "kubernetes.io/hostname"
ZONE_KEY = "topology.kubernetes.io/zone"
CONFIGMAP_LIMIT = 1024 * 1024     # bytes the API server accepts in one ConfigMap
HPA_CPU_PERCENT = 70
SECRET_FILE_MODE = 0o440
STARTUP_PERIOD = 10              # seconds; failureThreshold comes from the service's startup budget
STARTUP_TIMEOUT = 5
LIVENESS = {"periodSeconds": 10, "failureThreshold": 3, "timeoutSeconds": 5}
READINESS = {"periodSeconds": 5, "failureThreshold": 3, "timeoutSeconds": 3}
# Custom resources the stack can create, and the CustomResourceDefinition that serves each:
# its operator (and CRD) must be in the cluster before the stack is placed.
CUSTOM_RESOURCES = {("cert-manager.io/v1", "Certificate"): "certificates.cert-manager.io",
                    # The Prometheus Operator's, for external metrics and alerting (components/kubernetes/external.py).
                    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrules.monitoring.coreos.com",
                    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitors.monitoring.coreos.com",
                    ("monitoring.coreos.com/v1", "PodMonitor"): "podmonitors.monitoring.coreos.com",
                    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"):
                        "alertmanagerconfigs.monitoring.coreos.com"}
# StatefulSet spec fields the API server refuses to change (the rest are template, replicas,
# ordinals, updateStrategy, persistentVolumeClaimRetentionPolicy, minReadySeconds).
STATEFULSET_IMMUTABLE = ("spec.selector", "spec.serviceName", "spec.volumeClaimTemplates",
                         "spec.podManagementPolicy")


@dataclass(frozen=True)
class SecretValue:
    """Placeholder for the value of a secret input (a key of settings.load.SECRET_KEYS)."""
    key: str


@dataclass(frozen=True)
class Manifest:
    role: str    # the Pulumi child is named f"{component name}-{role}"
    body: dict   # the Kubernetes object


def required_crds(objects: dict[str, list[Manifest]]) -> list[str]:
    """Names of the CustomResourceDefinitions the objects of `stack_manifests` need, sorted."""
    return sorted({CUSTOM_RESOURCES[(m.body["apiVersion"], m.body["kind"])] for group in objects.values()
                   for m in group if (m.body["apiVersion"], m.body["kind"]) in CUSTOM_RESOURCES})


# -- names, labels -----------------------------------------------------------

def component_label(settings: Settings, svc: Service) -> str:
    # The collector Service is the gateway in both modes (in two-tier mode its pods are
    # the agent tier); a stable label keeps the immutable selector across a mode switch.
    return "gateway" if svc.name == COLLECTOR else ROLE[svc.name]


def version_of(image: str) -> str:
    """The tag of repository:tag[@digest] (the digest is no version a person reads)."""
    name = image.split("@", 1)[0]
    tag = name.rsplit(":", 1)[-1] if ":" in name.split("/")[-1] else "unknown"
    return re.sub(r"[^A-Za-z0-9._-]", "_", tag)[:63]


def selector(settings: Settings, svc: Service) -> dict[str, str]:
    """Pod selector: the standard labels minus version, so upgrades don't orphan pods."""
    return {"app.kubernetes.io/name": svc.name, "app.kubernetes.io/instance": settings.namespace,
            "app.kubernetes.io/component": component_label(settings, svc), "app.kubernetes.io/part-of": PART_OF}


def labels(settings: Settings, svc: Service) -> dict[str, str]:
    return {**selector(settings, svc), "app.kubernetes.io/version": version_of(svc.image),
            "app.kubernetes.io/managed-by": MANAGED_BY}


def meta(settings: Settings, name: str, svc: Service | None = None, **extra: Any) -> dict:
    out: dict = {"name": name, "namespace": settings.namespace}
    out["labels"] = labels(settings, svc) if svc else {"app.kubernetes.io/part-of": PART_OF,
                                                       "app.kubernetes.io/managed-by": MANAGED_BY}
    out.update(extra)
    return out


def secret_name(svc: Service) -> str:
    return f"{svc.name}-secrets"


def secret_keys(svc: Service) -> tuple[str, ...]:
    return tuple(sorted({key for _, key in svc.secret_files}))


# -- config files ------------------------------------------------------------

def config_groups(svc: Service) -> dict[str, list[str]]:
    """{ConfigMap name: artifact paths}. Files are grouped by their first two directories:
    `prometheus/prometheus.yml` -> prometheus-config, `prometheus/rules/x.yml` -> prometheus-rules;
    top-level files by service, so each collector tier has a ConfigMap of its own."""
    groups: dict[str, list[str]] = {}
    for path in svc.config_files:
        parts = path.split("/")
        name = f"{parts[0]}-{parts[1]}" if len(parts) > 2 else f"{svc.name}-config"
        groups.setdefault(name, []).append(path)
    return groups


def data_key(path: str) -> str:
    """ConfigMap keys allow [-._a-zA-Z0-9]: `grafana/provisioning/x.yaml` -> `grafana__provisioning__x.yaml`."""
    key = path.replace("/", "__")
    if not re.fullmatch(r"[-._a-zA-Z0-9]+", key):
        raise ValueError(f"artifact path {path!r} cannot be a ConfigMap key")
    return key


def checksum(paths: Iterable[str], rendered: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.encode() + b"\0" + rendered[path].encode() + b"\0")
    return digest.hexdigest()


def config_objects(settings: Settings, svc: Service, rendered: dict[str, str]) -> list[Manifest]:
    out = []
    for name, paths in config_groups(svc).items():
        data = {data_key(p): rendered[p] for p in paths}
        if len(data) != len(paths):
            raise ValueError(f"{svc.name}: two artifact paths map to one ConfigMap key")
        size = sum(len(k) + len(v.encode()) for k, v in data.items())
        if size > CONFIGMAP_LIMIT:
            raise ValueError(f"{name}: {size} bytes, over the 1 MiB ConfigMap limit; "
                             "split the artifacts into subdirectories")
        if svc.name in CONFIG_IN_SECRET:
            body = {"apiVersion": "v1", "kind": "Secret", "metadata": meta(settings, name, svc),
                    "type": "Opaque", "stringData": data}
        else:
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(settings, name, svc), "data": data}
        out.append(Manifest(name, body))
    return out


def secret_object(settings: Settings, svc: Service) -> list[Manifest]:
    keys = secret_keys(svc)
    if not keys:
        return []
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": meta(settings, secret_name(svc), svc),
            "type": "Opaque", "stringData": {key: SecretValue(key) for key in keys}}
    return [Manifest(f"{svc.name}-secrets", body)]


# -- pods --------------------------------------------------------------------

def config_volume(svc: Service) -> dict | None:
    """One projected volume at /etc/llmobs: every config file at its artifact path,
    every secret file under secrets/."""
    sources = []
    for name, paths in config_groups(svc).items():
        items = [{"key": data_key(p), "path": p} for p in paths]
        kind = "secret" if svc.name in CONFIG_IN_SECRET else "configMap"
        sources.append({kind: {"name": name, "items": items}})
    if svc.tls_secret:
        tls = TLS_DIR.removeprefix(ROOT + "/")
        sources.append({"secret": {"name": svc.tls_secret, "items": [
            {"key": "tls.crt", "path": f"{tls}/tls.crt"},
            {"key": "tls.key", "path": f"{tls}/tls.key", "mode": SECRET_FILE_MODE}]}})
    if svc.secret_files:
        prefix = SECRETS_DIR.removeprefix(ROOT + "/")
        items = [{"key": key, "path": f"{prefix}/{file}", "mode": SECRET_FILE_MODE} for file, key in svc.secret_files]
        sources.append({"secret": {"name": secret_name(svc), "items": items}})
    if not sources:
        return None
    return {"name": "config", "projected": {"sources": sources, "defaultMode": 0o444}}


def probe(target: Probe, timing: dict) -> dict:
    return {"httpGet": {"path": target.path, "port": target.port}, **timing}


def startup_timing(svc: Service) -> dict:
    return {"periodSeconds": STARTUP_PERIOD, "timeoutSeconds": STARTUP_TIMEOUT,
            "failureThreshold": max(1, -(-svc.startup_seconds // STARTUP_PERIOD))}


def container_security_context(svc: Service) -> dict:
    return {"allowPrivilegeEscalation": False, "privileged": False, "readOnlyRootFilesystem": svc.read_only_root,
            "runAsNonRoot": True, "runAsUser": svc.run_as_user, "runAsGroup": svc.run_as_user,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}


def container(svc: Service) -> dict:
    env = [{"name": k, "value": v} for k, v in svc.env]
    mounts = []
    if config_volume(svc):
        mounts.append({"name": "config", "mountPath": ROOT, "readOnly": True})
    if svc.data_dir:
        mounts.append({"name": "data", "mountPath": svc.data_dir})
    if svc.read_only_root:
        mounts.append({"name": "tmp", "mountPath": "/tmp"})
    out = {
        "name": svc.name,
        "image": svc.image,
        # A digest names one image for good; a bare tag can be re-pushed, so check it on each start.
        "imagePullPolicy": "IfNotPresent" if "@sha256:" in svc.image else "Always",
        "args": list(svc.args),
        "ports": [{"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in svc.ports],
        "resources": {"requests": {"cpu": svc.cpu_request, "memory": svc.memory_request,
                                   "ephemeral-storage": EPHEMERAL_REQUEST},
                      "limits": {"cpu": svc.cpu_limit, "memory": svc.memory_limit,
                                 "ephemeral-storage": EPHEMERAL_LIMIT}},
        # Startup gates on readiness (for Prometheus: the WAL replayed) within the budget;
        # after that liveness asks only whether the process answers.
        "startupProbe": probe(svc.probe, startup_timing(svc)),
        # Without a liveness endpoint of its own, alive means accepting connections: a
        # readiness failure (a backend still starting) must not restart the process.
        "livenessProbe": (probe(svc.liveness, LIVENESS) if svc.liveness
                          else {"tcpSocket": {"port": svc.probe.port}, **LIVENESS}),
        "readinessProbe": probe(svc.probe, READINESS),
        "securityContext": container_security_context(svc),
        "volumeMounts": mounts,
    }
    if env:
        out["env"] = env
    if svc.poststart:
        # Runs once the container starts; a failure restarts the container (and shows as an event).
        out["lifecycle"] = {"postStart": {"exec": {"command": ["sh", "-c", svc.poststart]}}}
    return out


def spread(settings: Settings, svc: Service) -> dict:
    """Replicas of one tier on different nodes (required) and zones (best effort): a node
    or zone outage takes one replica, not the tier."""
    match = {"labelSelector": {"matchLabels": selector(settings, svc)}}
    return {
        "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": HOSTNAME_KEY, "whenUnsatisfiable": "DoNotSchedule", **match},
            {"maxSkew": 1, "topologyKey": ZONE_KEY, "whenUnsatisfiable": "ScheduleAnyway", **match}],
        "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"topologyKey": HOSTNAME_KEY, **match}}]}},
    }


def init_container(svc: Service) -> dict:
    """The service's prestart step: its image, mounts and limits, no ports or probes."""
    main = container(svc)
    keep = ("image", "imagePullPolicy", "env", "resources", "securityContext", "volumeMounts")
    return {"name": f"{svc.name}-prestart", "command": ["sh", "-c", svc.prestart or ""],
            **{k: main[k] for k in keep if k in main}}


def pod_template(settings: Settings, svc: Service, rendered: dict[str, str], *, api_access: bool = False,
                 data_volume: bool = False, replicated: bool = False) -> dict:
    volumes = [v for v in [config_volume(svc)] if v]
    if svc.data_dir and not data_volume:
        volumes.append({"name": "data", "emptyDir": {"sizeLimit": QUEUE_VOLUME_SIZE}})
    if svc.read_only_root:
        volumes.append({"name": "tmp", "emptyDir": {"sizeLimit": TMP_SIZE}})
    spec = {
        "serviceAccountName": svc.name,
        # Only a pod that talks to the API server gets a token (the agent tier's resolver).
        "automountServiceAccountToken": api_access,
        "enableServiceLinks": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": svc.run_as_user, "runAsGroup": svc.run_as_user,
                            "fsGroup": svc.run_as_user, "fsGroupChangePolicy": "OnRootMismatch",
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container(svc)],
        "volumes": volumes,
    }
    if replicated:
        spec.update(spread(settings, svc))
    if svc.prestart:
        spec["initContainers"] = [init_container(svc)]
    annotations = {CHECKSUM_ANNOTATION: checksum(svc.config_files, rendered)}
    return {"metadata": {"labels": labels(settings, svc), "annotations": annotations}, "spec": spec}


def volume_gib(settings: Settings, svc: Service) -> int:
    if svc.name == "prometheus":
        return settings.prometheus.storage_gib
    store = {"tempo": settings.storage.tempo, "loki": settings.storage.loki}.get(svc.name)
    if store is not None and store.type != "local":
        return WAL_ONLY_GIB
    return VOLUME_GIB[svc.name]


def volume_claim(settings: Settings, svc: Service) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"],
                  "resources": {"requests": {"storage": f"{volume_gib(settings, svc)}Gi"}}}
    if settings.kubernetes.storage_class:
        spec["storageClassName"] = settings.kubernetes.storage_class
    return {"metadata": {"name": "data", "labels": selector(settings, svc)}, "spec": spec}


def deployment(settings: Settings, svc: Service, rendered: dict[str, str], *, replicas: int | None,
               api_access: bool = False) -> Manifest:
    spec: dict = {"selector": {"matchLabels": selector(settings, svc)},
                  "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                  "template": pod_template(settings, svc, rendered, api_access=api_access,
                                           replicated=replicas is None or replicas > 1)}
    if replicas is not None:  # None: the HorizontalPodAutoscaler owns the count
        spec["replicas"] = replicas
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(settings, svc.name, svc), "spec": spec}
    return Manifest(f"{svc.name}-deployment", body)


def headless_name(svc: Service) -> str:
    """The governing Service of a StatefulSet: headless (stable pod DNS names). The
    sampler's own Service is headless already; the others keep a ClusterIP Service
    for their clients and get a headless one beside it."""
    return svc.name if svc.name == SAMPLER_SERVICE else f"{svc.name}-headless"


def statefulset(settings: Settings, svc: Service, rendered: dict[str, str], *, replicas: int) -> Manifest:
    claim = bool(svc.data_dir) and svc.name not in QUEUE_ON_EMPTYDIR
    spec: dict = {"serviceName": headless_name(svc), "replicas": replicas, "podManagementPolicy": "Parallel",
                  "selector": {"matchLabels": selector(settings, svc)},
                  "template": pod_template(settings, svc, rendered, data_volume=claim, replicated=replicas > 1)}
    if claim:
        spec["volumeClaimTemplates"] = [volume_claim(settings, svc)]
        spec["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Retain", "whenScaled": "Retain"}
    body = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta(settings, svc.name, svc), "spec": spec}
    return Manifest(f"{svc.name}-statefulset", body)


def service(settings: Settings, svc: Service, *, headless: bool = False, name: str | None = None,
            port_names: tuple[str, ...] | None = None) -> Manifest:
    name = name or svc.name
    ports = [p for p in svc.ports if port_names is None or p.name in port_names]
    spec: dict = {"type": "ClusterIP", "selector": selector(settings, svc),
                  "ports": [{"name": p.name, "port": p.port, "targetPort": p.name, "protocol": p.protocol,
                             **({"appProtocol": "grpc"} if "grpc" in p.name else {})} for p in ports]}
    if headless:
        spec["clusterIP"] = "None"
    body = {"apiVersion": "v1", "kind": "Service", "metadata": meta(settings, name, svc), "spec": spec}
    return Manifest(f"{name}-service", body)


def service_account(settings: Settings, svc: Service) -> Manifest:
    body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(settings, svc.name, svc),
            "automountServiceAccountToken": False}
    return Manifest(f"{svc.name}-serviceaccount", body)


def endpoints_reader(settings: Settings, svc: Service) -> list[Manifest]:
    """Least RBAC for the load_balancing exporter's k8s resolver: read endpoints in the namespace."""
    name = f"{svc.name}-endpoints-reader"
    verbs = ["get", "list", "watch"]
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(settings, name, svc),
            "rules": [{"apiGroups": [""], "resources": ["endpoints"], "verbs": verbs},
                      {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": verbs}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(settings, name, svc),
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": svc.name, "namespace": settings.namespace}]}
    return [Manifest(f"{svc.name}-role", role), Manifest(f"{svc.name}-rolebinding", binding)]


def certificate(settings: Settings, svc: Service) -> Manifest:
    """cert-manager fills the gateway's TLS Secret for its in-cluster names, and renews it."""
    ns, tls = settings.namespace, settings.ingest.tls
    names = [svc.name, f"{svc.name}.{ns}", f"{svc.name}.{ns}.svc", f"{svc.name}.{ns}.svc.cluster.local"]
    body = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": meta(settings, svc.name, svc),
            "spec": {"secretName": tls.secret_name, "dnsNames": names, "duration": "2160h", "renewBefore": "360h",
                     "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                     "usages": ["server auth", "digital signature", "key encipherment"],
                     "issuerRef": {"group": "cert-manager.io", "kind": tls.issuer_kind, "name": tls.issuer_name}}}
    return Manifest(f"{svc.name}-certificate", body)


def hpa(settings: Settings, svc: Service) -> Manifest:
    body = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta(settings, svc.name, svc),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": svc.name},
                     "minReplicas": settings.collector.replicas_min, "maxReplicas": settings.collector.replicas_max,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization", "averageUtilization": HPA_CPU_PERCENT}}}]}}
    return Manifest(f"{svc.name}-hpa", body)


def pdb(settings: Settings, svc: Service) -> Manifest:
    body = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta(settings, svc.name, svc),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(settings, svc)}}}
    return Manifest(f"{svc.name}-pdb", body)


def namespace(settings: Settings) -> Manifest:
    # Pod Security Admission: every pod of the stack meets the `restricted` profile; enforce it.
    pss = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
    body = {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": settings.namespace, "labels": {**meta(settings, settings.namespace)["labels"], **pss}}}
    return Manifest("namespace", body)


# -- per component -----------------------------------------------------------

def workload_manifests(settings: Settings, svc: Service, rendered: dict[str, str],
                       by_name: dict[str, Service]) -> list[Manifest]:
    out = [service_account(settings, svc), *config_objects(settings, svc, rendered), *secret_object(settings, svc)]
    if svc.name == COLLECTOR:
        agent = settings.two_tier
        col = settings.collector
        scales = col.replicas_max > col.replicas_min   # else a fixed count, no autoscaler
        out += [deployment(settings, svc, rendered, replicas=None if scales else col.replicas_min,
                           api_access=agent), service(settings, svc),
                # Every replica scraped on its own (see backends.prometheus.COLLECTOR_PODS).
                service(settings, svc, headless=True, name=COLLECTOR_PODS, port_names=("metrics",)),
                *([hpa(settings, svc)] if scales else []), pdb(settings, svc)]
        if agent:
            out += endpoints_reader(settings, svc)
        if svc.tls_secret and settings.ingest.tls.mode == "cert-manager":
            out.append(certificate(settings, svc))
    elif svc.name == SAMPLER_SERVICE:
        out += [statefulset(settings, svc, rendered, replicas=settings.kubernetes.two_tier.sampler_replicas),
                service(settings, svc, headless=True), pdb(settings, svc)]
    elif svc.data_dir:
        out += [statefulset(settings, svc, rendered, replicas=1), service(settings, svc),
                service(settings, svc, headless=True, name=headless_name(svc))]
    else:
        out += [deployment(settings, svc, rendered, replicas=1), service(settings, svc)]
    out.append(network.network_policy(settings, svc, by_name))
    return out


from components.kubernetes import network  # noqa: E402  (network builds on the helpers above)


@functools.lru_cache(maxsize=16)
def stack_manifests(settings: Settings) -> dict[str, list[Manifest]]:
    """{component group: its Kubernetes objects}, namespace first. Collector config
    files shared by both tiers are placed once. Cached (Settings is frozen): every
    component of one stack asks for the same objects; treat the result as read-only."""
    if settings.target != "kubernetes":
        raise ValueError(f"llmobs:target is {settings.target!r}; these are Kubernetes objects")
    rendered = render_all(settings)
    all_services = services(settings)
    by_name = {s.name: s for s in all_services}
    out: dict[str, list[Manifest]] = {"namespace": [namespace(settings), network.default_deny(settings)]}
    for svc in all_services:
        group = GROUP[svc.name]
        seen = {(m.body["kind"], m.body["metadata"]["name"]) for m in out.get(group, [])}
        new = [m for m in workload_manifests(settings, svc, rendered, by_name)
               if (m.body["kind"], m.body["metadata"]["name"]) not in seen]
        out.setdefault(group, []).extend(new)
    # External backends: the Prometheus Operator's objects, the Grafana sidecar's dashboards.
    from components.kubernetes import external
    for group, objects in (("operator", external.operator_manifests(settings)),
                           ("dashboards", external.dashboard_manifests(settings))):
        if objects:
            out[group] = objects
    scraped = external.scraped_services(settings)
    for m in out["collector"]:
        if m.body["kind"] == "Service" and m.body["metadata"]["name"] in scraped:
            m.body["metadata"]["labels"][external.SCRAPED_LABEL] = "true"
    return out
