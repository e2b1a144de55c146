"""Typed, frozen settings. Built only by settings.load from validated input."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabelBound:
    allowed: tuple[str, ...]
    patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectStorage:
    type: str
    bucket: str | None = None
    endpoint: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class TwoTier:
    enabled: bool
    sampler_replicas: int


@dataclass(frozen=True)
class Network:
    grafana_ingress_namespaces: tuple[str, ...]
    dns_namespace: str
    dns_pod_labels: tuple[tuple[str, str], ...]
    api_server_cidrs: tuple[str, ...]
    external_cidrs: tuple[str, ...]


@dataclass(frozen=True)
class Kubernetes:
    version: str
    app_namespaces: tuple[str, ...]
    two_tier: TwoTier
    network: Network
    storage_class: str | None = None


@dataclass(frozen=True)
class Image:
    repository: str
    tag: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class Registry:
    repository: str   # host/path: where `pulumi up` pushes the image it builds
    username: str = ""


@dataclass(frozen=True)
class Collector:
    replicas_min: int
    replicas_max: int
    memory_limit_mib: int
    persistent_queue: bool
    metrics_flush_s: int = 15   # the derived metrics' flush interval (llmmetrics flush_interval)
    image: Image | None = None        # None: built from collector_config/distribution (docker) or pushed (registry)
    registry: Registry | None = None  # Kubernetes: build, push to it, deploy by digest


@dataclass(frozen=True)
class Traces:
    backend: str  # tempo | jaeger


@dataclass(frozen=True)
class Tls:
    mode: str  # none | secret | cert-manager
    secret_name: str
    issuer_kind: str
    issuer_name: str | None = None


@dataclass(frozen=True)
class Ingest:
    auth: bool
    tls: Tls


@dataclass(frozen=True)
class ExtraPattern:
    name: str
    regex: str


@dataclass(frozen=True)
class Redaction:
    disabled_detectors: tuple[str, ...]
    extra_patterns: tuple[ExtraPattern, ...]
    span_links: str


@dataclass(frozen=True)
class ContentGuard:
    enabled: bool
    min_chars: int
    allowlist: tuple[str, ...]


@dataclass(frozen=True)
class NeverRetain:
    tenants: tuple[str, ...]
    keep: str  # hash | drop


@dataclass(frozen=True)
class Content:
    mode: str  # hash | preview | drop
    hash: str  # hmac (keyed by the secret content_hash_key) | sha256
    preview_chars: int
    guard: ContentGuard
    never_retain: NeverRetain
    never_forward: tuple[str, ...]


@dataclass(frozen=True)
class Debug:
    enabled: bool
    tenants: tuple[str, ...]
    features: tuple[str, ...]
    sample_rate: float
    preview_chars: int
    loki_tenant: str
    viewers: tuple[str, ...]
    span_content: bool = False


@dataclass(frozen=True)
class Forwarder:
    name: str
    protocol: str  # http | grpc
    endpoint: str
    insecure: bool
    content: str  # hash | preview | drop
    preview_chars: int
    auth: str  # none | bearer | basic | raw
    auth_header: str
    headers: tuple[tuple[str, str], ...]
    exclude_tenants: tuple[str, ...]


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""
    model: str
    input: float
    output: float
    cached_input: float
    provider: str | None = None
    pattern: str | None = None
    context_window: int | None = None


@dataclass(frozen=True)
class Pricing:
    models: tuple[Price, ...]  # defaults merged with the stack's entries


@dataclass(frozen=True)
class Labels:
    tenant: LabelBound
    feature: LabelBound
    prompt_version: LabelBound
    environment: LabelBound
    retrieval_index: LabelBound
    index_version: LabelBound
    retrieval_method: LabelBound
    eval_label: LabelBound


@dataclass(frozen=True)
class Sampling:
    keep_fraction: float
    llm_keep_fraction: float
    slow_threshold_ms: int
    decision_wait_s: int
    num_traces: int


@dataclass(frozen=True)
class Retention:
    metrics: str
    traces: str
    logs: str
    debug_logs: str


@dataclass(frozen=True)
class TeamReceivers:
    team: str
    critical: str | None = None   # None: the severity's receiver for every team
    warning: str | None = None
    info: str | None = None


@dataclass(frozen=True)
class Email:
    to: str
    from_address: str
    smarthost: str
    auth_username: str
    require_tls: bool


@dataclass(frozen=True)
class Receivers:
    kind: str                     # none | webhook | slack | pagerduty | email
    critical: str                 # "" follows kind
    warning: str
    info: str
    teams: tuple[TeamReceivers, ...]
    email: Email
    non_paging: str = "none"      # alerts of environments that do not page
    dead_mans_switch: str = "none"   # the Watchdog's heartbeat

    def for_(self, severity: str, team: str | None = None) -> str:
        """The receiver kind an alert of this severity (and team) goes to."""
        for override in self.teams:
            if override.team == team and getattr(override, severity):
                return getattr(override, severity)
        return getattr(self, severity) or self.kind

    def in_use(self) -> set[str]:
        kinds = {self.kind, self.non_paging, self.dead_mans_switch} | {self.for_(s) for s in ("critical", "warning", "info")}
        kinds |= {getattr(t, s) for t in self.teams for s in ("critical", "warning", "info") if getattr(t, s)}
        return kinds


@dataclass(frozen=True)
class Timing:
    evaluation_interval: str      # "" = as defined
    max_for: str                  # "" = as defined
    windows: tuple[tuple[str, str], ...]   # (window in the rules, replacement)


@dataclass(frozen=True)
class VolumeFloors:
    """Minimum events in a ratio alert's window (its denominator), per alert family; `traffic`: the calls
    of the hour up to this time a day earlier below which LlmNoTraffic stays silent."""
    calls: int
    fallbacks: int
    safety: int
    feedback: int
    evaluations: int
    retrievals: int
    requests: int
    traffic: int


@dataclass(frozen=True)
class Teams:
    """The owning team (the `team` label) of each alert family."""
    platform: str
    finance: str
    quality: str
    security: str

    def names(self) -> set[str]:
        return {self.platform, self.finance, self.quality, self.security}


@dataclass(frozen=True)
class Alerts:
    provider_error_ratio: float
    latency_p95_seconds: float
    ttft_p95_seconds: float
    daily_cost_budget_usd: float
    monthly_cost_budget_usd: float
    tenant_cost_share: float
    eval_score_min: float
    safety_block_ratio: float
    denied_tool_calls_per_minute: float
    denied_tool_spike_factor: float
    throttle_ratio: float
    availability_slo: float
    latency_slo: float
    latency_slo_seconds: float
    spend_spike_factor: float
    spend_floor_usd_per_hour: float
    prompt_bloat_ratio: float
    prompt_shrink_ratio: float
    empty_retrieval_ratio: float
    thumbs_down_ratio: float
    redaction_spike_factor: float
    retry_ratio: float
    fallback_ratio: float
    context_utilization_p95: float
    agent_iterations_p95: float
    context_recall_min: float
    engine: str   # prometheus | grafana
    runbook_base_url: str
    grafana_url: str
    timing: Timing
    receivers: Receivers
    volume_floors: VolumeFloors
    paging_environments: tuple[str, ...]
    teams: Teams


@dataclass(frozen=True)
class Grafana:
    admin_user: str


@dataclass(frozen=True)
class RemoteWrite:
    url: str
    username: str | None = None


@dataclass(frozen=True)
class Prometheus:
    storage_gib: int
    startup_budget_minutes: int
    remote_write: tuple[RemoteWrite, ...]


@dataclass(frozen=True)
class Storage:
    tempo: ObjectStorage
    loki: ObjectStorage


@dataclass(frozen=True)
class MetricsBackend:
    mode: str                                  # bundled | external
    auth: str                                  # none | bearer | basic | raw (secret llmobs:metrics_token)
    auth_header: str
    headers: tuple[tuple[str, str], ...]
    rules: str                                 # prometheus-operator | none
    monitor: str                               # servicemonitor | podmonitor | none
    selector_labels: tuple[tuple[str, str], ...]
    prometheus_namespace: str
    remote_write_url: str | None = None
    query_url: str | None = None

    @property
    def external(self) -> bool:
        return self.mode == "external"


@dataclass(frozen=True)
class AlertingBackend:
    mode: str
    selector_labels: tuple[tuple[str, str], ...]
    kind: str | None = None                    # alertmanager-config | team | grafana

    @property
    def external(self) -> bool:
        return self.mode == "external"


@dataclass(frozen=True)
class DataSourceUids:
    metrics: str | None = None
    traces: str | None = None
    logs: str | None = None


@dataclass(frozen=True)
class DashboardsBackend:
    mode: str
    sidecar_labels: tuple[tuple[str, str], ...]
    folder_annotation: str
    grafana_namespace: str
    datasources: DataSourceUids
    kind: str | None = None                    # sidecar | grafana-api
    url: str | None = None

    @property
    def external(self) -> bool:
        return self.mode == "external"


@dataclass(frozen=True)
class PushBackend:
    """Traces or logs: where the gateway pushes (OTLP) and how it authenticates."""
    mode: str
    auth: str                                  # secret llmobs:<signal>_token
    auth_header: str
    headers: tuple[tuple[str, str], ...]
    protocol: str = "http"                     # grpc | http (logs: http)
    insecure: bool = False
    endpoint: str | None = None
    query_url: str | None = None

    @property
    def external(self) -> bool:
        return self.mode == "external"


@dataclass(frozen=True)
class Backends:
    metrics: MetricsBackend
    alerting: AlertingBackend
    dashboards: DashboardsBackend
    traces: PushBackend
    logs: PushBackend

    def bundled(self, backend: str) -> bool:
        return not getattr(self, backend).external


@dataclass(frozen=True)
class Endpoints:
    metrics: str | None = None
    traces: str | None = None
    logs: str | None = None


@dataclass(frozen=True)
class Loadgen:
    enabled: bool
    scenario: str
    rate: float


@dataclass(frozen=True)
class Settings:
    target: str  # kubernetes | docker
    namespace: str
    versions: tuple[tuple[str, str], ...]  # image tag overrides; see settings.versions.image()
    kubernetes: Kubernetes
    collector: Collector
    traces: Traces
    ingest: Ingest
    redaction: Redaction
    content: Content
    pricing: Pricing
    labels: Labels
    sampling: Sampling
    retention: Retention
    alerts: Alerts
    grafana: Grafana
    prometheus: Prometheus
    storage: Storage
    endpoints: Endpoints
    loadgen: Loadgen
    debug: Debug
    forwarding: tuple[Forwarder, ...]
    backends: Backends

    @property
    def two_tier(self) -> bool:
        """Agent + sampler collector tiers: a Kubernetes setting; the Docker target runs one collector."""
        return self.target == "kubernetes" and self.kubernetes.two_tier.enabled
