"""Backend configs and service specs: structure, links, secrets, pins; and the real
promtool / amtool on the rendered files."""
from __future__ import annotations

import configparser
import functools
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

import collector_config
from backends import common, grafana, rules, services as svc
from binaries import binary
from settings import SettingsError, load_stack_file, validate
from settings.load import SECRET_KEYS
import artifacts
from telemetry import keys as k
from telemetry.catalog import CATALOG, RESOURCE_LABELS
from stacks import KUBE

ROOT = Path(__file__).resolve().parent.parent

# A stack with every credential-bearing feature switched on.
SECRETS_CONFIG = {
    **KUBE,
    "alerts": {"receivers": {"kind": "webhook"}},
    "prometheus": {"remote_write": [{"url": "https://mimir.example.com/api/v1/push", "username": "tenant-a"},
                                    {"url": "https://backup.example.com/api/v1/write"}]},
}


def _stacks() -> dict:
    return {
        "dev": load_stack_file(ROOT / "Pulumi.dev.yaml"),
        "prod": load_stack_file(ROOT / "Pulumi.prod.yaml"),
        "secrets": validate(SECRETS_CONFIG),
        "slack-jaeger-gcs": validate({**KUBE, "traces": {"backend": "jaeger"},
                                      "alerts": {"receivers": {"kind": "slack"}},
                                      "storage": {"loki": {"type": "gcs", "bucket": "logs-b"}}}),
        "azure-noauth": validate({"target": "docker", "ingest": {"auth": False}, "storage": {
            "tempo": {"type": "azure", "bucket": "traces", "endpoint": "acct.blob.core.windows.net"},
            "loki": {"type": "azure", "bucket": "logs", "endpoint": "acct.blob.core.windows.net"}}}),
    }


STACKS = _stacks()


@functools.lru_cache(maxsize=None)
def render_all(settings):
    """Cached: the collector config is slow to render and Settings is frozen."""
    return artifacts.render_all(settings)


@pytest.fixture(params=sorted(STACKS))
def stack(request):
    return STACKS[request.param]


def _parse(path: str, text: str):
    if path.endswith((".yaml", ".yml")):
        return yaml.safe_load(text)
    if path.endswith(".json"):
        return json.loads(text)
    if path.endswith(".ini"):
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(text)
        return {s: dict(parser[s]) for s in parser.sections()}
    if path.endswith(".tmpl"):   # Alertmanager's notification templates: Go templates (amtool renders them)
        assert text.count("{{") == text.count("}}"), path
        return {"define": re.findall(r'\{\{ define "([^"]+)" \}\}', text)}
    raise AssertionError(f"no parser for {path}")


def test_every_file_parses_and_is_deterministic(stack):
    files = render_all(stack)
    assert files == artifacts.render_all(stack)
    for path, text in files.items():
        assert text.endswith("\n"), path
        assert isinstance(_parse(path, text), dict), path


def test_trace_backend_files_follow_the_setting(stack):
    files = render_all(stack)
    other = "jaeger" if stack.traces.backend == "tempo" else "tempo"
    assert any(p.startswith(f"{stack.traces.backend}/") for p in files)
    assert not any(p.startswith(f"{other}/") for p in files)


def _uid_refs(node) -> list[str]:
    if isinstance(node, dict):
        return [v for key, v in node.items() if key == "datasourceUid"] + \
            [r for v in node.values() for r in _uid_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _uid_refs(v)]
    return []


