"""Send planned requests through the OpenTelemetry SDK: traces, logs and app metrics over OTLP.

`run(...)` paces requests at `rate` per second for `duration` seconds (a real app's
arrival pattern, so rate-based alerts see real rates), then flushes and returns a
`Summary` of what was sent and what the gateway should count from it.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence, TextIO

from opentelemetry import context as otel_context
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Status, StatusCode, set_span_in_context

import collector_config
from loadgen import PROTOCOLS, flavors, scenarios, secrets
from loadgen.app import Planner, SpanPlan, Tally
from loadgen.pricing import Pricer
from loadgen.world import X
from telemetry import keys as k

TOKEN_ENV = collector_config.TOKEN_ENV   # the variable the collector reads the ingest token from
ENVIRONMENT = "loadgen"  # deployment.environment.name of the synthetic app
TRACE_ID_CAP = 10_000   # trace ids kept in the summary; long runs (the docker target's) stay bounded


class SeededIds(IdGenerator):
    """Trace and span ids from the run's seed: the same seed sends the same ids."""

    def __init__(self, seed: int):
        self._rng = random.Random(f"ids/{seed}")
        self._lock = threading.Lock()

    def generate_span_id(self) -> int:
        with self._lock:
            return self._rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        with self._lock:
            return self._rng.getrandbits(128) or 1


class _Counting:
    """Wraps an exporter; counts what the endpoint acknowledged."""

    def __init__(self, inner, ok_result):
        self.inner, self.ok_result = inner, ok_result
        self.ok = self.failed = 0

    def export(self, batch):
        result = self.inner.export(batch)
        if result == self.ok_result:
            self.ok += len(batch)
        else:
            self.failed += len(batch)
        return result

    def shutdown(self, *args, **kwargs):
        return self.inner.shutdown(*args, **kwargs)

    def force_flush(self, timeout_millis: int = 30000):
        return self.inner.force_flush(timeout_millis)


class CountingSpanExporter(_Counting, SpanExporter):
    def __init__(self, inner):
        _Counting.__init__(self, inner, SpanExportResult.SUCCESS)


class CountingLogExporter(_Counting, LogRecordExporter):
    def __init__(self, inner):
        _Counting.__init__(self, inner, LogRecordExportResult.SUCCESS)


