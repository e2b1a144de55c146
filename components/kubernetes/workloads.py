"""One ComponentResource per service of the Kubernetes target.

Each takes the same `StackArgs` as the stack (plain config values plus secret inputs),
validates them into Settings before registering anything, and places the objects
the pure core (`manifests.stack_manifests`) lists for its group.
"""
from __future__ import annotations

from typing import ClassVar

import pulumi

from components.args import StackArgs, content_key_input, forward_token_inputs
from components.kubernetes import manifests
from components.kubernetes.place import place
from backends.services import collector_image
from settings import Settings, SettingsError, validate
from settings.load import SECRET_KEYS

WORKLOAD_KINDS = ("Deployment", "StatefulSet")


def replace_plan(body: dict) -> dict:
    """ResourceOptions for an object whose immutable fields a setting can change: a StatefulSet
    is deleted and created again when one of them changes (kubernetes.storage_class,
    prometheus.storage_gib, storage.tempo/loki change its volumeClaimTemplates; the API server
    refuses such an update). Its claims are retained and the new StatefulSet adopts them, at their
    old size: grow one with `kubectl patch pvc` where the storage class allows expansion (docs/operations.md)."""
    if body["kind"] != "StatefulSet":
        return {}
    return {"replace_on_changes": list(manifests.STATEFULSET_IMMUTABLE), "delete_before_replace": True}


def settings_of(args: StackArgs) -> Settings:
    if not isinstance(args, dict) or "config" not in args:
        raise SettingsError("llmobs: the component needs args {'config': {...llmobs:* keys...}}")
    settings = validate(args["config"])
    if settings.target != "kubernetes":
        raise SettingsError(f"llmobs:target: {settings.target!r} given to a Kubernetes component; use kubernetes")
    return settings


def secret_inputs(args: StackArgs) -> dict[str, pulumi.Input[str]]:
    given = {key: args[key] for key in SECRET_KEYS if args.get(key) is not None}  # type: ignore[literal-required]
    return {**given, **forward_token_inputs(settings_of(args), given), **content_key_input(given)}


def _service_endpoint(resource: pulumi.CustomResource, body: dict, port_name: str,
                      scheme: str = "") -> pulumi.Output[str]:
    """In-cluster address of a Service port, named as in the pure core's Service."""
    port = next(p["port"] for p in body["spec"]["ports"] if p["name"] == port_name)
    return resource.metadata.apply(  # type: ignore[attr-defined]
        lambda m: f"{scheme}{m.name}.{m.namespace}.svc.cluster.local:{port}")


