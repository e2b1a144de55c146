"""Every numeric and cross-field validation rule at its boundary: the value just inside is
accepted, the value just outside is refused with an error naming the key. The bounds are written
out here by hand (from the README and the reasons in the schema's descriptions), not read from
settings/stack.schema.yaml, so a bound that moves by one fails a row."""
from __future__ import annotations

import re

import pytest

from settings import SettingsError, validate
from stacks import KUBE

OK = {"target": "docker"}

# (dotted key, accepted values at the edges, refused values just outside)
NUMERIC: tuple[tuple[str, tuple, tuple], ...] = (
    ("kubernetes.two_tier.sampler_replicas", (1, 50), (0, 51)),
    ("collector.memory_limit_mib", (256, 65536), (255, 65537)),
    ("content.preview_chars", (1, 4096), (0, 4097)),
    ("content.guard.min_chars", (8, 1000), (7, 1001)),
    ("debug.sample_rate", (1e-9, 1), (0, 1.000001)),
    ("debug.preview_chars", (1, 65536), (0, 65537)),
    ("sampling.keep_fraction", (0, 1), (-0.000001, 1.000001)),
    ("sampling.llm_keep_fraction", (0, 1), (-0.000001, 1.000001)),
    ("sampling.slow_threshold_ms", (1, 3_600_000), (0, 3_600_001)),
    ("sampling.decision_wait_s", (1, 120), (0, 121)),
    ("sampling.num_traces", (1000, 10_000_000), (999, 10_000_001)),
    ("alerts.provider_error_ratio", (1e-9, 1), (0, 1.000001)),
    ("alerts.latency_p95_seconds", (1e-9,), (0,)),
    ("alerts.ttft_p95_seconds", (1e-9,), (0,)),
    ("alerts.daily_cost_budget_usd", (1e-9,), (0,)),
    ("alerts.monthly_cost_budget_usd", (1e-9,), (0,)),
    ("alerts.tenant_cost_share", (1e-9, 1), (0, 1.000001)),
    ("alerts.eval_score_min", (0, 1), (-0.000001, 1.000001)),
    ("alerts.safety_block_ratio", (1e-9, 1), (0, 1.000001)),
    ("alerts.denied_tool_calls_per_minute", (1e-9,), (0,)),
    ("alerts.denied_tool_spike_factor", (1.5,), (1.499999,)),
    ("alerts.throttle_ratio", (1e-9, 1), (0, 1.000001)),
    ("alerts.availability_slo", (0.500001, 0.999999), (0.5, 1)),
    ("alerts.latency_slo", (0.500001, 0.999999), (0.5, 1)),
    ("alerts.spend_spike_factor", (1.5,), (1.499999,)),
    ("alerts.spend_floor_usd_per_hour", (0,), (-0.000001,)),
    ("alerts.prompt_bloat_ratio", (1.05,), (1.049999,)),
    ("alerts.prompt_shrink_ratio", (1e-9, 0.95), (0, 0.950001)),
    ("alerts.empty_retrieval_ratio", (1e-9, 1), (0, 1.000001)),
    ("alerts.thumbs_down_ratio", (1e-9, 1), (0, 1.000001)),
    ("alerts.retry_ratio", (1e-9, 1), (0, 1.000001)),
    ("alerts.fallback_ratio", (1e-9, 1), (0, 1.000001)),
    ("alerts.context_utilization_p95", (1e-9, 1), (0, 1.000001)),
    ("alerts.agent_iterations_p95", (1,), (0.999999,)),
    ("alerts.context_recall_min", (0, 1), (-0.000001, 1.000001)),
    ("alerts.redaction_spike_factor", (1.5,), (1.499999,)),
    *((f"alerts.volume_floors.{floor}", (1, 1_000_000), (0, 1_000_001))
      for floor in ("calls", "fallbacks", "safety", "feedback", "evaluations", "retrievals", "requests", "traffic")),
    ("prometheus.storage_gib", (1, 10_000), (0, 10_001)),
    ("prometheus.startup_budget_minutes", (1, 720), (0, 721)),
    ("loadgen.rate", (1e-9, 1000), (0, 1000.000001)),
)