@dataclass
class Summary:
    endpoint: str
    protocol: str
    scenario: str
    flavor: str
    seed: int
    rate: float
    duration: float
    after: float | None
    service: str
    elapsed_s: float = 0.0
    tally: Tally = field(default_factory=Tally)
    spans_exported: int = 0
    spans_failed: int = 0
    logs_exported: int = 0
    logs_failed: int = 0
    trace_ids: list = field(default_factory=list)         # the first TRACE_ID_CAP requests' trace ids (hex)
    secret_trace_ids: list = field(default_factory=list)  # the first TRACE_ID_CAP leaking requests' trace ids

    def to_dict(self) -> dict:
        t = self.tally
        return {
            "endpoint": self.endpoint, "protocol": self.protocol, "scenario": self.scenario, "flavor": self.flavor,
            "seed": self.seed, "rate": self.rate, "duration": self.duration, "after": self.after,
            "service": self.service, "elapsed_s": round(self.elapsed_s, 3),
            "requests": t.requests, "phases": dict(t.phases),
            "llm_calls": t.llm_calls, "llm_errors": dict(t.llm_errors), "unpriced_calls": t.unpriced_calls,
            "fallback_calls": t.fallback_calls, "streaming_calls": t.streaming_calls,
            "llm_calls_by_model": dict(sorted(t.llm_calls_by_model.items())),
            "input_tokens": t.input_tokens, "output_tokens": t.output_tokens,
            "cached_input_tokens": t.cached_input_tokens, "cost_usd": round(t.cost_usd, 9),
            "cost_by_tenant": {name: round(v, 9) for name, v in sorted(t.cost_by_tenant.items())},
            "tool_calls": dict(t.tool_calls), "retrievals": t.retrievals, "empty_retrievals": t.empty_retrievals,
            "retrieved_documents": t.retrieved_documents, "safety_blocks": t.safety_blocks,
            "evals": dict(t.evals), "eval_means": {n: round(t.eval_score_sums[n] / c, 4) for n, c in t.evals.items()},
            "feedback": dict(t.feedback), "outcomes": dict(t.outcomes), "retries": t.retries,
            "fallbacks": {f"{a}->{b}": n for (a, b), n in sorted(t.fallbacks.items())},
            "cache_write_tokens": t.cache_write_tokens, "truncated": t.truncated,
            "active_users": len(t.users), "sessions": len(t.sessions),
            "secrets": dict(t.secrets), "secret_values": sorted(t.secret_values),
            "spans": t.spans, "logs": t.logs, "spans_exported": self.spans_exported, "spans_failed": self.spans_failed,
            "logs_exported": self.logs_exported, "logs_failed": self.logs_failed,
            "trace_ids": self.trace_ids, "secret_trace_ids": self.secret_trace_ids,
        }

    def text(self) -> str:
        t = self.tally
        errors = ", ".join(f"{n} {c}" for n, c in sorted(t.llm_errors.items())) or "none"
        tools = ", ".join(f"{n} {c}" for n, c in sorted(t.tool_calls.items())) or "none"
        rate = t.requests / self.elapsed_s if self.elapsed_s else 0.0
        switch = f" after {self.after:g}s of baseline" if self.after else ""
        lines = [
            f"loadgen: sent {t.requests} requests in {self.elapsed_s:.1f}s ({rate:.1f}/s) to {self.endpoint} "
            f"[{self.protocol}, flavor {self.flavor}, scenario {self.scenario}{switch}, seed {self.seed}, service {self.service}]",
            f"  LLM calls  {t.llm_calls} (errors: {errors}; fallbacks {t.fallback_calls}; unpriced {t.unpriced_calls})",
            f"  tokens     input {t.input_tokens:,} (cached {t.cached_input_tokens:,}), output {t.output_tokens:,}",
            f"  cost       ${t.cost_usd:.6f} expected from the gateway price table",
            f"  tools      {sum(t.tool_calls.values())} ({tools}); retrievals {t.retrievals} (empty {t.empty_retrievals}); "
            f"safety blocks {t.safety_blocks}",
            f"  evals      {sum(t.evals.values())}; feedback {dict(sorted(t.feedback.items()))}; "
            f"secrets leaked {sum(t.secrets.values())} ({len(t.secrets)} kinds)",
            f"  exported   spans {self.spans_exported}/{t.spans} (failed {self.spans_failed}), "
            f"logs {self.logs_exported}/{t.logs} (failed {self.logs_failed})",
        ]
        return "\n".join(lines)


def _exporters(endpoint: str, protocol: str, token: str | None):
    headers = {"authorization": f"Bearer {token}"} if token else None
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        target = endpoint.split("://", 1)[-1].rstrip("/")
        secure = endpoint.startswith("https://")
        return (OTLPSpanExporter(endpoint=target, insecure=not secure, headers=headers),
                OTLPLogExporter(endpoint=target, insecure=not secure, headers=headers),
                OTLPMetricExporter(endpoint=target, insecure=not secure, headers=headers))
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetrics
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
    base = endpoint.rstrip("/")
    if "://" not in base:
        base = "http://" + base
    return (HttpSpans(endpoint=f"{base}/v1/traces", headers=headers),
            HttpLogs(endpoint=f"{base}/v1/logs", headers=headers),
            HttpMetrics(endpoint=f"{base}/v1/metrics", headers=headers))


