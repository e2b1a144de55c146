"""Backend renderers take a Placement; up-local runs their output as rendered (issue #15 item 10)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from backends import jaeger, prometheus, services
from backends.common import CONTAINER, ROOT, Placement
from settings import validate
from stackctl.up_local import LocalStack, placements
from up_local_run import stack_file_for_tests
from stacks import KUBE

FAKE_BINS = {name: f"/nonexistent/{name}" for name in ("prometheus", "alertmanager", "jaeger", "collector")}


@pytest.fixture()
def prepared(tmp_path):
    stack = LocalStack(stack_file_for_tests(tmp_path), tmp_path / "work", binaries=FAKE_BINS)
    stack.prepare()
    return stack


def test_local_files_are_exactly_the_renderers_output_for_the_placement(prepared):
    local = prepared.workdir / "local"
    places = placements(prepared.ports, local, prepared.workdir / "data")
    s = prepared.settings
    for rel, text in {**prometheus.render(s, places["prometheus"]), **jaeger.render(s, places["jaeger"])}.items():
        assert (local / rel).read_text() == text, rel


def test_a_local_run_names_no_container_path_host_or_port(prepared):
    local = prepared.workdir / "local"
    text = "\n".join(p.read_text() for p in local.rglob("*") if p.is_file())
    argv = json.dumps([proc.argv for proc in prepared.procs])
    for where in (text, argv):
        assert ROOT not in where
        assert "0.0.0.0" not in where
    prom = yaml.safe_load((local / "prometheus/prometheus.yml").read_text())
    assert prom["rule_files"] == [f"{local}/prometheus/rules/*.yml"]
    assert prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == \
        [f"127.0.0.1:{prepared.ports.alertmanager}"]
    assert {j["job_name"] for j in prom["scrape_configs"]} == {"collector", "prometheus", "alertmanager", "jaeger"}
    assert any("scrape job 'loki' dropped" in n for n in prepared.notes)


def test_the_default_placement_is_the_containers():
    s = validate({**KUBE})
    assert prometheus.config(s)["rule_files"] == [f"{ROOT}/prometheus/rules/*.yml"]
    assert prometheus.config(s) == prometheus.config(s, CONTAINER)
    assert jaeger.config(s)["extensions"]["jaeger_query"]["http"]["endpoint"] == f"0.0.0.0:{jaeger.QUERY_PORT}"
    assert "--web.listen-address=0.0.0.0:9090" in services.prometheus(s, {}).args
    badger = jaeger.config(s, Placement(root="/w", data="/w/data/jaeger", ports={p: p + 1 for p in (
        4317, 4318, jaeger.QUERY_PORT, jaeger.GRPC_QUERY_PORT, jaeger.HEALTH_PORT, jaeger.METRICS_PORT)}))
    dirs = badger["extensions"]["jaeger_storage"]["backends"][jaeger.STORE]["badger"]["directories"]
    assert dirs == {"keys": "/w/data/jaeger/keys", "values": "/w/data/jaeger/values"}


def test_a_port_the_placement_does_not_map_is_an_error_naming_it():
    s = validate({"target": "docker"})
    with pytest.raises(ValueError, match="port 16686"):
        jaeger.config(s, Placement(host="127.0.0.1", ports={p: 1 for p in (
            4317, 4318, jaeger.GRPC_QUERY_PORT, jaeger.HEALTH_PORT, jaeger.METRICS_PORT)}))


def test_remote_write_and_receivers_are_off_locally_and_said(tmp_path):
    stack = LocalStack(stack_file_for_tests(tmp_path, prometheus={"remote_write": [{"url": "https://m.example/w"}]},
                                            alerts={"receivers": {"critical": "pagerduty"}}),
                       tmp_path / "work", binaries=FAKE_BINS)
    stack.prepare()
    assert stack.settings.prometheus.remote_write == ()
    assert "pagerduty_configs" not in (stack.workdir / "local/alertmanager/alertmanager.yml").read_text()
    assert any("PagerDuty" in n for n in stack.notes)
    assert "remote_write" not in yaml.safe_load(Path(stack.workdir / "local/prometheus/prometheus.yml").read_text())
    assert any("remote_write" in n for n in stack.notes)


def _key_files(config_path: Path) -> set[str]:
    processors = yaml.safe_load(config_path.read_text())["processors"]
    return {p["hash_key_file"] for name, p in processors.items() if name.startswith("llmredact/") and "content" in p}


def test_up_local_generates_the_content_hash_key_file_and_keeps_it(tmp_path):
    """content.hash hmac (the default) on up-local: a key file beside the token, as the targets
    mount it; generated once per work directory and kept, so its runs' hashes stay joinable."""
    stack = LocalStack(stack_file_for_tests(tmp_path), tmp_path / "work", binaries=FAKE_BINS)
    stack.prepare()
    key_file = stack.workdir / "secrets" / "content_hash_key"
    key = key_file.read_text()
    assert len(key.rstrip("\r\n").encode()) >= 16 and key_file.stat().st_mode & 0o777 == 0o600
    config = stack.workdir / "local/collector/config.yaml"
    assert _key_files(config) == {str(key_file)} and key not in config.read_text()
    again = LocalStack(stack_file_for_tests(tmp_path), tmp_path / "work", binaries=FAKE_BINS)
    again.prepare()
    assert key_file.read_text() == key
    other = LocalStack(stack_file_for_tests(tmp_path), tmp_path / "other", binaries=FAKE_BINS)
    other.prepare()
    assert (other.workdir / "secrets" / "content_hash_key").read_text() != key
