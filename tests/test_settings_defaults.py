"""Every default of the stack schema, written out by hand (from the README and the schema's
descriptions, not read from settings/stack.schema.yaml), tested by the behaviour it implies:

1. a config that leaves the key out builds the same Settings as one that sets it to the value
   written here; every artifact, Kubernetes object and container is a function of Settings, so
   the stack behaves exactly as with that value (changing the default of a forwarder's content
   mode from hash to preview fails here);
2. setting the key to another value changes what is deployed (the rendered artifacts, and the
   Kubernetes objects or Docker containers), so the key has behaviour to imply.

Keys whose effect is not in those (read by `pulumi up`, stackctl or loadgen only) say so."""
from __future__ import annotations

import json

import pytest

from artifacts import render_all
from backends.services import services
from settings import validate
from stacks import KUBE

DOCKER = {"target": "docker"}
DEBUG_ON = {"debug": {"enabled": True, "tenants": ["acme"]}}
FORWARDER = {"name": "vendor", "endpoint": "https://otlp.vendor.example"}
EMAIL = {"to": "a@example.invalid", "from_address": "b@example.invalid", "smarthost": "smtp.example.invalid:587"}
# External backends (docs/external-backends.md): the least each mode needs to validate.
PROM_URL = "http://prometheus.monitoring.svc:9090"
EXT_METRICS = {"mode": "external", "remote_write_url": f"{PROM_URL}/api/v1/write", "query_url": PROM_URL}
OPERATOR = {**EXT_METRICS, "rules": "prometheus-operator", "selector_labels": {"release": "kps"}}
TEAM = {"mode": "external", "kind": "team"}
SIDECAR = {"mode": "external", "kind": "sidecar"}
GRAFANA_API = {"mode": "external", "kind": "grafana-api", "url": "https://grafana.example",
               "datasources": {"metrics": "prom", "traces": "tempo", "logs": "loki"}}
EXT_TRACES = {"mode": "external", "endpoint": "tempo.example:4317", "query_url": "http://tempo.example:3200"}
EXT_LOGS = {"mode": "external", "endpoint": "https://loki.example/otlp", "query_url": "https://loki.example"}


def _backends(base: dict, **backends) -> dict:
    return {**base, "backends": backends}


def _sets(config: dict, values: dict) -> dict:
    """config with each dotted key of values set (an external mode needs its endpoint with it)."""
    for key, value in values.items():
        config = _set(config, key, value)
    return config