class Emitter:
    """Plans -> SDK telemetry in one flavor. Each request ends at the moment it is sent."""

    def __init__(self, tracer_provider, logger_provider, meter_provider, flavor: flavors.Flavor):
        self.tracer = tracer_provider.get_tracer("llmobs-loadgen", "1.0.0")
        self.logger = logger_provider.get_logger("llmobs-loadgen", "1.0.0")
        meter = meter_provider.get_meter("llmobs-loadgen", "1.0.0")
        self.flavor = flavor
        self.request_duration = meter.create_histogram(
            "http.server.request.duration", unit="s", description="duration of the app's HTTP requests")
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage", unit="{token}", description="tokens per LLM call, as the app's SDK reports them")

    def emit(self, root: SpanPlan, end_ns: int) -> str:
        base_ns = end_ns - int(root.end * 1e9)
        span = self._span(root, None, base_ns)
        # Recorded in the request's span context: the SDK attaches it as an exemplar.
        self.request_duration.record(root.end - root.start, {
            X.HTTP_ROUTE: root.attrs[X.HTTP_ROUTE], X.HTTP_METHOD: "POST",
            X.HTTP_STATUS: root.attrs[X.HTTP_STATUS], k.FEATURE: root.attrs[k.FEATURE]},
            context=set_span_in_context(span))
        return format(span.get_span_context().trace_id, "032x")

    def _span(self, plan: SpanPlan, parent, base_ns: int):
        ns = lambda s: base_ns + int(s * 1e9)  # noqa: E731
        ctx = set_span_in_context(parent) if parent is not None else otel_context.Context()
        span = self.tracer.start_span(plan.name, context=ctx, kind=plan.kind, start_time=ns(plan.start),
                                      attributes=self.flavor.attributes(plan.attrs, plan.content))
        for name, at, attrs in plan.events:
            span.add_event(name, attrs, timestamp=ns(at))
        if plan.error:
            span.set_status(Status(StatusCode.ERROR, plan.error[1]))
        span_ctx = set_span_in_context(span)
        for log in plan.logs:
            self.logger.emit(timestamp=ns(log.at), observed_timestamp=ns(log.at), context=span_ctx,
                             severity_number=log.severity, severity_text=log.severity.name, body=log.body,
                             attributes=self.flavor.attributes(log.attrs), event_name=log.event_name)
        if plan.attrs.get(k.INPUT_TOKENS) is not None and plan.attrs.get(k.OPERATION) in k.LLM_OPERATIONS:
            labels = {key: plan.attrs[key] for key in (k.PROVIDER, k.REQUEST_MODEL, k.OPERATION)}
            flavored = self.flavor.attributes(labels)
            self.token_usage.record(plan.attrs[k.INPUT_TOKENS], {**flavored, X.TOKEN_TYPE: "input"}, context=span_ctx)
            if plan.attrs.get(k.OUTPUT_TOKENS) is not None:
                self.token_usage.record(plan.attrs[k.OUTPUT_TOKENS], {**flavored, X.TOKEN_TYPE: "output"},
                                        context=span_ctx)
        for child in plan.children:
            self._span(child, span, base_ns)
        span.end(end_time=ns(plan.end))
        return span


