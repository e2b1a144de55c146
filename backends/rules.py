"""prometheus/rules/llm.rules.yml: recording rules named `level:metric:operations`.

Series names come only from telemetry.catalog; the small helpers below build
PromQL from typed parts, so a name outside the catalog fails at render time.
"""
from __future__ import annotations

from dataclasses import dataclass

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


PROVIDER_MODEL = Level("provider_model", (label(k.PROVIDER), label(k.REQUEST_MODEL)))
TENANT = Level("tenant", (label(k.TENANT_LABEL),))
SERVICE = Level("service", ("service_name",))


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


def groups(settings: Settings) -> list[dict]:
    return [{"name": f"llm.rules.{w}", "rules": [r.to_dict() for r in window_rules(w)]} for w in WINDOWS]


def render(settings: Settings) -> dict[str, str]:
    return {"prometheus/rules/llm.rules.yml": to_yaml({"groups": groups(settings)})}
