"""Stack config validation: every bad input fails with one error naming the key."""
from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path

import pytest
import yaml

from settings import SettingsError, load_stack_file, model, validate
from settings.load import runtime_settings, split_stack_config
from stackctl.__main__ import main as stackctl
from stacks import KUBE

OK = {"target": "docker"}


class Whole(str):
    """A message matched whole, not as a prefix: its end says what to do."""


BAD = [  # (config, text the error must contain)
    ({}, "llmobs: 'target' is a required property"),
    ({"target": "k8s"}, "llmobs:target: 'k8s' is not allowed; use one of: kubernetes, docker"),
    ({**OK, "loadgen": {"scenario": "cost_spike"}}, "llmobs:loadgen.scenario: 'cost_spike' is not allowed; use one of: baseline"),
    ({**KUBE, "kubernetes": {"two_tier": {"enabled": False}}},
     "llmobs:kubernetes.two_tier.enabled: false with llmobs:collector.replicas_max = 6: tail sampling behind several"),
    ({**OK, "colour": "blue"}, "llmobs:colour: unknown key"),
    ({**OK, "sampling": {"keep_fraction": 1.5}}, "llmobs:sampling.keep_fraction: 1.5 is greater than the maximum of 1"),
    ({**OK, "sampling": {"keep_fraction": "half"}}, "llmobs:sampling.keep_fraction: 'half' is not of type 'number'"),
    ({**OK, "sampling": {"keepfraction": 0.1}}, "llmobs:sampling.keepfraction: unknown key; allowed keys: decision_wait_s, keep_fraction"),
    ({**OK, "pricing": {"models": [{"model": "m", "input": -1, "output": 1}]}}, "llmobs:pricing.models[0].input: -1 is less than the minimum of 0"),
    ({**OK, "pricing": {"models": [{"model": "m", "input": 1, "output": 1}, {"model": "m", "input": 2, "output": 2}]}},
     "llmobs:pricing.models[1].model: duplicate model 'm'"),
    ({**OK, "pricing": {"models": [{"model": "m", "input": 1}]}}, "llmobs:pricing.models[0]: 'output' is a required property"),
    ({**OK, "pricing": {"models": [{"model": "x", "input": 1, "output": 1, "pattern": "gpt-4o.*"}]}},
     "llmobs:pricing.models[0].pattern: pattern 'gpt-4o.*' of model 'x' also matches model 'gpt-4o'"),
    # The index is the stack's own, not the one in the table merged with the defaults.
    ({**OK, "pricing": {"models": [{"model": "a", "input": 1, "output": 1},
                                   {"model": "x", "input": 1, "output": 1, "pattern": "(?=x)y"}]}},
     "llmobs:pricing.models[1].pattern: invalid RE2 regular expression"),
    ({**OK, "pricing": {"models": [{"model": "gpt-4o-2024-05-13", "input": 1, "output": 1}]}},
     "llmobs:pricing.models[0].model: 'gpt-4o-2024-05-13' is also matched by the pattern"),
    ({**OK, "storage": {"loki": {"type": "azure", "bucket": "logs"}}},
     "llmobs:storage.loki.endpoint: required for type azure"),
    ({**OK, "redaction": {"extra_patterns": [{"name": "acct", "regex": "(?=acct)[0-9]+"}]}},
     "llmobs:redaction.extra_patterns[0].regex: invalid RE2 regular expression"),
    ({**OK, "redaction": {"extra_patterns": [{"name": "acct", "regex": "[0-9"}]}},
     "llmobs:redaction.extra_patterns[0].regex: invalid RE2 regular expression"),
    ({**OK, "redaction": {"extra_patterns": [{"name": "any", "regex": ".*"}]}}, "matches the empty string"),
    ({**OK, "redaction": {"extra_patterns": [{"name": "email", "regex": "x+"}]}}, "'email' is already a detector name"),
    ({**OK, "redaction": {"disabled_detectors": ["emails"]}}, "llmobs:redaction.disabled_detectors[0]: unknown detector 'emails'"),
    ({**OK, "labels": {"tenant": {"allowed": []}}}, "llmobs:labels.tenant.allowed: [] should be non-empty"),
    ({**OK, "labels": {"tenant": {"allowed": ["a b"]}}}, "llmobs:labels.tenant.allowed[0]: 'a b' does not match"),
    ({**OK, "content": {"mode": "keep"}}, "llmobs:content.mode: 'keep' is not allowed; use one of: hash, preview, drop"),
    ({**OK, "content": {"preview_chars": 0}}, "llmobs:content.preview_chars: 0 is less than the minimum of 1"),
    ({**OK, "content": {"hash": "md5"}}, "llmobs:content.hash: 'md5' is not allowed; use one of: hmac, sha256"),
    ({**OK, "content": {"hash": "HMAC"}}, "llmobs:content.hash: 'HMAC' is not allowed; use one of: hmac, sha256"),
    ({**OK, "content": {"hash": True}}, "llmobs:content.hash: True is not allowed; use one of: hmac, sha256"),
    # The key is a secret (llmobs:content_hash_key), never a setting beside content.hash.
    ({**OK, "content": {"hash_key": "k" * 32}}, "llmobs:content.hash_key: unknown key; allowed keys: guard, hash, mode"),
    ({**OK, "versions": {"grafana": "latest"}}, "llmobs:versions.grafana: 'latest' is not allowed"),
    ({**OK, "namespace": "LLM_obs"}, "llmobs:namespace: 'LLM_obs' does not match"),
    ({**OK, "retention": {"logs": "7 days"}}, "llmobs:retention.logs: '7 days' does not match"),
    ({**OK, "collector": {"replicas_min": 5, "replicas_max": 2}}, "llmobs:collector.replicas_min: 5 is above collector.replicas_max (2)"),
    ({**OK, "storage": {"tempo": {"type": "s3"}}}, "llmobs:storage.tempo: 'bucket' is a required property"),
    ({**OK, "traces": {"backend": "zipkin"}}, "llmobs:traces.backend: 'zipkin' is not allowed; use one of: tempo, jaeger"),
    ({**OK, "ingest": {"auth": "yes"}}, "llmobs:ingest.auth: 'yes' is not of type 'boolean'"),
    ({**OK, "prometheus": {"remote_write": [{"url": "ftp://x"}]}}, "llmobs:prometheus.remote_write[0].url: 'ftp://x' does not match"),
    # The engines that once had an OTTL alternative: named, with why they went, never ignored.
    ({**OK, "redaction": {"engine": "native"}},
     "llmobs:redaction.engine: removed: collector_config/distribution is the only gateway now, and its llmredact"),
    ({**OK, "redaction": {"engine": "ottl"}}, "llmobs:redaction.engine: removed:"),
    ({**OK, "collector": {"metrics_engine": "native"}},
     "llmobs:collector.metrics_engine: removed: collector_config/distribution is the only gateway now, and its llmmetrics"),
    ({**OK, "collector": {"normalize_engine": "ottl"}},
     "llmobs:collector.normalize_engine: removed: collector_config/distribution is the only gateway now, and its llmnormalize"),
    ({**OK, "versions": {"collector": "0.161.0"}}, "llmobs:versions.collector: removed: "),
    # The gateway's image on Kubernetes: one of two keys, and the command that builds it.
    ({"target": "kubernetes"}, "llmobs:collector.image or llmobs:collector.registry: the Kubernetes target needs the "
                               "gateway image built from collector_config/distribution"),
    ({"target": "kubernetes"}, "`docker build -t <registry>/otelcol-llmobs:<tag> collector_config/distribution`"),
    ({"target": "kubernetes", "collector": {"image": {"repository": "ghcr.io/acme/otelcol-llmobs", "tag": "1"}}},
     Whole("llmobs:collector.image.digest: required on Kubernetes (a tag can move): the digest the push printed, "
           "or the collector-image workflow's")),
    ({"target": "kubernetes", "collector": {"image": {"repository": "ghcr.io/acme/otelcol-llmobs"}}},
     "llmobs:collector.image"),
    ({**KUBE, "collector": {**KUBE["collector"], "registry": {"repository": "ghcr.io/acme/otelcol-llmobs"}}},
     "llmobs:collector.registry: set either collector.image (a prebuilt image) or collector.registry"),
    ({**OK, "collector": {"registry": {"repository": "ghcr.io/acme/otelcol-llmobs"}}},
     "llmobs:collector.registry: for the Kubernetes target"),
    ({"target": "kubernetes", "collector": {"registry": {"repository": "otelcol-llmobs"}}},
     "llmobs:collector.registry.repository: 'otelcol-llmobs' does not match"),
    ({**OK, "collector": {"image": {"repository": "ghcr.io/acme/otelcol-llmobs", "tag": "latest"}}},
     "llmobs:collector.image.tag: 'latest' is not allowed"),
]


