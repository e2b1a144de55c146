"""External backends on the docker target, under Pulumi mocks (a laptop gateway pushing to the
backends a team already runs): the configs of the containers that run are render_all's, byte for
byte; an external backend's token is a secret file only the gateway reads; a Grafana reached
through its API gets the bundled dashboards' JSON; bad input fails before any resource.

tests/test_docker_stack.py holds the mocks and the resource graph of each mode."""
from __future__ import annotations

import re

import pulumi
import pytest

from test_docker_stack import (CLOUD_TOKENS, CONTAINER, EXTERNAL_PUSH, LAPTOP_ON_GRAFANA_CLOUD, MOCKS,  # noqa: F401
                               containers, deploy, fresh_mocks, unwrap)

import dashboards
from artifacts import render_all
from components.docker import DockerStack
from settings import SettingsError, validate

SECRETS_DIR = "/etc/llmobs/secrets/"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
PROVIDER = "pulumi:providers:grafana"


def _placed(res) -> dict[str, str]:
    """{artifact path: content} of every config file uploaded to a container."""
    placed: dict[str, str] = {}
    for name, c in containers(res).items():
        for up in c.get("uploads") or []:
            if up["file"].startswith("/etc/llmobs/") and not up["file"].startswith(SECRETS_DIR):
                rel = up["file"].removeprefix("/etc/llmobs/")
                assert placed.setdefault(rel, up["content"]) == up["content"], rel
    return placed


@pulumi.runtime.test
def test_external_traces_and_logs_leave_every_other_artifact_placed_byte_for_byte():
    """Tempo and Loki are external: nothing of theirs is rendered, everything else runs as bundled."""
    _, res = deploy(EXTERNAL_PUSH)
    expected = render_all(validate(EXTERNAL_PUSH))

    def check(res):
        assert not [p for p in expected if p.startswith(("tempo/", "jaeger/", "loki/"))]
        assert _placed(res) == expected
    return res.apply(check)


@pulumi.runtime.test
def test_a_gateway_only_stack_places_the_gateway_config_and_leaves_the_rest_to_the_api_and_the_team():
    """Everything external: the one container gets render_all's collector config; the dashboards
    and the Grafana alert rules go through the Grafana API (below), and the recording rules are
    the team's to load (stackctl render writes them): no container of the stack uploads them."""
    stack, res = deploy(LAPTOP_ON_GRAFANA_CLOUD, **CLOUD_TOKENS)
    expected = render_all(validate(LAPTOP_ON_GRAFANA_CLOUD))
    ids = [r.id for r in stack.grafana_api.dashboards.values()]

    def check(args):
        res = args[0]
        assert _placed(res) == {"collector/config.yaml": expected["collector/config.yaml"]}
        assert "prometheus/rules/llm.rules.yml" in expected and "prometheus/prometheus.yml" not in expected
        assert not [p for p in expected if p.startswith(("alertmanager/", "grafana/grafana.ini", "grafana/provisioning/d"))]
    return pulumi.Output.all(res, *ids).apply(check)


@pulumi.runtime.test
def test_grafana_api_dashboards_on_docker_are_the_bundled_provisioning_json():
    stack, res = deploy(LAPTOP_ON_GRAFANA_CLOUD, **CLOUD_TOKENS)
    settings = validate(LAPTOP_ON_GRAFANA_CLOUD)
    bundled = dashboards.render(settings)
    ids = [r.id for r in stack.grafana_api.dashboards.values()]

    def check(_):
        placed = {name.removeprefix("llmobs-grafana-api-dashboard-"): inputs
                  for typ, name, inputs in MOCKS.resources if typ == DASHBOARD}
        assert set(placed) == {e.slug for e in dashboards.entries(settings)}
        for entry in dashboards.entries(settings):
            assert placed[entry.slug]["configJson"] == bundled[dashboards.path(entry)], entry.slug
    return pulumi.Output.all(res, *ids).apply(check)


