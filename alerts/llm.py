"""LLM alerts: provider health, SLO burn, latency, spend, quality, safety, tools, retrieval.

Expressions read only catalog metrics (via `backends.rules.Series`, which fails on an
unknown name) and the recording rules of backends/rules.py. Thresholds come from
`settings.alerts`. Each alert carries its runbook and the examples its unit test runs.
"""
from __future__ import annotations

from alerts.model import Alert, Example, Group, Runbook
from backends.rules import Series
from collector_config.metrics import LATENCY_BUCKETS as LATENCY, TTFT_BUCKETS as TTFT
from settings import Settings

PM = "gen_ai_provider_name, gen_ai_request_model"
OPENAI = 'gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o"'
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


def histogram(metric: str, labels: str, bounds: list[float], upper: float, rate: float = 60) -> dict[str, str]:
    """Every observation lands in the bucket whose upper bound is `upper`."""
    out = {f'{n(metric, "_bucket")}{{{labels},le="{b:g}"}}': per_min(rate if b >= upper else 0) for b in bounds}
    out[f'{n(metric, "_bucket")}{{{labels},le="+Inf"}}'] = per_min(rate)
    out[f'{n(metric, "_count")}{{{labels}}}'] = per_min(rate)
    return out


def _burn(name: str, bad_ratio: str, budget: float, severity: str, long: str, short: str, factor: float,
          for_: str, what: str, checks, examples) -> Alert:
    threshold = round(factor * budget, 6)
    return Alert(
        name=name, severity=severity, for_=for_,
        expr=f"({bad_ratio.format(w=long)}) > {threshold:g} and ({bad_ratio.format(w=short)}) > {threshold:g}",
        summary=f"The LLM {what} error budget is burning {factor:g}x faster than the SLO allows.",
        description=f"{{{{ $value | humanizePercentage }}}} of LLM calls missed the {what} objective over {long} "
                    f"(budget burn {factor:g}x; threshold {threshold:g}).",
        runbook=Runbook(
            meaning=f"At this rate the 30-day {what} error budget is gone in {30 / factor:.1f} days. Multi-window, "
                    "multi-burn-rate alert as in the SRE workbook: the long window proves it is real, the short one "
                    "that it is still happening.",
            checks=checks,
            mitigations=("Switch traffic to the fallback model or provider.",
                         "Roll back the last prompt, model or index version change.",
                         "Shed or throttle the heaviest tenant if one dominates.")),
        examples=examples)


