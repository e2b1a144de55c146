"""The capacity planning table of docs/operations.md, from the bench's saved figures
(docs/benchmarks.json): `python -m stackctl.capacity` prints it; tests/test_docs.py fails
when the page's copy is stale.

Per core: the gateway's spans per CPU-second on telemetrygen traces (the costlier traffic the
bench measures: 5 spans per trace, 20 LLM attributes each). Replicas at least: each kept at 60%
of the collector's 2-core CPU limit (headroom for exporting, which the bench sends to /dev/null,
and for bursts), and never fewer than the default replicas_min (2). The HPA's choice: CPU used
over 70% of the 250m request, what the HorizontalPodAutoscaler scales to below replicas_max.
Memory: the two measured points (sustained rate, 1 s decision wait; overload test, 30 s wait)
give ~117 MiB plus ~3.5 KiB per span held for the tail-sampling decision; memory_limit_mib must
keep that under the memory_limiter's soft limit (60%).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "docs/benchmarks.json"
RATES = (1_000, 10_000, 100_000)
HEADROOM = 0.6            # plan a replica at 60% of its CPU limit
CPU_LIMIT = 2             # backends/services.py: each collector container
CPU_REQUEST = 0.25
HPA_TARGET = 0.7          # components/kubernetes/manifests.py HPA_CPU_PERCENT
REPLICAS_MIN, REPLICAS_MAX = 2, 6   # settings/stack.schema.yaml: collector.replicas_min/_max defaults
BASE_MIB, KIB_PER_HELD_SPAN = 117, 3.5
DECISION_WAIT_S = 10      # sampling.decision_wait_s's default
SOFT_LIMIT = 0.6          # the memory_limiter refuses above 60% of memory_limit_mib
BEGIN, END = "<!-- capacity-table:begin -->", "<!-- capacity-table:end -->"


def table(bench: dict | None = None) -> str:
    bench = bench or json.loads(BENCH.read_text())
    per_core = 100_000 / bench["traffic"]["telemetrygen traces"]["gateway_cpu_s_per_100k"]
    rows = [BEGIN,
            f"Measured: {per_core:,.0f} spans per CPU-second (bench of {bench['date'][:10]}, "
            f"{bench['collector']}); sustained on one 2-core machine with the backends beside it: "
            f"{bench['sustained_spans_per_s']:,} spans/s, peak RSS {bench['sustained_peak_rss_mib']} MiB.",
            "",
            "| spans/s | gateway CPU (cores) | replicas at least (≤ 1.2 cores each) | the HPA's choice "
            "(70% of 250m) | memory per replica at least (10 s wait) | `collector.memory_limit_mib` at least | settings |",
            "|---|---|---|---|---|---|---|"]
    for rate in RATES:
        cores = rate / per_core
        replicas = max(REPLICAS_MIN, math.ceil(cores / (CPU_LIMIT * HEADROOM)))
        hpa = max(REPLICAS_MIN, math.ceil(cores / (CPU_REQUEST * HPA_TARGET)))
        mib = BASE_MIB + rate / replicas * DECISION_WAIT_S * KIB_PER_HELD_SPAN / 1024
        limit = max(256, 2 ** math.ceil(math.log2(mib / SOFT_LIMIT)))
        hpa_text = f"{hpa}" if hpa <= REPLICAS_MAX else f"{hpa}: capped at replicas_max"
        settings = "defaults" if replicas <= REPLICAS_MAX and limit <= 1024 else \
            f"`collector.replicas_max` ≥ {replicas}" + ("" if limit <= 1024 else f", `memory_limit_mib: {limit}`")
        rows.append(f"| {rate:,} | {cores:.1f} | {replicas} | {hpa_text} | {mib:,.0f} MiB | {limit} | {settings} |")
    return "\n".join(rows + [END])


if __name__ == "__main__":
    print(table())
