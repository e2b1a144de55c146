"""LLM alerts: provider health, SLO burn, latency, spend, quality, safety, tools, retrieval.

Expressions read only catalog metrics (via `backends.rules.Series`, which fails on an
unknown name) and the recording rules of backends/rules.py. Thresholds come from
`settings.alerts`. Each alert carries its runbook and the examples its unit test runs.
"""
from __future__ import annotations

from alerts.runbooks import WITH_SLO_PAGE
from alerts.model import Alert, Example, Group, Runbook
from backends.rules import Series
from collector_config.metrics import LATENCY_BUCKETS as LATENCY, TTFT_BUCKETS as TTFT
from settings import Settings

PM = "gen_ai_provider_name, gen_ai_request_model"
# Where a call ran: kept through the recording rules into every LLM-call alert, so that dev,
# staging or loadgen traffic is told apart from production (and routed by paging_environments).
ES = "deployment_environment_name, service_name"
PMES = f"{PM}, {ES}"
WHERE = 'deployment_environment_name="production",service_name="support-bot"'
OPENAI = f'gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o",{WHERE}'
# The labels a firing LLM-call alert on the OPENAI series carries (written out, not derived).
CALL_LABELS = {"gen_ai_provider_name": "openai", "gen_ai_request_model": "gpt-4o",
               "deployment_environment_name": "production", "service_name": "support-bot"}
WHERE_LABELS = {"deployment_environment_name": "production", "service_name": "support-bot"}
# The same service in an environment that does not page by default: its alerts are its own, so they
# route to the non-paging receiver (tests/test_alert_routing.py).
STAGING = 'deployment_environment_name="staging",service_name="support-bot"'
STAGING_LABELS = {"deployment_environment_name": "staging", "service_name": "support-bot"}
# Evaluations where a low score is good (hallucination: 1 = hallucinated), kept out of "score dropped" alerts.
LOWER_IS_BETTER = ("hallucination",)
HIGHER_IS_BETTER = f'gen_ai_evaluation_name!~"{"|".join(LOWER_IS_BETTER)}"'
WEEK = 2100   # samples (one a minute in the tests) covering a 7-day baseline at a 5m test interval


def n(metric: str, suffix: str = "") -> str:
    """A catalog metric's Prometheus series name."""
    return Series(metric, suffix).name


def per_min(rate: float, samples: int = 60) -> str:
    """A counter growing by `rate` every sample (promtool expanding notation)."""
    return f"0+{rate:g}x{samples}"


def stepped(before: float, after: float, steps_before: int, steps_after: int) -> str:
    """A counter whose per-sample increase changes from `before` to `after`."""
    return f"0+{before:g}x{steps_before} {before * steps_before + after:g}+{after:g}x{steps_after}"


def floored(condition: str, volume: str, floor: int) -> str:
    """A ratio alert's condition, only where its denominator counted `floor` events or more in the
    window (`volume`, grouped as the condition): one failed call out of one pages nobody."""
    return f"({condition}) and ({volume}) >= {floor}"


def histogram(metric: str, labels: str, bounds: list[float], upper: float, rate: float = 60) -> dict[str, str]:
    """Every observation lands in the bucket whose upper bound is `upper`."""
    out = {f'{n(metric, "_bucket")}{{{labels},le="{b:g}"}}': per_min(rate if b >= upper else 0) for b in bounds}
    out[f'{n(metric, "_bucket")}{{{labels},le="+Inf"}}'] = per_min(rate)
    out[f'{n(metric, "_count")}{{{labels}}}'] = per_min(rate)
    return out