@pytest.mark.parametrize("config,message", BAD, ids=[m[:40] for _, m in BAD])
def test_bad_input_names_the_key(config, message):
    with pytest.raises(SettingsError) as err:
        validate(config)
    assert str(err.value) == message if isinstance(message, Whole) else message in str(err.value)
    assert "\n" not in str(err.value)


def test_defaults_fill_every_field():
    s = validate(OK)
    assert s.sampling.keep_fraction == 0.1 and s.content.mode == "hash" and s.ingest.auth is True
    assert s.content.hash == "hmac"   # keyed by default: plain SHA-256 only when asked for
    assert s.labels.tenant.allowed == ("other",)
    # Where the gateway sends: defaults in the schema, not in collector_config/exporters.py.
    assert (s.endpoints.metrics, s.endpoints.logs) == ("http://prometheus:9090/api/v1/write", "http://loki:3100/otlp")
    assert {p.model for p in s.pricing.models} >= {"gpt-4o", "claude-sonnet-4"}
    # Frozen all the way down.
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.sampling.keep_fraction = 1  # type: ignore[misc]


def test_stack_price_overrides_default():
    s = validate({**OK, "pricing": {"models": [{"model": "gpt-4o", "input": 9, "output": 9}]}})
    (gpt4o,) = [p for p in s.pricing.models if p.model == "gpt-4o"]
    assert (gpt4o.input, gpt4o.cached_input, gpt4o.pattern) == (9.0, 9.0, None)