def test_datasources_link_to_each_other(stack):
    doc = yaml.safe_load(render_all(stack)["grafana/provisioning/datasources/datasources.yaml"])
    by_uid = {ds["uid"]: ds for ds in doc["datasources"]}
    assert len(by_uid) == len(doc["datasources"]), "duplicate uid"
    for uid, ds in by_uid.items():
        for ref in _uid_refs(ds):
            assert ref in by_uid, f"{uid} links to missing datasource {ref}"
    traces = by_uid[grafana.TRACES_UID]
    assert traces["type"] == stack.traces.backend
    assert {ref for ref in _uid_refs(by_uid[grafana.METRICS_UID])} == {grafana.TRACES_UID}
    assert set(_uid_refs(traces)) >= {grafana.LOGS_UID, grafana.METRICS_UID}
    assert traces["jsonData"]["tracesToLogsV2"]["filterByTraceID"] is True
    derived = by_uid[grafana.LOGS_UID]["jsonData"]["derivedFields"]
    assert {d["datasourceUid"] for d in derived} == {grafana.TRACES_UID}
    line = next(d for d in derived if d["matcherType"] == "regex")["matcherRegex"]
    for sample in ('trace_id=4bf92f3577b34da6', '"traceid": "4bf92f3577b34da6"', "traceID: 4bf92f3577b34da6"):
        assert re.search(line, sample).group(1) == "4bf92f3577b34da6", sample
    assert by_uid[grafana.ALERTMANAGER_UID]["type"] == "alertmanager"


# Values that would be credentials if they appeared inline.
SECRET_LITERALS = re.compile(
    r"(?im)^\s*-?\s*(password|api_url|bearer_token|credentials|secret|token|admin_password|"
    r"access_key_id|secret_access_key|account_key|storage_account_key)\s*[:=]")
CREDENTIAL_SHAPES = re.compile(r"AKIA[0-9A-Z]{16}|hooks\.slack\.com|xox[abp]-|sk-[A-Za-z0-9]{16}|://[^/\s:@]+:[^/\s@]+@")


def test_no_secret_literal_in_any_file():
    stack = STACKS["secrets"]
    files = render_all(stack)
    for path, text in files.items():
        if path.startswith("collector/"):
            continue  # the collector's own tests own its config
        assert not SECRET_LITERALS.search(text), f"{path}: {SECRET_LITERALS.search(text).group(0)}"
        assert not CREDENTIAL_SHAPES.search(text), path
    prom = yaml.safe_load(files["prometheus/prometheus.yml"])
    auth = [rw["basic_auth"] for rw in prom["remote_write"] if "basic_auth" in rw]
    assert auth == [{"username": "tenant-a", "password_file": common.secret_path(common.REMOTE_WRITE_PASSWORD)}]
    am = yaml.safe_load(files["alertmanager/alertmanager.yml"])
    (hook,) = [c for r in am["receivers"] for c in r.get("webhook_configs", [])]
    assert "url" not in hook and hook["url_file"] == common.secret_path(common.ALERT_WEBHOOK_URL)
    ini = _parse("grafana/grafana.ini", files["grafana/grafana.ini"])
    assert "admin_password" not in ini["security"]
    assert ini["auth.anonymous"]["enabled"] == "false"


def test_every_secret_file_a_config_reads_is_mounted():
    stack = STACKS["secrets"]
    files = render_all(stack)
    mounted = {common.secret_path(f) for s in svc.services(stack) for f, _ in s.secret_files}
    env_files = {v for s in svc.services(stack) for _, v in s.env if v.startswith(common.SECRETS_DIR)}
    read = set(re.findall(re.escape(common.SECRETS_DIR) + r"/\w+", "\n".join(files.values()))) | env_files
    assert read and read <= mounted


PROMQL_WORDS = {"sum", "by", "rate", "histogram_quantile", "le", "count", "count_over_time", "ln", "clamp_min", "label_replace", "or"}


def test_rule_metric_names_exist_in_catalog():
    doc = yaml.safe_load(render_all(STACKS["prod"])["prometheus/rules/llm.rules.yml"])
    series = {m.prometheus for m in CATALOG} | {m.prometheus + s for m in CATALOG if m.kind == "histogram"
                                                 for s in ("_bucket", "_sum", "_count")}
    labels = {rules.label(key) for m in CATALOG for key in m.labels} | {rules.label(key) for key in RESOURCE_LABELS}
    recorded = [r["record"] for g in doc["groups"] for r in g["rules"]]
    assert len(set(recorded)) == len(recorded), "a rule name repeats"
    for group in doc["groups"]:
        for rule in group["rules"]:
            assert re.fullmatch(r"[a-z_]*:[a-z0-9_]+:[a-z0-9_]+", rule["record"]), rule["record"]
            expr = re.sub(r"\[\w+\]", "", rule["expr"])  # range selectors like [5m]
            expr = re.sub(r'"[^"]*"', '""', expr)          # label values
            for token in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
                if ":" in token:
                    assert token in recorded, f"{rule['record']}: unknown recorded series {token}"
                else:
                    assert token in series | labels | PROMQL_WORDS, f"{rule['record']}: {token} not in the catalog"


