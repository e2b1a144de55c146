"""SLO alerts as in the SRE workbook (chapter 5, "Alerting on SLOs"): multi-window, multi-burn-rate.

Two user-visible SLIs, per environment and service, from the application's root spans:
- availability: the share of user requests (`llm_app_requests_total`) whose outcome is not `error`;
- latency: the share of user requests (`llm_app_request_duration_seconds`) that finish within
  `latency_slo_seconds`.

One alert name per SLO, told apart by severity, so that Alertmanager's critical -> warning
inhibit rule (equal alertname) silences the ticket while the page fires:
- critical (page):  1h/5m at 14.4x or 6h/30m at 6x the budget rate (2% / 5% of a 30-day budget);
- warning (ticket): 1d/2h at 3x or 3d/6h at 1x (10% / 10% of the budget).
Each window pair also needs `volume_floors.requests` requests in its short window.
"""
from __future__ import annotations

from alerts.llm import ES, n, per_min
from alerts.model import Alert, Example, Group, Runbook
from settings import Settings

# (long window, short window, burn factor) per severity: the workbook's table 5-8.
PAIRS = {"critical": (("1h", "5m", 14.4), ("6h", "30m", 6.0)),
         "warning": (("1d", "2h", 3.0), ("3d", "6h", 1.0))}
FOR = {"critical": "2m", "warning": "15m"}
WHERE = 'deployment_environment_name="production",service_name="support-bot"'
WHERE_LABELS = {"deployment_environment_name": "production", "service_name": "support-bot"}
SAMPLES = 400   # minutes of input: longer than every `for` plus the 6h short window's start


def burn_expr(bad_ratio: str, volume: str, budget: float, severity: str, floor: int) -> str:
    """`bad_ratio` and `volume` are templates with `{w}` for the window."""
    parts = []
    for long, short, factor in PAIRS[severity]:
        t = f"{round(factor * budget, 6):g}"
        parts.append(f"(({bad_ratio.format(w=long)}) > {t} and ({bad_ratio.format(w=short)}) > {t} "
                     f"and ({volume.format(w=short)}) >= {floor})")
    return " or ".join(parts)


def _windows(severity: str) -> str:
    (l1, s1, f1), (l2, s2, f2) = PAIRS[severity]
    return f"{l1}/{s1} at {f1:g}x or {l2}/{s2} at {f2:g}x"