class ServiceComponent(pulumi.ComponentResource):
    """Places the objects of one group of the pure core, children named f"{name}-{role}"."""
    GROUP: ClassVar[str]
    TYPE: ClassVar[str]   # written out: a token built from the class name would change with a rename

    service_name: pulumi.Output[str]
    resources: dict[str, pulumi.CustomResource]

    def __init__(self, name: str, args: StackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings = settings_of(args)
        objects = manifests.stack_manifests(settings).get(self.GROUP)
        if not objects:
            raise SettingsError(f"llmobs: the stack settings have no {self.GROUP} service "
                                f"(traces.backend is {settings.traces.backend!r})")
        super().__init__(self.TYPE, name, None, opts)
        self.settings = settings
        depends_on = list((opts.depends_on if opts and isinstance(opts.depends_on, list) else []) or [])
        secrets = secret_inputs(args)
        built = args.get("collector_image")
        images = {collector_image(settings): built} if built is not None else {}
        self.resources = {}
        self.bodies = {m.role: m.body for m in objects}
        placed: list[pulumi.Resource] = []
        for m in objects:
            # Pods start after their ServiceAccount, ConfigMaps and Secrets exist.
            deps = depends_on + (placed if m.body["kind"] in WORKLOAD_KINDS else [])
            res = place(f"{name}-{m.role}", m.body,
                        pulumi.ResourceOptions(parent=self, depends_on=deps, **replace_plan(m.body)), secrets, images)
            self.resources[m.role] = res
            if m.body["kind"] not in WORKLOAD_KINDS:
                placed.append(res)
        main = self.main_service()
        self.service_name = self.resources[f"{main}-service"].metadata.apply(lambda m: m.name)  # type: ignore
        self.set_outputs()
        self.register_outputs(self.outputs())

    def main_service(self) -> str:
        return self.GROUP

    def set_outputs(self) -> None:
        pass

    def outputs(self) -> dict[str, pulumi.Input]:
        return {"service_name": self.service_name}


class Collector(ServiceComponent):
    """Gateway Deployment (or agent Deployment + sampler StatefulSet in two-tier mode),
    Service, ConfigMap, ingest-token Secret, HPA, PDB, NetworkPolicies, RBAC."""
    TYPE = "llmobs:index:Collector"
    GROUP = "collector"
    otlp_grpc_endpoint: pulumi.Output[str]
    otlp_http_endpoint: pulumi.Output[str]

    def set_outputs(self) -> None:
        role = f"{manifests.COLLECTOR}-service"
        self.otlp_grpc_endpoint = _service_endpoint(self.resources[role], self.bodies[role], "otlp-grpc")
        scheme = "https://" if self.settings.ingest.tls.mode != "none" else "http://"
        self.otlp_http_endpoint = _service_endpoint(self.resources[role], self.bodies[role], "otlp-http", scheme)

    def outputs(self) -> dict[str, pulumi.Input]:
        return {**super().outputs(), "otlp_grpc_endpoint": self.otlp_grpc_endpoint,
                "otlp_http_endpoint": self.otlp_http_endpoint}


class Prometheus(ServiceComponent):
    """StatefulSet with a PersistentVolumeClaim, config and rules ConfigMaps."""
    TYPE = "llmobs:index:Prometheus"
    GROUP = "prometheus"


class Alertmanager(ServiceComponent):
    """StatefulSet; its config in a Secret."""
    TYPE = "llmobs:index:Alertmanager"
    GROUP = "alertmanager"


class Tempo(ServiceComponent):
    TYPE = "llmobs:index:Tempo"
    GROUP = "tempo"


class Jaeger(ServiceComponent):
    TYPE = "llmobs:index:Jaeger"
    GROUP = "jaeger"


class Loki(ServiceComponent):
    TYPE = "llmobs:index:Loki"
    GROUP = "loki"


class Grafana(ServiceComponent):
    """StatefulSet with provisioning ConfigMaps; the admin password from a Secret file."""
    TYPE = "llmobs:index:Grafana"
    GROUP = "grafana"
    url: pulumi.Output[str]

    def set_outputs(self) -> None:
        self.url = _service_endpoint(self.resources["grafana-service"], self.bodies["grafana-service"], "http",
                                     "http://")

    def outputs(self) -> dict[str, pulumi.Input]:
        return {**super().outputs(), "url": self.url}


class ObjectsComponent(pulumi.ComponentResource):
    """Places a group of the pure core that runs nothing itself (no Service): objects that an external
    backend's operator or sidecar reads. Children named f"{name}-{role}"."""
    GROUP: ClassVar[str]
    TYPE: ClassVar[str]
    resources: dict[str, pulumi.CustomResource]

    def __init__(self, name: str, args: StackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings = settings_of(args)
        objects = manifests.stack_manifests(settings).get(self.GROUP)
        if not objects:
            raise SettingsError(f"llmobs: the stack settings have no {self.GROUP} objects")
        super().__init__(self.TYPE, name, None, opts)
        depends_on = list((opts.depends_on if opts and isinstance(opts.depends_on, list) else []) or [])
        secrets = secret_inputs(args)
        self.resources = {}
        for m in objects:
            self.resources[m.role] = place(f"{name}-{m.role}", m.body,
                                           pulumi.ResourceOptions(parent=self, depends_on=depends_on), secrets)
        self.register_outputs({"objects": len(self.resources)})


class PrometheusOperatorObjects(ObjectsComponent):
    """PrometheusRule, ServiceMonitor or PodMonitor, AlertmanagerConfig (and its receivers' Secret)."""
    TYPE = "llmobs:index:PrometheusOperatorObjects"
    GROUP = "operator"


class SidecarDashboards(ObjectsComponent):
    """One ConfigMap per dashboard, labelled for an existing Grafana's dashboard sidecar."""
    TYPE = "llmobs:index:SidecarDashboards"
    GROUP = "dashboards"


COMPONENTS: dict[str, type[pulumi.ComponentResource]] = {
    cls.GROUP: cls for cls in (Collector, Prometheus, Alertmanager, Tempo, Jaeger, Loki, Grafana,
                               PrometheusOperatorObjects, SidecarDashboards)}
