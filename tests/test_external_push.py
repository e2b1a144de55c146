"""External backends on the real gateway: the rendered config of a stack whose metrics, traces and
logs backends are all external sends each signal to its endpoint with the auth header read from
the mounted token file (never from the config text) and the configured non-secret headers; no
token appears in the config or in the collector's logs. The sinks stand in for the external
Prometheus (remote write), Tempo (OTLP/gRPC) and Loki (OTLP/HTTP); the two OTLP ones refuse a
call without the right bearer token. A mixed stack (bundled metrics and logs, external traces)
authenticates to the external backend only."""
from __future__ import annotations

import logging
from pathlib import Path

from collector_harness import TOKEN, RunningCollector
from gateway_run import App, wait
from opentelemetry.sdk._logs import LoggingHandler
from opentelemetry.sdk.resources import Resource
from settings import validate
from sinks import OtlpHttpSink, RemoteWriteSink

TOKENS = {"metrics_token": "MetricsKey-5b1e9c-secret", "traces_token": "TracesTok-77a0d2-secret",
          "logs_token": "LogsTok-c3f418-secret"}


def _settings(traces: OtlpHttpSink, logs: OtlpHttpSink, metrics: RemoteWriteSink):
    return validate({
        "target": "docker",
        "sampling": {"keep_fraction": 1.0, "decision_wait_s": 1},
        "backends": {
            "metrics": {"mode": "external", "remote_write_url": metrics.url, "auth": "raw", "auth_header": "X-Api-Key",
                        "headers": {"X-Scope-OrgID": "llm-metrics"}, "query_url": "http://mimir.example"},
            "alerting": {"mode": "external", "kind": "team"},
            # gRPC sends no credentials over plaintext (settings refuse it): OTLP/HTTP to the sink.
            "traces": {"mode": "external", "protocol": "http", "endpoint": traces.endpoint, "auth": "bearer",
                       "headers": {"X-Scope-OrgID": "llm-traces"}, "query_url": "http://tempo.example"},
            "logs": {"mode": "external", "endpoint": logs.endpoint, "auth": "bearer",
                     "query_url": "http://loki.example"}}})


def test_each_signal_reaches_its_external_backend_with_the_secret_header_and_no_token_is_logged():
    with OtlpHttpSink(token=TOKENS["traces_token"]) as traces, OtlpHttpSink(token=TOKENS["logs_token"]) as logs, \
            RemoteWriteSink() as metrics:
        collector = RunningCollector(_settings(traces, logs, metrics))
        for key, token in TOKENS.items():   # as the Secret mounts them, beside the ingest token
            path = Path(collector.dir.name) / key
            path.write_text(token)
            path.chmod(0o600)
        assert not any(t in collector.config_text for t in TOKENS.values())
        with collector:
            _send_call_and_log(collector, "a log line for the external Loki")
            assert wait(lambda: traces.headers and logs.headers and metrics.headers, timeout=60), collector.logs()[-3000:]
            logs_text = collector.logs()
        assert traces.rejected == 0 and logs.rejected == 0
        assert traces.headers[0]["authorization"] == f"Bearer {TOKENS['traces_token']}"
        assert traces.headers[0]["x-scope-orgid"] == "llm-traces"
        assert logs.headers[0]["authorization"] == f"Bearer {TOKENS['logs_token']}"
        assert metrics.headers[0]["x-api-key"] == TOKENS["metrics_token"]
        assert metrics.headers[0]["x-scope-orgid"] == "llm-metrics"
        assert not any(t in logs_text for t in TOKENS.values()), "a token in the collector's logs"


def _send_call_and_log(collector, line: str) -> None:
    """One LLM call span and one log line, from an app authenticated to the gateway."""
    app = App(collector.grpc_endpoint, Resource.create({"service.name": "test-app"}), TOKEN)
    with app.tracer.start_as_current_span("chat gpt-4o") as span:
        span.set_attributes({"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                             "gen_ai.provider.name": "openai", "gen_ai.usage.input_tokens": 10,
                             "gen_ai.usage.output_tokens": 5})
    logger = logging.getLogger(f"external-push-{id(collector)}")
    logger.addHandler(LoggingHandler(logger_provider=app.logger_provider))
    logger.warning(line)
    app.close()


def test_a_wrong_token_is_refused_by_the_backend():
    """The sinks really check: the gateway with another traces token is refused."""
    with OtlpHttpSink(token="the-right-one") as traces, OtlpHttpSink() as logs, RemoteWriteSink() as metrics:
        collector = RunningCollector(_settings(traces, logs, metrics))
        for key, token in TOKENS.items():
            (Path(collector.dir.name) / key).write_text(token)
        with collector:
            app = App(collector.grpc_endpoint, Resource.create({"service.name": "test-app"}), TOKEN)
            with app.tracer.start_as_current_span("chat gpt-4o") as span:
                span.set_attribute("gen_ai.operation.name", "chat")
            app.close()
            assert wait(lambda: traces.rejected > 0, timeout=60), collector.logs()[-3000:]
        assert not traces.headers


def test_a_mixed_stack_authenticates_to_the_external_backend_only():
    """Bundled metrics and logs (their endpoints here the sinks, as the bundled services' are), external
    traces with a bearer token: the traces arrive with it, the bundled backends get no credential,
    and the span-derived metrics still reach the bundled Prometheus."""
    with OtlpHttpSink(token=TOKENS["traces_token"]) as traces, OtlpHttpSink() as logs, RemoteWriteSink() as metrics:
        settings = validate({
            "target": "docker", "sampling": {"keep_fraction": 1.0, "decision_wait_s": 1},
            "collector": {"metrics_flush_s": 1},
            "endpoints": {"metrics": metrics.url, "logs": logs.endpoint},
            "backends": {"traces": {"mode": "external", "protocol": "http", "endpoint": traces.endpoint,
                                    "auth": "bearer", "query_url": "http://tempo.example"}}})
        collector = RunningCollector(settings)
        (Path(collector.dir.name) / "traces_token").write_text(TOKENS["traces_token"])
        assert TOKENS["traces_token"] not in collector.config_text
        with collector:
            _send_call_and_log(collector, "a log line for the bundled Loki")
            requests = lambda: [s for s in metrics.series() if s["labels"].get("__name__") == "llm_requests_total"]  # noqa: E731
            assert wait(lambda: traces.headers and logs.headers and requests(), timeout=60), collector.logs()[-3000:]
            logs_text = collector.logs()
        assert traces.rejected == 0
        assert traces.headers[0]["authorization"] == f"Bearer {TOKENS['traces_token']}"
        assert all("authorization" not in h for h in logs.headers + metrics.headers)
        assert TOKENS["traces_token"] not in logs_text