def _nested(key: str, value) -> dict:
    out: dict = value
    for part in reversed(key.split(".")):
        out = {part: out}
    return out


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


ROWS = [(key, value, ok) for key, inside, outside in NUMERIC for ok, values in ((True, inside), (False, outside))
        for value in values]


@pytest.mark.parametrize("key, value, ok", ROWS, ids=[f"{k}={v}" for k, v, _ in ROWS])
def test_numeric_bound(key, value, ok):
    config = _merge(KUBE if key.startswith("kubernetes.") else OK, _nested(key, value))
    if ok:
        validate(config)
    else:
        with pytest.raises(SettingsError, match=re.escape(f"llmobs:{key}: ")):
            validate(config)


def test_collector_replica_counts_at_their_bounds():
    for value in (1, 100):
        validate(_merge(OK, {"collector": {"replicas_min": value, "replicas_max": value}}))
    for key, value in (("replicas_min", 0), ("replicas_max", 0), ("replicas_min", 101), ("replicas_max", 101)):
        with pytest.raises(SettingsError, match=re.escape(f"llmobs:collector.{key}: ")):
            validate(_merge(OK, {"collector": {"replicas_min": 1, "replicas_max": 100, key: value}}))


# -- cross-field rules: just inside, just outside -------------------------------------------------

SINGLE_TIER = {"kubernetes": {"two_tier": {"enabled": False}}}


def test_single_tier_allows_one_replica_and_not_two():
    validate(_merge(KUBE, {**SINGLE_TIER, "collector": {"replicas_min": 1, "replicas_max": 1}}))
    with pytest.raises(SettingsError, match=re.escape("llmobs:kubernetes.two_tier.enabled: false with "
                                                       "llmobs:collector.replicas_max = 2")):
        validate(_merge(KUBE, {**SINGLE_TIER, "collector": {"replicas_min": 1, "replicas_max": 2}}))
    # Two tiers take any count; docker has no tiers.
    validate(_merge(KUBE, {"collector": {"replicas_min": 1, "replicas_max": 2}}))
    validate(_merge(OK, {**SINGLE_TIER, "collector": {"replicas_min": 1, "replicas_max": 2}}))


def test_replicas_min_up_to_replicas_max():
    validate(_merge(OK, {"collector": {"replicas_min": 3, "replicas_max": 3}}))
    with pytest.raises(SettingsError, match=re.escape("llmobs:collector.replicas_min: 4 is above collector.replicas_max (3)")):
        validate(_merge(OK, {"collector": {"replicas_min": 4, "replicas_max": 3}}))


DEBUG = {"debug": {"enabled": True, "tenants": ["acme"]}}


@pytest.mark.parametrize("retention, ok", [("24h", True), ("1d", True), ("1440m", True), ("23h", False),
                                            ("1439m", False)])
def test_debug_retention_at_the_day_boundary(retention, ok):
    config = _merge(OK, {**DEBUG, "retention": {"debug_logs": retention}})
    if ok:
        validate(config)
    else:
        with pytest.raises(SettingsError, match=re.escape("llmobs:retention.debug_logs: ")):
            validate(config)
    validate(_merge(OK, {"retention": {"debug_logs": retention}}))   # only with the debug store on


def test_debug_store_needs_one_tenant():
    validate(_merge(OK, DEBUG))
    with pytest.raises(SettingsError, match=re.escape("llmobs:debug.tenants: debug.enabled needs the tenants")):
        validate(_merge(OK, {"debug": {"enabled": True, "tenants": []}}))
    validate(_merge(OK, {"debug": {"enabled": False, "tenants": []}}))


