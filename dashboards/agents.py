"""Agents and tools: what agents call, and what policy denies."""
from __future__ import annotations

from dashboards.common import SEL_ENV, dashboard, llm_events_query, traces_type
from dashboards.helpers import RATE, Board, quantiles, target, trace_target
from settings import Settings

SLUG, UID, FOLDER = "agents", "llm-agents", "oncall"


def build(settings: Settings):
    a = settings.alerts
    b = Board(SLUG)
    b.timeseries("calls", "Tool calls by tool and outcome", "Tool calls per second.", "reqps",
                 [target(f"sum by (gen_ai_tool_name, llmobs_tool_outcome) (rate(llm_tool_calls_total{{{SEL_ENV}}}[{RATE}]))",
                         "{{gen_ai_tool_name}} {{llmobs_tool_outcome}}")], stack=True)
    b.timeseries("denied", "Denied tool calls per minute", "Calls policy denied per minute over 10m, per tool, "
                 "environment and service, as LlmDeniedToolCallsHigh measures it; the line is its floor (it also needs "
                 f"{a.denied_tool_spike_factor:g}x the tool's 7-day average, or none before).", "short",
                 [target(f"sum by (gen_ai_tool_name, deployment_environment_name, service_name) (rate(llm_tool_calls_total"
                         f'{{{SEL_ENV}, llmobs_tool_outcome="denied"}}[10m])) * 60',
                         "{{gen_ai_tool_name}} {{deployment_environment_name}} {{service_name}}")],
                 thresholds=[(a.denied_tool_calls_per_minute, "red")])
    b.timeseries("errors", "Tool errors by tool", "Failed tool calls per second.", "reqps",
                 [target(f'sum by (gen_ai_tool_name) (rate(llm_tool_calls_total{{{SEL_ENV}, llmobs_tool_outcome="error"}}[{RATE}]))',
                         "{{gen_ai_tool_name}}")])
    b.timeseries("tool_latency", "Tool latency p95 by tool", "p95 duration of tool calls.", "s",
                 quantiles("llm_tool_duration_seconds", by="gen_ai_tool_name", legend="{{gen_ai_tool_name}}"))
    b.timeseries("approvals", "Approval-required calls by decision", "Tool calls that needed approval, per second, "
                 "by tool and decision (auto, approved, denied).", "reqps",
                 [target(f"sum by (gen_ai_tool_name, llmobs_tool_approval) (rate(llm_tool_approvals_total[{RATE}]))",
                         "{{gen_ai_tool_name}} {{llmobs_tool_approval}}")])
    b.timeseries("iterations", "Loop iterations per request (p50, p95)", "Agent loop length per request; the line is "
                 "the runaway alert threshold (p95).", "short",
                 quantiles("llm_agent_iterations", (0.5, 0.95), sel=SEL_ENV), thresholds=[(a.agent_iterations_p95, "red")])
    b.timeseries("iterations_by_agent", "Loop iterations p95 by agent",
                 "p95 loop iterations per request of each agent over 10m, as LlmAgentLoopRunaway measures it; the "
                 "line is its threshold.", "short",
                 quantiles("llm_agent_iterations", by="gen_ai_agent_name, deployment_environment_name, service_name",
                           sel=SEL_ENV, legend="{{gen_ai_agent_name}} {{deployment_environment_name}} {{service_name}}",
                           window="10m"),
                 thresholds=[(a.agent_iterations_p95, "red")])
    if traces_type(settings) == "tempo":   # Jaeger's search matches tags exactly: no "more than N"
        b.table("runaway", "Runaway requests (traces)",
                f"Requests whose agent loop ran more than {a.agent_iterations_p95:g} iterations (the runaway alert "
                "threshold). Tempo returns the first matches, not the longest loops.", "short",
                [trace_target(f"{{ span.llmobs.agent.iterations > {a.agent_iterations_p95:g} }}", "tempo")],
                "${traces}")
    b.logs("agent_events", "Events of an agent run (Loki)",
           "Evaluation results, feedback and GenAI events of the trace in the Trace id box (empty: all runs).",
           llm_events_query())
    return dashboard(b, "LLM agents and tools", UID, "Tool calls, denials and errors.", settings, "environment", "trace_id")