# key -> (the default, another valid value[, base config]); base: DOCKER unless given.
DEFAULTS: dict[str, tuple] = {
    "namespace": ("llmobs", "observability", KUBE),
    "kubernetes.version": ("1.33", "1.32", KUBE),
    "kubernetes.app_namespaces": (["default"], ["llm-apps"], KUBE),
    "kubernetes.network.grafana_ingress_namespaces": ([], ["ingress-nginx"], KUBE),
    "kubernetes.network.dns_namespace": ("kube-system", "dns", KUBE),
    "kubernetes.network.api_server_cidrs": (["0.0.0.0/0"], ["10.0.0.1/32"], KUBE),
    "kubernetes.network.external_cidrs": (["0.0.0.0/0"], ["203.0.113.0/24"],
                                          {**KUBE, "prometheus": {"remote_write": [{"url": "https://mimir.example/api/v1/push"}]}}),
    "kubernetes.two_tier.enabled": (True, False, {**KUBE, "collector": {**KUBE["collector"], "replicas_min": 1, "replicas_max": 1}}),
    "kubernetes.two_tier.sampler_replicas": (3, 4, KUBE),
    "collector.replicas_min": (2, 1, KUBE),
    "collector.replicas_max": (6, 8, KUBE),
    "collector.memory_limit_mib": (1024, 2048),
    "collector.persistent_queue": (False, True),
    "collector.metrics_flush_s": (15, 1),
    "traces.backend": ("tempo", "jaeger"),
    "ingest.auth": (True, False),
    "ingest.tls.mode": ("none", "secret", KUBE),
    "ingest.tls.secret_name": ("collector-tls", "my-tls", {**KUBE, "ingest": {"tls": {"mode": "secret"}}}),
    "ingest.tls.issuer_kind": ("ClusterIssuer", "Issuer",
                               {**KUBE, "ingest": {"tls": {"mode": "cert-manager", "issuer_name": "ca"}}}),
    "redaction.disabled_detectors": ([], ["ipv4"]),
    "redaction.extra_patterns": ([], [{"name": "acct", "regex": "ACCT-[0-9]{6}"}]),
    "redaction.span_links": ("drop", "keep"),
    "content.mode": ("hash", "preview"),
    "content.hash": ("hmac", "sha256"),
    "content.preview_chars": (200, 100, {**DOCKER, "content": {"mode": "preview"}}),
    "content.guard.enabled": (True, False),
    "content.guard.min_chars": (48, 64),
    "content.guard.allowlist": (["exception.message", "exception.stacktrace", "error.message", "otel.status_description",
                                 "code.stacktrace", "user_agent.original", "server.address", "url.full", "http.url"],
                                ["exception.message"]),
    "content.never_retain.tenants": ([], ["initech"], {**DOCKER, "content": {"mode": "preview"}}),
    "content.never_retain.keep": ("hash", "drop", {**DOCKER, "content": {"never_retain": {"tenants": ["initech"]}}}),
    "content.never_forward": ([], ["umbrella"], {**DOCKER, "forwarding": [FORWARDER]}),
    "debug.enabled": (False, True, {**DOCKER, "debug": {"tenants": ["acme"]}}),
    "debug.tenants": ([], ["acme"]),
    "debug.features": (["*"], ["chat"], {**DOCKER, **DEBUG_ON}),
    "debug.sample_rate": (0.01, 0.5, {**DOCKER, **DEBUG_ON}),
    "debug.preview_chars": (2000, 300, {**DOCKER, **DEBUG_ON}),
    "debug.span_content": (False, True, {**DOCKER, **DEBUG_ON}),
    "debug.loki_tenant": ("debug", "samples", {**DOCKER, **DEBUG_ON}),
    "debug.viewers": ([], ["alice@example.com"], {**DOCKER, **DEBUG_ON}),
    "forwarding": ([], [FORWARDER]),
    # grpc wants host:port: the other value changes the endpoint with it.
    "forwarding[0].protocol": ("http", lambda c: _set(_set(c, "forwarding[0].protocol", "grpc"), "forwarding[0].endpoint",
                                                      "otlp.vendor.example:4317"), {**DOCKER, "forwarding": [FORWARDER]}),
    "forwarding[0].insecure": (False, True, {**DOCKER, "forwarding": [{**FORWARDER, "endpoint": "otlp.vendor.example:4317",
                                                                      "protocol": "grpc"}]}),
    "forwarding[0].content": ("hash", "preview", {**DOCKER, "forwarding": [FORWARDER]}),
    "forwarding[0].preview_chars": (200, 80, {**DOCKER, "forwarding": [{**FORWARDER, "content": "preview"}]}),
    "forwarding[0].auth": ("none", "bearer", {**DOCKER, "forwarding": [FORWARDER]}),
    "forwarding[0].auth_header": ("Authorization", "x-api-key", {**DOCKER, "forwarding": [{**FORWARDER, "auth": "raw"}]}),
    "forwarding[0].exclude_tenants": ([], ["globex"], {**DOCKER, "forwarding": [FORWARDER]}),
    "pricing.models": ([], [{"model": "my-model", "input": 1, "output": 2}]),
    "sampling.keep_fraction": (0.1, 0.2),
    "sampling.llm_keep_fraction": (1.0, 0.5),
    "sampling.slow_threshold_ms": (20000, 10000),
    "sampling.decision_wait_s": (10, 5),
    "sampling.num_traces": (100000, 50000),
    "retention.metrics": ("15d", "30d"),
    "retention.traces": ("7d", "14d"),
    "retention.logs": ("14d", "7d"),
    "retention.debug_logs": ("1d", "3d", {**DOCKER, **DEBUG_ON}),
    "alerts.provider_error_ratio": (0.05, 0.1),
    "alerts.latency_p95_seconds": (30, 20),
    "alerts.ttft_p95_seconds": (5, 3),
    "alerts.daily_cost_budget_usd": (500, 800),
    "alerts.monthly_cost_budget_usd": (15000, 20000),
    "alerts.tenant_cost_share": (0.5, 0.4),
    "alerts.eval_score_min": (0.75, 0.8),
    "alerts.safety_block_ratio": (0.05, 0.1),
    "alerts.denied_tool_calls_per_minute": (5, 10),
    "alerts.denied_tool_spike_factor": (3, 4),
    "alerts.throttle_ratio": (0.02, 0.05),
    "alerts.availability_slo": (0.99, 0.999),
    "alerts.latency_slo": (0.95, 0.9),
    "alerts.latency_slo_seconds": (8, 15),
    "alerts.spend_spike_factor": (3, 4),
    "alerts.spend_floor_usd_per_hour": (1, 2),
    "alerts.prompt_bloat_ratio": (1.3, 1.5),
    "alerts.prompt_shrink_ratio": (0.7, 0.5),
    "alerts.empty_retrieval_ratio": (0.2, 0.3),
    "alerts.thumbs_down_ratio": (0.3, 0.4),
    "alerts.retry_ratio": (0.1, 0.25),
    "alerts.fallback_ratio": (0.1, 0.2),
    "alerts.context_utilization_p95": (0.8, 0.9),
    "alerts.agent_iterations_p95": (15, 20),
    "alerts.context_recall_min": (0.7, 0.6),
    "alerts.redaction_spike_factor": (3, 4),
    "alerts.engine": ("prometheus", "grafana"),
    "alerts.runbook_base_url": ("", "https://runbooks.example/llmobs"),
    "alerts.grafana_url": ("http://127.0.0.1:3000", "https://grafana.example"),
    **{f"alerts.volume_floors.{floor}": (value, value + 5) for floor, value in (
        ("calls", 20), ("fallbacks", 50), ("safety", 50), ("feedback", 20), ("evaluations", 10), ("retrievals", 20),
        ("requests", 20), ("traffic", 20))},
    "alerts.paging_environments": (["production"], ["production", "staging"]),
    "alerts.teams.platform": ("llm-platform", "platform"),
    "alerts.teams.finance": ("finance", "fin-ops"),
    "alerts.teams.quality": ("ml-quality", "quality"),
    "alerts.teams.security": ("security", "secops"),
    "alerts.timing.evaluation_interval": ("", "30s"),
    "alerts.timing.max_for": ("", "5m"),
    "alerts.receivers.kind": ("none", "webhook"),
    "alerts.receivers.critical": ("", "webhook"),
    "alerts.receivers.warning": ("", "webhook"),
    "alerts.receivers.info": ("", "webhook"),
    "alerts.receivers.dead_mans_switch": ("none", "webhook"),
    "alerts.receivers.non_paging": ("none", "webhook"),
    "alerts.receivers.teams": ([], [{"team": "finance", "warning": "webhook"}]),
    "alerts.receivers.email.to": ("", "x@example.invalid", {**DOCKER, "alerts": {"receivers": {"email": {**EMAIL, "to": None}}}}),
    "alerts.receivers.email.from_address": ("", "y@example.invalid",
                                            {**DOCKER, "alerts": {"receivers": {"email": {**EMAIL, "from_address": None}}}}),
    "alerts.receivers.email.smarthost": ("", "smtp.other.invalid:25",
                                         {**DOCKER, "alerts": {"receivers": {"email": {**EMAIL, "smarthost": None}}}}),
    "alerts.receivers.email.auth_username": ("", "mailer", {**DOCKER, "alerts": {"receivers": {"kind": "email", "email": EMAIL}}}),
    "alerts.receivers.email.require_tls": (True, False, {**DOCKER, "alerts": {"receivers": {"kind": "email", "email": EMAIL}}}),
    "grafana.admin_user": ("admin", "root"),
    "prometheus.storage_gib": (50, 100, KUBE),
    "prometheus.startup_budget_minutes": (30, 60, KUBE),   # the startup probe: Kubernetes only
    "prometheus.remote_write": ([], [{"url": "https://mimir.example/api/v1/push"}]),
    "endpoints.metrics": ("http://prometheus:9090/api/v1/write", "https://mimir.example/api/v1/push"),
    "endpoints.logs": ("http://loki:3100/otlp", "https://loki.example/otlp"),
    "loadgen.enabled": (False, True),
    "loadgen.scenario": ("baseline", "errors"),
    "loadgen.rate": (2, 5),
    "collector.registry.username": ("", "ci-bot", {"target": "kubernetes", "collector": {"registry": {
        "repository": "ghcr.io/acme/otelcol-llmobs"}}}),
    # Each backend bundled unless set: external ones need their endpoint (and external metrics an
    # external alerting), so the other value sets those with it.
    "backends.metrics.mode": ("bundled", lambda c: _sets(c, {
        "backends.metrics.mode": "external", "backends.metrics.remote_write_url": f"{PROM_URL}/api/v1/write",
        "backends.metrics.query_url": PROM_URL, "backends.alerting": TEAM})),
    "backends.metrics.auth": ("none", "bearer", _backends(DOCKER, metrics=EXT_METRICS, alerting=TEAM)),
    "backends.metrics.auth_header": ("Authorization", "X-Api-Key",
                                     _backends(DOCKER, metrics={**EXT_METRICS, "auth": "raw"}, alerting=TEAM)),
    "backends.metrics.headers": ({}, {"X-Scope-OrgID": "llm"}, _backends(DOCKER, metrics=EXT_METRICS, alerting=TEAM)),
    "backends.metrics.rules": ("none", "prometheus-operator",
                               _backends(KUBE, metrics={**EXT_METRICS, "selector_labels": {"release": "kps"}}, alerting=TEAM)),
    "backends.metrics.monitor": ("none", "servicemonitor",
                                 _backends(KUBE, metrics={**EXT_METRICS, "selector_labels": {"release": "kps"}}, alerting=TEAM)),
    "backends.metrics.selector_labels": ({}, {"release": "kps"}, _backends(KUBE, metrics=EXT_METRICS, alerting=TEAM)),
    "backends.metrics.prometheus_namespace": ("monitoring", "kps", _backends(KUBE, metrics={
        **EXT_METRICS, "monitor": "podmonitor", "selector_labels": {"release": "kps"}}, alerting=TEAM)),
    # Grafana-managed alerts need alerts.engine grafana with them.
    "backends.alerting.mode": ("bundled", lambda c: _sets(c, {
        "backends.alerting.mode": "external", "backends.alerting.kind": "grafana", "alerts.engine": "grafana"}),
        _backends(DOCKER, dashboards=GRAFANA_API)),
    # Empty: the AlertmanagerConfig carries backends.metrics.selector_labels.
    "backends.alerting.selector_labels": ({}, {"alertmanagerConfig": "llmobs"}, _backends(
        KUBE, metrics=OPERATOR, alerting={"mode": "external", "kind": "alertmanager-config"})),
    "backends.dashboards.mode": ("bundled", lambda c: _sets(c, {"backends.dashboards.mode": "external",
                                                                "backends.dashboards.kind": "sidecar"}), KUBE),
    "backends.dashboards.sidecar_labels": ({"grafana_dashboard": "1"}, {"dash": "llm"}, _backends(KUBE, dashboards=SIDECAR)),
    "backends.dashboards.grafana_namespace": ("monitoring", "grafana", _backends(KUBE, dashboards=SIDECAR)),
    "backends.dashboards.folder_annotation": ("grafana_folder", "k8s-sidecar-target-directory",
                                              _backends(KUBE, dashboards=SIDECAR)),
    "backends.traces.mode": ("bundled", lambda c: _sets(c, {
        "backends.traces.mode": "external", "backends.traces.endpoint": EXT_TRACES["endpoint"],
        "backends.traces.query_url": EXT_TRACES["query_url"]})),
    # http takes a URL: the other value changes the endpoint with it.
    "backends.traces.protocol": ("grpc", lambda c: _sets(c, {"backends.traces.protocol": "http",
                                                            "backends.traces.endpoint": "https://otlp.example/otlp"}),
                                 _backends(DOCKER, traces=EXT_TRACES)),
    "backends.traces.insecure": (False, True, _backends(DOCKER, traces=EXT_TRACES)),
    "backends.traces.auth": ("none", "bearer", _backends(DOCKER, traces=EXT_TRACES)),
    "backends.traces.auth_header": ("Authorization", "X-Api-Key", _backends(DOCKER, traces={**EXT_TRACES, "auth": "raw"})),
    "backends.traces.headers": ({}, {"X-Scope-OrgID": "llm"}, _backends(DOCKER, traces=EXT_TRACES)),
    "backends.logs.mode": ("bundled", lambda c: _sets(c, {
        "backends.logs.mode": "external", "backends.logs.endpoint": EXT_LOGS["endpoint"],
        "backends.logs.query_url": EXT_LOGS["query_url"]})),
    "backends.logs.auth": ("none", "basic", _backends(DOCKER, logs=EXT_LOGS)),
    "backends.logs.auth_header": ("Authorization", "X-Api-Key", _backends(DOCKER, logs={**EXT_LOGS, "auth": "raw"})),
    "backends.logs.headers": ({}, {"X-Scope-OrgID": "llm"}, _backends(DOCKER, logs=EXT_LOGS)),
}
# Read where the deployed artifacts do not show them: by `pulumi up` (the registry login), by the
# loadgen command, or only where a receiver of that kind is routed to.
NO_ARTIFACT = {
    "collector.registry.username": "the registry login `pulumi up` uses to push the image",
    "loadgen.scenario": "read by `stackctl loadgen` (and the loadgen container only when loadgen.enabled)",
    "loadgen.rate": "read by `stackctl loadgen` (and the loadgen container only when loadgen.enabled)",
    "alerts.receivers.email.to": "rendered only when a route uses the email receiver (tested below with one)",
    "alerts.receivers.email.from_address": "rendered only when a route uses the email receiver",
    "alerts.receivers.email.smarthost": "rendered only when a route uses the email receiver",
    "debug.tenants": "only with debug.enabled, whose check requires it (test_settings_boundaries)",
    "kubernetes.version": "the cluster version the tests validate the objects against (tests/test_kubernetes.py)",
    "backends.metrics.selector_labels": "{} is valid only where no operator object carries the labels (rules none, "
                                        "monitor none); with one they are required (test_external_backends' bad input)",
}
# Defaults of settings nothing reads: a strict xfail, so wiring one up (or removing it) updates this.
DEAD = {
    "alerts.tenant_cost_share": "read by nothing: LlmTenantCostSpike compares a tenant's share with its own 7-day "
                                "average share (alerts.spend_spike_factor), not with this absolute share",
}


