"""The debug sample store (debug.*): secret-redacted GenAI log events with their content, for a
sampled share of opted-in tenants' and features' traces, to a Loki tenant of their own.

The pipeline forks off the normalized logs before the content policy hashes anything: a filter
keeps GenAI events of the listed tenants and features (never a never-retain tenant), a
probabilistic sampler keeps a share by trace id (every event of a sampled trace, so a sample is
the whole conversation), the redaction processor runs every detector without the content policy,
and the content is then cut to debug.preview_chars. With debug.span_content, the spans and span
events of the same tenants and features that carry content become one record each, made by the
project's spanlogs connector (collector_config/distribution/spanlogsconnector: no connector of
the collector release turns spans into log records), and go the same way from the sampler on."""
from __future__ import annotations

from pathlib import PurePath

from collector_config import normalize, redact
from collector_config.exporters import RETRY
from collector_config.ottl import attr, lit
from collector_config.tenants import feature_in, tenant_in
from settings import Settings
from telemetry import aliases, keys as k

NORMAL_TENANT = "fake"   # Loki's tenant id when auth is off: ordinary logs keep their old tenant
ORG_HEADER = "X-Scope-OrgID"
DEBUG_ATTRIBUTE = "llmobs.debug"   # resource attribute; Loki indexes it (backends/loki.py)
SAMPLE_ATTRIBUTE = "llmobs.debug.sample"
HASH_SEED = 20261   # any fixed value: the same trace is sampled on every replica and every run
QUEUE = {"enabled": True, "num_consumers": 2, "queue_size": 1000}


# The GenAI conventions' event for a call's inputs and outputs, with the span's attributes.
SPAN_EVENT = "gen_ai.client.inference.operation.details"
SPAN_CONNECTOR = "spanlogs/debug"
EVENTS_CONNECTOR = "spanlogs/debug_events"


def span_content_on(settings: Settings) -> bool:
    return settings.debug.enabled and settings.debug.span_content


def _who(ctx: str, settings: Settings) -> list[str]:
    d, parts = settings.debug, []
    if "*" not in d.tenants:
        parts.append(tenant_in(ctx, d.tenants))
    if "*" not in d.features:
        parts.append(feature_in(ctx, d.features))
    if settings.content.never_retain.tenants:   # never retained wins over sampled
        parts.append(f"not {tenant_in(ctx, settings.content.never_retain.tenants)}")
    return parts


def selected(settings: Settings) -> str:
    return " and ".join(['IsMatch(log.event_name, "^gen_ai[.]")', *_who("log", settings)])


def has_content(ctx: str = "span") -> str:
    """A canonical content key by lookup, else an instrumentation's own (or a flattened item)
    in the key list (`["a","b"]`)."""
    keys = normalize.any_present(ctx, list(k.CONTENT_KEYS))[0]
    others = f'"{redact.content_key_body()}"'
    return f"({keys} or IsMatch(String(Keys({ctx}.attributes)), {lit(others)}))"


def event_has_content() -> str:
    """A span event with content: a canonical key (OpenLIT's, renamed by normalization), or one
    of the plain fields of an event family that carries content (aliases.EVENT_CONTENT)."""
    parts = [normalize.any_present("spanevent", list(k.CONTENT_KEYS))[0]]
    for entry in aliases.EVENT_CONTENT:
        fields = " or ".join(f"{attr('spanevent', f)} != nil" for f in entry.fields)
        parts.append(f"(IsMatch(spanevent.name, {lit(entry.event)}) and ({fields}))")
    return " or ".join(parts)


# With span events, the span attributes each event's record keeps: who and which call.
EVENT_SPAN_ATTRIBUTES = (k.TENANT, k.FEATURE, k.OPERATION, k.REQUEST_MODEL)


