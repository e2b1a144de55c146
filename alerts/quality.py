"""Quality, safety, tools, retrieval, feedback, pricing and traffic alerts."""
from __future__ import annotations

from alerts.llm import (ES, HIGHER_IS_BETTER, OPENAI, PM, STAGING, STAGING_LABELS, WHERE, WHERE_LABELS, floored, n,
                        per_min, stepped, WEEK)
from alerts.model import Alert, Example, Group, Runbook
from settings import Settings

PROVIDER_LABELS = {"gen_ai_provider_name": "openai", "gen_ai_request_model": "gpt-4o"}
# Every alert here on application traffic (evaluations, feedback, safety, tools, retrieval, unpriced calls,
# traffic itself) keeps the environment and the service it came from (alerts.llm.ES); the redaction
# canary reads the gateway's own counter, which knows the service only.
OPENAI_STAGING = f'gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o",{STAGING}'


def alerts(settings: Settings) -> list[Group]:
    a, floors = settings.alerts, settings.alerts.volume_floors
    requests = n("llm.requests")
    score_sum, score_count = n("llm.eval.score", "_sum"), n("llm.eval.score", "_count")
    blocks, tools = n("llm.safety.blocks"), n("llm.tool.calls")
    docs_bucket, docs_count = n("llm.retrieval.documents", "_bucket"), n("llm.retrieval.documents", "_count")
    unpriced, feedback = n("llm.unpriced.requests"), n("llm.feedback")
    # LlmNoTraffic: calls in the hour up to this time a day earlier, and calls in the last 15m.
    calls_day_before = f"sum by ({ES}) (increase({requests}[1h] offset 1d))"
    calls_15m = f"sum by ({ES}) (increase({requests}[15m]))"
    denied = f'sum by (gen_ai_tool_name, {ES}) (rate({n("llm.tool.calls")}{{llmobs_tool_outcome="denied"}}[10m]))'
    denied_before = f"avg_over_time(({denied})[7d:1h] offset 1h)"
    redacted = "service:llm_redacted_spans:rate1h"
    redacted_before = f"avg_over_time({redacted}[7d] offset 1h)"
    faith = f'gen_ai_evaluation_name="faithfulness",{WHERE}'
    faith_staging = f'gen_ai_evaluation_name="faithfulness",{STAGING}'
    quality = [
        Alert(
            name="LlmEvalScoreLow", severity="warning", for_="30m",
            expr=floored(f"sum by (gen_ai_evaluation_name, {ES}) (rate({score_sum}{{{HIGHER_IS_BETTER}}}[30m])) "
                         f"/ sum by (gen_ai_evaluation_name, {ES}) (rate({score_count}{{{HIGHER_IS_BETTER}}}[30m])) "
                         f"< {a.eval_score_min:g}",
                         f"sum by (gen_ai_evaluation_name, {ES}) (increase({score_count}[30m]))", floors.evaluations),
            summary="An evaluation score of LLM answers dropped below its minimum.",
            description='{{ $labels.gen_ai_evaluation_name }} averages {{ $value | printf "%.2f" }} over 30m '
                        f"(minimum {a.eval_score_min:g}).",
            runbook=Runbook(
                meaning="Online evaluations (faithfulness, relevance, ...) score the answers lower than the "
                        "minimum: users get worse answers, often after a prompt, model or index change.",
                impact="Users get answers below the quality bar across the traffic the evaluation covers.",
                checks=("Panels `quality/eval_by_prompt_version` and `quality/eval_by_model`; did a new version appear at "
                        "the onset (annotation)?",
                        "Panels `rag/empty` and `rag/score` (bad context gives unfaithful answers).",
                        "Low-scoring traces in Tempo/Jaeger (`span.gen_ai.evaluation.score.value < 0.5`)."),
                mitigations=("Roll back the prompt or index version that introduced the drop.",
                             "Pin the previous model version.",
                             "If the evaluator itself changed, recalibrate the minimum in settings.")),
            examples=(
                Example("faithfulness averages 0.5", {f"{score_sum}{{{faith}}}": per_min(5),
                                                      f"{score_count}{{{faith}}}": per_min(10)}, True,
                        {"gen_ai_evaluation_name": "faithfulness", **WHERE_LABELS},
                        f"faithfulness averages 0.50 over 30m (minimum {a.eval_score_min:g})."),
                Example("staging averages 0.5 while production averages 0.9: an alert labelled staging only",
                        {f"{score_sum}{{{faith_staging}}}": per_min(5), f"{score_count}{{{faith_staging}}}": per_min(10),
                         f"{score_sum}{{{faith}}}": per_min(27), f"{score_count}{{{faith}}}": per_min(30)}, True,
                        {"gen_ai_evaluation_name": "faithfulness", **STAGING_LABELS},
                        f"faithfulness averages 0.50 over 30m (minimum {a.eval_score_min:g})."),
                Example("faithfulness averages 0.8", {f"{score_sum}{{{faith}}}": per_min(8),
                                                      f"{score_count}{{{faith}}}": per_min(10)}, False),
                Example("faithfulness averages 0.5 over 3 results in 30m (under the volume floor)",
                        {f"{score_sum}{{{faith}}}": per_min(0.05), f"{score_count}{{{faith}}}": per_min(0.1)}, False),
                Example("hallucination averages 0.05 (good)",
                        {f'{score_sum}{{gen_ai_evaluation_name="hallucination",{WHERE}}}': per_min(0.5),
                         f'{score_count}{{gen_ai_evaluation_name="hallucination",{WHERE}}}': per_min(10)}, False),
            )),
        Alert(
            name="LlmThumbsDownHigh", severity="warning", for_="30m",
            expr=floored(f'sum by ({ES}) (rate({feedback}{{llmobs_feedback="down"}}[1h])) / '
                         f'sum by ({ES}) (rate({feedback}[1h])) > {a.thumbs_down_ratio:g}',
                         f"sum by ({ES}) (increase({feedback}[1h]))", floors.feedback),
            summary="Users reject a large share of LLM answers.",
            description="{{ $labels.deployment_environment_name }} ({{ $labels.service_name }}): "
                        "{{ $value | humanizePercentage }} of user feedback was thumbs-down over 1h "
                        f"(threshold {a.thumbs_down_ratio:.0%}).",
            runbook=Runbook(
                meaning="Explicit user feedback turned negative; the most direct signal of answer quality.",
                impact="Users say the answers do not help them; a lasting rise costs trust and usage.",
                checks=("Panel `quality/thumbs_down` by feature: one feature or all?",
                        "Panel `quality/eval_scores` over the same window.",
                        "Recent prompt, model and index version changes."),
                mitigations=("Roll back the last prompt or model change for the affected feature.",
                             "Read a sample of down-voted traces with the product owner.",
                             "Tune the threshold if the feature's baseline is naturally higher.")),
            examples=(
                Example("40% thumbs down", {f'{feedback}{{llmobs_feedback="down",llmobs_feature_bounded="chat",{WHERE}}}': per_min(4),
                                            f'{feedback}{{llmobs_feedback="up",llmobs_feature_bounded="chat",{WHERE}}}': per_min(6)},
                        True, WHERE_LABELS, "production (support-bot): 40% of user feedback was thumbs-down over 1h "
                                            f"(threshold {a.thumbs_down_ratio:.0%})."),
                Example("20% thumbs down", {f'{feedback}{{llmobs_feedback="down",llmobs_feature_bounded="chat",{WHERE}}}': per_min(2),
                                            f'{feedback}{{llmobs_feedback="up",llmobs_feature_bounded="chat",{WHERE}}}': per_min(8)},
                        False),
                Example("40% thumbs down of 5 votes an hour (under the volume floor)",
                        {f'{feedback}{{llmobs_feedback="down",llmobs_feature_bounded="chat",{WHERE}}}': per_min(2 / 60),
                         f'{feedback}{{llmobs_feedback="up",llmobs_feature_bounded="chat",{WHERE}}}': per_min(3 / 60)}, False),
                Example("staging 40% thumbs down while production 10%: an alert labelled staging only", {
                    f'{feedback}{{llmobs_feedback="down",llmobs_feature_bounded="chat",{STAGING}}}': per_min(4),
                    f'{feedback}{{llmobs_feedback="up",llmobs_feature_bounded="chat",{STAGING}}}': per_min(6),
                    f'{feedback}{{llmobs_feedback="down",llmobs_feature_bounded="chat",{WHERE}}}': per_min(1),
                    f'{feedback}{{llmobs_feedback="up",llmobs_feature_bounded="chat",{WHERE}}}': per_min(9)}, True,
                        STAGING_LABELS, "staging (support-bot): 40% of user feedback was thumbs-down over 1h "
                                        f"(threshold {a.thumbs_down_ratio:.0%})."),
            )),
    ]
    safety = [
        Alert(
            name="LlmSafetyBlocksHigh", severity="warning", for_="15m",
            expr=floored(f"sum by ({ES}) (rate({blocks}[15m])) / sum by ({ES}) (rate({requests}[15m])) "
                         f"> {a.safety_block_ratio:g}", f"sum by ({ES}) (increase({requests}[15m]))", floors.safety),
            summary="Safety checks block an unusual share of LLM traffic.",
            description="{{ $labels.deployment_environment_name }} ({{ $labels.service_name }}): "
                        "{{ $value | humanizePercentage }} of LLM calls were blocked by safety checks over 15m "
                        f"(threshold {a.safety_block_ratio:.0%}).",
            runbook=Runbook(
                meaning="Many inputs or outputs are blocked: an abuse wave, a jailbreak campaign, or an over-eager "
                        "checker after a change.",
                impact="Either the application is under attack (blocked, but the attempts go on and may find a gap), "
                       "or legitimate users get refusals from an over-eager checker.",
                checks=("Panels `quality/safety` (by category) and `quality/safety_ratio`.",
                        "Panel `cost/by_tenant`: did one tenant's traffic jump with the blocks?",
                        "Blocked traces (always kept by tail sampling): `span.llmobs.safety.blocked = true`."),
                mitigations=("Throttle or suspend the abusing tenant or user.",
                             "Roll back a checker or policy change that over-blocks.",
                             "Tell support: users may see refusals.")),
            examples=(
                Example("10% blocked", {f"{requests}{{{OPENAI}}}": per_min(100),
                                        f'{blocks}{{llmobs_safety_category="self_harm",{WHERE}}}': per_min(10)}, True,
                        WHERE_LABELS, "production (support-bot): 10% of LLM calls were blocked by safety checks over 15m "
                                      f"(threshold {a.safety_block_ratio:.0%})."),
                Example("2% blocked", {f"{requests}{{{OPENAI}}}": per_min(100),
                                       f'{blocks}{{llmobs_safety_category="self_harm",{WHERE}}}': per_min(2)}, False),
                Example("one blocked call out of one in 15m (under the volume floor)",
                        {f"{requests}{{{OPENAI}}}": per_min(1 / 15),
                         f'{blocks}{{llmobs_safety_category="self_harm",{WHERE}}}': per_min(1 / 15)}, False),
                Example("every call blocked, 10 calls a minute (over the floor)",
                        {f"{requests}{{{OPENAI}}}": per_min(10),
                         f'{blocks}{{llmobs_safety_category="self_harm",{WHERE}}}': per_min(10)}, True, WHERE_LABELS,
                        "production (support-bot): 100% of LLM calls were blocked by safety checks over 15m "
                        f"(threshold {a.safety_block_ratio:.0%}).", onset=6),   # 50 calls in the window by minute 5
                Example("staging's blocks are staging's share: 10 of its 100 calls, beside 1,000 clean production "
                        "calls, an alert labelled staging only", {
                            f"{requests}{{{OPENAI_STAGING}}}": per_min(100), f"{requests}{{{OPENAI}}}": per_min(1000),
                            f'{blocks}{{llmobs_safety_category="self_harm",{STAGING}}}': per_min(10)}, True,
                        STAGING_LABELS, "staging (support-bot): 10% of LLM calls were blocked by safety checks over 15m "
                                        f"(threshold {a.safety_block_ratio:.0%})."),
            )),
        Alert(
            name="LlmSafetyChecksSilent", severity="warning", for_="30m",
            # Per environment and service: blocks in the last 7 days, none in the last 6h (no increase, or no
            # sample at all).
            expr=f"sum by ({ES}) (rate({requests}[1h])) > 0 and on ({ES}) "
                 f"(sum by ({ES}) (increase({blocks}[7d])) > 0 unless on ({ES}) "
                 f"sum by ({ES}) (increase({blocks}[6h])) > 0)",
            summary="Safety checks stopped blocking anything while traffic flows.",
            description="{{ $labels.service_name }} in {{ $labels.deployment_environment_name }}: LLM traffic is "
                        "{{ $value | humanize }} calls/s, yet no safety check blocked anything "
                        "for 6h (some did in the last 7 days).",
            runbook=Runbook(
                meaning="A drop to zero usually means a broken or bypassed checker, not a safer world.",
                impact="Unsafe inputs and outputs may pass unchecked: harmful content can reach users and jailbreaks "
                       "go unnoticed.",
                checks=("Panels `quality/safety_silent` (what the alert measures) and `quality/safety`: when did the blocks stop, "
                        "for which category?",
                        "Deploys of the safety service or its configuration at the time blocks stopped.",
                        "A trace of a recent request: is there a safety span at all?"),
                mitigations=("Restore the checker (roll back its deploy or config).",
                             "If it was removed on purpose, expect this alert to stop after 7 days.",
                             "Meanwhile raise sampling of LLM traces for review.")),
            examples=(
                Example("blocks stop, traffic goes on", {f"{requests}{{{OPENAI}}}": per_min(100, 1000),
                        f'{blocks}{{llmobs_safety_category="self_harm",{WHERE}}}': "0+1x600 _x400"}, True, WHERE_LABELS,
                        "support-bot in production: LLM traffic is 1.667 calls/s, yet no safety check blocked anything "
                        "for 6h (some did in the last 7 days).", onset=959),   # 6h after the last block but one (increase needs two samples)
                Example("blocks continue", {f"{requests}{{{OPENAI}}}": per_min(100, 1000),
                        f'{blocks}{{llmobs_safety_category="self_harm",{WHERE}}}': per_min(1, 1000)}, False),
                Example("no safety checker at all", {f"{requests}{{{OPENAI}}}": per_min(100, 1000)}, False),
                Example("production's blocks stop while staging's go on: an alert labelled production only", {
                    f"{requests}{{{OPENAI}}}": per_min(100, 1000), f"{requests}{{{OPENAI_STAGING}}}": per_min(10, 1000),
                    f'{blocks}{{llmobs_safety_category="self_harm",{WHERE}}}': "0+1x600 _x400",
                    f'{blocks}{{llmobs_safety_category="self_harm",{STAGING}}}': per_min(1, 1000)}, True, WHERE_LABELS,
                        "support-bot in production: LLM traffic is 1.667 calls/s, yet no safety check blocked anything "
                        "for 6h (some did in the last 7 days).", onset=959),
            )),
    ]
    agents = [
        Alert(
            name="LlmDeniedToolCallsHigh", severity="warning", for_="10m",
            # Against the tool's own 7-day average (a subquery: no recording rule for it), and from zero.
            expr=f"{denied} * 60 > {a.denied_tool_calls_per_minute:g} and ({denied} > {a.denied_tool_spike_factor:g} * "
                 f"{denied_before} or ({denied} unless {denied_before} > 0))",
            summary="Agents attempt many more tool calls that policy denies than usual.",
            description="{{ $labels.gen_ai_tool_name }}: {{ $value | humanize }} denied calls per minute, over "
                        f"{a.denied_tool_spike_factor:g}x the 7-day average or where there were none "
                        f"(floor {a.denied_tool_calls_per_minute:g}/min).",
            runbook=Runbook(
                meaning="An agent keeps trying a dangerous or unapproved tool: prompt injection, a looping agent, "
                        "or a policy change that denies a tool the agent relies on.",
                impact="Policy holds (the calls are denied), but something keeps trying: an injection may try other "
                       "tools next, and users whose requests need the tool get failures.",
                checks=("Panels `agents/denied` (by tool) and `agents/iterations`.",
                        "Denied tool traces (always kept): who asked, with which input (hashed content).",
                        "Recent changes to the tool policy or the agent's prompt."),
                mitigations=("Disable the tool for the agent, or the agent for the tenant.",
                             "Fix the prompt that invites the call; cap agent iterations.",
                             "If the policy was wrong, fix the policy, not the alert.")),
            examples=(
                Example("10 denied per minute, from none", {f'{tools}{{gen_ai_tool_name="delete_account",llmobs_tool_outcome="denied",{WHERE}}}':
                                                            per_min(10)}, True, {"gen_ai_tool_name": "delete_account", **WHERE_LABELS},
                        f"delete_account: 10 denied calls per minute, over {a.denied_tool_spike_factor:g}x the 7-day "
                        f"average or where there were none (floor {a.denied_tool_calls_per_minute:g}/min).",
                        onset=6, settle=5),   # rate over 10m reaches 5/min only once 5 minutes of data exist
                Example("3 denied per minute, from none", {f'{tools}{{gen_ai_tool_name="delete_account",llmobs_tool_outcome="denied",{WHERE}}}':
                                                           per_min(3)}, False),
                Example("10 per minute grow to 40", {f'{tools}{{gen_ai_tool_name="delete_account",llmobs_tool_outcome="denied",{WHERE}}}':
                                                     stepped(10, 40, 600, 120)}, True, {"gen_ai_tool_name": "delete_account", **WHERE_LABELS},
                        f"delete_account: 40 denied calls per minute, over {a.denied_tool_spike_factor:g}x the 7-day "
                        f"average or where there were none (floor {a.denied_tool_calls_per_minute:g}/min).",
                        onset=607, settle=5),
                Example("10 per minute grow to 20", {f'{tools}{{gen_ai_tool_name="delete_account",llmobs_tool_outcome="denied",{WHERE}}}':
                                                     stepped(10, 20, 600, 120)}, False),
            )),
        Alert(
            name="LlmEmptyRetrievals", severity="warning", for_="15m",
            expr=floored(f'sum by ({ES}) (rate({docs_bucket}{{le="0"}}[15m])) / '
                         f'sum by ({ES}) (rate({docs_count}[15m])) > {a.empty_retrieval_ratio:g}',
                         f"sum by ({ES}) (increase({docs_count}[15m]))", floors.retrievals),
            summary="Retrieval returns no document for many questions.",
            description="{{ $labels.deployment_environment_name }} ({{ $labels.service_name }}): "
                        "{{ $value | humanizePercentage }} of retrievals returned no document over 15m "
                        f"(threshold {a.empty_retrieval_ratio:.0%}).",
            runbook=Runbook(
                meaning="RAG answers without context: the index is empty or stale, a filter is wrong, or the "
                        "embedding model changed under the index.",
                impact="RAG answers have no context: users get generic or invented answers instead of ones from your "
                       "documents.",
                checks=("Panels `rag/empty` and `rag/index_versions`: since which index version?",
                        "Index build or ingestion job status; the vector store's health.",
                        "A trace of an empty retrieval: the query, filters and top-k."),
                mitigations=("Roll back to the previous index version.",
                             "Re-run the ingestion job; fix the filter or embedding model mismatch.",
                             "Fall back to keyword (BM25) retrieval meanwhile.")),
            examples=(
                Example("30% empty", {f'{docs_bucket}{{gen_ai_operation_name="retrieval",{WHERE},le="0"}}': per_min(3),
                                      f'{docs_count}{{gen_ai_operation_name="retrieval",{WHERE}}}': per_min(10)}, True,
                        WHERE_LABELS, "production (support-bot): 30% of retrievals returned no document over 15m "
                                      f"(threshold {a.empty_retrieval_ratio:.0%})."),
                Example("10% empty", {f'{docs_bucket}{{gen_ai_operation_name="retrieval",{WHERE},le="0"}}': per_min(1),
                                      f'{docs_count}{{gen_ai_operation_name="retrieval",{WHERE}}}': per_min(10)}, False),
                Example("one empty retrieval out of one in 15m (under the volume floor)",
                        {f'{docs_bucket}{{gen_ai_operation_name="retrieval",{WHERE},le="0"}}': per_min(1 / 15),
                         f'{docs_count}{{gen_ai_operation_name="retrieval",{WHERE}}}': per_min(1 / 15)}, False),
                Example("staging's index is empty, production's is fine: an alert labelled staging only", {
                    f'{docs_bucket}{{gen_ai_operation_name="retrieval",{STAGING},le="0"}}': per_min(10),
                    f'{docs_count}{{gen_ai_operation_name="retrieval",{STAGING}}}': per_min(10),
                    f'{docs_bucket}{{gen_ai_operation_name="retrieval",{WHERE},le="0"}}': per_min(0),
                    f'{docs_count}{{gen_ai_operation_name="retrieval",{WHERE}}}': per_min(90)}, True, STAGING_LABELS,
                        "staging (support-bot): 100% of retrievals returned no document over 15m "
                        f"(threshold {a.empty_retrieval_ratio:.0%})."),
            )),
    ]
    ops = [
        Alert(
            name="LlmUnpricedModelCalls", severity="info", for_="15m",
            expr=f"sum by ({PM}, {ES}) (rate({unpriced}[15m])) > 0",
            summary="LLM calls to a model missing from the price table are counted at zero cost.",
            description="{{ $labels.gen_ai_request_model }} ({{ $labels.gen_ai_provider_name }}) has no price: "
                        "{{ $value | printf \"%.3g\" }} calls/s in {{ $labels.deployment_environment_name }} "
                        "({{ $labels.service_name }}) cost 0 USD in every spend panel and alert.",
            runbook=Runbook(
                meaning="Spend panels and budget alerts under-count: a new or renamed model is in use.",
                impact="Spend panels, budget alerts and the month-end forecast leave this model's calls out: finance "
                       "sees less than the invoice will show.",
                checks=("Panel `cost/unpriced` by model.",
                        "The model name the application sends (gen_ai.request.model) vs settings/prices.yaml.",
                        "Whether a dated model name needs a `pattern` in the price table."),
                mitigations=("Add the model (or a pattern for its dated names) to the price table.",
                             "Until then, estimate its cost from tokens on the Cost dashboard.",
                             "Stop a model rollout nobody budgeted.")),
            examples=(
                Example("1 unpriced call a second", {f'{unpriced}{{gen_ai_provider_name="acme-ai",gen_ai_request_model="new-model",{WHERE}}}':
                                                     per_min(60)}, True,
                        {"gen_ai_provider_name": "acme-ai", "gen_ai_request_model": "new-model", **WHERE_LABELS},
                        "new-model (acme-ai) has no price: 1 calls/s in production (support-bot) cost 0 USD in every "
                        "spend panel and alert."),
                Example("no new unpriced calls", {f'{unpriced}{{gen_ai_provider_name="acme-ai",gen_ai_request_model="new-model",{WHERE}}}':
                                                  "5+0x60"}, False),
                Example("a model tried in staging only: an alert labelled staging", {
                    f'{unpriced}{{gen_ai_provider_name="acme-ai",gen_ai_request_model="new-model",{STAGING}}}': per_min(60)},
                        True, {"gen_ai_provider_name": "acme-ai", "gen_ai_request_model": "new-model", **STAGING_LABELS},
                        "new-model (acme-ai) has no price: 1 calls/s in staging (support-bot) cost 0 USD in every "
                        "spend panel and alert."),
            )),
        Alert(
            name="LlmNoTraffic", severity="warning", for_="15m",
            # Per environment and service, the day-old series supply the labels (the offset pattern of the
            # monitoring mixins): an environment whose series vanish entirely still has yesterday's, so it
            # fires with its own labels, and no other environment's traffic hides it. `absent()` could not say
            # which one went quiet. Below the traffic floor a day earlier, a silent quarter hour is not news.
            expr=f"{calls_day_before} >= {floors.traffic} unless on ({ES}) {calls_15m} > 0",
            summary="No LLM calls arrive although there were some the day before.",
            description="{{ $labels.service_name }} in {{ $labels.deployment_environment_name }}: no LLM call in 15m; "
                        "{{ $value | humanize }} calls in the hour up to this time a day earlier.",
            runbook=Runbook(
                meaning="One environment and service stopped making LLM calls, or its telemetry stopped reaching "
                        "the gateway, while the same hour a day earlier had calls (at least the traffic floor). "
                        "Each environment is judged on its own: production going quiet fires even while staging "
                        "is busy, and a quiet dev environment pages nobody (it routes to the non-paging receiver, "
                        "and under the floor it does not fire). The collector-down alert inhibits this one.",
                impact="Either that environment's users get no LLM answers at all (the application is down or no "
                       "longer calls models), or every LLM dashboard and alert is blind for it.",
                checks=("Panels `overview/traffic_vs_yesterday` (what the alert measures, per environment and "
                        "service) and `pipeline/accepted`: is anything arriving at the gateway, and from which "
                        "environments?",
                        "The application's own health and its OTLP exporter errors (token rotation, endpoint).",
                        "Network policy or ingress changes in front of the gateway; a renamed "
                        "deployment.environment.name or service.name (the old name goes quiet, a new one appears)."),
                mitigations=("Restore the telemetry path (token, endpoint, NetworkPolicy).",
                             "If the application is down, follow its own runbook.",
                             "If the environment was retired, renamed or moved to another stack on purpose, silence "
                             "this alert for its labels for a day: it resolves once a day has passed without its "
                             "traffic.")),
            examples=(
                # Last sample at 1500m: increase()[15m] (left-open range) is empty from 1515m on; the alert
                # fires at 1515+15+2 = 1532m, where the day-old hour (32m, 92m] holds 10/min x 60m.
                Example("traffic stops after a day", {f"{requests}{{{OPENAI}}}": "0+10x1500 _x120"}, True,
                        WHERE_LABELS, "support-bot in production: no LLM call in 15m; 600 calls in the hour up to "
                                      "this time a day earlier.", onset=1515),
                Example("traffic continues", {f"{requests}{{{OPENAI}}}": per_min(10, 1620)}, False),
                Example("a new stack without yesterday's traffic", {f"{requests}{{{OPENAI}}}": "0+10x60 _x60"}, False),
                Example("production stops while staging goes on: an alert labelled production only", {
                    f"{requests}{{{OPENAI}}}": "0+10x1500 _x120", f"{requests}{{{OPENAI_STAGING}}}": per_min(10, 1620)},
                        True, WHERE_LABELS, "support-bot in production: no LLM call in 15m; 600 calls in the hour up "
                                            "to this time a day earlier.", onset=1515),
                Example("staging stops while production goes on: an alert labelled staging only", {
                    f"{requests}{{{OPENAI_STAGING}}}": "0+10x1500 _x120", f"{requests}{{{OPENAI}}}": per_min(10, 1620)},
                        True, STAGING_LABELS, "support-bot in staging: no LLM call in 15m; 600 calls in the hour up "
                                              "to this time a day earlier.", onset=1515),
                Example("a quiet dev environment stops: 6 calls in that hour a day earlier (under the traffic floor)", {
                    f'{requests}{{gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o",'
                    f'deployment_environment_name="development",service_name="support-bot"}}': "0+0.1x1500 _x120",
                    f"{requests}{{{OPENAI}}}": per_min(10, 1620)}, False),
            )),
        Alert(
            name="LlmRedactionSpike", severity="warning", for_="15m",
            # Against the week before the last hour (the spike is not its own baseline), and from zero:
            # a service that never needed redaction and now does is the leak the canary is for.
            expr=f"({redacted} > {a.redaction_spike_factor:g} * {redacted_before} "
                 f"or ({redacted} unless {redacted_before} > 0)) and {redacted} > 0.0166667",
            metrics=("service:llm_redacted_spans:rate1h",),
            summary="The gateway redacts secrets or PII far more often than usual.",
            description="{{ $labels.service_name }}: {{ $value | humanize }} redacted spans/s over 1h, "
                        f"over {a.redaction_spike_factor:g}x the 7-day average before it, or where there were none.",
            runbook=Runbook(
                meaning="A leak canary: an application started sending secrets or personal data in telemetry "
                        "(a new log line, a prompt template, a debug flag). The gateway redacted them; find the source.",
                impact="Secrets or personal data are leaving the application in telemetry: the gateway redacts what "
                       "its detectors know, but the application's own logs, and any path around the gateway, may hold "
                       "them in clear.",
                checks=("Panels `pipeline/redacted` (by service) and `pipeline/redacted_by_detector`: which service, which kind of secret?",
                        "Traces with `span.llmobs.redacted = true` from that service: which attribute carries it?",
                        "That service's deploys at the onset."),
                mitigations=("Fix the application to stop sending the value; rotate any credential that leaked.",
                             "Add a custom detector if a new secret format slipped through partly.",
                             "Tell the data-protection contact if personal data reached a third party.")),
            examples=(
                Example("redactions grow tenfold", {'llm_redacted_spans_total{service_name="support-bot"}': stepped(1, 10, WEEK, 120)},
                        True, {"service_name": "support-bot"},
                        "support-bot: 166.7m redacted spans/s over 1h, over 3x the 7-day average before it, "
                        "or where there were none.", onset=WEEK + 14, settle=60),
                Example("redactions double", {'llm_redacted_spans_total{service_name="support-bot"}': stepped(1, 2, WEEK, 120)}, False),
                Example("redactions start from none", {'llm_redacted_spans_total{service_name="support-bot"}':
                                                       f"0x{WEEK} 0+5x120"}, True, {"service_name": "support-bot"},
                        "support-bot: 83.33m redacted spans/s over 1h, over 3x the 7-day average before it, "
                        "or where there were none.", onset=WEEK + 13, settle=45),
                Example("a trickle from none, under 1/min", {'llm_redacted_spans_total{service_name="support-bot"}':
                                                             f"0x{WEEK} 0+0.5x120"}, False),
            )),
    ]
    return [Group("llm-quality", "1m", tuple(quality)), Group("llm-safety", "1m", tuple(safety)),
            Group("llm-agents-rag", "1m", tuple(agents)), Group("llm-operations", "1m", tuple(ops))]
