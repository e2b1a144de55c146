"""`python -m stackctl loadgen`: run the synthetic LLM application against an OTLP endpoint."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from loadgen import PROTOCOLS, flavors, scenarios
from loadgen.pricing import Pricer
import collector_config
from settings import load_stack_file
from settings.load import STACK_SCHEMA

# The docker target's loadgen container and this command send at the same rate unless told otherwise.
DEFAULT_RATE = STACK_SCHEMA["properties"]["loadgen"]["properties"]["rate"]["default"]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "loadgen", help="send synthetic LLM traffic (traces, logs, metrics) over OTLP",
        description="Send synthetic RAG + agent traffic over OTLP. Scenarios: "
                    + ", ".join(f"{s.name} ({s.signal})" for s in scenarios.SCENARIOS.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", default="http://127.0.0.1:4317",
                   help="OTLP endpoint: gRPC host:port or URL, or the OTLP/HTTP base URL with --protocol http")
    p.add_argument("--protocol", choices=PROTOCOLS, default=None,
                   help="grpc or http (default: http when the endpoint port is 4318, else grpc)")
    p.add_argument("--scenario", default="baseline", choices=list(scenarios.SCENARIOS), metavar="NAME",
                   help="failure mode to produce: " + ", ".join(scenarios.SCENARIOS))
    p.add_argument("--after", type=float, default=None, metavar="S",
                   help="run the baseline for S seconds first, then switch the scenario on")
    p.add_argument("--rate", type=float, default=float(DEFAULT_RATE),
                   help=f"requests per second (default {DEFAULT_RATE}, llmobs:loadgen.rate's default)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds to run (default 60)")
    p.add_argument("--seed", type=int, default=1, help="same seed, same telemetry (default 1)")
    p.add_argument("--flavor", default=flavors.CANONICAL, choices=flavors.FLAVORS,
                   help="attribute spelling: canonical GenAI keys or an instrumentation library's")
    p.add_argument("--token", default=None,
                   help=f"ingest bearer token (default: ${collector_config.TOKEN_ENV}); sent as `authorization: Bearer ...`")
    p.add_argument("--service", default="llm-app", help="service.name of the synthetic app (default llm-app)")
    p.add_argument("--config", default=None, help="a Pulumi.<stack>.yaml whose price table predicts the cost")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_loadgen)


def _protocol(args) -> str:
    if args.protocol:
        return args.protocol
    return "http" if args.endpoint.rstrip("/").endswith(":4318") else "grpc"


def cmd_loadgen(args: argparse.Namespace) -> int:
    from loadgen import runner
    pricer = Pricer.from_settings(load_stack_file(args.config)) if args.config else None
    # SIGINT/SIGTERM (Ctrl-C, `docker stop`): stop sending, flush what was sent, print the summary.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    summary = runner.run(
        args.endpoint, scenario=args.scenario, rate=args.rate, duration=args.duration, seed=args.seed,
        flavor=args.flavor, token=runner.default_token(args.token), after=args.after, protocol=_protocol(args),
        service=args.service, pricer=pricer, progress=None if args.quiet else sys.stderr, stop=stop.is_set)
    if args.json:
        print(json.dumps(summary.to_dict(), sort_keys=True))
    else:
        print(summary.text())
    failed = summary.spans_failed + summary.logs_failed
    if failed:
        print(f"loadgen: {failed} spans/logs were not accepted by {args.endpoint}", file=sys.stderr)
    return 1 if failed else 0
