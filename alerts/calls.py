"""Alerts on contract-v2 signals: retries, fallbacks, context saturation, agent loops, and quality
by prompt version and index version."""
from __future__ import annotations

from alerts.llm import CALL_LABELS, ES, HIGHER_IS_BETTER, OPENAI, PMES, STAGING, STAGING_LABELS, WHERE, WHERE_LABELS, floored, histogram, n, per_min
from alerts.runbooks import WITH_SLO_PAGE
from alerts.model import Alert, Example, Group, Runbook
from collector_config.metrics import ITERATION_BUCKETS, UTILIZATION_BUCKETS
from settings import Settings

MODEL_LABELS = CALL_LABELS


def _score(eval_name: str, labels: str, mean: float, per_minute: float = 10, where: str = WHERE) -> dict[str, str]:
    sel = f'gen_ai_evaluation_name="{eval_name}",{labels},{where}'
    return {f"{n('llm.eval.score', '_sum')}{{{sel}}}": per_min(per_minute * mean),
            f"{n('llm.eval.score', '_count')}{{{sel}}}": per_min(per_minute)}


def alerts(settings: Settings) -> list[Group]:
    a, floors = settings.alerts, settings.alerts.volume_floors
    requests, retries, fallbacks = n("llm.requests"), n("llm.retries"), n("llm.fallbacks")
    score_sum, score_count = n("llm.eval.score", "_sum"), n("llm.eval.score", "_count")
    recall = 'gen_ai_evaluation_name="context_recall"'
    version = 'llmobs_prompt_version="support-chat-v8"'
    index = 'llmobs_retrieval_index_version="kb-docs-2024-11"'
    model = 'gen_ai_request_model="gpt-4o-mini"'
    out = [
        Alert(
            name="LlmRetryRateHigh", severity="warning", for_="15m", keep_firing_for="10m",
            expr=floored(f"provider_model:llm_retries:ratio_rate5m > {a.retry_ratio:g}",
                         f"sum by ({PMES}) (increase({requests}[5m]))", floors.calls),
            metrics=("provider_model:llm_retries:ratio_rate5m",),
            summary="Many LLM calls to one model are retries.",
            description="{{ $labels.gen_ai_provider_name }} {{ $labels.gen_ai_request_model }}: "
                        "{{ $value | humanizePercentage }} of calls were retries over 5m "
                        f"(threshold {a.retry_ratio:.0%}).",
            runbook=Runbook(
                meaning="The application retries calls to this model often: each retry adds latency and cost, and "
                        "a retry storm can turn a provider's brown-out into an outage.",
                impact="Latency and cost per answer rise with every retry, and the retries add load to a provider that "
                       "is already struggling.",
                checks=("Panels `overview/retries` and `overview/errors`: which errors are retried?",
                        "Provider status page and rate-limit headers in error traces.",
                        "Panel `cost/per_request`: spend per call since the onset."),
                escalation=WITH_SLO_PAGE,
                mitigations=("Cap retries with backoff and jitter; fail over to the fallback model sooner.",
                             "Lower concurrency or raise the provider quota for rate limits.",
                             "If a deploy changed the client's timeouts, roll it back.")),
            examples=(
                Example("20% retries", {f"{requests}{{{OPENAI}}}": per_min(100), f"{retries}{{{OPENAI}}}": per_min(20)},
                        True, MODEL_LABELS,
                        f"openai gpt-4o: 20% of calls were retries over 5m (threshold {a.retry_ratio:.0%})."),
                Example("5% retries", {f"{requests}{{{OPENAI}}}": per_min(100), f"{retries}{{{OPENAI}}}": per_min(5)}, False),
                Example("one retry out of one call in 5m (under the volume floor)",
                        {f"{requests}{{{OPENAI}}}": per_min(0.2), f"{retries}{{{OPENAI}}}": per_min(0.2)}, False),
                Example("every call a retry, 10 calls a minute (over the floor)",
                        {f"{requests}{{{OPENAI}}}": per_min(10), f"{retries}{{{OPENAI}}}": per_min(10)}, True,
                        MODEL_LABELS, f"openai gpt-4o: 100% of calls were retries over 5m (threshold {a.retry_ratio:.0%})."),
            )),
        Alert(
            name="LlmFallbackStorm", severity="warning", for_="10m", keep_firing_for="10m",
            expr=floored(f"sum by ({ES}) (rate({fallbacks}[5m])) / sum by ({ES}) (rate({requests}[5m])) "
                         f"> {a.fallback_ratio:g}", f"sum by ({ES}) (increase({requests}[5m]))", floors.fallbacks),
            summary="A large share of LLM calls go to fallback models.",
            description="{{ $labels.deployment_environment_name }} ({{ $labels.service_name }}): "
                        "{{ $value | humanizePercentage }} of LLM calls went to a fallback model over 5m "
                        f"(threshold {a.fallback_ratio:.0%}).",
            runbook=Runbook(
                meaning="Primary models fail or are overloaded and the application falls back: answers may be "
                        "slower, costlier or worse, and the fallback provider may throttle next.",
                impact="Answers come from the fallback model: possibly slower, costlier or worse, and the fallback's "
                       "own rate limits may fail requests next.",
                checks=("Panel `overview/fallbacks`: which primary is being replaced, by which model?",
                        "Panel `overview/errors` for that primary: its error types; then the provider's status page.",
                        "Panel `cost/by_model` (fallbacks are often pricier)."),
                escalation=WITH_SLO_PAGE,
                mitigations=("Fix or wait out the primary; consider pinning the fallback explicitly meanwhile.",
                             "Check the fallback's quota before it throttles too.",
                             "Watch quality panels: a weaker fallback lowers eval scores.")),
            examples=(
                Example("30% fallbacks", {f"{requests}{{{OPENAI}}}": per_min(100),
                                          f'{fallbacks}{{gen_ai_request_model="claude-sonnet-4",llmobs_fallback_from_model="gpt-4o",{WHERE}}}':
                                          per_min(30)}, True, WHERE_LABELS,
                        f"production (support-bot): 30% of LLM calls went to a fallback model over 5m "
                        f"(threshold {a.fallback_ratio:.0%})."),
                Example("5% fallbacks", {f"{requests}{{{OPENAI}}}": per_min(100),
                                         f'{fallbacks}{{gen_ai_request_model="claude-sonnet-4",llmobs_fallback_from_model="gpt-4o",{WHERE}}}':
                                         per_min(5)}, False),
                Example("30% fallbacks of 6 calls a minute (under the volume floor)", {
                    f"{requests}{{{OPENAI}}}": per_min(6),
                    f'{fallbacks}{{gen_ai_request_model="claude-sonnet-4",llmobs_fallback_from_model="gpt-4o",{WHERE}}}':
                    per_min(1.8)}, False),
                Example("30% fallbacks of 20 calls a minute (over the floor)", {
                    f"{requests}{{{OPENAI}}}": per_min(20),
                    f'{fallbacks}{{gen_ai_request_model="claude-sonnet-4",llmobs_fallback_from_model="gpt-4o",{WHERE}}}':
                    per_min(6)}, True, WHERE_LABELS,
                        f"production (support-bot): 30% of LLM calls went to a fallback model over 5m "
                        f"(threshold {a.fallback_ratio:.0%})."),
            )),
        Alert(
            name="LlmContextWindowSaturated", severity="warning", for_="15m",
            expr=f"provider_model:llm_context_utilization:p95_rate5m > {a.context_utilization_p95:g}",
            metrics=("provider_model:llm_context_utilization:p95_rate5m",),
            summary="LLM calls fill most of the model's context window.",
            description="{{ $labels.gen_ai_request_model }}: p95 context utilization is "
                        "{{ $value | humanizePercentage }} over 5m "
                        f"(threshold {a.context_utilization_p95:.0%}).",
            runbook=Runbook(
                meaning="Prompts (history, retrieved chunks, tool results) fill the context window: the model "
                        "truncates or refuses, answers lose the earliest context, and cost per call rises.",
                impact="Answers silently lose the earliest context (instructions, history) or calls fail on the "
                       "context length; every such call costs the most it can.",
                checks=("Panel `overview/context` and `overview/tokens_per_request`: which model's prompts grew?",
                        "Panel `overview/errors` for the same model (context-length errors).",
                        "Panel `rag/top_k`: top-k requested vs returned."),
                escalation=WITH_SLO_PAGE,
                mitigations=("Trim conversation history or summarize it; lower top-k.",
                             "Route long requests to a model with a larger window.",
                             "Roll back the prompt version that added the bulk.")),
            examples=(
                Example("p95 near 95%", histogram("llm.context.utilization", OPENAI, UTILIZATION_BUCKETS, 0.95), True,
                        MODEL_LABELS, f"gpt-4o: p95 context utilization is 94.75% over 5m "
                                      f"(threshold {a.context_utilization_p95:.0%})."),
                Example("p95 near 74%", histogram("llm.context.utilization", OPENAI, UTILIZATION_BUCKETS, 0.75), False),
            )),
        Alert(
            name="LlmAgentLoopRunaway", severity="warning", for_="10m",
            expr=f"histogram_quantile(0.95, sum by (le, gen_ai_agent_name, {ES}) "
                 f"(rate({n('llm.agent.iterations', '_bucket')}[10m]))) > {a.agent_iterations_p95:g}",
            summary="Agent loops run far more iterations per request than expected.",
            description="{{ $labels.gen_ai_agent_name }}: p95 {{ $value | humanize }} loop iterations per request "
                        f"over 10m (maximum {a.agent_iterations_p95:g}).",
            runbook=Runbook(
                meaning="An agent calls tools again and again without finishing: cost and latency grow per request, "
                        "and a loop may repeat a side effect.",
                impact="This agent's requests take long and cost many calls each; a tool with a side effect (an "
                       "e-mail, a write) may act more than once.",
                checks=("Panels `agents/iterations_by_agent` (what the alert measures) and `agents/calls`: which "
                        "agent, and which tool repeats?",
                        "Traces of the longest requests: the same tool with the same arguments?",
                        "Recent prompt or tool-schema changes for that agent."),
                escalation=WITH_SLO_PAGE,
                mitigations=("Lower the agent's iteration cap; return an answer when it is hit.",
                             "Roll back the prompt or tool change; fix the tool whose result never satisfies the agent.",
                             "Throttle the feature while the loop is fixed.")),
            examples=(
                Example("p95 near 25", histogram("llm.agent.iterations", f'gen_ai_agent_name="ops-agent",{WHERE}',
                                                  ITERATION_BUCKETS, 25), True, {"gen_ai_agent_name": "ops-agent", **WHERE_LABELS},
                        f"ops-agent: p95 24.75 loop iterations per request over 10m (maximum {a.agent_iterations_p95:g})."),
                Example("p95 near 8", histogram("llm.agent.iterations", f'gen_ai_agent_name="ops-agent",{WHERE}',
                                                 ITERATION_BUCKETS, 8), False),
                Example("staging loops while production does not: an alert labelled staging only", {
                    **histogram("llm.agent.iterations", f'gen_ai_agent_name="ops-agent",{STAGING}', ITERATION_BUCKETS, 25),
                    **histogram("llm.agent.iterations", f'gen_ai_agent_name="ops-agent",{WHERE}', ITERATION_BUCKETS, 8,
                                rate=600)}, True, {"gen_ai_agent_name": "ops-agent", **STAGING_LABELS},
                        f"ops-agent: p95 24.75 loop iterations per request over 10m (maximum {a.agent_iterations_p95:g})."),
            )),
        Alert(
            name="LlmEvalScoreLowForPromptVersion", severity="warning", for_="30m",
            expr=floored(f"prompt_version_eval:llm_eval_score:mean_rate1h{{{HIGHER_IS_BETTER}}} < {a.eval_score_min:g}",
                         f"sum by (llmobs_prompt_version, gen_ai_evaluation_name, {ES}) (increase({score_count}[1h]))",
                         floors.evaluations),
            metrics=("prompt_version_eval:llm_eval_score:mean_rate1h",),
            summary="One prompt version's evaluation score dropped below its minimum.",
            description='{{ $labels.gen_ai_evaluation_name }} of prompt version {{ $labels.llmobs_prompt_version }} '
                        f'averages {{{{ $value | printf "%.2f" }}}} over 1h (minimum {a.eval_score_min:g}).',
            runbook=Runbook(
                meaning="Answers made with this prompt version score worse than the minimum: the usual cause is a "
                        "prompt change, and the version label says which.",
                impact="Users served by this prompt version get answers below the quality bar (less faithful or "
                       "relevant).",
                checks=("Panel `quality/eval_by_prompt_version`: is the previous version still fine?",
                        "The annotation where this version first appeared, and the deploy that shipped it.",
                        "Low-scoring traces with this version (`span.llmobs.prompt.version = ...`)."),
                mitigations=("Roll back to the previous prompt version.",
                             "Run the offline eval set on both versions before shipping again.",
                             "If only one model regressed, pin the previous model for this prompt.")),
            examples=(
                Example("version v8 at 0.5", _score("faithfulness", version, 0.5), True,
                        {"gen_ai_evaluation_name": "faithfulness", "llmobs_prompt_version": "support-chat-v8", **WHERE_LABELS},
                        f"faithfulness of prompt version support-chat-v8 averages 0.50 over 1h (minimum {a.eval_score_min:g})."),
                Example("version v8 at 0.8", _score("faithfulness", version, 0.8), False),
                Example("version v8 at 0.5 on 6 results an hour (under the volume floor)",
                        _score("faithfulness", version, 0.5, per_minute=0.1), False),
                Example("hallucination at 0.05 is good", _score("hallucination", version, 0.05), False),
            )),
        Alert(
            name="LlmEvalScoreLowForModel", severity="warning", for_="30m",
            expr=floored(f"sum by (gen_ai_request_model, gen_ai_evaluation_name, {ES}) (rate({score_sum}{{{HIGHER_IS_BETTER}}}[1h])) / "
                         f"sum by (gen_ai_request_model, gen_ai_evaluation_name, {ES}) (rate({score_count}{{{HIGHER_IS_BETTER}}}[1h])) "
                         f"< {a.eval_score_min:g}",
                         f"sum by (gen_ai_request_model, gen_ai_evaluation_name, {ES}) (increase({score_count}[1h]))",
                         floors.evaluations),
            summary="One model's evaluation score dropped below its minimum.",
            description='{{ $labels.gen_ai_evaluation_name }} of model {{ $labels.gen_ai_request_model }} '
                        f'averages {{{{ $value | printf "%.2f" }}}} over 1h (minimum {a.eval_score_min:g}).',
            runbook=Runbook(
                meaning="Answers from this model score worse than the minimum across prompt versions: a provider-side "
                        "model update, a new model rolled out, or a fallback that routes traffic to a weaker model.",
                impact="Users served by this model get answers below the quality bar, whatever the prompt version.",
                checks=("Panel `quality/eval_by_model`: did the model's score drop for every prompt "
                        "version, or only one (then see LlmEvalScoreLowForPromptVersion)?",
                        "Panel `overview/fallbacks`: which model the traffic moved to at the onset.",
                        "The provider's changelog or status page for a model update; low-scoring traces of the model "
                        "(`span.gen_ai.request.model = ...`)."),
                mitigations=("Pin the previous model version (dated snapshot) or switch to the fallback model.",
                             "If a fallback caused it, fix the primary provider and stop the fallback.",
                             "Run the offline eval set against the new model before routing traffic back.")),
            examples=(
                Example("gpt-4o-mini at 0.5", _score("faithfulness", model, 0.5), True,
                        {"gen_ai_evaluation_name": "faithfulness", "gen_ai_request_model": "gpt-4o-mini", **WHERE_LABELS},
                        f"faithfulness of model gpt-4o-mini averages 0.50 over 1h (minimum {a.eval_score_min:g})."),
                Example("gpt-4o-mini at 0.8", _score("faithfulness", model, 0.8), False),
                Example("gpt-4o-mini at 0.5 on 6 results an hour (under the volume floor)",
                        _score("faithfulness", model, 0.5, per_minute=0.1), False),
                Example("hallucination at 0.05 is good", _score("hallucination", model, 0.05), False),
            )),
        Alert(
            name="LlmContextRecallLow", severity="warning", for_="30m",
            expr=floored(f"sum by (llmobs_retrieval_index_version, {ES}) (rate({score_sum}{{{recall}}}[1h])) / "
                         f"sum by (llmobs_retrieval_index_version, {ES}) (rate({score_count}{{{recall}}}[1h])) "
                         f"< {a.context_recall_min:g}",
                         f"sum by (llmobs_retrieval_index_version, {ES}) (increase({score_count}{{{recall}}}[1h]))",
                         floors.evaluations),
            summary="Retrieval misses the context answers need for one index version.",
            description="Context recall with index version {{ $labels.llmobs_retrieval_index_version }} averages "
                        f'{{{{ $value | printf "%.2f" }}}} over 1h (minimum {a.context_recall_min:g}).',
            runbook=Runbook(
                meaning="Evaluations find that retrieved documents lack what the answer needs: a stale or broken "
                        "index, a changed embedding model, or a retriever change.",
                impact="Answers grounded in this index version lack the facts they need: users get incomplete or "
                       "invented answers.",
                checks=("Panels `rag/index_versions` and `rag/recall`: which index version, and its recall.",
                        "Panels `rag/empty` and `rag/score` over the same window.",
                        "The index build and deploy log for that version."),
                mitigations=("Roll back to the previous index version.",
                             "Re-index with the current embedding model; check the ingestion job.",
                             "Raise top-k temporarily while the index is fixed.")),
            examples=(
                Example("stale index at 0.4", _score("context_recall", index, 0.4), True,
                        {"llmobs_retrieval_index_version": "kb-docs-2024-11", **WHERE_LABELS},
                        f"Context recall with index version kb-docs-2024-11 averages 0.40 over 1h "
                        f"(minimum {a.context_recall_min:g})."),
                Example("index at 0.85", _score("context_recall", index, 0.85), False),
                Example("stale index at 0.4 on 6 results an hour (under the volume floor)",
                        _score("context_recall", index, 0.4, per_minute=0.1), False),
            )),
    ]
    return [Group("llm-calls", "1m", tuple(out))]