def test_rules_refuse_names_outside_catalog():
    with pytest.raises(KeyError, match="not in telemetry/catalog.py"):
        rules.rate_rule("llm.not_a_metric", rules.PROVIDER_MODEL, "5m")
    with pytest.raises(ValueError):
        rules.quantile_rule("llm.requests", rules.PROVIDER_MODEL, "5m", 0.95)  # a counter has no buckets


def test_images_are_pinned(stack):
    for service in svc.services(stack):
        ref = service.image
        repository, _, tag = ref.rpartition("@")[0].rpartition(":") if "@" in ref else ref.rpartition(":")
        assert repository and "/" not in tag, f"{service.name}: {ref} has no tag"
        assert tag and tag != "latest", f"{service.name}: {ref} is not pinned"


def test_versions_override_changes_only_that_image():
    base = validate({"target": "docker"})
    digest = "v3.6.0@sha256:" + "a" * 64
    bumped = validate({"target": "docker", "versions": {"prometheus": digest}})
    assert svc.image(bumped, "prometheus") == f"prom/prometheus:{digest}"
    assert svc.image(base, "prometheus") != svc.image(bumped, "prometheus")
    assert svc.image(bumped, "loki") == svc.image(base, "loki")
    by_name = {s.name: s for s in svc.services(bumped)}
    assert by_name["prometheus"].image.endswith(digest)
    with pytest.raises(KeyError):
        svc.image(base, "not-a-service")


def test_service_specs_are_consistent(stack):
    files = render_all(stack)
    all_services = svc.services(stack)
    names = [s.name for s in all_services]
    assert len(set(names)) == len(names)
    assert {"collector", "prometheus", "alertmanager", stack.traces.backend, "loki", "grafana"} <= set(names)
    for s in all_services:
        assert s.config_files, s.name
        for key in s.config_files:
            assert key in files, f"{s.name} mounts {key}, which render_all does not produce"
        for arg in s.args:
            for path in re.findall(re.escape(common.ROOT) + r"/[\w./-]+", arg):
                assert path.removeprefix(common.ROOT + "/") in s.config_files, f"{s.name}: {arg}"
        assert s.probe.port in {p.port for p in s.ports}, s.name
        assert s.run_as_user > 0, s.name
        # Secrets reach services only as files: no env variable may name a secret key.
        assert not any(key in name.lower() for name, _ in s.env for key in SECRET_KEYS), s.name


def test_collector_service_follows_settings():
    auth = next(s for s in svc.services(STACKS["prod"]) if s.name == "collector")
    key = (common.CONTENT_HASH_KEY, common.CONTENT_HASH_KEY)   # content.hash hmac, the default
    assert auth.secret_files == ((common.INGEST_TOKEN, common.INGEST_TOKEN), key)
    assert common.secret_path(common.INGEST_TOKEN) == collector_config.TOKEN_FILE
    # The content hash key is mounted where the rendered config reads it, beside the token.
    assert common.secret_path(common.CONTENT_HASH_KEY) == collector_config.redact.KEY_FILE
    sampler = next(s for s in svc.services(STACKS["prod"]) if s.name != "collector" and s.name.startswith("otel"))
    assert sampler.secret_files == ()   # the sampler tier hashes no content
    assert auth.memory_limit == f"{STACKS['prod'].collector.memory_limit_mib}Mi"
    assert auth.args == (f"--config={common.ROOT}/collector/agent.yaml",)  # prod is two-tier
    noauth = next(s for s in svc.services(STACKS["azure-noauth"]) if s.name == "collector")
    assert noauth.secret_files == (key,) and noauth.args == (f"--config={common.ROOT}/collector/config.yaml",)
    assert {p.port for p in noauth.ports} >= {4317, 4318, 13133, 8888}


