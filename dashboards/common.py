"""What every dashboard shares: variables, links, the Dashboard object."""
from __future__ import annotations

from grafanalib.core import Dashboard, DashboardLink, Templating, Time

from dashboards.helpers import Board, datasource_vars, label_var
from settings import Settings

TAG = "llmobs"
SEL_ENV = 'deployment_environment_name=~"$environment"'
SEL_PM = f'gen_ai_provider_name=~"$provider", gen_ai_request_model=~"$model", {SEL_ENV}'
SEL_PV = 'llmobs_prompt_version=~"$prompt_version"'
SEL_TF = 'llmobs_tenant_bounded=~"$tenant", llmobs_feature_bounded=~"$feature"'


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
        "environment": ("deployment_environment_name", "llm_requests_total", "Environment"),
        "prompt_version": ("llmobs_prompt_version", "llm_requests_total", "Prompt version"),
    }
    return datasource_vars(traces_type(settings)) + [
        label_var(n, known[n][0], known[n][1], known[n][2]) for n in names]


def dashboard(board: Board, title: str, uid: str, description: str, settings: Settings, *var_names: str) -> Dashboard:
    return Dashboard(
        title=title, uid=uid, description=description, tags=[TAG], timezone="utc", refresh="1m",
        time=Time("now-6h", "now"), panels=board.panels, templating=Templating(list=variables(settings, *var_names)),
        links=[DashboardLink(title="LLM dashboards", type="dashboards", tags=[TAG], asDropdown=True,
                             includeVars=True, keepTime=True)])
