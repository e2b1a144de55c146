"""One run of the real gateway between the OpenTelemetry SDK and capture sinks."""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import settings as settings_pkg
from collector_harness import CONTENT_KEY, TOKEN, RunningCollector
from sinks import OtlpGrpcSink, OtlpHttpSink, RemoteWriteSink


@dataclass
class Gateway:
    collector: RunningCollector
    traces: OtlpGrpcSink
    logs: OtlpHttpSink
    metrics: RemoteWriteSink

    def app(self, resource: dict[str, Any] | None = None, token: str = TOKEN) -> "App":
        return App(self.collector.grpc_endpoint, Resource.create({"service.name": "test-app", **(resource or {})}), token)

    def sum_of(self, prom_name: str, **labels: str) -> float:
        return sum(self.metrics.latest(prom_name, **labels).values())


class App:
    """An application's SDK pipeline (traces, logs, metrics) pointed at the gateway."""

    def __init__(self, endpoint: str, resource: Resource, token: str):
        headers = {"authorization": f"Bearer {token}"}
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(BatchSpanProcessor(
            OTLPSpanExporter(endpoint=endpoint, insecure=True, headers=headers), schedule_delay_millis=200))
        self.logger_provider = LoggerProvider(resource=resource)
        self.logger_provider.add_log_record_processor(BatchLogRecordProcessor(
            OTLPLogExporter(endpoint=endpoint, insecure=True, headers=headers), schedule_delay_millis=200))
        self.reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=endpoint, insecure=True, headers=headers), export_interval_millis=3_600_000)
        self.meter_provider = MeterProvider(resource=resource, metric_readers=[self.reader])
        self.tracer = self.tracer_provider.get_tracer("llmobs-tests")
        self.logger = self.logger_provider.get_logger("llmobs-tests")
        self.meter = self.meter_provider.get_meter("llmobs-tests")

    def flush(self) -> None:
        self.tracer_provider.force_flush()
        self.logger_provider.force_flush()
        self.meter_provider.force_flush()

    def close(self) -> None:
        self.flush()
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()
        self.meter_provider.shutdown()


def settings_for(traces: OtlpGrpcSink, logs: OtlpHttpSink, metrics: RemoteWriteSink, **overrides) -> settings_pkg.Settings:
    config = {
        "target": "docker",
        "endpoints": {"traces": traces.endpoint, "logs": logs.endpoint, "metrics": metrics.url},
        "sampling": {"keep_fraction": 1.0, "decision_wait_s": 1},
        "collector": {"metrics_flush_s": 1},   # derived metrics sent each second, not each 15
        "labels": {"tenant": {"allowed": ["acme", "globex"]}, "feature": {"allowed": ["chat", "search"]}},
    }
    for key, value in overrides.items():
        config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
    return settings_pkg.validate(config)


@contextlib.contextmanager
def gateway(content_key: str = CONTENT_KEY, **overrides) -> Iterator[Gateway]:
    with OtlpGrpcSink() as traces, OtlpHttpSink() as logs, RemoteWriteSink() as metrics:
        collector = RunningCollector(settings_for(traces, logs, metrics, **overrides), content_key=content_key)
        with collector:
            yield Gateway(collector, traces, logs, metrics)


def wait(predicate, timeout: float = 30.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except (KeyError, IndexError):
            pass
        time.sleep(interval)
    return False


def await_sentinel(send: Callable[[int], None], arrived: Callable[[], bool], timeout: float = 60.0,
                   every: float = 1.0) -> bool:
    """Absence checks without a fixed sleep: after the data, send a sentinel down the same path
    and wait, bounded, until it arrives; what was sent before it has then arrived too, and only
    then is it checked that nothing else did. `send(i)` sends the i-th sentinel: on a sampled path
    one may be dropped, so a new one goes every `every` seconds until one arrives."""
    deadline = time.monotonic() + timeout
    i = 0
    while time.monotonic() < deadline:
        send(i)
        i += 1
        if wait(arrived, timeout=min(every, max(0.0, deadline - time.monotonic()))):
            return True
    return False
