"""Tests for tests/sinks.py: real OTel SDK exporters -> sinks -> decoded views."""

import logging
import struct
import time
import urllib.error
import urllib.request

import cramjam
import grpc
import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.metrics import Observation
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from sinks import (MetricMetadata, OtlpGrpcSink, OtlpHttpSink, RemoteWriteSink, WriteRequest)

RESOURCE = Resource.create({"service.name": "sink-test", "deployment.environment": "test"})
SECRET = "sk-live-SECRET123"
TIMEOUT = 5  # exporter timeouts (s): keeps a broken sink from hanging a test


@pytest.fixture
def grpc_sink():
    with OtlpGrpcSink() as sink:
        yield sink


@pytest.fixture
def http_sink():
    with OtlpHttpSink() as sink:
        yield sink


@pytest.fixture
def rw_sink():
    with RemoteWriteSink() as sink:
        yield sink


def exporters(sink, kind):
    """(span, log, metric) exporters of the given transport pointed at `sink`."""
    if kind == "grpc":
        return (GrpcSpanExporter(endpoint=sink.endpoint, insecure=True, timeout=TIMEOUT),
                GrpcLogExporter(endpoint=sink.endpoint, insecure=True, timeout=TIMEOUT),
                GrpcMetricExporter(endpoint=sink.endpoint, insecure=True, timeout=TIMEOUT))
    # gzip so the sink's Content-Encoding handling is exercised too
    return (HttpSpanExporter(endpoint=f"{sink.endpoint}/v1/traces", timeout=TIMEOUT,
                             compression=Compression.Gzip),
            HttpLogExporter(endpoint=f"{sink.endpoint}/v1/logs", timeout=TIMEOUT,
                            compression=Compression.Gzip),
            HttpMetricExporter(endpoint=f"{sink.endpoint}/v1/metrics", timeout=TIMEOUT,
                               compression=Compression.Gzip))


@pytest.fixture(params=["grpc", "http"])
def otlp(request):
    """(sink, span_exporter, log_exporter, metric_exporter) for each transport."""
    with (OtlpGrpcSink() if request.param == "grpc" else OtlpHttpSink()) as sink:
        yield (sink, *exporters(sink, request.param))


def send_spans(span_exporter):
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    tracer = provider.get_tracer("sink-tests")
    with tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent:
        with tracer.start_as_current_span(
                "chat gpt-4o", kind=SpanKind.CLIENT,
                links=[Link(parent.get_span_context(), {"link.why": "test"})],
                attributes={"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 12,
                            "llm.temperature": 0.5, "llm.stream": False,
                            "llm.stop": ["a", "b"], "api_key": SECRET}) as child:
            child.add_event("gen_ai.content.prompt", {"gen_ai.prompt": "hello"})
            child.set_status(Status(StatusCode.ERROR, "upstream 429"))
    provider.shutdown()
    return parent.get_span_context(), child.get_span_context()


def test_spans_roundtrip(otlp):
    sink, span_exporter, _, _ = otlp
    parent_ctx, child_ctx = send_spans(span_exporter)
    assert sink.wait_for(lambda: len(sink.spans()) == 2, timeout=5)
    by_name = {s["name"]: s for s in sink.spans()}
    parent, child = by_name["parent"], by_name["chat gpt-4o"]
    assert child["trace_id"] == parent["trace_id"] == trace.format_trace_id(child_ctx.trace_id)
    assert child["span_id"] == trace.format_span_id(child_ctx.span_id)
    assert child["parent_span_id"] == parent["span_id"] == trace.format_span_id(parent_ctx.span_id)
    assert parent["parent_span_id"] == ""
    assert (parent["kind"], child["kind"]) == ("SERVER", "CLIENT")
    assert child["status_code"] == "ERROR" and child["status_message"] == "upstream 429"
    assert parent["status_code"] == "UNSET"
    assert child["attributes"] == {"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 12,
                                   "llm.temperature": 0.5, "llm.stream": False,
                                   "llm.stop": ["a", "b"], "api_key": SECRET}
    assert child["resource"]["service.name"] == "sink-test"
    assert child["scope"] == "sink-tests"
    assert child["events"][0]["name"] == "gen_ai.content.prompt"
    assert child["events"][0]["attributes"] == {"gen_ai.prompt": "hello"}
    assert child["links"] == [{"trace_id": parent["trace_id"], "span_id": parent["span_id"],
                               "attributes": {"link.why": "test"}}]
    assert 0 < child["start_ns"] <= child["end_ns"]
    strings = sink.all_strings()
    assert {"chat gpt-4o", "api_key", "gen_ai.prompt", "hello", "upstream 429",
            "sink-test", "link.why", "a", "b"} <= strings
    assert sink.contains("SECRET123") and not sink.contains("not-sent")


