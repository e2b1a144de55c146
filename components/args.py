"""Arguments shared by the stack components of both targets.

Plain values in a TypedDict (Pulumi's guidance for components), validated into
Settings inside the component, so a bad config fails before any child is registered.
"""
from __future__ import annotations

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