def _set(config: dict, key: str, value) -> dict:
    """A copy of config with `key` (dotted; `forwarding[0].x` for an item) set; None removes it."""
    config = json.loads(json.dumps(config))
    parts = key.replace("[0]", ".0").split(".")
    node = config
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value
    return config


def _clean(config: dict) -> dict:
    """Drop the None placeholders a base uses to leave a key out."""
    if isinstance(config, dict):
        return {k: _clean(v) for k, v in config.items() if v is not None}
    if isinstance(config, list):
        return [_clean(v) for v in config]
    return config


def _base(key: str) -> dict:
    return _clean(_set(DEFAULTS[key][2] if len(DEFAULTS[key]) > 2 else DOCKER, key, None))


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_leaving_the_key_out_is_the_written_default(key):
    base = _base(key)
    assert validate(base) == validate(_set(base, key, DEFAULTS[key][0])), key


def _rendered(settings) -> str:
    return json.dumps(render_all(settings), sort_keys=True)


def _objects(settings) -> str:
    """The Kubernetes objects or the Docker services (containers): what is deployed beside the files."""
    if settings.target == "kubernetes":
        from components.kubernetes.manifests import stack_manifests
        return repr(stack_manifests(settings))
    from components.docker.plan import plan
    return repr(plan(settings, services(settings), render_all(settings)))


