"""Both targets place the debug store, its access pieces and the forwarders (Pulumi mocks)."""
from __future__ import annotations

import json

import pulumi
import pytest

import test_docker_stack as docker_t   # installs the Docker mocks
import test_kubernetes as k8s_t        # installs the Kubernetes mocks
import alerts
from alerts import audit
from backends import debug_access
from settings import validate
from artifacts import render_all
from stacks import KUBE

OPT_IN = {
    "debug": {"enabled": True, "tenants": ["acme"], "viewers": ["alice"]},
    "forwarding": [{"name": "langfuse", "endpoint": "https://cloud.langfuse.com/api/public/otel", "auth": "basic"},
                   {"name": "phoenix", "endpoint": "http://phoenix.observability:6006", "auth": "none"}],
}
TOKENS = {"langfuse": "cGstbGY6c2stbGY-secret"}


def test_kubernetes_places_debug_access_and_forwarder_tokens():
    k8s_t.install_mocks()
    secrets = {**k8s_t.SECRETS, "forward_tokens": json.dumps(TOKENS)}
    g = k8s_t.build({**KUBE, **OPT_IN}, secrets)
    rendered = render_all(validate({**KUBE, **OPT_IN}))
    assert k8s_t.check_schema(g.objects(), "1.33") == []
    assert k8s_t.check_no_secret_leaks(g.objects(), [*k8s_t.SECRETS.values(), TOKENS["langfuse"]]) == []
    # The forwarder's token reaches the agent tier as a mounted file, from its own Secret key.
    secret = g.get("Secret", "collector-secrets")
    assert secret["stringData"]["forward_tokens.langfuse"] == TOKENS["langfuse"]
    pod = g.get("Deployment", "collector")["spec"]["template"]["spec"]
    items = [i for src in [v for v in pod["volumes"] if v["name"] == "config"][0]["projected"]["sources"]
             if "secret" in src for i in src["secret"]["items"]]
    assert ("forward_tokens.langfuse", "secrets/forward_langfuse") in [(i["key"], i["path"]) for i in items]
    assert "phoenix" not in json.dumps(items)   # no auth, no token
    # The agent tier may reach both forwarders (443 outside, 6006 outside the namespace).
    policy = g.get("NetworkPolicy", "collector")
    ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule.get("ports", [])}
    assert {443, 6006} <= ports
    # Grafana: the bootstrap runs as a postStart hook; the debug org's data source file is mounted.
    grafana = g.get("StatefulSet", "grafana")["spec"]["template"]["spec"]
    hook = grafana["containers"][0]["lifecycle"]["postStart"]["exec"]["command"]
    assert hook[:2] == ["sh", "-c"] and debug_access.DATASOURCE_FILE.split("/", 1)[1] in hook[2]
    placed = {key for cm in g.of_kind("ConfigMap") for key in cm.get("data", {})}
    for path in (debug_access.DATASOURCE_FILE, "grafana/dashboards/audit/audit.json", "loki/runtime.yaml"):
        assert path.replace("/", "__") in placed, path
        assert path in rendered
    # The access audit alert is one of Prometheus' rules (routed to its team like every alert).
    rules = next(cm["data"][key] for cm in g.of_kind("ConfigMap") for key in cm.get("data", {})
                 if key == alerts.RULES_FILE.replace("/", "__"))
    assert rules == rendered[alerts.RULES_FILE] and f"alert: {audit.NAME}\n" in rules


def test_kubernetes_without_the_opt_in_places_none_of_it():
    k8s_t.install_mocks()
    g = k8s_t.graph("default")
    grafana = g.get("StatefulSet", "grafana")["spec"]["template"]["spec"]
    assert "lifecycle" not in grafana["containers"][0]
    assert "forward_tokens" not in json.dumps(g.get("Secret", "collector-secrets"))


@pulumi.runtime.test
def test_docker_places_debug_access_and_forwarder_tokens():
    docker_t.MOCKS.resources.clear()
    pulumi.runtime.set_mocks(docker_t.MOCKS, preview=False)
    config = {"target": "docker", **OPT_IN}
    _, res = docker_t.deploy(config, forward_tokens=json.dumps(TOKENS))
    expected = render_all(validate(config))

    def check(res):
        found = docker_t.containers(res)
        collector = found["llmobs-collector"]
        uploads = {u["file"]: u for u in collector["uploads"]}
        token = uploads["/etc/llmobs/secrets/forward_langfuse"]
        assert token["permissions"] == "0400"
        _, secret_values = docker_t.unwrap(res[docker_t.CONTAINER]["llmobs-collector"])
        assert TOKENS["langfuse"] in secret_values   # uploaded, and marked secret
        grafana = found["llmobs-grafana"]
        script = grafana["entrypoints"][2]
        assert "/api/orgs" in script and script.endswith('exec "$0" "$@"')
        files = {u["file"].removeprefix("/etc/llmobs/") for u in grafana["uploads"]}
        assert {debug_access.DATASOURCE_FILE, "grafana/dashboards/audit/audit.json"} <= files
        loki = {u["file"].removeprefix("/etc/llmobs/"): u["content"] for u in found["llmobs-loki"]["uploads"]}
        assert loki["loki/runtime.yaml"] == expected["loki/runtime.yaml"]
    return res.apply(check)


def test_docker_needs_the_token_of_a_forwarder_that_authenticates():
    from components.docker import DockerStack
    from settings import SettingsError
    pulumi.runtime.set_mocks(docker_t.MOCKS, preview=False)
    with pytest.raises(SettingsError, match="forward_tokens.langfuse"):
        DockerStack("llmobs", {"config": {"target": "docker", **OPT_IN}})