def alerts(settings: Settings) -> list[Group]:
    a = settings.alerts
    requests, errors = n("llm.requests"), n("llm.errors")
    avail_budget, latency_budget = 1 - a.availability_slo, 1 - a.latency_slo
    err_ratio = f"sum(rate({errors}[{{w}}])) / sum(rate({requests}[{{w}}]))"
    slow = n("gen_ai.client.operation.duration", "_bucket")
    count = n("gen_ai.client.operation.duration", "_count")
    le = f"{a.latency_slo_seconds:g}"
    slow_ratio = f'1 - sum(rate({slow}{{{{le="{le}"}}}}[{{w}}])) / sum(rate({count}[{{w}}]))'
    cost, tokens_in = n("llm.cost"), n("llm.tokens.input")
    per_call = "provider_model:llm_tokens_input:rate1h / provider_model:llm_requests:rate1h"
    per_call_week = ("avg_over_time(provider_model:llm_tokens_input:rate1h[7d]) / "
                     "avg_over_time(provider_model:llm_requests:rate1h[7d])")
    bad_avail = {f"{requests}{{{OPENAI}}}": per_min(100, 400), f"{errors}{{{OPENAI},error_type=\"server_error\"}}": per_min(20, 400)}
    ok_avail = {f"{requests}{{{OPENAI}}}": per_min(100, 400), f"{errors}{{{OPENAI},error_type=\"server_error\"}}": per_min(1, 400)}

    def latency_series(fast: float, slow_: float, samples: int = 400) -> dict[str, str]:
        return {f'{slow}{{{OPENAI},le="{le}"}}': per_min(fast, samples),
                f'{slow}{{{OPENAI},le="+Inf"}}': per_min(fast + slow_, samples),
                f"{count}{{{OPENAI}}}": per_min(fast + slow_, samples)}

    provider = [
        Alert(
            name="LlmProviderErrorRateHigh", severity="critical", for_="10m", keep_firing_for="10m",
            expr=f"provider_model:llm_errors:ratio_rate5m > {a.provider_error_ratio:g}",
            metrics=("provider_model:llm_errors:ratio_rate5m",),
            summary="An LLM provider is failing a large share of calls.",
            description="{{ $labels.gen_ai_provider_name }} {{ $labels.gen_ai_request_model }}: "
                        "{{ $value | humanizePercentage }} of calls failed over 5m "
                        f"(threshold {a.provider_error_ratio:.0%}).",
            runbook=Runbook(
                meaning="Calls to one provider and model end in error more often than the threshold; users see "
                        "failed or empty answers unless a fallback catches them.",
                checks=("LLM overview dashboard, panel 'Error rate by error type and provider': which error.type dominates.",
                        "The provider's status page, and whether other models of the same provider fail too.",
                        "Tempo/Jaeger: error traces of that model (`status=error && span.gen_ai.request.model=...`); "
                        "Loki: `{service_name=~\".+\"} | json | error_type != \"\"` around the onset."),
                mitigations=("Route to the fallback model or provider (feature flag or gateway config).",
                             "If a deploy preceded it, roll back the prompt or client version.",
                             "For rate limits, lower concurrency or ask the provider for quota.")),
            examples=(
                Example("10% of calls fail", {f"{requests}{{{OPENAI}}}": per_min(100),
                                              f"{errors}{{{OPENAI},error_type=\"server_error\"}}": per_min(10)}, True,
                        {"gen_ai_provider_name": "openai", "gen_ai_request_model": "gpt-4o"},
                        f"openai gpt-4o: 10% of calls failed over 5m (threshold {a.provider_error_ratio:.0%})."),
                Example("4% of calls fail", {f"{requests}{{{OPENAI}}}": per_min(100),
                                             f"{errors}{{{OPENAI},error_type=\"server_error\"}}": per_min(4)}, False),
            )),
        Alert(
            name="LlmRateLimitedOrTimingOut", severity="warning", for_="10m", keep_firing_for="10m",
            expr=f'sum by ({PM}) (rate({errors}{{error_type=~"rate_limited|timeout|overloaded"}}[5m])) '
                 f"/ sum by ({PM}) (rate({requests}[5m])) > {a.throttle_ratio:g}",
            summary="An LLM provider is throttling or timing out calls.",
            description="{{ $labels.gen_ai_provider_name }} {{ $labels.gen_ai_request_model }}: "
                        "{{ $value | humanizePercentage }} of calls were rate-limited, overloaded or timed out "
                        f"(threshold {a.throttle_ratio:.0%}).",
            runbook=Runbook(
                meaning="The provider refuses (429, overloaded) or does not answer in time; retries add latency "
                        "and cost before anything fails outright.",
                checks=("LLM overview dashboard, 'Retries' and 'Error rate by error type': rate_limited vs timeout.",
                        "Cost dashboard: did one tenant or feature's traffic jump at the onset?",
                        "Provider console: current quota and rate-limit headers in error traces."),
                mitigations=("Throttle the tenant or feature driving the load.",
                             "Spread load to another region, deployment or the fallback model.",
                             "Raise the quota with the provider; lower client concurrency meanwhile.")),
            examples=(
                Example("5% rate-limited", {f"{requests}{{{OPENAI}}}": per_min(100),
                                            f"{errors}{{{OPENAI},error_type=\"rate_limited\"}}": per_min(5)}, True,
                        {"gen_ai_provider_name": "openai", "gen_ai_request_model": "gpt-4o"},
                        f"openai gpt-4o: 5% of calls were rate-limited, overloaded or timed out (threshold {a.throttle_ratio:.0%})."),
                Example("5% server errors are not throttling", {f"{requests}{{{OPENAI}}}": per_min(100),
                        f"{errors}{{{OPENAI},error_type=\"server_error\"}}": per_min(5)}, False),
                Example("1% rate-limited", {f"{requests}{{{OPENAI}}}": per_min(100),
                                            f"{errors}{{{OPENAI},error_type=\"rate_limited\"}}": per_min(1)}, False),
            )),
    ]
    avail_checks = ("LLM overview dashboard, 'Error rate by error type and provider': one provider or all?",
                    "Recent deploys: prompt, model or client version changes in the last hour.",
                    "Error traces in Tempo/Jaeger for the top error.type; the provider's status page.")
    latency_checks = ("LLM overview dashboard, 'Latency p50/p95/p99' by model: one model or all?",
                      "Tokens per request (prompt bloat makes calls slower) and retries (each adds latency).",
                      "Slow traces in Tempo/Jaeger (`duration > ...`) and the provider's status page.")
    slo = [
        _burn("LlmAvailabilityBudgetBurnFast", err_ratio, avail_budget, "critical", "1h", "5m", 14.4, "2m",
              "availability", avail_checks, (
                  Example("20% errors for over an hour", bad_avail, True, {},
                          f"20% of LLM calls missed the availability objective over 1h (budget burn 14.4x; "
                          f"threshold {14.4 * avail_budget:g})."),
                  Example("1% errors (within budget)", ok_avail, False))),
        _burn("LlmAvailabilityBudgetBurnSlow", err_ratio, avail_budget, "warning", "6h", "30m", 6, "15m",
              "availability", avail_checks, (
                  Example("20% errors for six hours", bad_avail, True, {},
                          f"20% of LLM calls missed the availability objective over 6h (budget burn 6x; "
                          f"threshold {6 * avail_budget:g})."),
                  Example("1% errors (within budget)", ok_avail, False))),
        _burn("LlmLatencyBudgetBurnFast", slow_ratio, latency_budget, "critical", "1h", "5m", 14.4, "2m",
              "latency", latency_checks, (
                  Example("all calls slower than the objective", latency_series(0, 100), True, {},
                          f"100% of LLM calls missed the latency objective over 1h (budget burn 14.4x; "
                          f"threshold {14.4 * latency_budget:g})."),
                  Example("3% of calls slow", latency_series(97, 3), False))),
        _burn("LlmLatencyBudgetBurnSlow", slow_ratio, latency_budget, "warning", "6h", "30m", 6, "15m",
              "latency", latency_checks, (
                  Example("all calls slower than the objective", latency_series(0, 100), True, {},
                          f"100% of LLM calls missed the latency objective over 6h (budget burn 6x; "
                          f"threshold {6 * latency_budget:g})."),
                  Example("3% of calls slow", latency_series(97, 3), False))),
    ]
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
                checks=("LLM overview dashboard, 'Time to first token p95' by model.",
                        "Input tokens per request for that model (long prompts delay the first token).",
                        "Provider status page and the model's region."),
                mitigations=("Move latency-sensitive features to a faster model.",
                             "Trim the prompt (retrieval top-k, history length).",
                             "Use the fallback provider while the primary is degraded.")),
            examples=(
                Example("first tokens after 4-8s", histogram("llm.time_to_first_token", OPENAI, TTFT, 8), True,
                        {"gen_ai_provider_name": "openai", "gen_ai_request_model": "gpt-4o"},
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
                checks=latency_checks,
                mitigations=("Route to a faster model or the fallback provider.",
                             "Cap max output tokens for the slow feature.",
                             "Roll back a prompt change that grew the output.")),
            examples=(
                Example("calls take 30-60s", histogram("gen_ai.client.operation.duration", OPENAI, LATENCY, 60), True,
                        {"gen_ai_provider_name": "openai", "gen_ai_request_model": "gpt-4o"},
                        f"openai gpt-4o: p95 call duration is 58.5s (threshold {a.latency_p95_seconds:g}s)."),
                Example("calls take 8-15s", histogram("gen_ai.client.operation.duration", OPENAI, LATENCY, 15), False),
            )),
    ]
    floor = a.spend_floor_usd_per_hour / 3600
    factor = a.spend_spike_factor
    tenant = 'llmobs_tenant_bounded="acme"'
    share = "tenant:llm_cost:rate1h / on() group_left sum(tenant:llm_cost:rate1h)"
    spend = [
        Alert(
            name="LlmSpendSpike", severity="warning", for_="15m",
            # avg_over_time of the recorded hourly rate, not rate(...[7d]): rate divides by the whole
            # range, so a week-long range understates the baseline on a stack younger than a week.
            expr=f"sum(tenant:llm_cost:rate1h) > {factor:g} * sum(avg_over_time(tenant:llm_cost:rate1h[7d])) "
                 f"and sum(tenant:llm_cost:rate1h) > {floor:.6g}",
            metrics=("tenant:llm_cost:rate1h",),
            summary="LLM spend per hour is far above its 7-day average.",
            description=f"Spend is {{{{ $value | humanize }}}} USD/s over the last hour, over {factor:g}x the 7-day average.",
            runbook=Runbook(
                meaning="Hourly spend jumped; left alone it lands on the invoice. Usually a runaway loop, a prompt "
                        "change that grew tokens, a model switch or one tenant's batch job.",
                checks=("Cost dashboard: spend by model, feature, tenant and prompt version since the onset.",
                        "Agents dashboard: loop iterations per request (runaway agents).",
                        "Top expensive requests (trace links) on the Cost dashboard."),
                mitigations=("Throttle the tenant or feature responsible.",
                             "Roll back the prompt or model version that grew the cost.",
                             "Cap max tokens or agent iterations.")),
            examples=(
                Example("spend grows tenfold", {f"{cost}{{{OPENAI},{tenant}}}": stepped(1, 10, WEEK, 120)}, True, {},
                        "Spend is 166.7m USD/s over the last hour, over 3x the 7-day average.", onset=WEEK + 14, settle=60),
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
                meaning="The last six hours' spend rate, projected over a day, exceeds the budget by 20%.",
                checks=("Cost dashboard: projected spend vs budget, and spend by feature and tenant.",
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
                        "budget by 20%: a slower, steadier signal than the daily projection.",
                checks=("Cost dashboard: projected spend vs budget, and spend by feature and tenant.",
                        "The provider's billing console: month-to-date spend against this projection.",
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
                checks=("Cost dashboard, 'Spend by tenant', filtered to the tenant.",
                        "That tenant's requests and tokens per request: more calls or bigger calls?",
                        "Their top expensive traces."),
                mitigations=("Apply the tenant's rate limit or quota.",
                             "Contact the tenant's owner before throttling paying traffic.",
                             "Raise the factor in settings for tenants with bursty, expected usage.")),
            examples=(
                Example("acme's spend grows tenfold while beta's stays", {
                    f"{cost}{{{OPENAI},{tenant}}}": stepped(1, 10, WEEK, 120),
                    f'{cost}{{{OPENAI},llmobs_tenant_bounded="beta"}}': per_min(9, WEEK + 120)}, True,
                        {"llmobs_tenant_bounded": "acme"},
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
            expr=f"{per_call} > {a.prompt_bloat_ratio:g} * ({per_call_week})",
            metrics=("provider_model:llm_tokens_input:rate1h", "provider_model:llm_requests:rate1h"),
            summary="Input tokens per LLM call grew well beyond their 7-day average.",
            description="{{ $labels.gen_ai_provider_name }} {{ $labels.gen_ai_request_model }}: "
                        "{{ $value | humanize }} input tokens per call, over "
                        f"{a.prompt_bloat_ratio:g}x the 7-day average.",
            runbook=Runbook(
                meaning="Prompts got longer: a template change, more retrieved chunks, or unbounded chat history. "
                        "Cost and latency follow.",
                checks=("Cost dashboard, tokens per request by prompt version: which version grew?",
                        "RAG dashboard: top-k requested vs returned.",
                        "A recent trace's input length (content is hashed; `gen_ai.input.messages.length` remains)."),
                mitigations=("Roll back the prompt version.",
                             "Cap retrieval top-k or history length.",
                             "Summarize long conversations before sending.")),
            examples=(
                Example("tokens per call 1000 -> 2000", {f"{requests}{{{OPENAI}}}": per_min(10, WEEK + 120),
                        f"{tokens_in}{{{OPENAI}}}": stepped(10000, 20000, WEEK, 120)}, True,
                        {"gen_ai_provider_name": "openai", "gen_ai_request_model": "gpt-4o"},
                        f"openai gpt-4o: 2k input tokens per call, over {a.prompt_bloat_ratio:g}x the 7-day average.",
                        onset=WEEK + 19, settle=30),
                Example("tokens per call 1000 -> 1200", {f"{requests}{{{OPENAI}}}": per_min(10, WEEK + 60),
                        f"{tokens_in}{{{OPENAI}}}": stepped(10000, 12000, WEEK, 60)}, False),
            )),
        Alert(
            name="LlmPromptShrink", severity="warning", for_="30m",
            expr=f"{per_call} < {a.prompt_shrink_ratio:g} * ({per_call_week})",
            metrics=("provider_model:llm_tokens_input:rate1h", "provider_model:llm_requests:rate1h"),
            summary="Input tokens per LLM call fell well below their 7-day average.",
            description="{{ $labels.gen_ai_provider_name }} {{ $labels.gen_ai_request_model }}: "
                        "{{ $value | humanize }} input tokens per call, under "
                        f"{a.prompt_shrink_ratio:g}x the 7-day average.",
            runbook=Runbook(
                meaning="Prompts got shorter: retrieval stopped adding context, history is dropped, or a template "
                        "lost its instructions. Cheaper, but the answers usually get worse.",
                checks=("Cost dashboard, tokens per request by prompt version: which version shrank?",
                        "RAG dashboard: empty retrievals and documents per retrieval.",
                        "A recent trace's input length next to one from last week."),
                mitigations=("Roll back the prompt or retriever version.",
                             "Fix the retrieval or history step that stopped filling the prompt.",
                             "If the shorter prompt is intended, expect this alert to stop after 7 days.")),
            examples=(
                Example("tokens per call 1000 -> 500", {f"{requests}{{{OPENAI}}}": per_min(10, WEEK + 120),
                        f"{tokens_in}{{{OPENAI}}}": stepped(10000, 5000, WEEK, 120)}, True,
                        {"gen_ai_provider_name": "openai", "gen_ai_request_model": "gpt-4o"},
                        f"openai gpt-4o: 500 input tokens per call, under {a.prompt_shrink_ratio:g}x the 7-day average.",
                        onset=WEEK + 19, settle=30),
                Example("tokens per call 1000 -> 800", {f"{requests}{{{OPENAI}}}": per_min(10, WEEK + 60),
                        f"{tokens_in}{{{OPENAI}}}": stepped(10000, 8000, WEEK, 60)}, False),
            )),
    ]
    return [Group("llm-provider", "1m", tuple(provider)), Group("llm-slo", "1m", tuple(slo)),
            Group("llm-latency", "1m", tuple(latency)), Group("llm-spend", "1m", tuple(spend))]
