"""What every dashboard shares: variables, links, the Dashboard object."""
from __future__ import annotations

from grafanalib.core import Annotations, Dashboard, DashboardLink, Templating, Time

from dashboards.helpers import Board, datasource_vars, label_var, loki_label, service_var, textbox_var
from settings import Settings
from telemetry import keys as k
from telemetry.catalog import DEBUG_STORE_ACCESSES

TAG = "llmobs"
SEL_ENV = 'deployment_environment_name=~"$environment"'
SEL_PM = f'gen_ai_provider_name=~"$provider", gen_ai_request_model=~"$model", {SEL_ENV}'
SEL_PV = 'llmobs_prompt_version=~"$prompt_version"'
SEL_TF = 'llmobs_tenant_bounded=~"$tenant", llmobs_feature_bounded=~"$feature"'


# Attributes that mark the LLM events among the gateway's log records in Loki (Loki 3.5 keeps
# attributes as structured metadata and drops the OTLP event name): evaluation results, user
# feedback, and GenAI events that name their provider or operation.
LLM_EVENT_KEYS = (k.EVAL_NAME, k.FEEDBACK, k.PROVIDER, k.OPERATION)
# What a line shows for an event whose body is empty (evaluation results, feedback).
EVENT_LINE_KEYS = (k.EVAL_NAME, k.EVAL_SCORE, k.EVAL_LABEL, k.FEEDBACK, k.REQUEST_MODEL, k.PROMPT_VERSION)


def llm_events_query(environment: bool = True) -> str:
    """LogQL: the LLM events of the trace in `$trace_id` (a prefix; empty: every trace), in the
    selected environment. `trace_id` is structured metadata Loki sets from the OTLP record."""
    marked = " or ".join(f'{loki_label(key)}!=""' for key in LLM_EVENT_KEYS)
    env = f' | {loki_label(k.ENVIRONMENT)}=~"$environment"' if environment else ""
    fields = "".join(f"{{{{with .{loki_label(key)}}}}}{loki_label(key)}={{{{.}}}} {{{{end}}}}" for key in EVENT_LINE_KEYS)
    return (f'{{service_name=~".+"}} | trace_id=~"${{trace_id}}.*" | {marked}{env} '
            f'| line_format "{fields}{{{{__line__}}}}"')


def traces_type(settings: Settings) -> str:
    return "tempo" if settings.traces.backend == "tempo" else "jaeger"


def variables(settings: Settings, *names: str) -> list:
    """Data sources always; then the label filters this dashboard uses."""
    known = {
        "provider": ("gen_ai_provider_name", "llm_requests_total", "Provider"),
        "model": ("gen_ai_request_model", 'llm_requests_total{gen_ai_provider_name=~"$provider"}', "Model"),
        "tenant": ("llmobs_tenant_bounded", "llm_requests_total", "Tenant"),
        "feature": ("llmobs_feature_bounded", "llm_requests_total", "Feature"),
        "service": ("service_name", "llm_requests_total", "Service"),
        # A multi-select of services (the `service` variable is Jaeger's single-service search).
        "service_name": ("service_name", "llm_app_requests_total", "Service"),
        "environment": ("deployment_environment_name", "llm_requests_total", "Environment"),
        "prompt_version": ("llmobs_prompt_version", "llm_requests_total", "Prompt version"),
        # Grafana logins that called the debug store (dashboards/audit.py): the audit counter's `user`.
        "login": (DEBUG_STORE_ACCESSES.labels[0], DEBUG_STORE_ACCESSES.prometheus, "Login"),
    }
    return datasource_vars(traces_type(settings)) + [
        textbox_var(n, "Trace id") if n == "trace_id" else label_var(n, known[n][0], known[n][1], known[n][2])
        for n in names]


def dashboard(board: Board, title: str, uid: str, description: str, settings: Settings, *var_names: str,
              annotations: list[dict] | None = None, time_from: str = "now-6h") -> Dashboard:
    return Dashboard(
        title=title, uid=uid, description=description, tags=[TAG], timezone="utc", refresh="1m",
        annotations=Annotations(list=annotations or []),
        time=Time(time_from, "now"), panels=board.panels, templating=Templating(list=variables(settings, *var_names) + (
            [service_var()] if board.searches_traces and traces_type(settings) == "jaeger" else [])),
        links=[DashboardLink(title="LLM dashboards", type="dashboards", tags=[TAG], asDropdown=True,
                             includeVars=True, keepTime=True)])
