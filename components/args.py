"""Arguments shared by the stack components of both targets.

Plain values in a TypedDict (Pulumi's guidance for components), validated into
Settings inside the component, so a bad config fails before any child is registered.
"""
from __future__ import annotations

import json
from typing import Any, TypedDict

import pulumi


class StackArgs(TypedDict, total=False):
    config: dict[str, Any]                          # the llmobs:* keys, prefix removed
    grafana_admin_password: pulumi.Input[str] | None  # secret; generated when absent
    ingest_token: pulumi.Input[str] | None            # secret; generated when absent (auth on)
    alert_webhook_url: pulumi.Input[str] | None       # secret (webhook or Slack URL)
    alert_pagerduty_routing_key: pulumi.Input[str] | None  # secret
    alert_email_password: pulumi.Input[str] | None    # secret (SMTP auth)
    remote_write_password: pulumi.Input[str] | None   # secret
    grafana_secret_key: pulumi.Input[str] | None      # secret; generated when absent (keep it: it encrypts
                                                      # Grafana's stored data-source secrets)
    forward_tokens: pulumi.Input[str] | None          # secret; JSON object {forwarder name: token}
    registry_password: pulumi.Input[str] | None       # secret; collector.registry's password or token
    content_hash_key: pulumi.Input[str] | None        # secret; generated when absent (content.hash hmac): the
                                                      # gateway's HMAC key for content (docs/content-hashing.md)
    collector_image: pulumi.Input[str] | None         # set by KubernetesStack: the pushed image, by digest


def forward_token_inputs(settings: Any, given: dict[str, Any]) -> dict[str, pulumi.Output[str]]:
    """The secret forward_tokens ({name: token}) as one secret input per forwarder that
    authenticates, keyed `forward_tokens.<name>` as the collector's secret files name them."""
    tokens = given.get("forward_tokens")
    if tokens is None:
        return {}
    return {f"forward_tokens.{f.name}": pulumi.Output.secret(tokens).apply(lambda t, n=f.name: _token(t, n))
            for f in settings.forwarding if f.auth != "none"}


def _token(value: Any, name: str) -> str:
    table = json.loads(value) if isinstance(value, str) else value
    if not isinstance(table, dict) or not table.get(name):
        raise ValueError(f"llmobs:forward_tokens: no token for the forwarder {name!r}; set it with "
                         f"`pulumi config set --secret --path 'llmobs:forward_tokens.{name}' ...`")
    return str(table[name])


# The shortest content hash key the gateway accepts (llmredact's MinKeyBytes, hash.go), without
# trailing newlines; generated keys are CONTENT_KEY_LENGTH characters.
CONTENT_KEY_MIN_BYTES = 16
CONTENT_KEY_LENGTH = 64


def content_key_input(given: dict[str, Any]) -> dict[str, pulumi.Output[str]]:
    """The secret content_hash_key, when set, checked as the gateway checks it at start (so a
    short key fails `pulumi up`, not the gateway's pods)."""
    key = given.get("content_hash_key")
    if key is None:
        return {}
    return {"content_hash_key": pulumi.Output.secret(key).apply(_content_key)}


def _content_key(value: str) -> str:
    size = len(str(value).rstrip("\r\n").encode())
    if size < CONTENT_KEY_MIN_BYTES:
        raise ValueError(f"llmobs:content_hash_key: {size} bytes; the gateway wants at least {CONTENT_KEY_MIN_BYTES} "
                         "(unset it to have one generated)")
    return str(value)
