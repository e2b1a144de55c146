"""A synthetic LLM application (RAG + agent) that emits OTLP traces, logs and metrics.

    from loadgen import run
    summary = run("http://127.0.0.1:4317", scenario="prompt_bloat", rate=20, duration=30, seed=7)

or `python -m stackctl loadgen --help`. Scenarios: loadgen.scenarios.SCENARIOS;
attribute flavors: loadgen.flavors.FLAVORS.
"""
from loadgen.flavors import FLAVORS  # noqa: F401
from loadgen.scenarios import SCENARIOS  # noqa: F401

PROTOCOLS = ("grpc", "http")


def __getattr__(name: str):
    # The runner (and the OpenTelemetry SDK behind it) loads on first use: `stackctl render`
    # and the other commands that only name the scenarios do not pay for it.
    if name in ("Summary", "run"):
        from loadgen import runner
        return getattr(runner, name)
    raise AttributeError(f"module 'loadgen' has no attribute {name!r}")
