"""Settings of the debug store, the tenant policy and forwarding: defaults off, errors name the key."""
from __future__ import annotations

import pytest

from settings import SettingsError, validate


def test_defaults_are_off():
    s = validate({"target": "docker"})
    assert s.debug.enabled is False and s.forwarding == ()
    assert s.content.never_retain.tenants == () and s.content.never_forward == ()


@pytest.mark.parametrize("config, message", [
    ({"debug": {"enabled": True}}, "llmobs:debug.tenants: debug.enabled needs the tenants"),
    ({"debug": {"enabled": True, "tenants": ["*"]}, "retention": {"debug_logs": "12h"}},
     "llmobs:retention.debug_logs: '12h' is below 24h"),
    ({"forwarding": [{"name": "a", "endpoint": "x:4317"}]}, "llmobs:forwarding[0].endpoint: protocol http needs"),
    ({"forwarding": [{"name": "a", "protocol": "grpc", "endpoint": "https://x"}]},
     "llmobs:forwarding[0].endpoint: protocol grpc needs host:port"),
    ({"forwarding": [{"name": "a", "endpoint": "https://x"}, {"name": "a", "endpoint": "https://y"}]},
     "llmobs:forwarding[1].name: duplicate forwarder name 'a'"),
    ({"forwarding": [{"name": "a", "endpoint": "https://x", "auth": "bearer", "auth_header": "api_key"}]},
     "llmobs:forwarding[0].auth_header: auth bearer is sent in Authorization"),
    ({"content": {"never_retain": {"keep": "preview"}}}, "llmobs:content.never_retain.keep"),
    ({"collector": {"image": {"repository": "ghcr.io/acme/otelcol-llmobs", "tag": "latest"}}},
     "llmobs:collector.image.tag: 'latest' is not allowed"),
    ({"collector": {"image": {"repository": "ghcr.io/acme/otelcol-llmobs"}}}, "llmobs:collector.image"),
    ({"collector": {"metrics_engine": "otel"}}, "llmobs:collector.metrics_engine: removed"),
])
def test_errors_name_the_key(config, message):
    with pytest.raises(SettingsError) as err:
        validate({"target": "docker", **config})
    assert str(err.value).startswith(message), str(err.value)


def test_a_raw_key_header_and_short_retention_without_the_store_are_fine():
    validate({"target": "docker", "retention": {"debug_logs": "12h"},
              "forwarding": [{"name": "phoenix", "endpoint": "https://x", "auth": "raw", "auth_header": "api_key"}]})