@pytest.mark.filterwarnings("ignore:`LoggingHandler` in `opentelemetry-sdk` is deprecated")
def test_logs_roundtrip(otlp):
    sink, span_exporter, log_exporter, _ = otlp
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    tracer_provider = TracerProvider()
    logger = logging.getLogger(f"sinks-test-{id(sink)}")
    logger.propagate = False
    logger.addHandler(LoggingHandler(logger_provider=provider))
    with tracer_provider.get_tracer("t").start_as_current_span("op") as span:
        logger.warning("plain %s", "message", extra={"user.id": "u1"})
    otel_logger = provider.get_logger("sink-tests")
    otel_logger.emit(body={"prompt": "hi", "tokens": [1, 2], "nested": {"ok": True}},
                     attributes={"n": 3}, event_name="gen_ai.user.message", severity_text="INFO")
    provider.shutdown()

    assert sink.wait_for(lambda s: len(s.logs()) == 2, timeout=5)
    plain, structured = sink.logs()
    assert plain["body"] == "plain message"
    assert plain["attributes"]["user.id"] == "u1"
    assert plain["severity_text"] == "WARN"
    assert plain["trace_id"] == trace.format_trace_id(span.get_span_context().trace_id)
    assert plain["span_id"] == trace.format_span_id(span.get_span_context().span_id)
    assert plain["resource"]["service.name"] == "sink-test"
    assert structured["body"] == {"prompt": "hi", "tokens": [1, 2], "nested": {"ok": True}}
    assert structured["attributes"] == {"n": 3}
    assert structured["event_name"] == "gen_ai.user.message"
    assert structured["trace_id"] == ""
    assert {"prompt", "hi", "nested", "gen_ai.user.message", "plain message"} <= sink.all_strings()


def test_metrics_roundtrip(otlp):
    sink, _, _, metric_exporter = otlp
    # Huge interval: only force_flush exports, so the test controls timing.
    reader = PeriodicExportingMetricReader(metric_exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader])
    meter = provider.get_meter("sink-tests")
    tokens = meter.create_counter("gen_ai.client.token.usage.total", unit="{token}")
    tokens.add(3, {"gen_ai.token.type": "input"})
    tokens.add(4, {"gen_ai.token.type": "input"})
    tokens.add(5, {"gen_ai.token.type": "output"})
    meter.create_up_down_counter("inflight").add(-2)
    latency = meter.create_histogram("gen_ai.client.operation.duration", unit="s",
                                     explicit_bucket_boundaries_advisory=[0.1, 1.0])
    for v in (0.05, 0.5, 2.0, 3.0):
        latency.record(v, {"gen_ai.request.model": "gpt-4o"})
    meter.create_observable_gauge("queue.size", callbacks=[lambda _: [Observation(7.5)]])
    try:
        assert provider.force_flush(timeout_millis=TIMEOUT * 1000)
        assert sink.wait_for(lambda: any(p["name"] == "queue.size" for p in sink.metrics()), timeout=5)
        points = sink.metrics()  # before shutdown(), which exports everything once more
    finally:
        provider.shutdown()
    counter = {p["attributes"]["gen_ai.token.type"]: p for p in points
               if p["name"] == "gen_ai.client.token.usage.total"}
    assert counter["input"]["value"] == 7 and counter["output"]["value"] == 5
    assert counter["input"]["type"] == "sum" and counter["input"]["monotonic"] is True
    assert counter["input"]["temporality"] == "CUMULATIVE" and counter["input"]["unit"] == "{token}"
    assert counter["input"]["resource"]["service.name"] == "sink-test"
    (inflight,) = [p for p in points if p["name"] == "inflight"]
    assert (inflight["type"], inflight["value"], inflight["monotonic"]) == ("sum", -2, False)
    (hist,) = [p for p in points if p["name"] == "gen_ai.client.operation.duration"]
    assert hist["type"] == "histogram" and hist["attributes"] == {"gen_ai.request.model": "gpt-4o"}
    assert (hist["count"], hist["sum"], hist["min"], hist["max"]) == (4, 5.55, 0.05, 3.0)
    assert hist["explicit_bounds"] == [0.1, 1.0] and hist["bucket_counts"] == [1, 1, 2]
    (gauge,) = [p for p in points if p["name"] == "queue.size"]
    assert (gauge["type"], gauge["value"], gauge["temporality"]) == ("gauge", 7.5, None)


