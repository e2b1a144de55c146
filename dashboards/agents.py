"""Agents and tools: what agents call, and what policy denies."""
from __future__ import annotations

from dashboards.common import dashboard
from dashboards.helpers import RATE, Board, target
from settings import Settings

SLUG, UID, FOLDER = "agents", "llm-agents", "oncall"


def build(settings: Settings):
    a = settings.alerts
    b = Board(SLUG)
    b.timeseries("calls", "Tool calls by tool and outcome", "Tool calls per second.", "reqps",
                 [target(f"sum by (gen_ai_tool_name, llmobs_tool_outcome) (rate(llm_tool_calls_total[{RATE}]))",
                         "{{gen_ai_tool_name}} {{llmobs_tool_outcome}}")], stack=True)
    b.timeseries("denied", "Denied tool calls per minute", "Calls policy denied, per tool; the line is the alert "
                 "threshold.", "short",
                 [target(f'sum by (gen_ai_tool_name) (rate(llm_tool_calls_total{{llmobs_tool_outcome="denied"}}[{RATE}])) * 60',
                         "{{gen_ai_tool_name}}")],
                 thresholds=[(a.denied_tool_calls_per_minute, "red")])
    b.timeseries("errors", "Tool errors by tool", "Failed tool calls per second.", "reqps",
                 [target(f'sum by (gen_ai_tool_name) (rate(llm_tool_calls_total{{llmobs_tool_outcome="error"}}[{RATE}]))',
                         "{{gen_ai_tool_name}}")])
    return dashboard(b, "LLM agents and tools", UID, "Tool calls, denials and errors.", settings)
