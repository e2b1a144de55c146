"""prometheus/rules/llm.rules.yml: recording rules named `level:metric:operations`.

Series names come only from telemetry.catalog; the small helpers below build
PromQL from typed parts, so a name outside the catalog fails at render time.
"""
from __future__ import annotations

from dataclasses import dataclass

from backends import timing
from backends.common import to_yaml
from settings import Settings
from telemetry import keys as k
from telemetry.catalog import BY_NAME, Metric

WINDOWS = ("5m", "1h")
QUANTILES = (0.5, 0.95)


def label(key: str) -> str:
    """An attribute key as the Prometheus label the remote-write translation makes."""
    return key.replace(".", "_")


@dataclass(frozen=True)
class Level:
    """The `level` part of a rule name and the labels it keeps."""
    name: str
    labels: tuple[str, ...]

    def by(self, *extra: str) -> str:
        return f"by ({', '.join((*extra, *self.labels))})"


# Environment and service stay on every per-model, per-tenant and per-prompt-version series, so that
# alerts on them say where the calls ran (and staging never pages production on-call).
PROVIDER_MODEL = Level("provider_model", (label(k.PROVIDER), label(k.REQUEST_MODEL), label(k.ENVIRONMENT),
                                          label(k.SERVICE_NAME)))
WHERE = (label(k.ENVIRONMENT), label(k.SERVICE_NAME))
TENANT = Level("tenant", (label(k.TENANT_LABEL), *WHERE))
SERVICE = Level("service", ("service_name",))
FEATURE = Level("feature", (label(k.FEATURE_LABEL),))
PROMPT_EVAL = Level("prompt_version_eval", (label(k.PROMPT_VERSION), label(k.EVAL_NAME), *WHERE))
BUCKETS = 4096  # user and session hash buckets (collector_config.metrics: 3 hex digits)


@dataclass(frozen=True)
class Series:
    metric: str           # catalog name, e.g. "llm.requests"
    suffix: str = ""      # "_bucket" for histogram buckets

    @property
    def catalog_entry(self) -> Metric:
        if self.metric not in BY_NAME:
            raise KeyError(f"{self.metric!r} is not in telemetry/catalog.py")
        return BY_NAME[self.metric]

    @property
    def name(self) -> str:
        m = self.catalog_entry
        if self.suffix and m.kind != "histogram":
            raise ValueError(f"{self.metric} is a {m.kind}, it has no {self.suffix} series")
        return m.prometheus + self.suffix

    @property
    def short(self) -> str:
        """The `metric` part of a rule name: `_total` dropped, as the convention has it."""
        return self.catalog_entry.prometheus.removesuffix("_total")


@dataclass(frozen=True)
class Rule:
    record: str
    expr: str

    def to_dict(self) -> dict:
        return {"record": self.record, "expr": self.expr}


def rate_sum(series: Series, level: Level, window: str, *extra: str) -> str:
    return f"sum {level.by(*extra)} (rate({series.name}[{window}]))"


def rate_rule(metric: str, level: Level, window: str) -> Rule:
    s = Series(metric)
    return Rule(f"{level.name}:{s.short}:rate{window}", rate_sum(s, level, window))


def ratio_rule(numerator: Rule, denominator: Rule, level: Level, name: str, window: str) -> Rule:
    return Rule(f"{level.name}:{name}:ratio_rate{window}", f"{numerator.record} / {denominator.record}")


def quantile_rule(metric: str, level: Level, window: str, q: float) -> Rule:
    s = Series(metric, "_bucket")
    return Rule(f"{level.name}:{s.short}:p{round(q * 100)}_rate{window}",
                f"histogram_quantile({q}, {rate_sum(s, level, window, 'le')})")


RATE_METRICS = ("llm.requests", "llm.errors", "llm.tokens.input", "llm.tokens.output",
                "llm.tokens.cached_input", "llm.cost")
LATENCY_METRICS = ("gen_ai.client.operation.duration", "llm.time_to_first_token")


def window_rules(window: str) -> list[Rule]:
    rates = {m: rate_rule(m, PROVIDER_MODEL, window) for m in RATE_METRICS}
    rules = list(rates.values())
    rules.append(ratio_rule(rates["llm.errors"], rates["llm.requests"], PROVIDER_MODEL, "llm_errors", window))
    rules += [quantile_rule(m, PROVIDER_MODEL, window, q) for m in LATENCY_METRICS for q in QUANTILES]
    rules.append(rate_rule("llm.cost", TENANT, window))  # one tenant's cost spike
    rules.append(rate_rule("llm.redacted.spans", SERVICE, window))  # the leak canary's baseline
    return rules


def _sum_rate(metric: str, level: Level, window: str, selector: str = "") -> str:
    return f"sum {level.by()} (rate({Series(metric).name}{selector}[{window}]))"