def alerts(settings: Settings) -> list[Group]:
    a, floor = settings.alerts, settings.alerts.volume_floors.requests
    app = n("llm.app.requests")
    bucket, count = n("llm.app.request.duration", "_bucket"), n("llm.app.request.duration", "_count")
    le = f"{a.latency_slo_seconds:g}"
    bad_avail = (f'sum by ({ES}) (rate({app}{{{{llmobs_request_outcome="error"}}}}[{{w}}])) '
                 f"/ sum by ({ES}) (rate({app}[{{w}}]))")
    avail_volume = f"sum by ({ES}) (increase({app}[{{w}}]))"
    bad_latency = (f'1 - sum by ({ES}) (rate({bucket}{{{{le="{le}"}}}}[{{w}}])) '
                   f"/ sum by ({ES}) (rate({count}[{{w}}]))")
    latency_volume = f"sum by ({ES}) (increase({count}[{{w}}]))"
    avail_budget, latency_budget = 1 - a.availability_slo, 1 - a.latency_slo

    def outcomes(per_minute: float, error_share: float) -> dict[str, str]:
        return {f'{app}{{{WHERE},llmobs_request_outcome="answered"}}': per_min(per_minute * (1 - error_share), SAMPLES),
                f'{app}{{{WHERE},llmobs_request_outcome="error"}}': per_min(per_minute * error_share, SAMPLES)}

    def durations(per_minute: float, slow_share: float) -> dict[str, str]:
        fast = per_minute * (1 - slow_share)
        return {f'{bucket}{{{WHERE},llmobs_request_outcome="answered",le="{le}"}}': per_min(fast, SAMPLES),
                f'{bucket}{{{WHERE},llmobs_request_outcome="answered",le="+Inf"}}': per_min(per_minute, SAMPLES),
                f'{count}{{{WHERE},llmobs_request_outcome="answered"}}': per_min(per_minute, SAMPLES)}

    avail_runbook = Runbook(
        meaning="User requests end in error faster than the availability SLO allows: at the critical rate the "
                "30-day error budget is gone in about two days (14.4x) or five (6x); at the warning rate in ten "
                "days (3x) or by the end of the period (1x). The SLI is what users see (root spans), not "
                "provider call attempts, so a fallback that saves the request does not count against it.",
        impact="Users' requests fail; at the critical rates the 30-day error budget runs out within days, and the SLO "
               "is missed for the period.",
        checks=("Panels `slo/availability_bad_share` (what the alert measures), `slo/availability_budget` and "
                        "`slo/availability_burn`: which environment and "
                "service, and since when.",
                "Panels `overview/outcomes` (user requests by outcome) and `overview/errors` (provider "
                "errors by type): is a provider failing, or the application itself?",
                "Error traces of that service in Tempo/Jaeger (`status = error`) around the onset."),
        mitigations=("Fail over to the fallback model or provider if a provider is failing.",
                     "Roll back the last deploy, prompt or model version of the service.",
                     "Shed or throttle the heaviest tenant if one dominates the errors."))
    latency_runbook = Runbook(
        meaning=f"User requests take longer than {le}s more often than the latency SLO allows; the windows "
                "and rates are those of the availability SLO.",
        impact="Users wait longer than the latency objective; at the critical rates the 30-day budget of slow requests "
               "runs out within days.",
        checks=("Panels `slo/latency_bad_share` (what the alert measures), `slo/latency_budget` and `slo/latency_burn`: "
                        "which environment and service.",
                "Panels `overview/request_latency` (user requests) and `overview/latency` (LLM calls): is "
                "the model slow, or the rest of the request (retrieval, tools)?",
                "Panel `overview/slow` (slow LLM calls' traces) and `rag/latency` (retrieval)."),
        mitigations=("Route latency-sensitive features to a faster model or the fallback provider.",
                     "Cap output tokens, retrieval top-k or agent iterations for the slow feature.",
                     "Roll back the prompt or model change that made answers longer."))
    out = []
    for severity in ("critical", "warning"):
        out.append(Alert(
            name="LlmAvailabilityBudgetBurn", severity=severity, for_=FOR[severity],
            expr=burn_expr(bad_avail, avail_volume, avail_budget, severity, floor),
            summary="User requests fail fast enough to exhaust the availability error budget.",
            description="{{ $labels.deployment_environment_name }} ({{ $labels.service_name }}): "
                        "{{ $value | humanizePercentage }} of user requests failed over the long window "
                        f"({_windows(severity)} the budget rate; SLO {a.availability_slo:g}).",
            runbook=avail_runbook,
            examples=(
                Example("20% of user requests fail" if severity == "critical" else "5% of user requests fail",
                        outcomes(100, 0.2 if severity == "critical" else 0.05), True, WHERE_LABELS,
                        ("production (support-bot): 20% of user requests failed over the long window "
                         f"(1h/5m at 14.4x or 6h/30m at 6x the budget rate; SLO {a.availability_slo:g}).")
                        if severity == "critical" else
                        ("production (support-bot): 5% of user requests failed over the long window "
                         f"(1d/2h at 3x or 3d/6h at 1x the budget rate; SLO {a.availability_slo:g}).")),
                Example("0.5% of user requests fail (within budget)", outcomes(100, 0.005), False),
                *((Example("every user request fails, 10 a minute (over the volume floor)", outcomes(10, 1.0), True,
                           WHERE_LABELS, "production (support-bot): 100% of user requests failed over the long window "
                           f"(1h/5m at 14.4x or 6h/30m at 6x the budget rate; SLO {a.availability_slo:g})."),)
                  if severity == "critical" else ()),
                *((Example("5% of user requests fail (a ticket, not a page)", outcomes(100, 0.05), False),)
                  if severity == "critical" else ()),
                Example("one failed request out of one every 20 minutes (under the volume floor)", outcomes(0.05, 1.0),
                        False),
            )))
        out.append(Alert(
            name="LlmLatencyBudgetBurn", severity=severity, for_=FOR[severity],
            expr=burn_expr(bad_latency, latency_volume, latency_budget, severity, floor),
            summary="User requests are slow often enough to exhaust the latency error budget.",
            description="{{ $labels.deployment_environment_name }} ({{ $labels.service_name }}): "
                        f"{{{{ $value | humanizePercentage }}}} of user requests took longer than {le}s over the "
                        f"long window ({_windows(severity)} the budget rate; SLO {a.latency_slo:g}).",
            runbook=latency_runbook,
            examples=(
                Example("all user requests slow" if severity == "critical" else "20% of user requests slow",
                        durations(100, 1.0 if severity == "critical" else 0.2), True, WHERE_LABELS,
                        (f"production (support-bot): 100% of user requests took longer than {le}s over the long "
                         f"window (1h/5m at 14.4x or 6h/30m at 6x the budget rate; SLO {a.latency_slo:g}).")
                        if severity == "critical" else
                        (f"production (support-bot): 20% of user requests took longer than {le}s over the long "
                         f"window (1d/2h at 3x or 3d/6h at 1x the budget rate; SLO {a.latency_slo:g}).")),
                Example("2% of user requests slow (within budget)", durations(100, 0.02), False),
                *((Example("20% of user requests slow (a ticket, not a page)", durations(100, 0.2), False),)
                  if severity == "critical" else ()),
                Example("one slow request out of one every 20 minutes (under the volume floor)", durations(0.05, 1.0),
                        False),
            )))
    return [Group("llm-slo", "1m", tuple(out))]
