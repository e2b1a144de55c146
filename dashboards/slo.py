"""SLOs, for on-call and owners: how much of the 30-day error budget is left, and how fast it burns.

The SLIs are those of alerts/slo.py (user-visible requests by outcome, and their duration against
latency_slo_seconds); the burn-rate panels draw the alerts' thresholds (14.4x and 6x page, 3x and
1x open a ticket), per environment and service."""
from __future__ import annotations

from dashboards.common import dashboard
from dashboards.helpers import Board, above_floor, target
from settings import Settings

SLUG, UID, FOLDER = "slo", "llm-slo", "oncall"
SEL = 'deployment_environment_name=~"$environment", service_name=~"$service_name"'
BY = "deployment_environment_name, service_name"
PERIOD = "30d"
# The alerts' bad ratios (alerts/slo.py), with the dashboard's filters; `{w}`: the window.
ALERT_BAD_AVAIL = (f'sum by ({BY}) (rate(llm_app_requests_total{{{SEL}, llmobs_request_outcome="error"}}[{{w}}])) '
                   f"/ sum by ({BY}) (rate(llm_app_requests_total{{{SEL}}}[{{w}}]))")
ALERT_BAD_LATENCY = (f'1 - sum by ({BY}) (rate(llm_app_request_duration_seconds_bucket{{{SEL}, le="{{le}}"}}[{{w}}])) '
                     f"/ sum by ({BY}) (rate(llm_app_request_duration_seconds_count{{{SEL}}}[{{w}}]))")
# The requests each alert counts in a pair's short window against volume_floors.requests.
ALERT_VOLUME_AVAIL = f"sum by ({BY}) (increase(llm_app_requests_total{{{SEL}}}[{{w}}]))"
ALERT_VOLUME_LATENCY = f"sum by ({BY}) (increase(llm_app_request_duration_seconds_count{{{SEL}}}[{{w}}]))"


def _bad_avail(window: str) -> str:
    """Errors over all requests; 0, not no data, where a service had no error in the window."""
    total = f"sum by ({BY}) (rate(llm_app_requests_total{{{SEL}}}[{window}]))"
    return (f'(sum by ({BY}) (rate(llm_app_requests_total{{{SEL}, llmobs_request_outcome="error"}}[{window}])) '
            f"or 0 * {total}) / {total}")


def _bad_latency(window: str, le: str) -> str:
    return (f'1 - sum by ({BY}) (rate(llm_app_request_duration_seconds_bucket{{{SEL}, le="{le}"}}[{window}])) '
            f"/ sum by ({BY}) (rate(llm_app_request_duration_seconds_count{{{SEL}}}[{window}]))")


def build(settings: Settings):
    from alerts.slo import PAIRS   # alerts -> dashboards (links); imported late
    a = settings.alerts
    le = f"{a.latency_slo_seconds:g}"
    b = Board(SLUG)
    factors = sorted({f for pairs in PAIRS.values() for _, _, f in pairs}, reverse=True)
    windows = [long for pairs in PAIRS.values() for long, _, _ in pairs]
    for key, what, bad, budget, goal in (
            ("availability", "Availability", _bad_avail, 1 - a.availability_slo,
             f"user requests whose outcome is not error (SLO {a.availability_slo:g})"),
            ("latency", "Latency", lambda w: _bad_latency(w, le), 1 - a.latency_slo,
             f"user requests within {le}s (SLO {a.latency_slo:g})")):
        b.stat(f"{key}_budget", f"{what} error budget remaining ({PERIOD})",
               f"Share of the {PERIOD} error budget not spent yet, per environment and service: 1 - (bad share "
               f"over {PERIOD}) / (1 - SLO). The SLI: {goal}. Below 0 the SLO is missed.", "percentunit",
               [target(f"1 - ({bad(PERIOD)}) / {budget:.6g}", "{{deployment_environment_name}} {{service_name}}",
                       instant=True)],
               thresholds=[(0.0, "red"), (0.25, "orange"), (0.5, "green")], w=8, base_color="red")
        b.stat(f"{key}_sli", f"{what} SLI ({PERIOD})", f"The SLI over {PERIOD}: {goal}.", "percentunit",
               [target(f"1 - ({bad(PERIOD)})", "{{deployment_environment_name}} {{service_name}}", instant=True)],
               w=4)
        b.timeseries(f"{key}_burn", f"{what} burn rate by window",
                     "How many times faster than the SLO allows the budget burns, over each long window of the "
                     "burn-rate alerts; the lines are their thresholds (14.4x and 6x page, 3x and 1x open a "
                     "ticket). The alert also needs the short window above the same line.", "short",
                     [target(f"({bad(w)}) / {budget:.6g}", f"{w} {{{{deployment_environment_name}}}} "
                             f"{{{{service_name}}}}", ref) for w, ref in zip(windows, "ABCD")],
                     thresholds=[(f, "red" if f >= 6 else "orange") for f in factors])
    # What the burn-rate alerts compare: the bad share over each long window (the alert's own text, per
    # environment and service), against factor x budget, where the pair's short window holds the volume
    # floor (tests/test_alerts.py checks the alerts' link).
    floor = a.volume_floors.requests
    for key, what, bad, volume, budget in (
            ("availability", "Failed", ALERT_BAD_AVAIL, ALERT_VOLUME_AVAIL, 1 - a.availability_slo),
            ("latency", f"Slower than {le}s", ALERT_BAD_LATENCY.replace("{le}", le), ALERT_VOLUME_LATENCY,
             1 - a.latency_slo)):
        pairs = [(long, short, factor) for sev in ("critical", "warning") for long, short, factor in PAIRS[sev]]
        b.timeseries(f"{key}_bad_share", f"{what} share of user requests by alert window",
                     "The bad share of user requests over each long window of the burn-rate alerts, per environment "
                     "and service, as the alerts compare it (factor x budget: "
                     + ", ".join(f"{long} over {round(factor * budget, 6):g}" for long, _, factor in pairs)
                     + "); the lines are those thresholds. The alert also needs the short window over the same line. "
                     f"Each window is drawn only where its pair's short window ({', '.join(s for _, s, _ in pairs)}) "
                     f"holds {floor} or more requests (the alerts' volume floor): below it they cannot fire, and the "
                     "line breaks.",
                     "percentunit",
                     [target(above_floor(bad.replace("{w}", long), volume.replace("{w}", short), floor),
                             f"{long} {{{{deployment_environment_name}}}} {{{{service_name}}}}", ref)
                      for (long, short, _), ref in zip(pairs, "ABCD")],
                     thresholds=[(round(factor * budget, 6), "red" if factor >= 6 else "orange") for _, _, factor in pairs])
    return dashboard(b, "LLM SLOs", UID, "Error budget remaining and burn rates of the user-visible SLOs.",
                     settings, "environment", "service_name")