def alerts(settings: Settings) -> list[Group]:
    a, floors = settings.alerts, settings.alerts.volume_floors
    requests, errors = n("llm.requests"), n("llm.errors")
    calls_5m = f"sum by ({PMES}) (increase({requests}[5m]))"
    calls_1h = f"sum by ({PMES}) (increase({requests}[1h]))"
    cost, tokens_in = n("llm.cost"), n("llm.tokens.input")
    per_call = "provider_model:llm_tokens_input:rate1h / provider_model:llm_requests:rate1h"
    per_call_week = ("avg_over_time(provider_model:llm_tokens_input:rate1h[7d]) / "
                     "avg_over_time(provider_model:llm_requests:rate1h[7d])")

    provider = [
        Alert(
            name="LlmProviderErrorRateHigh", severity="critical", for_="10m", keep_firing_for="10m",
            expr=floored(f"provider_model:llm_errors:ratio_rate5m > {a.provider_error_ratio:g}", calls_5m,
                         floors.calls),
            metrics=("provider_model:llm_errors:ratio_rate5m",),
            summary="An LLM provider is failing a large share of calls.",
            description="{{ $labels.gen_ai_provider_name }} {{ $labels.gen_ai_request_model }} in "
                        "{{ $labels.deployment_environment_name }} ({{ $labels.service_name }}): "
                        "{{ $value | humanizePercentage }} of calls failed over 5m "
                        f"(threshold {a.provider_error_ratio:.0%}).",
            runbook=Runbook(
                meaning="Calls to one provider and model end in error more often than the threshold; users see "
                        "failed or empty answers unless a fallback catches them.",
                impact="Users of the features on this model get errors or empty answers wherever no fallback catches "
                       "the failure; where one does, answers come slower and from another model, at its price.",
                checks=("Panels `overview/errors_by_model` (what the alert measures) and `overview/errors` (by error "
                        "type): which error.type dominates?",
                        "The provider's status page, and whether other models of the same provider fail too.",
                        "Tempo/Jaeger: error traces of that model (`status=error && span.gen_ai.request.model=...`); "
                        "Loki: `{service_name=~\".+\"} | json | error_type != \"\"` around the onset."),
                mitigations=("Route to the fallback model or provider (feature flag or gateway config).",
                             "If a deploy preceded it, roll back the prompt or client version.",
                             "For rate limits, lower concurrency or ask the provider for quota.")),
            examples=(
                Example("10% of calls fail", {f"{requests}{{{OPENAI}}}": per_min(100),
                                              f"{errors}{{{OPENAI},error_type=\"server_error\"}}": per_min(10)}, True,
                        CALL_LABELS,
                        f"openai gpt-4o in production (support-bot): 10% of calls failed over 5m "
                        f"(threshold {a.provider_error_ratio:.0%})."),
                Example("4% of calls fail", {f"{requests}{{{OPENAI}}}": per_min(100),
                                             f"{errors}{{{OPENAI},error_type=\"server_error\"}}": per_min(4)}, False),
                Example("one failed call out of one in 5m (under the volume floor)",
                        {f"{requests}{{{OPENAI}}}": per_min(0.2),
                         f"{errors}{{{OPENAI},error_type=\"server_error\"}}": per_min(0.2)}, False),
                Example("every call fails, 10 calls a minute (over the floor)",
                        {f"{requests}{{{OPENAI}}}": per_min(10),
                         f"{errors}{{{OPENAI},error_type=\"server_error\"}}": per_min(10)}, True, CALL_LABELS,
                        f"openai gpt-4o in production (support-bot): 100% of calls failed over 5m "
                        f"(threshold {a.provider_error_ratio:.0%})."),
                Example("staging fails: an alert of its own, labelled staging", {
                    f'{requests}{{gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o",'
                    f'deployment_environment_name="staging",service_name="support-bot"}}': per_min(100),
                    f'{errors}{{gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o",'
                    f'deployment_environment_name="staging",service_name="support-bot",error_type="timeout"}}': per_min(50),
                    f"{requests}{{{OPENAI}}}": per_min(100)}, True,
                        {"gen_ai_provider_name": "openai", "gen_ai_request_model": "gpt-4o",
                         "deployment_environment_name": "staging", "service_name": "support-bot"},
                        f"openai gpt-4o in staging (support-bot): 50% of calls failed over 5m "
                        f"(threshold {a.provider_error_ratio:.0%})."),
            )),
        Alert(
            name="LlmRateLimitedOrTimingOut", severity="warning", for_="10m", keep_firing_for="10m",
            expr=floored(f'sum by ({PMES}) (rate({errors}{{error_type=~"rate_limited|timeout|overloaded"}}[5m])) '
                         f"/ sum by ({PMES}) (rate({requests}[5m])) > {a.throttle_ratio:g}", calls_5m, floors.calls),
            summary="An LLM provider is throttling or timing out calls.",
            description="{{ $labels.gen_ai_provider_name }} {{ $labels.gen_ai_request_model }}: "
                        "{{ $value | humanizePercentage }} of calls were rate-limited, overloaded or timed out "
                        f"(threshold {a.throttle_ratio:.0%}).",
            runbook=Runbook(
                meaning="The provider refuses (429, overloaded) or does not answer in time; retries add latency "
                        "and cost before anything fails outright.",
                impact="Requests slow down by the retries' back-off and cost more per answer; once the retries run "
                       "out, users get errors.",
                checks=("Panels `overview/throttled` and `overview/retries`: rate_limited, overloaded or timeout, and how much is retried?",
                        "Panels `cost/by_tenant` and `cost/by_feature`: did one tenant or feature's traffic jump at the onset?",
                        "Provider console: current quota and rate-limit headers in error traces."),
                escalation=WITH_SLO_PAGE,
                mitigations=("Throttle the tenant or feature driving the load.",
                             "Spread load to another region, deployment or the fallback model.",
                             "Raise the quota with the provider; lower client concurrency meanwhile.")),
            examples=(
                Example("5% rate-limited", {f"{requests}{{{OPENAI}}}": per_min(100),
                                            f"{errors}{{{OPENAI},error_type=\"rate_limited\"}}": per_min(5)}, True,
                        CALL_LABELS,
                        f"openai gpt-4o: 5% of calls were rate-limited, overloaded or timed out (threshold {a.throttle_ratio:.0%})."),
                Example("5% server errors are not throttling", {f"{requests}{{{OPENAI}}}": per_min(100),
                        f"{errors}{{{OPENAI},error_type=\"server_error\"}}": per_min(5)}, False),
                Example("1% rate-limited", {f"{requests}{{{OPENAI}}}": per_min(100),
                                            f"{errors}{{{OPENAI},error_type=\"rate_limited\"}}": per_min(1)}, False),
                Example("one rate-limited call out of one in 5m (under the volume floor)",
                        {f"{requests}{{{OPENAI}}}": per_min(0.2),
                         f"{errors}{{{OPENAI},error_type=\"rate_limited\"}}": per_min(0.2)}, False),
                Example("every call rate-limited, 10 calls a minute (over the floor)",
                        {f"{requests}{{{OPENAI}}}": per_min(10),
                         f"{errors}{{{OPENAI},error_type=\"rate_limited\"}}": per_min(10)}, True, CALL_LABELS,
                        f"openai gpt-4o: 100% of calls were rate-limited, overloaded or timed out "
                        f"(threshold {a.throttle_ratio:.0%})."),
            )),
    ]
    latency_checks = ("Panel `overview/latency_by_model` (what the alert measures): one model or all?",
                      "Panels `overview/tokens_per_request` (prompt bloat makes calls slower) and `overview/retries` (each retry adds latency).",
                      "Slow traces in Tempo/Jaeger (`duration > ...`) and the provider's status page.")
    latency = [
        Alert(
            name="LlmTimeToFirstTokenSlow", severity="warning", for_="10m", keep_firing_for="10m",
            expr=f"provider_model:llm_time_to_first_token_seconds:p95_rate5m > {a.ttft_p95_seconds:g}",
            metrics=("provider_model:llm_time_to_first_token_seconds:p95_rate5m",),
            summary="Streaming LLM calls take long to show their first token.",
            description="{{ $labels.gen_ai_provider_name }} {{ $labels.gen_ai_request_model }}: p95 time to first token "
                        f"is {{{{ $value | humanizeDuration }}}} (threshold {a.ttft_p95_seconds:g}s).",
            runbook=Runbook(
                meaning="Users of streaming answers wait long before anything appears; usually provider load or "
                        "very long prompts.",
                impact="Users of streaming answers look at an empty answer for seconds; many give up or resubmit, "
                       "which adds load and cost.",
                checks=("Panel `overview/ttft`: time to first token p95 by model.",
                        "Panel `overview/tokens_per_request` for that model (long prompts delay the first token).",
                        "Provider status page and the model's region."),
                escalation=WITH_SLO_PAGE,
                mitigations=("Move latency-sensitive features to a faster model.",
                             "Trim the prompt (retrieval top-k, history length).",
                             "Use the fallback provider while the primary is degraded.")),
            examples=(
                Example("first tokens after 4-8s", histogram("llm.time_to_first_token", OPENAI, TTFT, 8), True,
                        CALL_LABELS,
                        f"openai gpt-4o: p95 time to first token is 7.8s (threshold {a.ttft_p95_seconds:g}s)."),
                Example("first tokens within a second", histogram("llm.time_to_first_token", OPENAI, TTFT, 1), False),
            )),
        Alert(
            name="LlmLatencyP95High", severity="warning", for_="10m", keep_firing_for="10m",
            expr=f"provider_model:gen_ai_client_operation_duration_seconds:p95_rate5m > {a.latency_p95_seconds:g}",
            metrics=("provider_model:gen_ai_client_operation_duration_seconds:p95_rate5m",),
            summary="LLM calls of one model are slow.",
            description="{{ $labels.gen_ai_provider_name }} {{ $labels.gen_ai_request_model }}: p95 call duration "
                        f"is {{{{ $value | humanizeDuration }}}} (threshold {a.latency_p95_seconds:g}s).",
            runbook=Runbook(
                meaning="The slowest 5% of calls to this model exceed the threshold; timeouts and retries follow.",
                impact="One call in twenty to this model is slower than the threshold; calls beyond the client's "
                       "timeout fail and are retried, which adds cost.",
                checks=latency_checks,
                escalation=WITH_SLO_PAGE,
                mitigations=("Route to a faster model or the fallback provider.",
                             "Cap max output tokens for the slow feature.",
                             "Roll back a prompt change that grew the output.")),
            examples=(
                Example("calls take 30-60s", histogram("gen_ai.client.operation.duration", OPENAI, LATENCY, 60), True,
                        CALL_LABELS,
                        f"openai gpt-4o: p95 call duration is 58.5s (threshold {a.latency_p95_seconds:g}s)."),
                Example("calls take 8-15s", histogram("gen_ai.client.operation.duration", OPENAI, LATENCY, 15), False),
            )),
    ]
    floor = a.spend_floor_usd_per_hour / 3600
    factor = a.spend_spike_factor
    tenant = 'llmobs_tenant_bounded="acme"'
    # Spend per environment and service: staging's spike is staging's alert (routed by paging_environments);
    # a tenant's share is of its environment's and service's spend. The budgets stay on the whole bill.
    share = f"tenant:llm_cost:rate1h / on ({ES}) group_left sum by ({ES}) (tenant:llm_cost:rate1h)"
    spend_now = f"sum by ({ES}) (tenant:llm_cost:rate1h)"
    spend = [
        Alert(
            name="LlmSpendSpike", severity="warning", for_="15m",
            # avg_over_time of the recorded hourly rate, not rate(...[7d]): rate divides by the whole
            # range, so a week-long range understates the baseline on a stack younger than a week.
            expr=f"{spend_now} > {factor:g} * sum by ({ES}) (avg_over_time(tenant:llm_cost:rate1h[7d])) "
                 f"and {spend_now} > {floor:.6g}",
            metrics=("tenant:llm_cost:rate1h",),
            summary="LLM spend per hour is far above its 7-day average.",
            description="{{ $labels.deployment_environment_name }} ({{ $labels.service_name }}): spend is "
                        f"{{{{ $value | humanize }}}} USD/s over the last hour, over {factor:g}x the 7-day average.",
            runbook=Runbook(
                meaning="Hourly spend jumped; left alone it lands on the invoice. Usually a runaway loop, a prompt "
                        "change that grew tokens, a model switch or one tenant's batch job.",
                impact="Money: at this rate the day's spend overshoots the plan; a runaway loop can spend the daily "
                       "budget in hours.",
                checks=("Panel `cost/spend_vs_week` (what the alert measures), then `cost/by_model`, `cost/by_feature`, "
                        "`cost/by_tenant` and `cost/by_prompt_version` since the onset.",
                        "Panel `agents/iterations`: loop iterations per request (runaway agents).",
                        "Panel `cost/expensive`: the expensive requests' traces."),
                mitigations=("Throttle the tenant or feature responsible.",
                             "Roll back the prompt or model version that grew the cost.",
                             "Cap max tokens or agent iterations.")),
            examples=(
                Example("spend grows tenfold", {f"{cost}{{{OPENAI},{tenant}}}": stepped(1, 10, WEEK, 120)}, True, WHERE_LABELS,
                        "production (support-bot): spend is 166.7m USD/s over the last hour, over 3x the 7-day average.", onset=WEEK + 14, settle=60),
                Example("spend doubles", {f"{cost}{{{OPENAI},{tenant}}}": stepped(1, 2, WEEK, 60)}, False),
                Example("tiny spend quadruples (below the floor)",
                        {f"{cost}{{{OPENAI},{tenant}}}": stepped(0.001, 0.004, WEEK, 60)}, False),
            )),
        Alert(
            name="LlmSpendOverDailyBudget", severity="warning", for_="30m",
            expr=f"sum(avg_over_time(tenant:llm_cost:rate1h[6h])) * 86400 > {1.2 * a.daily_cost_budget_usd:g}",
            metrics=("tenant:llm_cost:rate1h",),
            summary="At the current rate, LLM spend will exceed the daily budget by over 20%.",
            description=f"Projected daily spend is {{{{ $value | humanize }}}} USD (budget {a.daily_cost_budget_usd:g} USD).",
            runbook=Runbook(
                meaning="The last six hours' spend rate, projected over a day, exceeds the budget by 20%. The budget "
                        "is the whole bill, so this alert sums every environment and service.",
                impact="Money: the day ends 20% or more over the daily budget unless the rate comes down.",
                checks=("Panels `cost/budget_day` (what the alert measures), `cost/by_feature` and `cost/by_tenant`: projected "
                        "spend vs budget, and who spends.",
                        "Whether traffic grew (requests) or cost per request grew (tokens, model mix).",
                        "Unpriced model calls: the projection misses them."),
                mitigations=("Move bulk features to a cheaper model.",
                             "Throttle non-interactive workloads until the budget resets.",
                             "Raise the budget in settings if the growth is expected.")),
            examples=(
                Example("spend at 720 USD/day (the projection averages the hourly rates it has)",
                        {f"{cost}{{{OPENAI},{tenant}}}": per_min(0.5, 450)}, True, {},
                        f"Projected daily spend is 720 USD (budget {a.daily_cost_budget_usd:g} USD).", onset=178, settle=220),
                Example("spend at 576 USD/day", {f"{cost}{{{OPENAI},{tenant}}}": per_min(0.4, 400)}, False),
            )),
        Alert(
            name="LlmSpendOverMonthlyBudget", severity="warning", for_="1h",
            expr=f"sum(avg_over_time(tenant:llm_cost:rate1h[1d])) * 86400 * days_in_month() "
                 f"> {1.2 * a.monthly_cost_budget_usd:g}",
            metrics=("tenant:llm_cost:rate1h",),
            summary="At the last day's rate, this month's LLM spend will exceed the monthly budget by over 20%.",
            description=f"Projected month spend is {{{{ $value | humanize }}}} USD "
                        f"(budget {a.monthly_cost_budget_usd:g} USD).",
            runbook=Runbook(
                meaning="The last day's spend rate, over the whole month (its number of days), exceeds the monthly "
                        "budget by 20%: a slower, steadier signal than the daily projection. Every environment and service "
                        "counts: the budget is the whole bill.",
                impact="Money: at this rate the month ends over its budget; the overrun needs finance's approval, or "
                       "the rate has to come down.",
                checks=("Panel `cost/month_pace` (what the alert measures), then `cost/by_feature` and `cost/by_tenant`: "
                        "who spends.",
                        "Panel `cost/month_end` (month to date plus the recent rate) and the provider's billing "
                        "console: month-to-date spend against this projection.",
                        "Whether a launch or a tenant's growth explains it (requests vs cost per request)."),
                mitigations=("Move bulk or offline features to a cheaper model or the batch API.",
                             "Cap the heaviest tenant or feature until the month ends.",
                             "Raise the monthly budget in settings if the growth is planned.")),
            examples=(
                Example("spend at 720 USD/day: 22320 USD in a 31-day month",
                        {f"{cost}{{{OPENAI},{tenant}}}": per_min(0.5, 1600)}, True, {},
                        f"Projected month spend is 22.32k USD (budget {a.monthly_cost_budget_usd:g} USD).",
                        onset=153, settle=1302),
                Example("spend at 504 USD/day", {f"{cost}{{{OPENAI},{tenant}}}": per_min(0.35, 1600)}, False),
            )),
        Alert(
            name="LlmTenantCostSpike", severity="warning", for_="15m",
            expr=f"{share} > {factor:g} * avg_over_time(({share})[7d:1h]) and tenant:llm_cost:rate1h > {floor:.6g}",
            metrics=("tenant:llm_cost:rate1h",),
            summary="One tenant's share of LLM spend is far above its own 7-day average share.",
            description="Tenant {{ $labels.llmobs_tenant_bounded }} makes {{ $value | humanizePercentage }} of LLM "
                        f"spend, over {factor:g}x its 7-day average share.",
            runbook=Runbook(
                meaning="One tenant's part of the hourly spend jumped against its own baseline share: a batch job, "
                        "abuse, or a feature launched for them (a share, so overall growth does not fire it).",
                impact="Money and fairness: one tenant costs far more than its usual share (its contract or quota may "
                       "be exceeded), and its load can use up provider rate limits the other tenants share.",
                checks=("Panel `cost/tenant_share` (what the alert measures, with its line), then `cost/by_tenant` filtered to "
                        "the tenant.",
                        "That tenant's requests and tokens per request: more calls or bigger calls?",
                        "Their top expensive traces."),
                mitigations=("Apply the tenant's rate limit or quota.",
                             "Contact the tenant's owner before throttling paying traffic.",
                             "Raise the factor in settings for tenants with bursty, expected usage.")),
            examples=(
                Example("acme's spend grows tenfold while beta's stays", {
                    f"{cost}{{{OPENAI},{tenant}}}": stepped(1, 10, WEEK, 120),
                    f'{cost}{{{OPENAI},llmobs_tenant_bounded="beta"}}': per_min(9, WEEK + 120)}, True,
                        {"llmobs_tenant_bounded": "acme", **WHERE_LABELS},
                        "Tenant acme makes 52.63% of LLM spend, over 3x its 7-day average share.",
                        onset=WEEK + 14, settle=60),
                Example("acme doubles", {f"{cost}{{{OPENAI},{tenant}}}": stepped(1, 2, WEEK, 60),
                                         f'{cost}{{{OPENAI},llmobs_tenant_bounded="beta"}}': per_min(9, WEEK + 60)},
                        False),
                Example("every tenant grows tenfold (the share stays)", {
                    f"{cost}{{{OPENAI},{tenant}}}": stepped(1, 10, WEEK, 120),
                    f'{cost}{{{OPENAI},llmobs_tenant_bounded="beta"}}': stepped(9, 90, WEEK, 120)}, False),
            )),
        Alert(
            name="LlmPromptBloat", severity="warning", for_="30m",
            expr=floored(f"{per_call} > {a.prompt_bloat_ratio:g} * ({per_call_week})", calls_1h, floors.calls),
            metrics=("provider_model:llm_tokens_input:rate1h", "provider_model:llm_requests:rate1h"),
            summary="Input tokens per LLM call grew well beyond their 7-day average.",
            description="{{ $labels.gen_ai_provider_name }} {{ $labels.gen_ai_request_model }}: "
                        "{{ $value | humanize }} input tokens per call, over "
                        f"{a.prompt_bloat_ratio:g}x the 7-day average.",
            runbook=Runbook(
                meaning="Prompts got longer: a template change, more retrieved chunks, or unbounded chat history. "
                        "Cost and latency follow.",
                impact="Every call costs more input tokens and takes longer; nearer the context window, truncation "
                       "follows.",
                checks=("Panel `overview/prompt_size` (what the alert measures, with its line), then `cost/by_prompt_version`: "
                        "which prompt version grew?",
                        "Panel `rag/top_k`: top-k requested vs returned.",
                        "A recent trace's input length (content is hashed; `gen_ai.input.messages.length` remains)."),
                escalation=WITH_SLO_PAGE,
                mitigations=("Roll back the prompt version.",
                             "Cap retrieval top-k or history length.",
                             "Summarize long conversations before sending.")),
            examples=(
                Example("tokens per call 1000 -> 2000", {f"{requests}{{{OPENAI}}}": per_min(10, WEEK + 120),
                        f"{tokens_in}{{{OPENAI}}}": stepped(10000, 20000, WEEK, 120)}, True,
                        CALL_LABELS,
                        f"openai gpt-4o: 2k input tokens per call, over {a.prompt_bloat_ratio:g}x the 7-day average.",
                        onset=WEEK + 19, settle=30),
                Example("tokens per call 1000 -> 1200", {f"{requests}{{{OPENAI}}}": per_min(10, WEEK + 60),
                        f"{tokens_in}{{{OPENAI}}}": stepped(10000, 12000, WEEK, 60)}, False),
                Example("tokens per call 1000 -> 2000 on 6 calls an hour (under the volume floor)",
                        {f"{requests}{{{OPENAI}}}": per_min(0.1, WEEK + 120),
                         f"{tokens_in}{{{OPENAI}}}": stepped(100, 200, WEEK, 120)}, False),
            )),
        Alert(
            name="LlmPromptShrink", severity="warning", for_="30m",
            expr=floored(f"{per_call} < {a.prompt_shrink_ratio:g} * ({per_call_week})", calls_1h, floors.calls),
            metrics=("provider_model:llm_tokens_input:rate1h", "provider_model:llm_requests:rate1h"),
            summary="Input tokens per LLM call fell well below their 7-day average.",
            description="{{ $labels.gen_ai_provider_name }} {{ $labels.gen_ai_request_model }}: "
                        "{{ $value | humanize }} input tokens per call, under "
                        f"{a.prompt_shrink_ratio:g}x the 7-day average.",
            runbook=Runbook(
                meaning="Prompts got shorter: retrieval stopped adding context, history is dropped, or a template "
                        "lost its instructions. Cheaper, but the answers usually get worse.",
                impact="Answers lose grounding or instructions, usually before any evaluation says so; cost per call "
                       "falls.",
                checks=("Panel `overview/prompt_size` (what the alert measures, with its line), then `cost/by_prompt_version`: "
                        "which prompt version shrank?",
                        "Panels `rag/empty` and `rag/returned`: empty retrievals and documents per retrieval.",
                        "A recent trace's input length next to one from last week."),
                mitigations=("Roll back the prompt or retriever version.",
                             "Fix the retrieval or history step that stopped filling the prompt.",
                             "If the shorter prompt is intended, expect this alert to stop after 7 days.")),
            examples=(
                Example("tokens per call 1000 -> 500", {f"{requests}{{{OPENAI}}}": per_min(10, WEEK + 120),
                        f"{tokens_in}{{{OPENAI}}}": stepped(10000, 5000, WEEK, 120)}, True,
                        CALL_LABELS,
                        f"openai gpt-4o: 500 input tokens per call, under {a.prompt_shrink_ratio:g}x the 7-day average.",
                        onset=WEEK + 19, settle=30),
                Example("tokens per call 1000 -> 800", {f"{requests}{{{OPENAI}}}": per_min(10, WEEK + 60),
                        f"{tokens_in}{{{OPENAI}}}": stepped(10000, 8000, WEEK, 60)}, False),
                Example("tokens per call 1000 -> 500 on 6 calls an hour (under the volume floor)",
                        {f"{requests}{{{OPENAI}}}": per_min(0.1, WEEK + 120),
                         f"{tokens_in}{{{OPENAI}}}": stepped(100, 50, WEEK, 120)}, False),
            )),
    ]
    return [Group("llm-provider", "1m", tuple(provider)), Group("llm-latency", "1m", tuple(latency)),
            Group("llm-spend", "1m", tuple(spend))]
