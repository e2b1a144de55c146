"""Raw OTLP/JSON for tests: what an SDK cannot produce (scope attributes, keys, kvlists, bytes)."""
from __future__ import annotations

import json
import urllib.request

from collector_harness import TOKEN

TRACE_ID = "5b8efff798038103d269b633813fc60c"
NOW = 1_700_000_000_000_000_000


def post(gw, signal: str, body: dict) -> int:
    req = urllib.request.Request(f"{gw.collector.http_endpoint}/v1/{signal}", data=json.dumps(body).encode(),
                                 method="POST", headers={"Content-Type": "application/json",
                                                         "Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status


def s(value: str) -> dict:
    return {"stringValue": value}


def kv(key: str, value) -> dict:
    """A KeyValue; a plain str, int, float or bool value is wrapped."""
    if isinstance(value, bool):
        value = {"boolValue": value}
    elif isinstance(value, int):
        value = {"intValue": str(value)}
    elif isinstance(value, float):
        value = {"doubleValue": value}
    elif isinstance(value, str):
        value = s(value)
    return {"key": key, "value": value}


def span(name: str, attributes: dict, span_id: int, events: list[dict] | None = None) -> dict:
    return {"traceId": TRACE_ID, "spanId": f"{span_id:016x}", "name": name, "startTimeUnixNano": str(NOW),
            "endTimeUnixNano": str(NOW + 10**9), "attributes": [kv(k, v) for k, v in attributes.items()],
            "events": [{"timeUnixNano": str(NOW), "name": e["name"], "attributes": [kv(k, v) for k, v in e["attributes"].items()]}
                       for e in events or []]}


def traces(spans: list[dict]) -> dict:
    return {"resourceSpans": [{"resource": {"attributes": [kv("service.name", "raw-otlp")]},
                               "scopeSpans": [{"scope": {"name": "tests"}, "spans": spans}]}]}


def logs(records: list[dict]) -> dict:
    return {"resourceLogs": [{"resource": {"attributes": [kv("service.name", "raw-otlp")]},
                              "scopeLogs": [{"scope": {"name": "tests"}, "logRecords": records}]}]}