def test_forwarding_protocol_and_endpoint_agree():
    fwd = {"name": "v", "endpoint": "https://otlp.vendor.example", "protocol": "http"}
    validate(_merge(OK, {"forwarding": [fwd]}))
    validate(_merge(OK, {"forwarding": [{**fwd, "endpoint": "otlp.vendor.example:4317", "protocol": "grpc"}]}))
    for bad, needs in (({**fwd, "protocol": "grpc"}, "protocol grpc needs host:port"),
                       ({**fwd, "endpoint": "otlp.vendor.example:4318"}, "protocol http needs an http(s):// URL")):
        with pytest.raises(SettingsError, match=re.escape(f"llmobs:forwarding[0].endpoint: {needs}") + "$"):
            validate(_merge(OK, {"forwarding": [bad]}))


def test_forwarding_auth_header_only_raw_elsewhere():
    fwd = {"name": "v", "endpoint": "https://otlp.vendor.example", "protocol": "http"}
    validate(_merge(OK, {"forwarding": [{**fwd, "auth": "bearer", "auth_header": "Authorization"}]}))
    validate(_merge(OK, {"forwarding": [{**fwd, "auth": "raw", "auth_header": "x-api-key"}]}))
    with pytest.raises(SettingsError, match=re.escape("llmobs:forwarding[0].auth_header: auth bearer")):
        validate(_merge(OK, {"forwarding": [{**fwd, "auth": "bearer", "auth_header": "x-api-key"}]}))


def test_webhook_and_slack_not_both():
    validate(_merge(OK, {"alerts": {"receivers": {"kind": "webhook"}}}))
    with pytest.raises(SettingsError, match=re.escape("llmobs:alerts.receivers: webhook and slack")):
        validate(_merge(OK, {"alerts": {"receivers": {"kind": "webhook", "critical": "slack"}}}))


def test_email_fields_required_only_when_email_is_routed():
    email = {"to": "a@example.invalid", "from_address": "b@example.invalid", "smarthost": "smtp.example.invalid:587"}
    validate(_merge(OK, {"alerts": {"receivers": {"kind": "email", "email": email}}}))
    for field in email:
        with pytest.raises(SettingsError, match=re.escape(f"llmobs:alerts.receivers.email.{field}: required")):
            validate(_merge(OK, {"alerts": {"receivers": {"kind": "email", "email": {**email, field: ""}}}}))
    validate(_merge(OK, {"alerts": {"receivers": {"kind": "webhook", "email": {**email, "to": ""}}}}))


def test_local_storage_takes_no_bucket_and_azure_needs_an_endpoint():
    validate(_merge(OK, {"storage": {"loki": {"type": "azure", "bucket": "logs", "endpoint": "acct.blob.core.windows.net"}}}))
    with pytest.raises(SettingsError, match=re.escape("llmobs:storage.loki.endpoint: required for type azure")):
        validate(_merge(OK, {"storage": {"loki": {"type": "azure", "bucket": "logs", "endpoint": "acct"}}}))
    with pytest.raises(SettingsError, match=re.escape("llmobs:storage.tempo: bucket/endpoint/region need type")):
        validate(_merge(OK, {"storage": {"tempo": {"type": "local", "bucket": "logs"}}}))


def test_paging_environments_kept_by_the_environment_bound():
    validate(_merge(OK, {"labels": {"environment": {"allowed": ["production", "staging"]}},
                         "alerts": {"paging_environments": ["staging"]}}))
    with pytest.raises(SettingsError, match=re.escape(
            "llmobs:alerts.paging_environments[0]: 'stage' is not kept by labels.environment (allowed: production, "
            "staging): its alerts would carry `other` and never page; add it there")):
        validate(_merge(OK, {"labels": {"environment": {"allowed": ["production", "staging"]}},
                             "alerts": {"paging_environments": ["stage"]}}))
    # A pattern of the bound keeps an environment too (full match, RE2).
    validate(_merge(OK, {"labels": {"environment": {"patterns": ["prod-eu-[0-9]+"]}},
                         "alerts": {"paging_environments": ["prod-eu-1"]}}))
    with pytest.raises(SettingsError, match=re.escape("'prod-eu-1x' is not kept by labels.environment")):
        validate(_merge(OK, {"labels": {"environment": {"patterns": ["prod-eu-[0-9]+"]}},
                             "alerts": {"paging_environments": ["prod-eu-1x"]}}))