def test_secrets_must_be_secure_values():
    with pytest.raises(SettingsError, match="llmobs:grafana_admin_password: must be a secret"):
        split_stack_config({"llmobs:target": "docker", "llmobs:grafana_admin_password": "hunter2"})
    settings, secrets = split_stack_config({"llmobs:target": "docker", "llmobs:ingest_token": {"secure": "v1:abc"},
                                            "aws:region": "eu-west-1"})
    assert settings == {"target": "docker"} and set(secrets) == {"ingest_token"}


def test_the_content_hash_key_is_a_secret():
    with pytest.raises(SettingsError, match=r"^llmobs:content_hash_key: must be a secret"):
        split_stack_config({"llmobs:target": "docker", "llmobs:content_hash_key": "k" * 32})
    with pytest.raises(SettingsError, match=r"^llmobs:content_hash_key: must be a secret"):
        runtime_settings({"llmobs:target": "docker", "llmobs:content_hash_key": "k" * 32}, set())
    settings, secrets = split_stack_config({"llmobs:target": "docker", "llmobs:content_hash_key": {"secure": "v1:abc"}})
    assert settings == {"target": "docker"} and set(secrets) == {"content_hash_key"}


def test_secret_keys_set_in_plain_text_are_refused_at_runtime():
    values = {"llmobs:target": "docker", "llmobs:sampling": '{"keep_fraction": 0.5}', "llmobs:ingest_token": "t0k"}
    assert runtime_settings(values, {"llmobs:ingest_token"}) == {"target": "docker", "sampling": {"keep_fraction": 0.5}}
    with pytest.raises(SettingsError, match=r"^llmobs:ingest_token: must be a secret"):
        runtime_settings(values, set())


def _nodes(node):
    yield node
    for value in (node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()):
        yield from _nodes(value)


def test_schema_text_parses_whole():
    """A comma inside an unquoted YAML flow mapping cuts a description into a stray key with no value."""
    from settings.load import PRICES_SCHEMA, STACK_SCHEMA
    for schema in (STACK_SCHEMA, PRICES_SCHEMA):
        cut = [key for node in _nodes(schema) if isinstance(node, dict) for key, value in node.items() if value is None]
        assert cut == []
    llm = STACK_SCHEMA["properties"]["sampling"]["properties"]["llm_keep_fraction"]["description"]
    assert llm == "share of healthy LLM traces kept (errors, slow, safety and denied-tool traces are always kept)"


def test_example_stacks_are_valid():
    assert load_stack_file("Pulumi.dev.yaml").target == "docker"
    prod = load_stack_file("Pulumi.prod.yaml")
    assert prod.target == "kubernetes" and prod.kubernetes.two_tier.enabled