def test_retention_and_flags_follow_settings():
    stack = STACKS["prod"]
    files = render_all(stack)
    prom = next(s for s in svc.services(stack) if s.name == "prometheus")
    assert f"--storage.tsdb.retention.time={stack.retention.metrics}" in prom.args
    assert {"--web.enable-remote-write-receiver", "--enable-feature=exemplar-storage"} <= set(prom.args)
    tempo = yaml.safe_load(files["tempo/tempo.yaml"])
    assert tempo["compactor"]["compaction"]["block_retention"] == common.hours(stack.retention.traces)
    assert "s3" in tempo["storage"]["trace"] and "metrics_generator" not in tempo
    loki = yaml.safe_load(files["loki/loki.yaml"])["limits_config"]
    assert loki["retention_period"] == common.hours(stack.retention.logs)
    assert loki["retention_stream"] == [{"selector": '{llmobs_debug="true"}', "priority": 1,
                                         "period": common.hours(stack.retention.debug_logs)}]


@pytest.mark.parametrize("duration,expected", [("15d", "360h"), ("2w", "336h"), ("6h", "6h"), ("90m", "90m")])
def test_hours(duration, expected):
    assert common.hours(duration) == expected


def test_azure_needs_an_account_endpoint():
    """Refused by the settings (naming the key), before anything renders."""
    for store in ({"type": "azure", "bucket": "traces"}, {"type": "azure", "bucket": "traces", "endpoint": "acct"}):
        with pytest.raises(SettingsError, match=r"^llmobs:storage\.tempo\.endpoint: required for type azure"):
            validate({"target": "docker", "storage": {"tempo": store}})


# --- real binaries -------------------------------------------------------------

def _tool(name: str) -> str:
    """The pinned binary (scripts/install-binaries.sh links it into .bin/), never one from PATH."""
    return binary(name)


def _write(files: dict[str, str], out: Path) -> Path:
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return out


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name,image", [("prometheus", "prometheus"), ("promtool", "prometheus"),
                                        ("alertmanager", "alertmanager"), ("amtool", "alertmanager")])
def test_test_binaries_are_the_deployed_releases(name, image):
    """The binaries the tests run are the releases the stack deploys (settings/versions.yaml)."""
    tag = yaml.safe_load((ROOT / "settings/versions.yaml").read_text())["images"][image]["tag"].removeprefix("v")
    out = _run(_tool(name), "--version")
    assert re.search(rf"^{name}, version {re.escape(tag)} ", out.stdout + out.stderr, re.M), out.stdout + out.stderr


def test_promtool_check_config(stack, tmp_path):
    # Point /etc/llmobs at the temp dir, so promtool also loads the rule files
    # through rule_files and sees the secret files the config names.
    files = {rel: text.replace(common.ROOT, str(tmp_path)) for rel, text in render_all(stack).items()}
    out = _write(files, tmp_path)
    _write({f"secrets/{key}": "placeholder\n" for s in svc.services(stack) for key, _ in s.secret_files}, tmp_path)
    result = _run(_tool("promtool"), "check", "config", str(out / "prometheus/prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "llm.rules.yml" in result.stdout, result.stdout  # the rules were found and checked


def test_promtool_check_rules(tmp_path):
    out = _write(render_all(STACKS["prod"]), tmp_path)
    result = _run(_tool("promtool"), "check", "rules", str(out / "prometheus/rules/llm.rules.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("kind", ["none", "webhook", "slack"])
def test_amtool_check_config(kind, tmp_path):
    amtool = _tool("amtool")
    stack = validate({"target": "docker", "alerts": {"receivers": {"kind": kind}}})
    out = _write(render_all(stack), tmp_path)
    result = _run(amtool, "check-config", str(out / "alertmanager/alertmanager.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_jaeger_validate(tmp_path):
    jaeger = _tool("jaeger")  # scripts/install-binaries.sh --only jaeger
    stack = STACKS["slack-jaeger-gcs"]
    out = _write(render_all(stack), tmp_path)
    result = _run(jaeger, "validate", f"--config={out / 'jaeger/config.yaml'}")
    assert result.returncode == 0, result.stdout + result.stderr