def request_rules(window: str) -> list[Rule]:
    """Per user-visible request (root spans) and per answer: the denominators dashboards and
    alerts share. LLM and tool calls per request are counter ratios, not per-request histograms:
    the gateway is stateless and a root span does not carry its children's counts."""
    w, f = window, FEATURE
    requests = _sum_rate("llm.app.requests", f, w)
    answered = _sum_rate("llm.app.requests", f, w, f'{{{label(k.OUTCOME)}="answered"}}')
    unanswered = _sum_rate("llm.app.requests", f, w, f'{{{label(k.OUTCOME)}="unanswered"}}')
    # `a + b` would drop a feature only one of them has (embeddings have no output): tag, union, sum.
    tokens = "sum {by} ({a} or {b})".format(by=f.by(), **{
        side: f'label_replace(rate({Series(m).name}[{w}]), "tokens", "{side}", "", "")'
        for side, m in (("a", "llm.tokens.input"), ("b", "llm.tokens.output"))})
    cost = _sum_rate("llm.cost", f, w)
    return [
        Rule(f"feature:llm_app_requests:rate{w}", requests),
        Rule(f"feature:llm_tokens_per_request:ratio_rate{w}", f"{tokens} / {requests}"),
        Rule(f"feature:llm_cost_per_request:ratio_rate{w}", f"{cost} / {requests}"),
        Rule(f"feature:llm_cost_per_answer:ratio_rate{w}", f"{cost} / {answered}"),
        Rule(f"feature:llm_calls_per_request:ratio_rate{w}", f"{_sum_rate('llm.requests', f, w)} / {requests}"),
        Rule(f"feature:llm_app_requests_answered:ratio_rate{w}", f"{answered} / {requests}"),
        Rule(f"feature:llm_app_requests_unanswered:ratio_rate{w}", f"{unanswered} / {requests}"),
    ]


def call_rules(window: str, rates: dict[str, Rule]) -> list[Rule]:
    w, pm = window, PROVIDER_MODEL
    retries, fallbacks = rate_rule("llm.retries", pm, w), rate_rule("llm.fallbacks", pm, w)
    eval_mean = (f"{rate_sum(Series('llm.eval.score', '_sum'), PROMPT_EVAL, w)} / "
                 f"{rate_sum(Series('llm.eval.score', '_count'), PROMPT_EVAL, w)}")
    return [
        retries, fallbacks,
        Rule(f"provider_model:llm_cache_hit:ratio_rate{w}",
             f"{rates['llm.tokens.cached_input'].record} / {rates['llm.tokens.input'].record}"),
        ratio_rule(retries, rates["llm.requests"], pm, "llm_retries", w),
        ratio_rule(fallbacks, rates["llm.requests"], pm, "llm_fallbacks", w),
        quantile_rule("llm.context.utilization", pm, w, 0.95),
        Rule(f"prompt_version_eval:llm_eval_score:mean_rate{w}", eval_mean),
    ]


def active_rules() -> list[Rule]:
    """Distinct users and sessions per window by linear counting over hash buckets: a bucket is
    occupied when it received a sample in the window (the gateway sends a bucket only when it
    saw activity). n = -B ln(empty / B); standard error about sqrt(B (e^t - t - 1)) / n, t = n/B."""
    out = []
    for what, metric in (("users", "llm.users.activity"), ("sessions", "llm.sessions.activity")):
        for window in ("1h", "1d"):
            occupied = f"count(count_over_time({Series(metric).name}[{window}]))"
            out.append(Rule(f":llm_active_{what}:estimate{window}",
                            f"-{BUCKETS} * ln(clamp_min({BUCKETS} - {occupied}, 1) / {BUCKETS})"))
    return out


def rule_groups() -> list[tuple[str, str | None, list[Rule]]]:
    """(group name, evaluation interval or None for the global one, rules)."""
    out: list[tuple[str, str | None, list[Rule]]] = []
    for w in WINDOWS:
        rules = window_rules(w)
        rates = {m: next(r for r in rules if r.record == rate_rule(m, PROVIDER_MODEL, w).record) for m in RATE_METRICS}
        out.append((f"llm.rules.{w}", None, rules))
        out.append((f"llm_requests.rules.{w}", None, request_rules(w) + call_rules(w, rates)))
    out.append(("llm_active.rules", "1m", active_rules()))
    return out


def all_rules() -> list[Rule]:
    return [r for _, _, rules in rule_groups() for r in rules]


def groups(settings: Settings) -> list[dict]:
    t = settings.alerts.timing   # identity unless a test profile shortens windows (backends/timing.py)
    out = []
    for name, defined, rules in rule_groups():
        every = timing.interval(defined, t)
        out.append({"name": name, **({"interval": every} if every else {}),
                    "rules": [{"record": r.record, "expr": timing.expr(r.expr, t)} for r in rules]})
    return out


def render(settings: Settings) -> dict[str, str]:
    return {"prometheus/rules/llm.rules.yml": to_yaml({"groups": groups(settings)})}