def test_render_cli_refuses_bad_config_and_writes_nothing(tmp_path, capsys):
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text("config:\n  llmobs:target: docker\n  llmobs:sampling:\n    keep_fraction: 2\n")
    out = tmp_path / "out"
    assert stackctl(["render", "--config", str(stack), "--out", str(out)]) == 2
    assert "llmobs:sampling.keep_fraction" in capsys.readouterr().err
    assert not out.exists()


def test_docs_config_reference_is_current():
    from settings.reference import table
    page = (Path(__file__).resolve().parent.parent / "docs/configuration.md").read_text()
    assert table() in page, "run: python -m settings.reference, paste into docs/configuration.md"


def test_loadgen_scenario_enum_is_the_scenario_list():
    from loadgen import scenarios
    from settings.load import STACK_SCHEMA
    assert STACK_SCHEMA["properties"]["loadgen"]["properties"]["scenario"]["enum"] == list(scenarios.SCENARIOS)


def test_a_stack_model_under_a_default_pattern_names_the_default_entry_where_it_is_written():
    """The error points at the default table's line, found here by reading the file, not by the loader."""
    table = yaml.safe_load((Path(__file__).parents[1] / "settings/prices.yaml").read_text())["models"]
    i = next(i for i, p in enumerate(table) if p["model"] == "claude-sonnet-4")
    with pytest.raises(SettingsError) as err:
        validate({**OK, "pricing": {"models": [{"model": "a", "input": 1, "output": 1},
                                               {"model": "claude-sonnet-4-20250514", "input": 1, "output": 1}]}})
    assert str(err.value).startswith("llmobs:pricing.models[1].model: 'claude-sonnet-4-20250514' is also matched"), err.value
    assert f"of the default model 'claude-sonnet-4' (settings/prices.yaml: models[{i}]);" in str(err.value), err.value


def _type_problems(value, hint, where: str) -> list[str]:
    """Where a validated Settings value is not what its annotation says (checked here, not by the loader)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        assert len(inner) == 1, f"{where}: {hint}: only `X | None` unions are expected"
        return [] if value is None else _type_problems(value, inner[0], where)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, hint):
            return [f"{where}: {type(value).__name__}, not {hint.__name__}"]
        hints = typing.get_type_hints(hint)
        return [p for f in dataclasses.fields(hint) for p in _type_problems(getattr(value, f.name), hints[f.name],
                                                                              f"{where}.{f.name}")]
    if origin is tuple:
        if not isinstance(value, tuple):
            return [f"{where}: {type(value).__name__}, not a tuple"]
        if len(args) == 2 and args[1] is Ellipsis:
            return [p for i, v in enumerate(value) for p in _type_problems(v, args[0], f"{where}[{i}]")]
        return [p for i, (v, a) in enumerate(zip(value, args, strict=True)) for p in _type_problems(v, a, f"{where}[{i}]")]
    if origin is typing.Literal:
        return [] if value in args else [f"{where}: {value!r} not in {args}"]
    assert origin is None and isinstance(hint, type), f"{where}: {hint}: extend this check"
    if hint is float:
        return [] if type(value) is float else [f"{where}: {type(value).__name__}, not float"]
    if hint is int:
        return [] if type(value) is int else [f"{where}: {type(value).__name__}, not int"]
    return [] if isinstance(value, hint) else [f"{where}: {type(value).__name__}, not {hint.__name__}"]


@pytest.mark.parametrize("source", ["Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.kube-prometheus.yaml",
                                    "Pulumi.grafana-cloud.yaml", "image", "registry"])
def test_every_validated_value_has_its_annotated_type(source):
    """Nested settings are dataclasses (collector.image and .registry too, both optional), tuples are
    tuples, whole-number floats are floats: what the components rely on when they read settings."""
    root = Path(__file__).parents[1]
    if source == "image":
        s = validate(KUBE)
    elif source == "registry":
        s = validate({"target": "kubernetes", "collector": {"registry": {"repository": "ghcr.io/acme/otelcol-llmobs"}},
                      "sampling": {"keep_fraction": 1}})
    else:
        s = load_stack_file(root / source)
    assert _type_problems(s, model.Settings, "settings") == []
    if source in ("image", "registry"):
        assert isinstance(getattr(s.collector, source), (model.Image, model.Registry))
