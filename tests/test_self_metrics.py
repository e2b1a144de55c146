"""The collector's own metrics that pipeline alerts and panels read (telemetry.catalog.SELF_METRICS)
against what the real gateway exposes on its telemetry port once traffic of each signal has passed:
a name off by a word would make an alert that can never fire."""
from __future__ import annotations

import re
import urllib.request

from gateway_run import gateway, wait
from telemetry.catalog import SELF_METRICS

# Series that only exist after a failed send (test_faults.py reads the spans one with a backend down), and
# Prometheus' own `up`, which no collector exposes.
ONLY_ON_FAILURE = {"otelcol_exporter_send_failed_spans", "otelcol_exporter_send_failed_log_records",
                   "otelcol_exporter_send_failed_metric_points"}


def test_every_self_metric_on_healthy_traffic_is_a_series_the_gateway_exposes():
    with gateway() as gw:
        app = gw.app()
        with app.tracer.start_as_current_span("chat", attributes={"gen_ai.operation.name": "chat",
                                                                  "gen_ai.provider.name": "openai",
                                                                  "gen_ai.request.model": "gpt-4o"}):
            pass
        app.logger.emit(body="hello", attributes={"llmobs.feature": "chat"})
        app.meter.create_counter("app.requests").add(1)
        app.close()
        url = f"http://127.0.0.1:{gw.collector.listen.telemetry_port}/metrics"

        def exposed() -> set[str]:
            with urllib.request.urlopen(url, timeout=5) as r:
                return set(re.findall(r"^# TYPE (\S+)", r.read().decode(), re.M))
        expected = SELF_METRICS - ONLY_ON_FAILURE - {"up"}
        assert len(expected) == 15   # accepted, refused, failed and sent of 3 signals; the queue's two; sampled traces
        assert wait(lambda: expected <= exposed(), timeout=60), sorted(expected - exposed())
