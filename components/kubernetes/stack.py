"""KubernetesStack: the namespace, generated secrets, and one component per service."""
from __future__ import annotations

import pulumi
import pulumi_docker as docker
import pulumi_kubernetes as k8s
import pulumi_random as random

from backends.services import collector_image
from collector_config import image as distribution
from components.args import CONTENT_KEY_LENGTH, StackArgs
from components.kubernetes import manifests
from components.kubernetes.place import place
from components.kubernetes.workloads import COMPONENTS, secret_inputs, settings_of
from settings import Settings, SettingsError

GENERATED_LENGTH = 32
# Secrets the stack can generate when the user sets none; the others have no default.
GENERATED = ("grafana_admin_password", "ingest_token", "grafana_secret_key", "content_hash_key")
LENGTHS = {"content_hash_key": CONTENT_KEY_LENGTH}   # an HMAC key: more than a password's


def required_secrets(objects: dict[str, list[manifests.Manifest]]) -> set[str]:
    out: set[str] = set()
    for group in objects.values():
        for m in group:
            for value in (m.body.get("stringData") or {}).values():
                if isinstance(value, manifests.SecretValue):
                    out.add(value.key)
    return out


def build_and_push(resource_name: str, settings: Settings, secrets: dict, opts: pulumi.ResourceOptions) -> docker.Image:
    """collector.registry: the gateway's image built from collector_config/distribution, pushed
    under its content tag; the workloads run it by the digest the push returns."""
    registry = settings.collector.registry
    login = None
    if registry.username:
        login = docker.RegistryArgs(server=registry.repository.split("/", 1)[0], username=registry.username,
                                    password=pulumi.Output.secret(secrets["registry_password"]))
    build = distribution.build()
    return docker.Image(resource_name, image_name=collector_image(settings), registry=login,
                        build=docker.DockerBuildArgs(context=build.context, dockerfile=build.dockerfile,
                                                     args=dict(build.args)),
                        opts=opts)


def grafana_payload_check(settings: Settings) -> None:
    from components.grafana_api import payload
    payload(settings)


class KubernetesStack(pulumi.ComponentResource):
    """Everything `pulumi up` creates on a Kubernetes cluster for one stack."""
    namespace: pulumi.Output[str]
    otlp_grpc_endpoint: pulumi.Output[str]
    otlp_http_endpoint: pulumi.Output[str]
    grafana_url: pulumi.Output[str] | None = None              # None: an external Grafana of the sidecar kind
    grafana_admin_user: pulumi.Output[str] | None = None       # the bundled Grafana's only
    grafana_admin_password: pulumi.Output[str] | None = None   # secret; the bundled Grafana's only
    ingest_token: pulumi.Output[str] | None      # secret; None when ingest auth is off
    services: dict[str, pulumi.ComponentResource]
    collector_image: docker.Image | None = None   # collector.registry: built and pushed by the stack
    grafana_api: pulumi.ComponentResource | None = None   # backends.dashboards kind grafana-api

    def __init__(self, name: str, args: StackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Everything that can fail does so here, before any resource is registered.
        settings = settings_of(args)
        objects = manifests.stack_manifests(settings)
        given = secret_inputs(args)
        needed = required_secrets(objects) | ({"registry_password"} if settings.collector.registry
                                              and settings.collector.registry.username else set())
        grafana_api = settings.backends.dashboards.external and settings.backends.dashboards.kind == "grafana-api"
        if grafana_api:
            from components.grafana_api import secret_keys as grafana_api_secrets
            needed |= grafana_api_secrets(settings)
            grafana_payload_check(settings)   # duplicates refused before any resource
        missing = sorted(needed - set(given) - set(GENERATED))
        if missing:
            raise SettingsError(f"llmobs:{missing[0]}: the settings need this secret "
                                f"(`pulumi config set --secret {missing[0]} ...`)")
        super().__init__("llmobs:index:KubernetesStack", name, None, opts)

        child = pulumi.ResourceOptions(parent=self)
        ns = place(f"{name}-namespace", objects["namespace"][0].body, child)
        for m in objects["namespace"][1:]:   # the namespace's default-deny NetworkPolicy
            place(f"{name}-{m.role}", m.body, pulumi.ResourceOptions(parent=self, depends_on=[ns]))
        # Each CRD the objects need (cert-manager's, for TLS mode cert-manager) is read from the
        # cluster first: when it is missing, `pulumi preview` fails on this read of the resource
        # `<name>-needs-crd-<crd name>` before anything changes (install the operator first).
        crds = [k8s.apiextensions.v1.CustomResourceDefinition.get(f"{name}-needs-crd-{crd}", crd, opts=child)
                for crd in manifests.required_crds(objects)]
        secrets = dict(given)
        for key in GENERATED:
            if key not in secrets and key in required_secrets(objects):
                password = random.RandomPassword(f"{name}-{key.replace('_', '-')}",
                                                 length=LENGTHS.get(key, GENERATED_LENGTH), special=False, opts=child)
                secrets[key] = password.result
        child_args: StackArgs = {"config": args["config"], **secrets}  # type: ignore[typeddict-item]
        if settings.collector.registry:
            self.collector_image = build_and_push(f"{name}-collector-image", settings, secrets, child)
            child_args["collector_image"] = self.collector_image.repo_digest
        self.services = {}
        for group in objects:
            if group == "namespace":
                continue
            self.services[group] = COMPONENTS[group](
                f"{name}-{group}", child_args, pulumi.ResourceOptions(parent=self, depends_on=[ns, *crds]))

        if grafana_api:   # an existing Grafana, through its API
            from components.grafana_api import GrafanaApi
            self.grafana_api = GrafanaApi(f"{name}-grafana-api", settings, secrets["grafana_token"],
                                          pulumi.ResourceOptions(parent=self), secrets)
        collector = self.services["collector"]
        grafana = self.services.get("grafana")
        self.namespace = ns.metadata.apply(lambda m: m.name)  # type: ignore[attr-defined]
        self.otlp_grpc_endpoint = collector.otlp_grpc_endpoint  # type: ignore[attr-defined]
        self.otlp_http_endpoint = collector.otlp_http_endpoint  # type: ignore[attr-defined]
        outputs = {"namespace": self.namespace, "otlp_grpc_endpoint": self.otlp_grpc_endpoint,
                   "otlp_http_endpoint": self.otlp_http_endpoint}
        if grafana is not None:
            self.grafana_url = grafana.url  # type: ignore[attr-defined]
            self.grafana_admin_user = pulumi.Output.from_input(settings.grafana.admin_user)
            self.grafana_admin_password = pulumi.Output.secret(secrets["grafana_admin_password"])
            outputs.update(grafana_url=self.grafana_url, grafana_admin_user=self.grafana_admin_user,
                           grafana_admin_password=self.grafana_admin_password)
        elif settings.backends.dashboards.url:   # an external Grafana the stack pushes to
            self.grafana_url = pulumi.Output.from_input(settings.backends.dashboards.url)
            outputs["grafana_url"] = self.grafana_url
        self.ingest_token = pulumi.Output.secret(secrets["ingest_token"]) if "ingest_token" in secrets else None
        if self.ingest_token is not None:
            outputs["ingest_token"] = self.ingest_token
        self.register_outputs(outputs)
