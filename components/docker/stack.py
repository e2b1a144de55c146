"""DockerStack: the docker-local preview target. A thin shell over plan.py.

One network; per container a pinned RemoteImage (the gateway's image built from
collector_config/distribution instead), a named volume for its data and a
Container with its rendered configs uploaded (no host paths), a health check, a restart
policy, a memory limit, a non-root user and its ports published on 127.0.0.1 only.
"""
from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from backends.common import CONTENT_HASH_KEY, GRAFANA_ADMIN_PASSWORD, GRAFANA_SECRET_KEY, INGEST_TOKEN
from backends.services import services
from components.args import CONTENT_KEY_LENGTH, StackArgs, content_key_input, forward_token_inputs
from components.docker import plan as planning
from settings import SettingsError, validate
from settings.load import SECRET_KEYS
from artifacts import render_all

TYPE = "llmobs:index:DockerStack"
LOG_OPTS = {"max-size": "10m", "max-file": "3"}   # a laptop's disk is not a log store


class DockerStack(pulumi.ComponentResource):
    # An external backend's URL (grafana, prometheus, traces) is None: the stack runs no such container.
    grafana_url: pulumi.Output[str] | None = None
    otlp_grpc_endpoint: pulumi.Output[str]
    otlp_http_endpoint: pulumi.Output[str]
    prometheus_url: pulumi.Output[str] | None = None
    traces_url: pulumi.Output[str] | None = None
    grafana_admin_user: pulumi.Output[str] | None = None
    namespace: pulumi.Output[str]                # prefix of every Docker resource name
    grafana_admin_password: pulumi.Output[str] | None = None   # secret; the bundled Grafana's
    grafana_api: pulumi.ComponentResource | None = None        # backends.dashboards kind grafana-api
    ingest_token: pulumi.Output[str]             # secret; "" when llmobs:ingest.auth is off

    def __init__(self, name: str, args: StackArgs, opts: Optional[pulumi.ResourceOptions] = None):
        # Everything that can fail on a bad config fails here, before any registration.
        settings = validate(args.get("config") or {})
        artifacts = render_all(settings)
        plans = planning.plan(settings, services(settings), artifacts)
        urls = planning.urls(settings, plans)
        given = {key: args.get(key) for key in SECRET_KEYS if args.get(key) is not None}
        given.update(forward_token_inputs(settings, given))
        given.update(content_key_input(given))
        needed = {key for p in plans for key in p.secret_keys}
        generated = (({GRAFANA_ADMIN_PASSWORD, GRAFANA_SECRET_KEY} if settings.backends.bundled("dashboards") else set())
                     | ({INGEST_TOKEN} if settings.ingest.auth else set()) | ({CONTENT_HASH_KEY} & needed))
        missing = sorted((key, p.role) for p in plans for key in p.secret_keys - set(given) - generated)
        d = settings.backends.dashboards
        grafana_api = d.external and d.kind == "grafana-api"
        if grafana_api:
            from components.grafana_api import secret_keys as grafana_api_secrets
            missing[:0] = [(key, "Grafana API") for key in sorted(grafana_api_secrets(settings) - set(given))]
        if grafana_api:
            from components.grafana_api import payload
            payload(settings)   # duplicates refused before any resource
        if missing:
            key, role = missing[0]
            raise SettingsError(f"llmobs:{key}: the {role} service needs this secret with the current "
                                f"settings; set it with `pulumi config set --secret llmobs:{key} ...`")

        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        secrets: dict[str, pulumi.Output[str]] = {k: pulumi.Output.secret(v) for k, v in given.items()}
        for key in sorted(generated - set(given)):
            secrets[key] = pulumi.Output.secret(random.RandomPassword(
                f"{name}-{key.replace('_', '-')}", length=CONTENT_KEY_LENGTH if key == CONTENT_HASH_KEY else 32,
                special=False, opts=child).result)

        prefix = settings.namespace
        self.network = docker.Network(f"{name}-network", name=f"{prefix}-net", driver="bridge",
                                      attachable=False, opts=child)
        self.images: dict[str, docker.RemoteImage | docker.Image] = {}
        self.volumes: dict[str, docker.Volume] = {}
        self.containers: dict[str, docker.Container] = {}
        for p in plans:
            self.containers[p.role] = self._container(name, prefix, p, secrets, child)

        if grafana_api:   # an existing Grafana, through its API
            from components.grafana_api import GrafanaApi
            self.grafana_api = GrafanaApi(f"{name}-grafana-api", settings, secrets["grafana_token"], child, secrets)
            self.grafana_url = pulumi.Output.from_input(d.url)
        for output, (role, url) in urls.items():
            # Known once its container runs, so the URL follows the container in the graph.
            setattr(self, output, self.containers[role].id.apply(lambda _, u=url: u))
        self.namespace = pulumi.Output.from_input(prefix)
        self.ingest_token = pulumi.Output.secret(secrets.get(INGEST_TOKEN, ""))
        outputs = [*urls, "namespace", "ingest_token"] + (["grafana_url"] if grafana_api else [])
        if GRAFANA_ADMIN_PASSWORD in secrets and settings.backends.bundled("dashboards"):
            self.grafana_admin_user = pulumi.Output.from_input(settings.grafana.admin_user)
            self.grafana_admin_password = pulumi.Output.secret(secrets[GRAFANA_ADMIN_PASSWORD])
            outputs += ["grafana_admin_user", "grafana_admin_password"]
        self.register_outputs({key: getattr(self, key) for key in outputs})

    def _image(self, name: str, p: planning.ContainerPlan, child: pulumi.ResourceOptions) -> pulumi.Output[str]:
        """The container's image: pulled by its pinned reference, or built (the gateway, from
        collector_config/distribution, tagged by content hash: unchanged, it is not rebuilt)."""
        if p.build is None:
            pulled = docker.RemoteImage(f"{name}-{p.role}-image", name=p.image, keep_locally=True, opts=child)
            self.images[p.role] = pulled
            return pulled.image_id
        built = docker.Image(f"{name}-{p.role}-image", image_name=p.image, skip_push=True,
                             build=docker.DockerBuildArgs(context=p.build.context, dockerfile=p.build.dockerfile,
                                                          args=dict(p.build.args)),
                             opts=child)
        self.images[p.role] = built
        return built.image_name

    def _container(self, name: str, prefix: str, p: planning.ContainerPlan,
                   secrets: dict[str, pulumi.Output[str]], child: pulumi.ResourceOptions) -> docker.Container:
        image_ref = self._image(name, p, child)
        volumes = []
        if p.data_dir:
            vol = docker.Volume(f"{name}-{p.role}-data", name=f"{prefix}-{p.role}-data", opts=child)
            self.volumes[p.role] = vol
            volumes.append(docker.ContainerVolumeArgs(volume_name=vol.name, container_path=p.data_dir))
        uploads = [docker.ContainerUploadArgs(
            file=u.path,
            content=u.text if u.secret_key is None else secrets[u.secret_key],
            permissions=u.permissions,
            owner=None if u.owner is None else str(u.owner),
        ) for u in p.uploads]
        envs: list[pulumi.Input[str]] = [f"{k}={v}" for k, v in p.env]
        hc = p.health
        return docker.Container(
            f"{name}-{p.role}",
            name=f"{prefix}-{p.role}",
            hostname=p.role,
            image=image_ref,
            entrypoints=list(p.entrypoint) or None,
            command=list(p.command) or None,
            envs=envs or None,
            user=p.user,
            uploads=uploads or None,
            volumes=volumes or None,
            ports=[docker.ContainerPortArgs(internal=pub.internal, external=pub.external, ip=pub.ip)
                   for pub in p.ports] or None,
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=self.network.name, aliases=[p.role])],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=list(hc.test), interval=hc.interval, timeout=hc.timeout, retries=hc.retries,
                start_period=hc.start_period),
            restart=planning.RESTART,
            memory=p.memory_mib,
            memory_reservation=p.memory_reservation_mib,
            cpus=p.cpus,
            # Read-only root stays a Kubernetes setting: Docker refuses uploads (docker cp)
            # into a container whose root filesystem is read-only.
            read_only=False,
            security_opts=["no-new-privileges:true"],
            log_driver="json-file",
            log_opts=LOG_OPTS,
            labels=[docker.ContainerLabelArgs(label="app.kubernetes.io/part-of", value="llm-observability-stack"),
                    docker.ContainerLabelArgs(label="app.kubernetes.io/name", value=p.role),
                    docker.ContainerLabelArgs(label="app.kubernetes.io/instance", value=prefix)],
            opts=child,
        )