_CACHE: dict = {}


def _of(config: dict, view) -> str:
    # Keyed by the validated Settings (hashable): every base (one key left out) validates to
    # its target's defaults, so each worker renders those once, not once per key.
    settings = validate(config)
    key = (settings, view.__name__)
    if key not in _CACHE:
        _CACHE[key] = view(settings)
    return _CACHE[key]


@pytest.mark.parametrize("key", [pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=DEAD[k])) if k in DEAD else k
                                 for k in sorted(set(DEFAULTS) - set(NO_ARTIFACT))])
def test_another_value_changes_what_is_deployed(key):
    """The rendered files first; the objects (slower) only where the files are the same."""
    base = _base(key)
    other = DEFAULTS[key][1]
    changed = other(base) if callable(other) else _set(base, key, other)
    if _of(changed, _rendered) == _of(base, _rendered):
        assert _of(changed, _objects) != _of(base, _objects), key


def test_every_schema_default_is_in_the_table():
    """Enumerates the schema's defaults (names only) so a new one cannot go without a row."""
    import yaml
    from pathlib import Path
    schema = yaml.safe_load((Path(__file__).resolve().parent.parent / "settings/stack.schema.yaml").read_text())
    found = []

    def walk(node, path):
        if not isinstance(node, dict):
            return
        if "default" in node and not isinstance(node["default"], dict) and path:
            found.append(path)
        for name, child in node.get("properties", {}).items():
            walk(child, f"{path}.{name}" if path else name)
        if "items" in node:
            walk(node["items"], f"{path}[0]")
    walk(schema, "")
    assert sorted(set(found) - set(DEFAULTS)) == []
