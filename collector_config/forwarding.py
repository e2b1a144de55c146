"""Forwarding traces to LLM-analytics tools (Langfuse, Phoenix, any OTLP vendor).

Each forwarder is one pipeline off the normalized spans: its tenant filter first (cheap, and an
excluded tenant's spans are never redacted for nobody), then the redaction processor in the
forwarder's content mode, the never-retain policy for that mode, batch, and its own exporter
with a sending queue and retry. The token is a mounted secret file read by a bearertokenauth
instance, so it is never in the config text and a rotated file is picked up without a restart."""
from __future__ import annotations

import dataclasses

from collector_config import policy, redact
from collector_config.exporters import RETRY
from collector_config.tenants import tenant_in
from settings import Settings
from settings.model import Forwarder

SECRETS_DIR = "/etc/llmobs/secrets"
QUEUE = {"enabled": True, "num_consumers": 2, "queue_size": 2000}
SCHEMES = {"bearer": "Bearer", "basic": "Basic", "raw": ""}


def token_file(fwd: Forwarder, secrets_dir: str = SECRETS_DIR) -> str:
    return f"{secrets_dir}/forward_{fwd.name}"


def excluded(settings: Settings, fwd: Forwarder) -> tuple[str, ...]:
    return tuple(sorted(set(fwd.exclude_tenants) | set(settings.content.never_forward)))


def content_settings(settings: Settings, mode: str, preview_chars: int) -> Settings:
    return dataclasses.replace(settings, content=dataclasses.replace(settings.content, mode=mode,
                                                                     preview_chars=preview_chars))


def redaction_name(settings: Settings, mode: str, preview_chars: int) -> str:
    """One processor per distinct content mode; the gateway's own when the mode is the same."""
    c = settings.content
    if mode == c.mode and (mode != "preview" or preview_chars == c.preview_chars):
        return "redact_traces"
    return f"redact_traces_{mode}" + (str(preview_chars) if mode == "preview" else "")


def exporter_name(fwd: Forwarder) -> str:
    return f"{'otlp_http' if fwd.protocol == 'http' else 'otlp_grpc'}/forward_{fwd.name}"


def exporter(fwd: Forwarder) -> dict:
    out: dict = {"endpoint": fwd.endpoint}
    if fwd.protocol == "grpc":
        out["tls"] = {"insecure": fwd.insecure}
    if fwd.headers:
        out["headers"] = dict(fwd.headers)
    if fwd.auth != "none":
        out["auth"] = {"authenticator": f"bearertokenauth/forward_{fwd.name}"}
    return {**out, "sending_queue": QUEUE, "retry_on_failure": RETRY}


def extensions(settings: Settings, secrets_dir: str = SECRETS_DIR) -> dict:
    return {f"bearertokenauth/forward_{f.name}": {"header": f.auth_header, "scheme": SCHEMES[f.auth],
                                                   "filename": token_file(f, secrets_dir)}
            for f in settings.forwarding if f.auth != "none"}


def build(settings: Settings, processors: dict, pipelines: dict, exporters: dict, receiver: str,
          pipeline, key_file: str = redact.KEY_FILE) -> None:
    """Adds every forwarder's processors, pipeline and exporter (in place). `key_file`: the
    content hash key's file (the forwarders' hashes are the gateway's own)."""
    for fwd in settings.forwarding:
        steps = []
        tenants = excluded(settings, fwd)
        if tenants:
            processors[f"filter/forward_{fwd.name}"] = {"error_mode": "ignore",
                                                         "trace_conditions": [tenant_in("span", tenants)]}
            steps.append(f"filter/forward_{fwd.name}")
        name = redaction_name(settings, fwd.content, fwd.preview_chars)
        own = content_settings(settings, fwd.content, fwd.preview_chars)
        processors.update(redact.stage(name, "traces", own, key_file=key_file))
        steps.append(redact.stage_name(name))
        if policy.needed(settings, fwd.content):
            retain = f"transform/retain_traces_{fwd.content}"
            processors.setdefault(retain, policy.processor("traces", settings, fwd.content))
            steps.append(retain)
        exporters[exporter_name(fwd)] = exporter(fwd)
        pipelines[f"traces/forward_{fwd.name}"] = pipeline([receiver], steps + ["batch"], [exporter_name(fwd)])
