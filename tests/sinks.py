"""Local capture servers for tests: they stand in for the backends the
collector exports to, and decode what they receive into plain dicts.

- OtlpGrpcSink    OTLP/gRPC  (TraceService, LogsService, MetricsService)
- OtlpHttpSink    OTLP/HTTP  (POST /v1/traces|/v1/logs|/v1/metrics, protobuf)
- RemoteWriteSink Prometheus remote write v1 (POST /api/v1/write, snappy)

All listen on 127.0.0.1 on a free port, are thread-safe, support
`with Sink() as s:` and offer `wait_for(predicate, timeout)` plus
`all_strings()` (every string received, for "no secret leaks" checks).
"""

from __future__ import annotations

import gzip
import inspect
import threading
import time
import zlib
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cramjam
import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_svc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc as logs_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as metrics_svc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc as metrics_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace_svc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as trace_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

DEFAULT_TIMEOUT = 10.0


# ---------------------------------------------------------------- decoding

def any_value(v):
    """OTLP AnyValue -> plain Python (recursively for arrays and kvlists)."""
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return attrs(v.kvlist_value.values)
    return getattr(v, kind)  # string/bool/int/double/bytes


def attrs(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


def _enum(enum_type, number, prefix):
    # "SPAN_KIND_SERVER" -> "SERVER": shorter to write in assertions.
    return enum_type.Name(number).removeprefix(prefix)


def collect_strings(msg, out):
    """Add every string field of a protobuf message (recursively) to `out`.

    Walking the raw messages rather than the decoded views means nothing is
    missed: scope names, units, descriptions, schema URLs, bytes bodies too.
    """
    for field, value in msg.ListFields():
        values = value if field.is_repeated else [value]
        for item in values:
            if field.type == field.TYPE_MESSAGE:
                collect_strings(item, out)
            elif field.type == field.TYPE_STRING:
                out.add(item)
            elif field.type == field.TYPE_BYTES and isinstance(msg, common_pb2.AnyValue):
                out.add(item.decode("utf-8", "replace"))
    return out


def _hex(b):
    return b.hex() if b else ""


def _exemplars(exs):
    return [{"value": getattr(e, e.WhichOneof("value")) if e.WhichOneof("value") else None,
             "time_ns": e.time_unix_nano, "trace_id": _hex(e.trace_id),
             "span_id": _hex(e.span_id), "attributes": attrs(e.filtered_attributes)}
            for e in exs]


# ---------------------------------------------------------------- base

class _Sink:
    """Shared start/stop/context-manager/wait_for plumbing."""

    def __init__(self, token=None):
        self.token = token
        self.lock = threading.Lock()
        self.headers = []    # lower-cased request headers / gRPC metadata, per accepted call
        self.rejected = 0    # calls refused for a missing/wrong token
        self._started = False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _authorized(self, headers):
        return self.token is None or headers.get("authorization") == f"Bearer {self.token}"

    def _reject(self):
        with self.lock:
            self.rejected += 1

    def wait_for(self, predicate, timeout=DEFAULT_TIMEOUT, interval=0.05):
        """Poll until predicate() (or predicate(sink)) is truthy; False on timeout.

        IndexError/KeyError from the predicate count as "not yet", so
        `lambda: s.spans()[0]["name"] == "x"` works before data arrives.
        """
        call = (lambda: predicate()) if not inspect.signature(predicate).parameters \
            else (lambda: predicate(self))
        deadline = time.monotonic() + timeout
        while True:
            try:
                if call():
                    return True
            except LookupError:
                pass
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    def _messages(self):
        raise NotImplementedError

    def all_strings(self):
        """Set of every string in everything received so far."""
        out = set()
        for msg in self._messages():
            collect_strings(msg, out)
        return out

    def contains(self, text):
        """True if `text` appears as a substring of any received string."""
        return any(text in s for s in self.all_strings())


class _OtlpViews(_Sink):
    """Received OTLP requests plus decoded views over them."""

    def __init__(self, token=None):
        super().__init__(token)
        self.trace_requests = []
        self.log_requests = []
        self.metric_requests = []

    def _record(self, kind, request, headers):
        with self.lock:
            getattr(self, kind).append(request)
            self.headers.append(headers)

    def _snapshot(self, kind):
        with self.lock:
            return list(getattr(self, kind))

    def _messages(self):
        return self._snapshot("trace_requests") + self._snapshot("log_requests") + \
            self._snapshot("metric_requests")

    def clear(self):
        with self.lock:
            self.trace_requests.clear()
            self.log_requests.clear()
            self.metric_requests.clear()
            self.headers.clear()
            self.rejected = 0

    def spans(self):
        out = []
        for req in self._snapshot("trace_requests"):
            for rs in req.resource_spans:
                resource = attrs(rs.resource.attributes)
                for ss in rs.scope_spans:
                    for s in ss.spans:
                        out.append({
                            "trace_id": _hex(s.trace_id), "span_id": _hex(s.span_id),
                            "parent_span_id": _hex(s.parent_span_id), "name": s.name,
                            "kind": _enum(trace_pb2.Span.SpanKind, s.kind, "SPAN_KIND_"),
                            "status_code": _enum(trace_pb2.Status.StatusCode, s.status.code,
                                                 "STATUS_CODE_"),
                            "status_message": s.status.message,
                            "start_ns": s.start_time_unix_nano, "end_ns": s.end_time_unix_nano,
                            "attributes": attrs(s.attributes), "resource": resource,
                            "scope": ss.scope.name,
                            "events": [{"name": e.name, "time_ns": e.time_unix_nano,
                                        "attributes": attrs(e.attributes)} for e in s.events],
                            "links": [{"trace_id": _hex(lk.trace_id), "span_id": _hex(lk.span_id),
                                       "attributes": attrs(lk.attributes)} for lk in s.links],
                            "dropped_links_count": s.dropped_links_count,
                        })
        return out

    def logs(self):
        out = []
        for req in self._snapshot("log_requests"):
            for rl in req.resource_logs:
                resource = attrs(rl.resource.attributes)
                for sl in rl.scope_logs:
                    for r in sl.log_records:
                        out.append({
                            "body": any_value(r.body), "attributes": attrs(r.attributes),
                            "resource": resource, "scope": sl.scope.name,
                            "trace_id": _hex(r.trace_id), "span_id": _hex(r.span_id),
                            "severity_text": r.severity_text,
                            "severity_number": r.severity_number,
                            "event_name": r.event_name, "time_ns": r.time_unix_nano,
                        })
        return out

    def metrics(self):
        """One dict per data point."""
        out = []
        for req in self._snapshot("metric_requests"):
            for rm in req.resource_metrics:
                resource = attrs(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        out.extend(_points(m, resource, sm.scope.name))
        return out


def _points(m, resource, scope):
    kind = m.WhichOneof("data")
    if kind is None:
        return []
    data = getattr(m, kind)
    base = {"name": m.name, "type": kind, "unit": m.unit, "description": m.description,
            "resource": resource, "scope": scope,
            "temporality": (_enum(metrics_pb2.AggregationTemporality, data.aggregation_temporality,
                                  "AGGREGATION_TEMPORALITY_")
                            if hasattr(data, "aggregation_temporality") else None),
            "monotonic": data.is_monotonic if kind == "sum" else None}
    out = []
    for p in data.data_points:
        d = dict(base, attributes=attrs(p.attributes), time_ns=p.time_unix_nano,
                 start_ns=p.start_time_unix_nano)
        if kind in ("sum", "gauge"):
            d["value"] = getattr(p, p.WhichOneof("value")) if p.WhichOneof("value") else None
            d["exemplars"] = _exemplars(p.exemplars)
        elif kind == "histogram":
            d.update(count=p.count, sum=p.sum if p.HasField("sum") else None,
                     bucket_counts=list(p.bucket_counts), explicit_bounds=list(p.explicit_bounds),
                     min=p.min if p.HasField("min") else None,
                     max=p.max if p.HasField("max") else None, exemplars=_exemplars(p.exemplars))
        elif kind == "exponential_histogram":
            d.update(count=p.count, sum=p.sum if p.HasField("sum") else None, scale=p.scale,
                     zero_count=p.zero_count,
                     positive={"offset": p.positive.offset,
                               "bucket_counts": list(p.positive.bucket_counts)},
                     negative={"offset": p.negative.offset,
                               "bucket_counts": list(p.negative.bucket_counts)},
                     exemplars=_exemplars(p.exemplars))
        elif kind == "summary":
            d.update(count=p.count, sum=p.sum,
                     quantiles=[(q.quantile, q.value) for q in p.quantile_values])
        out.append(d)
    return out


# ---------------------------------------------------------------- OTLP/gRPC

class OtlpGrpcSink(_OtlpViews):
    """OTLP/gRPC receiver. `endpoint` is "127.0.0.1:PORT" (plaintext)."""

    def __init__(self, token=None):
        super().__init__(token)
        self.endpoint = None
        self._server = None
        self._pool = None

    def _export(self, kind, request, context, response):
        headers = {k.lower(): v for k, v in context.invocation_metadata()}
        if not self._authorized(headers):
            self._reject()
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token")
        self._record(kind, request, headers)
        return response

    def start(self):
        if self._started:
            return self
        sink = self

        class Traces(trace_grpc.TraceServiceServicer):
            def Export(self, request, context):
                return sink._export("trace_requests", request, context,
                                    trace_svc.ExportTraceServiceResponse())

        class Logs(logs_grpc.LogsServiceServicer):
            def Export(self, request, context):
                return sink._export("log_requests", request, context,
                                    logs_svc.ExportLogsServiceResponse())

        class Metrics(metrics_grpc.MetricsServiceServicer):
            def Export(self, request, context):
                return sink._export("metric_requests", request, context,
                                    metrics_svc.ExportMetricsServiceResponse())

        self._pool = futures.ThreadPoolExecutor(max_workers=8)
        self._server = grpc.server(self._pool)
        trace_grpc.add_TraceServiceServicer_to_server(Traces(), self._server)
        logs_grpc.add_LogsServiceServicer_to_server(Logs(), self._server)
        metrics_grpc.add_MetricsServiceServicer_to_server(Metrics(), self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        self.endpoint = f"127.0.0.1:{port}"
        self._started = True
        return self

    def stop(self):
        if not self._started:
            return
        self._server.stop(grace=0.5).wait(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._started = False


# ---------------------------------------------------------------- HTTP base

def _decompress(body, encoding):
    encoding = (encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "zstd":
        return bytes(cramjam.zstd.decompress(body))
    if encoding == "snappy":
        # Prometheus remote write uses the block format; OTLP/HTTP may use framed.
        try:
            return bytes(cramjam.snappy.decompress_raw(body))
        except Exception:
            return bytes(cramjam.snappy.decompress(body))
    raise ValueError(f"unsupported Content-Encoding {encoding!r}")


class _HttpSink(_Sink):
    """ThreadingHTTPServer on a background thread; subclasses implement
    handle(path, headers, body) -> (status, response_bytes, content_type)."""

    def __init__(self, token=None):
        super().__init__(token)
        self.endpoint = None
        self._server = None
        self._thread = None

    def handle(self, path, headers, body):
        raise NotImplementedError

    def start(self):
        if self._started:
            return self
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                headers = {k.lower(): v for k, v in self.headers.items()}
                body = self.rfile.read(int(headers.get("content-length") or 0))
                if not sink._authorized(headers):
                    sink._reject()
                    status, payload, ctype = 401, b"unauthorized", "text/plain"
                else:
                    try:
                        body = _decompress(body, headers.get("content-encoding"))
                        status, payload, ctype = sink.handle(self.path.split("?")[0], headers, body)
                    except Exception as e:  # malformed input is the sender's bug: 400
                        status, payload, ctype = 400, str(e).encode(), "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # keep pytest output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._started = True
        return self

    def stop(self):
        if not self._started:
            return
        self._server.shutdown()  # returns within one poll_interval
        self._server.server_close()
        self._thread.join(timeout=5)
        self._started = False


# ---------------------------------------------------------------- OTLP/HTTP

class OtlpHttpSink(_HttpSink, _OtlpViews):
    """OTLP/HTTP (protobuf) receiver. `endpoint` is "http://127.0.0.1:PORT";
    exporters need the signal path appended (e.g. endpoint + "/v1/traces")."""

    ROUTES = {
        "/v1/traces": ("trace_requests", trace_svc.ExportTraceServiceRequest,
                       trace_svc.ExportTraceServiceResponse),
        "/v1/logs": ("log_requests", logs_svc.ExportLogsServiceRequest,
                     logs_svc.ExportLogsServiceResponse),
        "/v1/metrics": ("metric_requests", metrics_svc.ExportMetricsServiceRequest,
                        metrics_svc.ExportMetricsServiceResponse),
    }

    def handle(self, path, headers, body):
        if path not in self.ROUTES:
            return 404, b"not found", "text/plain"
        kind, request_cls, response_cls = self.ROUTES[path]
        self._record(kind, request_cls.FromString(body), headers)
        return 200, response_cls().SerializeToString(), "application/x-protobuf"


# ---------------------------------------------------------------- remote write

def _build_prompb():
    """Build prometheus.WriteRequest & co. from a hand-written descriptor.

    Field numbers follow prometheus/prompb/types.proto and remote.proto
    (gogoproto options dropped; they do not change the wire format).
    A private pool keeps these out of the global registry.
    """
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="tests_sinks/prompb.proto",
                                             package="prometheus", syntax="proto3")

    def message(name, *fields, enums=(), oneofs=()):
        m = fdp.message_type.add(name=name)
        for oneof in oneofs:
            m.oneof_decl.add(name=oneof)
        for enum_name, values in enums:
            e = m.enum_type.add(name=enum_name)
            for i, v in enumerate(values):
                e.value.add(name=v, number=i)
        for fname, number, ftype, *rest in fields:
            f = m.field.add(name=fname, number=number, label=F.LABEL_OPTIONAL)
            for opt in rest:
                if opt == "repeated":
                    f.label = F.LABEL_REPEATED
                elif isinstance(opt, int):
                    f.oneof_index = opt
                else:
                    f.type_name = opt
            f.type = ftype

    msg, s, d, i64, u64 = F.TYPE_MESSAGE, F.TYPE_STRING, F.TYPE_DOUBLE, F.TYPE_INT64, F.TYPE_UINT64
    message("WriteRequest",
            ("timeseries", 1, msg, "repeated", ".prometheus.TimeSeries"),
            ("metadata", 3, msg, "repeated", ".prometheus.MetricMetadata"))  # 2 is reserved
    message("MetricMetadata",
            ("type", 1, F.TYPE_ENUM, ".prometheus.MetricMetadata.MetricType"),
            ("metric_family_name", 2, s), ("help", 4, s), ("unit", 5, s),
            enums=[("MetricType", ["UNKNOWN", "COUNTER", "GAUGE", "HISTOGRAM",
                                   "GAUGEHISTOGRAM", "SUMMARY", "INFO", "STATESET"])])
    message("Sample", ("value", 1, d), ("timestamp", 2, i64))
    message("Exemplar", ("labels", 1, msg, "repeated", ".prometheus.Label"),
            ("value", 2, d), ("timestamp", 3, i64))
    message("Histogram",
            ("count_int", 1, u64, 0), ("count_float", 2, d, 0),
            ("sum", 3, d), ("schema", 4, F.TYPE_SINT32), ("zero_threshold", 5, d),
            ("zero_count_int", 6, u64, 1), ("zero_count_float", 7, d, 1),
            ("negative_spans", 8, msg, "repeated", ".prometheus.BucketSpan"),
            ("negative_deltas", 9, F.TYPE_SINT64, "repeated"),
            ("negative_counts", 10, d, "repeated"),
            ("positive_spans", 11, msg, "repeated", ".prometheus.BucketSpan"),
            ("positive_deltas", 12, F.TYPE_SINT64, "repeated"),
            ("positive_counts", 13, d, "repeated"),
            ("reset_hint", 14, F.TYPE_ENUM, ".prometheus.Histogram.ResetHint"),
            ("timestamp", 15, i64),
            ("custom_values", 16, d, "repeated"),
            enums=[("ResetHint", ["UNKNOWN", "YES", "NO", "GAUGE"])],
            oneofs=["count", "zero_count"])
    message("BucketSpan", ("offset", 1, F.TYPE_SINT32), ("length", 2, F.TYPE_UINT32))
    message("TimeSeries",
            ("labels", 1, msg, "repeated", ".prometheus.Label"),
            ("samples", 2, msg, "repeated", ".prometheus.Sample"),
            ("exemplars", 3, msg, "repeated", ".prometheus.Exemplar"),
            ("histograms", 4, msg, "repeated", ".prometheus.Histogram"))
    message("Label", ("name", 1, s), ("value", 2, s))

    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"prometheus.{name}"))
            for name in ("WriteRequest", "TimeSeries", "Label", "Sample", "Exemplar",
                         "MetricMetadata", "Histogram", "BucketSpan")}


prompb = _build_prompb()
WriteRequest = prompb["WriteRequest"]
TimeSeries = prompb["TimeSeries"]
Label = prompb["Label"]
Sample = prompb["Sample"]
Exemplar = prompb["Exemplar"]
MetricMetadata = prompb["MetricMetadata"]
Histogram = prompb["Histogram"]
BucketSpan = prompb["BucketSpan"]


def _labels(ls):
    return {lb.name: lb.value for lb in ls}


def _oneof(msg, group):
    field = msg.WhichOneof(group)
    return getattr(msg, field) if field else None


class RemoteWriteSink(_HttpSink):
    """Prometheus remote write v1 receiver. `endpoint` is "http://127.0.0.1:PORT";
    point the exporter at endpoint + "/api/v1/write" (also `.url`)."""

    def __init__(self, token=None):
        super().__init__(token)
        self.requests = []

    @property
    def url(self):
        return f"{self.endpoint}/api/v1/write"

    def handle(self, path, headers, body):
        if path != "/api/v1/write":
            return 404, b"not found", "text/plain"
        request = WriteRequest.FromString(body)
        with self.lock:
            self.requests.append(request)
            self.headers.append(headers)
        return 204, b"", "text/plain"

    def _messages(self):
        with self.lock:
            return list(self.requests)

    def clear(self):
        with self.lock:
            self.requests.clear()
            self.headers.clear()
            self.rejected = 0

    def series(self):
        """One dict per received TimeSeries, in arrival order (not merged)."""
        out = []
        for req in self._messages():
            for ts in req.timeseries:
                out.append({
                    "labels": _labels(ts.labels),
                    "samples": [(s.value, s.timestamp) for s in ts.samples],
                    "exemplars": [{"labels": _labels(e.labels), "value": e.value,
                                   "timestamp": e.timestamp} for e in ts.exemplars],
                    "histograms": [{
                        "count": _oneof(h, "count"), "sum": h.sum, "schema": h.schema,
                        "zero_threshold": h.zero_threshold,
                        "zero_count": _oneof(h, "zero_count"),
                        "positive_spans": [(sp.offset, sp.length) for sp in h.positive_spans],
                        "positive_deltas": list(h.positive_deltas),
                        "positive_counts": list(h.positive_counts),
                        "negative_spans": [(sp.offset, sp.length) for sp in h.negative_spans],
                        "negative_deltas": list(h.negative_deltas),
                        "negative_counts": list(h.negative_counts),
                        "reset_hint": Histogram.ResetHint.Name(h.reset_hint),
                        "timestamp": h.timestamp, "custom_values": list(h.custom_values),
                    } for h in ts.histograms],
                })
        return out

    def latest(self, name, **label_filters):
        """{frozenset((label, value) ...) of the other labels: newest sample value}
        for series named `name` whose labels match `label_filters` exactly.
        Newest = highest timestamp; on ties the later-received sample wins."""
        best = {}
        for s in self.series():
            labels = s["labels"]
            if labels.get("__name__") != name or any(
                    labels.get(k) != v for k, v in label_filters.items()):
                continue
            key = frozenset((k, v) for k, v in labels.items()
                            if k != "__name__" and k not in label_filters)
            for value, ts in s["samples"]:
                if key not in best or ts >= best[key][1]:
                    best[key] = (value, ts)
        return {k: v for k, (v, _) in best.items()}

    def metadata(self):
        return [{"type": MetricMetadata.MetricType.Name(m.type),
                 "metric_family_name": m.metric_family_name, "help": m.help, "unit": m.unit}
                for req in self._messages() for m in req.metadata]