@pulumi.runtime.test
def test_external_backend_tokens_are_secret_files_of_the_gateway_only():
    stack, res = deploy(LAPTOP_ON_GRAFANA_CLOUD, **CLOUD_TOKENS)
    ids = [r.id for r in stack.grafana_api.folders.values()]

    def check(args):
        res = args[0]
        tokens = {k: v for k, v in CLOUD_TOKENS.items() if k != "grafana_token"}
        for name, raw in res[CONTAINER].items():
            c, secret_inputs = unwrap(raw)
            flat = repr({k: v for k, v in c.items() if k != "uploads"})
            assert not any(v in flat for v in CLOUD_TOKENS.values()), f"{name}: a token in its args or env"
            for up in c.get("uploads") or []:
                key = up["file"].removeprefix(SECRETS_DIR)
                if key in tokens:   # (the engine wraps the whole uploads list once one element is secret)
                    assert up["content"] == tokens[key] and up["content"] in secret_inputs, up["file"]
                    assert up["permissions"] == "0400" and up["owner"] == c["user"], up["file"]
                else:
                    assert not any(v in up["content"] for v in CLOUD_TOKENS.values()), f"{name}: {up['file']}"
        collector = containers(res)["llmobs-collector"]
        assert {u["file"] for u in collector["uploads"]} >= {SECRETS_DIR + k for k in tokens}
        # The service-account token: the Grafana provider's, as a secret, and nowhere else.
        [provider] = [inputs for typ, _, inputs in MOCKS.resources if typ == PROVIDER]
        plain, secret = unwrap(provider)
        assert plain["auth"] == CLOUD_TOKENS["grafana_token"] and CLOUD_TOKENS["grafana_token"] in secret
        others = [inputs for typ, _, inputs in MOCKS.resources if typ != PROVIDER]
        assert CLOUD_TOKENS["grafana_token"] not in repr(others)
    return pulumi.Output.all(res, *ids).apply(check)


SIDECAR_ON_DOCKER = {"target": "docker", "backends": {"dashboards": {"mode": "external", "kind": "sidecar"}}}
MONITOR_ON_DOCKER = {"target": "docker", "backends": {
    "metrics": {"mode": "external", "remote_write_url": "https://prom.example/api/v1/write",
                "query_url": "https://prom.example", "monitor": "podmonitor", "selector_labels": {"release": "kps"}},
    "alerting": {"mode": "external", "kind": "team"}}}


@pytest.mark.parametrize("config, given, message", [
    (SIDECAR_ON_DOCKER, {}, "llmobs:backends.dashboards.kind: sidecar is for the Kubernetes target"),
    (MONITOR_ON_DOCKER, {}, "llmobs:backends.metrics.monitor: podmonitor is for the Kubernetes target"),
    (LAPTOP_ON_GRAFANA_CLOUD, {k: v for k, v in CLOUD_TOKENS.items() if k != "traces_token"}, "llmobs:traces_token"),
    (LAPTOP_ON_GRAFANA_CLOUD, {k: v for k, v in CLOUD_TOKENS.items() if k != "metrics_token"}, "llmobs:metrics_token"),
    (LAPTOP_ON_GRAFANA_CLOUD, {k: v for k, v in CLOUD_TOKENS.items() if k != "grafana_token"}, "llmobs:grafana_token"),
], ids=["sidecar", "podmonitor", "traces_token", "metrics_token", "grafana_token"])
def test_bad_external_input_fails_before_any_resource(config, given, message):
    @pulumi.runtime.test
    def attempt():
        with pytest.raises(SettingsError, match=re.escape(message)) as exc:
            DockerStack("llmobs", {"config": config, **given})
        assert not any(v in str(exc.value) for v in CLOUD_TOKENS.values())   # no credential in the message

    attempt()
    assert MOCKS.resources == [], f"registered before failing: {[n for _, n, _ in MOCKS.resources]}"


def test_a_duplicate_dashboard_uid_fails_the_docker_grafana_api_stack_before_any_resource(monkeypatch):
    monkeypatch.setattr(dashboards, "REGISTRY", dashboards.REGISTRY + (dashboards.REGISTRY[0],))

    @pulumi.runtime.test
    def attempt():
        with pytest.raises(SettingsError, match="is used twice"):
            DockerStack("llmobs", {"config": LAPTOP_ON_GRAFANA_CLOUD, **CLOUD_TOKENS})

    attempt()
    assert MOCKS.resources == []