def build_spans(settings: Settings, receiver: str, processors: dict, connectors: dict, pipelines: dict, pipeline,
                exporter: str) -> None:
    """debug.span_content (in place): spans with content, and span events with content, of the
    selected tenants and features, each copied into a log record by the spanlogs connector, then
    sampled, redacted and cut like the events (no second filter: the traces side selected them).
    The filters drop what matches: everything but the selected spans and events, before the
    connectors, so only those are copied."""
    who = _who("span", settings)
    # Any span with content (an LLM call, an agent's or a tool's), not only LLM calls.
    processors["filter/debug_spans"] = {"error_mode": "ignore",
                                        "trace_conditions": [f"not ({' and '.join([has_content('span'), *who])})"]}
    processors["filter/debug_span_events"] = {"error_mode": "ignore", "trace_conditions": [
        *([{"context": "span", "conditions": [f"not ({' and '.join(who)})"]}] if who else []),
        {"context": "spanevent", "conditions": [f"not ({event_has_content()})"]}]}
    connectors[SPAN_CONNECTOR] = {"event_name": SPAN_EVENT}
    connectors[EVENTS_CONNECTOR] = {"span_events": True, "span_attributes": list(EVENT_SPAN_ATTRIBUTES)}
    pipelines["traces/debug_spans"] = pipeline([receiver], ["filter/debug_spans"], [SPAN_CONNECTOR])
    pipelines["traces/debug_span_events"] = pipeline([receiver], ["filter/debug_span_events"], [EVENTS_CONNECTOR])
    pipelines["logs/debug_spans"] = pipeline([SPAN_CONNECTOR, EVENTS_CONNECTOR],
                                             [p for p in steps(settings) if p != "filter/debug"], [exporter])


def processors(settings: Settings) -> dict:
    n = settings.debug.preview_chars
    return {
        # The filter drops what matches: everything but the selected records.
        "filter/debug": {"error_mode": "ignore", "log_conditions": [f"not ({selected(settings)})"]},
        "probabilistic_sampler/debug": {"mode": "hash_seed", "hash_seed": HASH_SEED, "attribute_source": "traceID",
                                        "sampling_percentage": round(settings.debug.sample_rate * 100, 6),
                                        "fail_closed": True},
        **redact.stage(REDACT, "logs", settings, keep_content=True),
        "transform/debug_preview": {"error_mode": "ignore", "log_statements": [
            {"context": "log", "statements": [
                f"set(log.body, Substring(log.body, 0, {n})) where IsString(log.body) and Len(log.body) > {n}",
                f"truncate_all(log.body, {n}) where IsMap(log.body)",
                f"truncate_all(log.attributes, {n})",
                f'set(log.attributes["{SAMPLE_ATTRIBUTE}"], true)',
            ]},
            {"context": "resource", "statements": [f'set(resource.attributes["{DEBUG_ATTRIBUTE}"], "true")']},
        ]},
    }


REDACT = "redact_logs_debug"


def steps(settings: Settings) -> list[str]:
    """The debug store's logs pipeline: select, sample, redact (every detector, no content
    policy), cut."""
    return ["filter/debug", "probabilistic_sampler/debug",
            redact.stage_name(REDACT), "transform/debug_preview", "batch"]


def exporter_name(logs_file: str | None) -> str:
    return "file/debug_logs" if logs_file else "otlp_http/debug_logs"


def exporter(settings: Settings, logs_endpoint: str, logs_file: str | None) -> dict:
    if logs_file:   # local runs without Loki: a file of its own, never the ordinary logs file
        return {"path": debug_file(logs_file), "format": "json", "flush_interval": "200ms"}
    return {"endpoint": logs_endpoint, "headers": {ORG_HEADER: settings.debug.loki_tenant},
            "sending_queue": QUEUE, "retry_on_failure": RETRY}


def debug_file(logs_file: str) -> str:
    """logs.jsonl -> logs.debug.jsonl, beside the ordinary logs file."""
    path = PurePath(logs_file)
    return str(path.with_name(f"{path.stem}.debug{path.suffix}"))
