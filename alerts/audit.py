"""The debug sample store's access audit (debug.enabled): a Grafana login outside debug.viewers
called a data source of the debug organization.

Series: `llm_debug_store_accesses_total{user, endpoint}`, which the gateway counts from Grafana's
own traces (collector_config/audit.py; remote write adds `job="grafana"`). It exists only with the
store on, and so does this alert; its panel is `audit/outside_allowlist` (dashboards/audit.py)."""
from __future__ import annotations

from alerts.model import Alert, Example, Group, Runbook
from collector_config.ottl import re_escape
from settings import Settings
from telemetry.catalog import DEBUG_STORE_ACCESSES

NAME = "LlmDebugStoreAccessOutsideAllowlist"
METRIC = DEBUG_STORE_ACCESSES.prometheus
LOGIN, ENDPOINT = DEBUG_STORE_ACCESSES.labels   # Grafana's `user` attribute (the login); the span name
AUDIT_METRICS = frozenset({METRIC})
WINDOW = "10m"


def _selector(settings: Settings, login: str = "") -> str:
    """The counter's series outside the allowlist (every login when it is empty); `login`: a
    dashboard variable that narrows it further (`$login`)."""
    matchers = [f'{LOGIN}=~"{login}"'] if login else []
    if settings.debug.viewers:
        allowed = "^(?:" + "|".join(re_escape(v) for v in settings.debug.viewers) + ")$"
        matchers.append(f'{LOGIN}!~"' + allowed.replace("\\", "\\\\") + '"')
    return "{" + ", ".join(matchers) + "}" if matchers else ""


def accesses(settings: Settings, login: str = "") -> str:
    """PromQL: calls to the debug organization's data sources per login outside the allowlist, in
    the last 10 minutes. A login's first call starts its series at 1, which increase() does not
    count: the second term catches a series that is new in the window."""
    series = METRIC + _selector(settings, login)
    return (f"(sum by ({LOGIN}) (increase({series}[{WINDOW}])) > 0) or "
            f"sum by ({LOGIN}) ({series} unless {series} offset {WINDOW})")


def _series(login: str) -> str:
    return f'{METRIC}{{{LOGIN}="{login}",{ENDPOINT}="PluginClient.queryData",job="grafana"}}'


def alerts(settings: Settings) -> list[Group]:
    if not settings.debug.enabled:
        return []
    viewers = settings.debug.viewers
    allowed = ", ".join(viewers) or "nobody"
    outsider = next(login for login in ("mallory", "eve", "trudy") if login not in viewers)
    # Near misses: the same first call by an allowed login (where there is one), and a call long past.
    near = ((Example("an allowed login's first call", {_series(viewers[0]): "_x10 1x30"}, False, onset=10),)
            if viewers else ())
    rule = Alert(
        name=NAME, severity="warning", for_="2m",
        expr=accesses(settings),
        summary="A login outside the allowlist queried the debug sample store.",
        description="{{ $labels." + LOGIN + " }} called the debug organization's data sources in the last 10 "
                    f"minutes; allowed: {allowed}.",
        runbook=Runbook(
            meaning="A Grafana login that is not in debug.viewers called a data source of the Grafana "
                    "organization `Debug samples` (a query, a label lookup or the data proxy). That "
                    "organization's only data source is the debug Loki tenant: secret-redacted prompts and "
                    "answers of the sampled tenants, kept retention.debug_logs.",
            impact="Someone not approved for it may have read users' prompts and answers (secret-redacted, but not "
                   "anonymous): a possible privacy incident.",
            checks=("Panel `audit/outside_allowlist`: which login, and when its calls started.",
                    "Panel `audit/by_login`: every call of that login by endpoint (queryData is a query, "
                    "callResource a label or series lookup, `datasource reverse proxy` the data proxy).",
                    "Panel `audit/queries`: the LogQL it ran (open the trace: span `PluginClient.*` has the "
                    "login in `user`, the query span has `expr` and the time range)."),
            mitigations=("Not approved: remove the login from the organization `Debug samples` (Administration -> "
                         "Organizations, or `DELETE /api/orgs/2/users/<user id>`), and tell the security contact "
                         "which tenants and time ranges its queries covered (panel `audit/queries`).",
                         "Approved (e.g. a new on-call member): add the login to `llmobs:debug.viewers` and deploy; "
                         "the alert resolves 10 minutes after the login's last call.")),
        examples=(
            Example("a first call outside the allowlist", {_series(outsider): "_x10 1x30"}, True, {LOGIN: outsider},
                    f"{outsider} called the debug organization's data sources in the last 10 minutes; allowed: "
                    f"{allowed}.", onset=10),
            Example("a later call outside the allowlist", {_series(outsider): "1x20 2x20"}, True, {LOGIN: outsider},
                    f"{outsider} called the debug organization's data sources in the last 10 minutes; allowed: "
                    f"{allowed}.", onset=21),
            Example("a call 15 minutes ago, not repeated", {_series(outsider): "1x40"}, False, onset=15),
            *near,
        ))
    return [Group("llm-debug-audit", "1m", (rule,))]