def run(endpoint: str = "http://127.0.0.1:4317", *, scenario: str = "baseline", rate: float = 5.0,
        duration: float = 60.0, seed: int = 1, flavor: str = flavors.CANONICAL, token: str | None = None,
        after: float | None = None, protocol: str = "grpc", service: str = "llm-app", pricer: Pricer | None = None,
        progress: TextIO | None = None, exporters: Sequence | None = None,
        stop: Callable[[], bool] | None = None) -> Summary:
    """Send `round(rate * duration)` requests at `rate` per second. `exporters` (span, log,
    metric) replaces OTLP, e.g. with in-memory exporters in tests."""
    if rate <= 0 or duration <= 0:
        raise ValueError("rate and duration must be positive")
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}")
    chosen = scenarios.get(scenario)
    flavor_obj = flavors.get(flavor)
    pricer = pricer or Pricer.from_settings()
    planner = Planner(seed, chosen, pricer, secrets.samples(random.Random(f"secrets/{seed}")), after=after, rate=rate)
    span_exp, log_exp, metric_exp = exporters or _exporters(endpoint, protocol, token)
    span_exp, log_exp = CountingSpanExporter(span_exp), CountingLogExporter(log_exp)
    resource = Resource.create({k.SERVICE_NAME: service, "service.version": "2025.06.1",
                                flavor_obj.key(k.ENVIRONMENT): ENVIRONMENT, X.SCENARIO: chosen.name})
    providers = _providers(resource, seed, span_exp, log_exp, metric_exp)
    summary = Summary(endpoint, protocol, chosen.name, flavor, seed, rate, duration, after, service)
    start = time.monotonic()
    try:
        _send(planner, Emitter(*providers, flavor_obj), summary, progress, stop)
    finally:
        for provider in providers:
            provider.force_flush(30_000)
        for provider in providers:
            provider.shutdown()
    summary.elapsed_s = time.monotonic() - start
    summary.spans_exported, summary.spans_failed = span_exp.ok, span_exp.failed
    summary.logs_exported, summary.logs_failed = log_exp.ok, log_exp.failed
    if progress:
        progress.write("\n" if progress.isatty() else "")
        progress.flush()
    return summary


def _send(planner: Planner, emitter: Emitter, summary: Summary, progress: TextIO | None,
          stop: Callable[[], bool] | None) -> None:
    """Emit `round(rate * duration)` planned requests, paced at `rate`, tallying each."""
    rate, total = summary.rate, max(1, round(summary.rate * summary.duration))
    start, last_progress = time.monotonic(), 0.0
    every = 0.5 if progress is not None and progress.isatty() else 10.0
    for i in range(total):
        # Pacing, not readiness: requests arrive at `rate`; `stop` is checked while waiting.
        while (delay := start + i / rate - time.monotonic()) > 0 and not (stop and stop()):
            time.sleep(min(delay, 0.2))
        if stop and stop():
            break
        root, tally = planner.plan(i)
        trace_id = emitter.emit(root, time.time_ns())
        summary.tally.add(tally)
        if len(summary.trace_ids) < TRACE_ID_CAP:
            summary.trace_ids.append(trace_id)
        if tally.secrets and len(summary.secret_trace_ids) < TRACE_ID_CAP:
            summary.secret_trace_ids.append(trace_id)
        now = time.monotonic()
        if progress and (now - last_progress >= every or i == total - 1):
            last_progress = now
            _progress(progress, summary, i + 1, total, now - start)


def _providers(resource: Resource, seed: int, span_exp, log_exp, metric_exp):
    """The SDK pipelines, with queues deep enough that pacing, not the SDK, limits the rate."""
    tracer_provider = TracerProvider(resource=resource, id_generator=SeededIds(seed))
    tracer_provider.add_span_processor(BatchSpanProcessor(span_exp, max_queue_size=200_000,
                                                          schedule_delay_millis=200, max_export_batch_size=2048))
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(log_exp, max_queue_size=100_000,
                                                                      schedule_delay_millis=200,
                                                                      max_export_batch_size=2048))
    reader = PeriodicExportingMetricReader(metric_exp, export_interval_millis=5_000)
    return tracer_provider, logger_provider, MeterProvider(resource=resource, metric_readers=[reader])


def _progress(out: TextIO, summary: Summary, done: int, total: int, elapsed: float) -> None:
    t = summary.tally
    line = (f"loadgen: {done}/{total} requests  {done / max(elapsed, 1e-9):.1f}/s  llm calls {t.llm_calls}  "
            f"errors {sum(t.llm_errors.values())}  tokens {t.input_tokens + t.output_tokens:,}  "
            f"cost ${t.cost_usd:.4f}  spans {t.spans}  logs {t.logs}")
    out.write(("\r" + line) if out.isatty() else line + "\n")
    out.flush()


def default_token(explicit: str | None) -> str | None:
    import os
    return explicit if explicit is not None else (os.environ.get(TOKEN_ENV) or None)