def test_grpc_token_required():
    with OtlpGrpcSink(token="s3cret") as sink:
        request = trace_service_pb2.ExportTraceServiceRequest()
        request.resource_spans.add().scope_spans.add().spans.add(name="x", trace_id=b"\1" * 16,
                                                                 span_id=b"\2" * 8)
        with grpc.insecure_channel(sink.endpoint) as channel:
            stub = trace_service_pb2_grpc.TraceServiceStub(channel)
            for metadata in ([], [("authorization", "Bearer wrong")]):
                with pytest.raises(grpc.RpcError) as err:
                    stub.Export(request, metadata=metadata, timeout=TIMEOUT)
                assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert sink.rejected == 2 and sink.spans() == []
            stub.Export(request, metadata=[("authorization", "Bearer s3cret")], timeout=TIMEOUT)
        # the SDK exporter's headers work as well
        send_spans(GrpcSpanExporter(endpoint=sink.endpoint, insecure=True, timeout=TIMEOUT,
                                    headers={"authorization": "Bearer s3cret"}))
        assert sink.wait_for(lambda: len(sink.spans()) == 3, timeout=5)
        assert sink.spans()[0]["trace_id"] == "01" * 16
        assert sink.headers[0]["authorization"] == "Bearer s3cret"


def test_http_rejects_bad_input(http_sink):
    def post(path, body, headers=None):
        req = urllib.request.Request(http_sink.endpoint + path, data=body, method="POST",
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code

    assert post("/v1/nope", b"") == 404
    assert post("/v1/traces", b"\xff\xff\xff") == 400
    assert post("/v1/traces", b"") == 200  # empty protobuf is a valid empty request
    assert http_sink.spans() == []


def write_request():
    req = WriteRequest()
    for labels, samples in [
        ({"__name__": "llm_requests_total", "job": "gw", "model": "gpt-4o"}, [(1, 1000), (4, 2000)]),
        ({"__name__": "llm_requests_total", "job": "gw", "model": "claude"}, [(2, 2000)]),
        ({"__name__": "llm_requests_total", "job": "other", "model": "gpt-4o"}, [(9, 2000)]),
        ({"__name__": "up", "job": "gw"}, [(1, 2000)]),
    ]:
        ts = req.timeseries.add()
        for name, value in labels.items():
            ts.labels.add(name=name, value=value)
        for value, t in samples:
            ts.samples.add(value=value, timestamp=t)
    ex = req.timeseries[0].exemplars.add(value=4, timestamp=2000)
    ex.labels.add(name="trace_id", value="abc")
    h = req.timeseries.add()
    h.labels.add(name="__name__", value="latency_seconds")
    hist = h.histograms.add(count_int=3, sum=1.5, schema=0, zero_count_int=1, timestamp=2000)
    hist.positive_spans.add(offset=-1, length=2)
    hist.positive_deltas.extend([1, 0])
    req.metadata.add(type=MetricMetadata.COUNTER, metric_family_name="llm_requests_total",
                     help="LLM calls", unit="")
    return req


def post_remote_write(sink, payload, encoding="snappy"):
    req = urllib.request.Request(sink.url, data=payload, method="POST", headers={
        "Content-Type": "application/x-protobuf", "Content-Encoding": encoding,
        "X-Prometheus-Remote-Write-Version": "0.1.0"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def test_remote_write_roundtrip(rw_sink):
    body = bytes(cramjam.snappy.compress_raw(write_request().SerializeToString()))
    assert post_remote_write(rw_sink, body) == 204
    assert rw_sink.wait_for(lambda: len(rw_sink.series()) == 5, timeout=5)
    first = rw_sink.series()[0]
    assert first["labels"] == {"__name__": "llm_requests_total", "job": "gw", "model": "gpt-4o"}
    assert first["samples"] == [(1.0, 1000), (4.0, 2000)]
    assert first["exemplars"] == [{"labels": {"trace_id": "abc"}, "value": 4.0, "timestamp": 2000}]
    assert rw_sink.latest("llm_requests_total", job="gw") == {
        frozenset({("model", "gpt-4o")}): 4.0, frozenset({("model", "claude")}): 2.0}
    assert rw_sink.latest("up") == {frozenset({("job", "gw")}): 1.0}
    assert rw_sink.latest("missing") == {}
    (hist,) = rw_sink.series()[4]["histograms"]
    assert (hist["count"], hist["sum"], hist["zero_count"]) == (3, 1.5, 1)
    assert hist["positive_spans"] == [(-1, 2)] and hist["positive_deltas"] == [1, 0]
    assert rw_sink.metadata() == [{"type": "COUNTER", "metric_family_name": "llm_requests_total",
                                   "help": "LLM calls", "unit": ""}]
    assert {"llm_requests_total", "gw", "trace_id", "abc", "LLM calls", "__name__"} <= \
        rw_sink.all_strings()
    assert rw_sink.headers[0]["x-prometheus-remote-write-version"] == "0.1.0"


def test_remote_write_later_sample_wins_and_bad_bodies(rw_sink):
    for value, t in [(5, 3000), (7, 1000)]:  # second request carries an older sample
        req = WriteRequest()
        ts = req.timeseries.add()
        ts.labels.add(name="__name__", value="g")
        ts.samples.add(value=value, timestamp=t)
        body = bytes(cramjam.snappy.compress_raw(req.SerializeToString()))
        assert post_remote_write(rw_sink, body) == 204
    assert rw_sink.latest("g") == {frozenset(): 5.0}
    # not snappy, and snappy-but-not-protobuf: both are the sender's fault
    assert post_remote_write(rw_sink, b"garbage") == 400
    assert post_remote_write(rw_sink, bytes(cramjam.snappy.compress_raw(b"\xff\xff"))) == 400
    assert len(rw_sink.requests) == 2


def _field(number, payload):
    """Hand-rolled length-delimited protobuf field (wire type 2); field numbers
    below come from Prometheus' prompb, independently of sinks.py's descriptor."""
    assert len(payload) < 128
    return bytes([number << 3 | 2, len(payload)]) + payload


def test_remote_write_wire_format_matches_prompb(rw_sink):
    label = _field(1, b"__name__") + _field(2, b"m")                  # Label{name=1, value=2}
    sample = bytes([1 << 3 | 1]) + struct.pack("<d", 2.5) + bytes([2 << 3, 0x10])  # value=1, timestamp=2 -> 16
    exemplar = _field(1, _field(1, b"k") + _field(2, b"v")) + bytes([2 << 3 | 1]) + struct.pack("<d", 1.0)
    series = _field(1, label) + _field(2, sample) + _field(3, exemplar)  # labels=1, samples=2, exemplars=3
    metadata = bytes([1 << 3, 2]) + _field(2, b"m") + _field(4, b"help text") + _field(5, b"s")
    # Histogram{count_int=1, sum=3, schema=4 (sint32), positive_spans=11, positive_deltas=12 (packed sint64)}
    hist = (bytes([1 << 3, 3, 3 << 3 | 1]) + struct.pack("<d", 1.5) + bytes([4 << 3, 0x01])
            + _field(11, bytes([1 << 3, 0x01, 2 << 3, 2])) + _field(12, bytes([0x02, 0x01])))
    body = (_field(1, series) + _field(1, _field(1, label) + _field(4, hist))  # timeseries=1
            + _field(3, metadata))                                             # metadata=3
    assert post_remote_write(rw_sink, bytes(cramjam.snappy.compress_raw(body))) == 204
    plain, native = rw_sink.series()
    assert plain == {"labels": {"__name__": "m"}, "samples": [(2.5, 16)],
                     "exemplars": [{"labels": {"k": "v"}, "value": 1.0, "timestamp": 0}],
                     "histograms": []}
    (h,) = native["histograms"]
    assert (h["count"], h["sum"], h["schema"]) == (3, 1.5, -1)
    assert (h["positive_spans"], h["positive_deltas"]) == ([(-1, 2)], [1, -1])
    assert rw_sink.metadata() == [{"type": "GAUGE", "metric_family_name": "m",
                                   "help": "help text", "unit": "s"}]


def test_wait_for_is_bounded(grpc_sink):
    start = time.monotonic()
    assert grpc_sink.wait_for(lambda: grpc_sink.spans()[0], timeout=0.3) is False
    assert grpc_sink.wait_for(lambda s: True, timeout=0) is True
    assert time.monotonic() - start < 2


def test_stop_frees_port_and_is_idempotent():
    sinks = [OtlpGrpcSink(), OtlpHttpSink(), RemoteWriteSink()]
    for sink in sinks:
        with sink:
            assert sink.endpoint.removeprefix("http://").startswith("127.0.0.1:")
        sink.stop()  # second stop is a no-op
    assert len({s.endpoint for s in sinks}) == 3
