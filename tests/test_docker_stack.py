"""Pulumi mock tests of the docker target (components/docker).

The mocks record every registered resource with its inputs as the engine would send
them to the provider (camelCase, secrets wrapped in Pulumi's secret envelope), so the
checks below see what `pulumi up` would hand to Docker.
"""
from __future__ import annotations

import re
from urllib.parse import urlparse

import pulumi
import pytest
import yaml

SECRET_SIG = "4dabf18193072939515e22adb298388d"   # pulumi.runtime.rpc._special_secret_sig
CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"
BUILT = "docker:index/image:Image"
VOLUME = "docker:index/volume:Volume"
NETWORK = "docker:index/network:Network"
PASSWORD = "random:index/randomPassword:RandomPassword"
STACK = "llmobs:index:DockerStack"


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[tuple[str, str, dict]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.resources.append((args.typ, args.name, args.inputs))
        state = dict(args.inputs)
        if args.typ == PASSWORD:
            state["result"] = f"generated-{args.name}"
        if args.typ == IMAGE:
            state["imageId"] = f"sha256:{args.inputs['name']}"
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


MOCKS = Mocks()
pulumi.runtime.set_mocks(MOCKS, preview=False)

import collector_config  # noqa: E402
import settings  # noqa: E402
from backends.services import services  # noqa: E402
from components.docker import DockerStack  # noqa: E402
from components.docker import plan as planning  # noqa: E402
from settings import SettingsError  # noqa: E402
from artifacts import render_all  # noqa: E402
from stacks import KUBE

DEFAULT = {"target": "docker"}
JAEGER_LOADGEN = {"target": "docker", "traces": {"backend": "jaeger"},
                  "loadgen": {"enabled": True, "scenario": "tenant_cost_spike", "rate": 5}}
NO_AUTH = {"target": "docker", "ingest": {"auth": False}}
PERSISTENT_QUEUE = {"target": "docker", "collector": {"persistent_queue": True}}
WEBHOOK = {"target": "docker", "alerts": {"receivers": {"kind": "webhook"}}}
EXTERNAL_PUSH = {"target": "docker", "backends": {
    "traces": {"mode": "external", "protocol": "http", "endpoint": "https://otlp.example/otlp",
               "query_url": "https://tempo.example"},
    "logs": {"mode": "external", "endpoint": "https://otlp.example/otlp", "query_url": "https://loki.example"}}}
GIVEN = {"grafana_admin_password": "given-grafana-pw-3141", "ingest_token": "given-ingest-token-2718",
         "alert_webhook_url": "https://hooks.example.invalid/secret-path-1618",
         "grafana_secret_key": "given-grafana-key-1414", "content_hash_key": "given-content-hash-key-1732050807"}


@pytest.fixture(autouse=True)
def fresh_mocks():
    # Other test files may install their own mocks; each test here starts from ours, empty.
    MOCKS.resources.clear()
    pulumi.runtime.set_mocks(MOCKS, preview=False)
    yield


def unwrap(value, secret=False, found=None):
    """(plain value, [plain values that were inside a secret envelope])."""
    found = [] if found is None else found
    if isinstance(value, dict) and value.get(SECRET_SIG) is not None and "value" in value:
        return unwrap(value["value"], True, found)
    if isinstance(value, dict):
        return {k: unwrap(v, secret, found)[0] for k, v in value.items()}, found
    if isinstance(value, list):
        return [unwrap(v, secret, found)[0] for v in value], found
    if secret:
        found.append(value)
    return value, found


def deploy(config: dict, **secrets) -> tuple[DockerStack, pulumi.Output]:
    """Build the stack; the Output resolves to {type: {name: inputs}} once every child registered."""
    stack = DockerStack("llmobs", {"config": config, **secrets})
    children = [stack.network, *stack.images.values(), *stack.volumes.values(), *stack.containers.values()]

    def registered(_):
        out: dict[str, dict[str, dict]] = {}
        for typ, name, inputs in MOCKS.resources:
            out.setdefault(typ, {})[name] = inputs
        return out

    return stack, pulumi.Output.all(*[c.id for c in children]).apply(registered)


def containers(res) -> dict[str, dict]:
    return {name: unwrap(inputs)[0] for name, inputs in res[CONTAINER].items()}


def settings_of(config):
    return settings.validate(config)


# --- the resource graph -------------------------------------------------------------

LAPTOP_ON_GRAFANA_CLOUD = {"target": "docker", "alerts": {"engine": "grafana"}, "backends": {
    "metrics": {"mode": "external", "remote_write_url": "https://prom.example/api/prom/push", "auth": "basic"},
    "alerting": {"mode": "external", "kind": "grafana"},
    "dashboards": {"mode": "external", "kind": "grafana-api", "url": "https://acme.grafana.net",
                   "datasources": {"metrics": "grafanacloud-prom", "traces": "grafanacloud-traces",
                                   "logs": "grafanacloud-logs"}},
    "traces": {"mode": "external", "protocol": "http", "endpoint": "https://otlp.example/otlp", "auth": "basic"},
    "logs": {"mode": "external", "endpoint": "https://otlp.example/otlp", "auth": "basic"}}}
CLOUD_TOKENS = {"metrics_token": "m-tok-1", "traces_token": "t-tok-2", "logs_token": "l-tok-3",
                "grafana_token": "glsa_docker-4"}


@pulumi.runtime.test
def test_a_laptop_gateway_pushing_to_grafana_cloud_runs_the_collector_only():
    stack, res = deploy(LAPTOP_ON_GRAFANA_CLOUD, **CLOUD_TOKENS)
    api = stack.grafana_api
    ids = [r.id for group in (api.folders, api.dashboards, api.rule_groups) for r in group.values()]

    def check(args):
        res = args[0]
        assert set(res[CONTAINER]) == {"llmobs-collector"}
        # Read once every Grafana resource registered (their ids resolved).
        import dashboards
        assert len([name for typ, name, _ in MOCKS.resources if typ == "grafana:oss/dashboard:Dashboard"]) == \
            len(dashboards.entries(settings_of(LAPTOP_ON_GRAFANA_CLOUD)))
        assert stack.grafana_admin_password is None and stack.prometheus_url is None
    return pulumi.Output.all(res, *ids).apply(check)


def test_a_laptop_gateway_on_grafana_cloud_needs_the_grafana_token():
    with pytest.raises(settings.SettingsError, match="llmobs:grafana_token"):
        DockerStack("llmobs", {"config": LAPTOP_ON_GRAFANA_CLOUD,
                               **{k: v for k, v in CLOUD_TOKENS.items() if k != "grafana_token"}})

@pytest.mark.parametrize("config, roles", [
    (DEFAULT, {"collector", "prometheus", "alertmanager", "tempo", "loki", "grafana"}),
    (JAEGER_LOADGEN, {"collector", "prometheus", "alertmanager", "jaeger", "loki", "grafana", "loadgen"}),
    (NO_AUTH, {"collector", "prometheus", "alertmanager", "tempo", "loki", "grafana"}),
    # External traces and logs (docs/external-backends.md): their bundled stores are not run.
    (EXTERNAL_PUSH, {"collector", "prometheus", "alertmanager", "grafana"}),
])
@pulumi.runtime.test
def test_resource_graph(config, roles):
    _, res = deploy(config)

    def check(res):
        assert set(res[STACK]) == {"llmobs"}
        assert set(res[NETWORK]) == {"llmobs-network"}
        assert set(res[CONTAINER]) == {f"llmobs-{r}" for r in roles}
        # Every image pulled by its pin but the gateway's, built from the distribution.
        assert set(res[IMAGE]) == {f"llmobs-{r}-image" for r in roles - {"collector"}}
        assert set(res[BUILT]) == {"llmobs-collector-image"}
        s = settings_of(config)
        with_data = {svc.name for svc in services(s) if svc.data_dir}
        assert set(res[VOLUME]) == {f"llmobs-{r}-data" for r in with_data}
        generated = {"llmobs-grafana-admin-password", "llmobs-grafana-secret-key", "llmobs-content-hash-key"} | (
            {"llmobs-ingest-token"} if s.ingest.auth else set())
        assert set(res.get(PASSWORD, {})) == generated
        for name, c in containers(res).items():
            role = name.removeprefix("llmobs-")
            assert c["name"] == f"llmobs-{role}" and c["hostname"] == role
            assert c["networksAdvanced"] == [{"name": "llmobs-net", "aliases": [role]}]
            assert c["restart"] == "unless-stopped"
            if role == "collector":   # the built image, by its content tag
                assert c["image"] == res[BUILT]["llmobs-collector-image"]["imageName"]
            else:
                assert c["image"] == f"sha256:{res[IMAGE][name + '-image']['name']}"   # the pulled image
    return res.apply(check)


@pulumi.runtime.test
def test_given_secrets_generate_nothing():
    _, res = deploy(DEFAULT, **{k: GIVEN[k] for k in ("grafana_admin_password", "ingest_token", "grafana_secret_key",
                                                      "content_hash_key")})
    return res.apply(lambda res: _assert(PASSWORD not in res))


def _assert(cond, msg="check failed"):
    assert cond, msg


@pytest.mark.parametrize("config", [DEFAULT, JAEGER_LOADGEN])
@pulumi.runtime.test
def test_collector_exporter_hosts_are_network_aliases(config):
    _, res = deploy(config)

    def check(res):
        aliases = {a for c in containers(res).values() for n in c["networksAdvanced"] for a in n["aliases"]}
        collector = yaml.safe_load(render_all(settings_of(config))["collector/config.yaml"])
        hosts = {urlparse(e["endpoint"] if "://" in e["endpoint"] else "grpc://" + e["endpoint"]).hostname
                 for e in collector["exporters"].values() if "endpoint" in e}
        assert hosts and hosts <= aliases, f"exporters send to {hosts - aliases}, not on the network"
    return res.apply(check)


# --- security and hygiene checks ---------------------------------------------------

@pytest.mark.parametrize("config", [DEFAULT, JAEGER_LOADGEN])
@pulumi.runtime.test
def test_every_published_port_is_loopback_only(config):
    _, res = deploy(config)

    def check(res):
        published = 0
        for name, c in containers(res).items():
            for port in c.get("ports") or []:
                published += 1
                assert port.get("ip") == "127.0.0.1", f"{name} publishes {port} beyond loopback"
            assert not c.get("publishAllPorts"), name
            assert c.get("networkMode") in (None, "bridge"), f"{name}: network mode {c.get('networkMode')}"
        assert published >= 6   # collector grpc/http/health, grafana, prometheus, traces ...
    return res.apply(check)


PINNED = re.compile(r"^[a-z0-9./_-]+(:(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$")


def pinned(ref: str) -> bool:
    match = PINNED.match(ref)
    return bool(match) and bool(match.group(1) or match.group(2))


@pulumi.runtime.test
def test_the_gateway_image_is_built_from_the_distribution_tagged_by_content_and_not_pushed():
    from collector_config import image as distribution
    _, res = deploy(DEFAULT)

    def check(res):
        built = res[BUILT]["llmobs-collector-image"]
        assert built["imageName"] == f"llmobs/otelcol-llmobs:{distribution.content_tag()}"
        assert built["skipPush"] is True and "registry" not in built
        root = distribution.DISTRIBUTION
        assert built["build"] == {"context": str(root), "dockerfile": str(root / "Dockerfile"),
                                  "args": {"GO_IMAGE": "golang:1.26.8-bookworm", "OCB_VERSION": "v0.161.0"}}
        # The container starts only once the image exists: it names the Image's output.
        assert containers(res)["llmobs-collector"]["image"] == built["imageName"]
    return res.apply(check)


@pulumi.runtime.test
def test_a_given_collector_image_is_pulled_not_built():
    own = {"repository": "ghcr.io/acme/otelcol-llmobs", "tag": "0.161.0-1", "digest": "sha256:" + "d" * 64}
    _, res = deploy({"target": "docker", "collector": {"image": own}})

    def check(res):
        assert BUILT not in res
        assert res[IMAGE]["llmobs-collector-image"]["name"] == f"{own['repository']}:{own['tag']}@{own['digest']}"
    return res.apply(check)


def test_pin_rule():
    assert pinned("grafana/loki:3.5.0") and pinned("python@sha256:" + "a" * 64)
    assert not pinned("grafana/loki") and not pinned("grafana/loki:latest")


@pytest.mark.parametrize("config", [DEFAULT, JAEGER_LOADGEN,
                                    {"target": "docker", "versions": {"grafana": "12.1.1@sha256:" + "b" * 64}}])
@pulumi.runtime.test
def test_every_image_is_pinned(config):
    _, res = deploy(config)

    def check(res):
        for name, image in res[IMAGE].items():
            assert pinned(image["name"]), f"{name}: {image['name']!r} is not pinned by tag or digest"
        for name, image in res[BUILT].items():
            assert pinned(image["imageName"]), f"{name}: {image['imageName']!r} is not tagged"
    return res.apply(check)


@pytest.mark.parametrize("config", [DEFAULT, JAEGER_LOADGEN, PERSISTENT_QUEUE])
@pulumi.runtime.test
def test_every_container_has_a_health_check_limits_and_a_non_root_user(config):
    _, res = deploy(config)

    def check(res):
        for name, c in containers(res).items():
            hc = c.get("healthcheck") or {}
            assert hc.get("tests") and hc["tests"][0] == "CMD" and len(hc["tests"]) > 1, f"{name}: no health check"
            assert hc.get("interval") and hc.get("retries", 0) > 0, f"{name}: health check never runs"
            assert c.get("memory", 0) > 0, f"{name}: no memory limit"
            assert c.get("user") and c["user"].split(":")[0] not in ("0", "root"), f"{name}: runs as root"
            assert "no-new-privileges:true" in c.get("securityOpts", [])
    return res.apply(check)


@pytest.mark.parametrize("config", [DEFAULT, JAEGER_LOADGEN, PERSISTENT_QUEUE])
@pulumi.runtime.test
def test_data_dirs_are_named_volumes_not_host_paths(config):
    _, res = deploy(config)

    def check(res):
        volumes = {v["name"] for v in res.get(VOLUME, {}).values()}
        by_role = {svc.name: svc for svc in services(settings_of(config))}
        for name, c in containers(res).items():
            svc = by_role.get(name.removeprefix("llmobs-"))
            mounts = c.get("volumes") or []
            assert all("hostPath" not in m for m in mounts), f"{name} mounts a host path"
            assert not c.get("mounts"), f"{name} has bind mounts"
            if svc and svc.data_dir:
                assert {"volumeName": f"llmobs-{svc.name}-data", "containerPath": svc.data_dir} in mounts
            assert {m["volumeName"] for m in mounts} <= volumes
        collector = containers(res)["llmobs-collector"]
        queue = {"volumeName": "llmobs-collector-data", "containerPath": collector_config.QUEUE_DIR}
        assert (queue in (collector.get("volumes") or [])) == (config is PERSISTENT_QUEUE)
        assert f"GOMEMLIMIT={1024 * 80 // 100}MiB" in collector["envs"]
    return res.apply(check)


# --- the same artifacts as every other target --------------------------------------

@pytest.mark.parametrize("config", [DEFAULT, JAEGER_LOADGEN, NO_AUTH,
                                    {"target": "docker", "content": {"mode": "drop"},
                                     "sampling": {"keep_fraction": 0.5}}])
@pulumi.runtime.test
def test_uploaded_configs_are_byte_identical_to_render_all(config):
    """The cross-target guarantee: the Kubernetes target compares its ConfigMaps with
    render_all() too, so equal settings give both targets byte-identical artifacts."""
    _, res = deploy(config)
    expected = render_all(settings_of(config))

    def check(res):
        placed: dict[str, str] = {}
        for name, c in containers(res).items():
            for up in c.get("uploads") or []:
                if up["file"].startswith("/etc/llmobs/") and not up["file"].startswith("/etc/llmobs/secrets/"):
                    rel = up["file"].removeprefix("/etc/llmobs/")
                    assert placed.setdefault(rel, up["content"]) == up["content"], rel
                    assert up["content"] == expected[rel], f"{name}: {rel} differs from render_all()"
                    assert "source" not in up, f"{name}: {rel} uploaded from a host path"
        assert placed == expected   # every artifact placed, nothing else, byte for byte
    return res.apply(check)


# --- secrets -------------------------------------------------------------------------

@pytest.mark.parametrize("config, given", [
    (DEFAULT, {}),
    (JAEGER_LOADGEN, {}),
    (WEBHOOK, GIVEN),
])
@pulumi.runtime.test
def test_no_secret_in_args_or_plain_env(config, given):
    stack, res = deploy(config, **given)
    by_role = {svc.name: svc for svc in services(settings_of(config))}

    def check(args):
        res, admin, token = args
        values = {admin, *([token] if token else []), *given.values()}
        if "grafana_secret_key" not in given:
            values.add("generated-llmobs-grafana-secret-key")
        for name, raw in res[CONTAINER].items():
            role = name.removeprefix("llmobs-")
            c, secret_inputs = unwrap(raw)
            flat = repr({k: v for k, v in c.items() if k not in ("envs", "uploads")})
            assert not any(v in flat for v in values), f"{name}: a secret in its args, labels or image"
            for entry in c.get("envs") or []:
                key, _, value = entry.partition("=")
                assert not any(v in value for v in values), f"{name}: secret in env {key}; upload it as a file"
            for up in c.get("uploads") or []:
                if up["content"] in values:
                    assert up["file"].startswith("/etc/llmobs/secrets/"), up["file"]
                    assert up["content"] in secret_inputs, f"{name}: {up['file']} not marked secret"
                    assert up["permissions"] == "0400" and up["owner"] == c["user"], up["file"]
                else:
                    assert not any(v in up["content"] for v in values), f"{name}: secret inside {up['file']}"
        grafana = containers(res)["llmobs-grafana"]
        assert any(u["file"] == "/etc/llmobs/secrets/grafana_admin_password" and u["content"] == admin
                   for u in grafana["uploads"])
        assert "GF_SECURITY_ADMIN_PASSWORD__FILE=/etc/llmobs/secrets/grafana_admin_password" in grafana["envs"]
        key = given.get("grafana_secret_key", "generated-llmobs-grafana-secret-key")
        assert any(u["file"] == "/etc/llmobs/secrets/grafana_secret_key" and u["content"] == key
                   for u in grafana["uploads"])
        assert "GF_SECURITY_SECRET_KEY__FILE=/etc/llmobs/secrets/grafana_secret_key" in grafana["envs"]
        # A changed password takes effect: the container resets it from the file, then runs
        # the image's entrypoint with its own arguments.
        sh, flag, script, entry = grafana["entrypoints"]
        assert (sh, flag, entry) == ("sh", "-c", "/run.sh")
        assert "reset-admin-password --password-from-stdin < /etc/llmobs/secrets/grafana_admin_password" in script
        assert script.endswith('&& exec "$0" "$@"')
        assert not any("entrypoints" in c for n, c in containers(res).items() if n != "llmobs-grafana")
    return pulumi.Output.all(res, stack.grafana_admin_password, stack.ingest_token).apply(check)


@pulumi.runtime.test
def test_password_and_token_outputs_are_secret():
    stack, res = deploy(DEFAULT)

    async def secretness():
        return (await stack.grafana_admin_password.is_secret(), await stack.ingest_token.is_secret())

    def check(args):
        res, flags, admin, token = args
        assert flags == (True, True)
        assert admin == "generated-llmobs-grafana-admin-password"
        assert token == "generated-llmobs-ingest-token"
        collector = containers(res)["llmobs-collector"]
        # The gateway reads the token from an uploaded secret file, never from env.
        assert any(u["file"] == "/etc/llmobs/secrets/ingest_token" and u["content"] == token
                   for u in collector["uploads"])
        assert not any(token in e for e in collector.get("envs") or [])
    return pulumi.Output.all(res, pulumi.Output.from_input(secretness()), stack.grafana_admin_password,
                             stack.ingest_token).apply(check)


KEY_FILE = "/etc/llmobs/secrets/content_hash_key"


@pytest.mark.parametrize("given", [{}, {"content_hash_key": GIVEN["content_hash_key"]}], ids=["generated", "given"])
@pulumi.runtime.test
def test_the_content_hash_key_is_a_secret_file_the_gateway_reads(given):
    _, res = deploy(DEFAULT, **given)

    def check(res):
        key = given.get("content_hash_key", "generated-llmobs-content-hash-key")
        if given:
            assert "llmobs-content-hash-key" not in res.get(PASSWORD, {})
        else:   # generated once, long enough for an HMAC key
            assert res[PASSWORD]["llmobs-content-hash-key"]["length"] == 64
        raw = res[CONTAINER]["llmobs-collector"]
        collector, in_secrets = unwrap(raw)
        (upload,) = [u for u in collector["uploads"] if u["file"] == KEY_FILE]
        assert upload["content"] == key and upload["permissions"] == "0400" and upload["owner"] == "10001"
        assert key in in_secrets   # sent to the provider inside a secret envelope
        # The config names the file, never the key; no env, no other upload, no other container has it.
        config = next(u["content"] for u in collector["uploads"] if u["file"] == "/etc/llmobs/collector/config.yaml")
        redactors = [p for n, p in yaml.safe_load(config)["processors"].items() if n.startswith("llmredact/") and "content" in p]
        assert redactors and all(p["hash"] == "hmac" and p["hash_key_file"] == KEY_FILE for p in redactors)
        others = [u["content"] for u in collector["uploads"] if u["file"] != KEY_FILE]
        assert not any(key in text for text in others) and not any(key in e for e in collector.get("envs") or [])
        for name, c in containers(res).items():
            if name != "llmobs-collector":
                assert key not in str(c), name
    return res.apply(check)


def test_a_short_content_hash_key_fails_the_deploy_not_the_gateway():
    """The gateway refuses a key under 16 bytes at start; the stack refuses it first."""
    @pulumi.runtime.test
    def run():
        _, res = deploy(DEFAULT, content_hash_key="short-key\n")
        return res
    with pytest.raises(ValueError, match=r"llmobs:content_hash_key: 9 bytes; the gateway wants at least 16") as err:
        run()
    assert "short-key" not in str(err.value)


@pulumi.runtime.test
def test_sha256_content_hashes_need_no_key():
    _, res = deploy({"target": "docker", "content": {"hash": "sha256"}})

    def check(res):
        assert "llmobs-content-hash-key" not in res[PASSWORD]
        collector = containers(res)["llmobs-collector"]
        assert not [u for u in collector["uploads"] if u["file"] == KEY_FILE]
        config = next(u["content"] for u in collector["uploads"] if u["file"] == "/etc/llmobs/collector/config.yaml")
        assert "hash_key_file" not in config and "hash: sha256" in config
    return res.apply(check)


# --- outputs and loadgen ---------------------------------------------------------

@pytest.mark.parametrize("config, traces", [(DEFAULT, "http://127.0.0.1:3200"),
                                            (JAEGER_LOADGEN, "http://127.0.0.1:16686")])
@pulumi.runtime.test
def test_outputs(config, traces):
    stack, res = deploy(config)

    def check(v):
        assert v[1:] == ["http://127.0.0.1:3000", "http://127.0.0.1:4317", "http://127.0.0.1:4318",
                         "http://127.0.0.1:9090", traces, "admin", "llmobs"]
    return pulumi.Output.all(res, stack.grafana_url, stack.otlp_grpc_endpoint, stack.otlp_http_endpoint,
                             stack.prometheus_url, stack.traces_url, stack.grafana_admin_user,
                             stack.namespace).apply(check)


@pulumi.runtime.test
def test_loadgen_runs_the_chosen_scenario_against_the_collector():
    _, res = deploy(JAEGER_LOADGEN)

    def check(res):
        lg = containers(res)["llmobs-loadgen"]
        script = lg["command"][-1]
        assert lg["command"][:2] == ["sh", "-c"]
        assert ("python -m stackctl loadgen --endpoint http://collector:4317 --scenario tenant_cost_spike "
                "--rate 5 --duration 86400") in script
        assert "/etc/llmobs/secrets/ingest_token" in script and "generated" not in script
        files = {u["file"] for u in lg["uploads"]}
        assert {"/app/stackctl/__main__.py", "/app/settings/versions.yaml",
                "/app/requirements-loadgen.txt"} <= files
        assert not any(f.startswith(("/app/components/", "/app/tests/")) for f in files)
        req = next(u["content"] for u in lg["uploads"] if u["file"] == "/app/requirements-loadgen.txt")
        assert "opentelemetry-sdk" in req and "pulumi" not in req
        assert res[IMAGE]["llmobs-loadgen-image"]["name"].startswith("python:")
    return res.apply(check)


# --- failures before anything is registered ------------------------------------

@pytest.mark.parametrize("config, given, message", [
    ({"target": "docker", "sampling": {"keep_fraction": 2}}, {}, "llmobs:sampling.keep_fraction"),
    ({"target": "docker", "bogus": 1}, {}, "bogus: unknown key"),
    ({"target": "docker", "versions": {"loki": "latest"}}, {}, "latest"),
    ({**KUBE}, {}, "llmobs:target: 'kubernetes' is not a docker stack; DockerStack deploys stacks with llmobs:target "
                   "docker"),
    (WEBHOOK, {}, "llmobs:alert_webhook_url"),
])
def test_bad_config_fails_before_any_resource_is_registered(config, given, message):
    @pulumi.runtime.test
    def attempt():
        with pytest.raises(SettingsError, match=re.escape(message)):
            DockerStack("llmobs", {"config": config, **given})

    attempt()   # returns once every registration the attempt started has reached the mocks
    assert MOCKS.resources == [], f"registered before failing: {[n for _, n, _ in MOCKS.resources]}"


def test_units():
    assert planning.mebibytes("256Mi") == 256 and planning.mebibytes("4Gi") == 4096
    assert planning.cpus("500m") == "0.5" and planning.cpus("2") == "2"
    with pytest.raises(ValueError):
        planning.mebibytes("1G")


@pulumi.runtime.test
def test_dev_stack_file_needs_nothing_else():
    """Pulumi.dev.yaml, the embedded default, deploys with no secret set: the password and
    the token (and the content hash key) are generated, the loadgen runs."""
    from pathlib import Path

    from settings.load import split_stack_config

    doc = yaml.safe_load((Path(__file__).resolve().parent.parent / "Pulumi.dev.yaml").read_text())
    config, secrets = split_stack_config(doc["config"])
    assert secrets == {}
    stack, res = deploy(config)

    def check(res):
        assert "llmobs-loadgen" in res[CONTAINER]
        assert set(res[PASSWORD]) == {"llmobs-grafana-admin-password", "llmobs-grafana-secret-key", "llmobs-ingest-token",
                                      "llmobs-content-hash-key"}
        # The gateway's image is built from the distribution, and the collector runs it.
        from collector_config import image as distribution
        built = res[BUILT]["llmobs-collector-image"]
        assert built["build"]["context"] == str(distribution.DISTRIBUTION) and built["skipPush"] is True
        assert containers(res)["llmobs-collector"]["image"] == built["imageName"]
    return res.apply(check)


def test_loadgen_requirements_leave_out_pulumi_and_includes():
    """The loadgen image's requirements: no Pulumi SDKs, no `-r` includes (their files are not uploaded)."""
    from components.docker.loadgen import requirements
    text = "pulumi==3.1\npulumi-docker==4\n-r requirements-dev.txt\nPulumi-Random==4\nopentelemetry-sdk==1.2\n  -r x.txt\n"
    assert requirements(text) == "opentelemetry-sdk==1.2\n"


def test_memory_quantities_in_mebibytes():
    from components.docker.plan import mebibytes
    assert (mebibytes("256Mi"), mebibytes("4Gi"), mebibytes("512Ki"), mebibytes("1Ti"), mebibytes("1Ki")) == (256, 4096, 1, 1048576, 1)   # 512Ki and 1Ki: at least 1
    # Whole mebibytes from kibibytes and from plain bytes (a quantity without a suffix).
    assert (mebibytes("3072Ki"), mebibytes("2097152"), mebibytes("1")) == (3, 2, 1)
    with pytest.raises(ValueError, match=re.escape("unsupported memory quantity '1G'; use Ki, Mi, Gi or Ti")):
        mebibytes("1G")


def test_health_check_timing_by_hand():
    """How long Docker waits before it calls a container unhealthy: an HTTP check every 15 s, 5 s each,
    unhealthy after 5 failures past a 30 s start; the gateway's self-check (`validate` loads every
    component factory) every 60 s, 20 s each, after 3 failures."""
    from components.docker import health
    http = health.for_http("grafana/grafana:12.1.0", 3000, "/api/health")
    assert (http.interval, http.timeout, http.retries, http.start_period) == ("15s", "5s", 5, "30s")
    own = health.for_http("ghcr.io/acme/otelcol-llmobs:1", 13133, "/", config="/etc/otelcol/config.yaml",
                          self_checks={"ghcr.io/acme/otelcol-llmobs": health.OWN_COLLECTOR})
    assert (own.interval, own.timeout, own.retries, own.start_period) == ("60s", "20s", 3, "30s")


def test_a_self_check_without_its_config_path_is_refused_by_name():
    from components.docker import health
    with pytest.raises(ValueError) as err:
        health.for_http("ghcr.io/acme/otelcol-llmobs:1", 13133, "/",
                        self_checks={"ghcr.io/acme/otelcol-llmobs": health.OWN_COLLECTOR})
    assert str(err.value) == "ghcr.io/acme/otelcol-llmobs: its self-check needs the path of its config file"
