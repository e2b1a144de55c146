"""The figures `scripts/bench --save` writes (docs/benchmarks.json) and the fault tests' reader of
its sustained rate, on a small fake result: no collector runs here."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import json

import pytest

from conftest import ROOT
from test_faults import BENCH_RESULTS, sustained_spans_per_s


def _load_bench():
    loader = importlib.machinery.SourceFileLoader("bench", str(ROOT / "scripts" / "bench"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("bench", loader))
    loader.exec_module(module)
    return module


def _row(case: str, items: int, cpu_s: float) -> dict:
    return {"case": case, "items": items, "cpu_s": cpu_s, "rss_mib": 100.0,
            "per_cpu_s": items / cpu_s, "cpu_per_100k": cpu_s / items * 100_000}


# Two traffics, as `table` returns them: bare first, then the gateway, then the stage rows; the
# floor row last, on telemetrygen traces only.
RESULTS = {
    "telemetrygen traces": [_row("bare", 20000, 1.0), _row("gateway", 5000, 3.0),
                            _row("gateway without cost", 5000, 2.5),
                            _row("floor: no normalize, redact or transform, final attributes sent", 5000, 0.75)],
    "telemetrygen logs": [_row("bare", 20000, 0.8), _row("gateway", 5000, 2.0)],
}
SIZES = [("Pulumi.dev.yaml: single", 130_512, 56), ("Pulumi.prod.yaml: agent", 94_800, 26),
         ("Pulumi.prod.yaml: sampler", 38_000, 32)]


def test_save_writes_the_figures_the_fault_tests_read(tmp_path):
    bench = _load_bench()
    path = tmp_path / "benchmarks.json"
    written = bench.save(path, RESULTS, SIZES, 2000, 187.4, 2.214, stack="Pulumi.dev.yaml", quick=True,
                         load_start=0.574)
    data = json.loads(path.read_text())
    assert data == written
    assert path.read_text() == json.dumps(data, indent=2, sort_keys=True) + "\n"   # stable diffs
    assert data["sustained_spans_per_s"] == 2000 and data["sustained_peak_rss_mib"] == 187
    # gateway/bare per traffic: (5000 / 3.0) / (20000 / 1.0), (5000 / 2.0) / (20000 / 0.8)
    assert data["traffic"] == {
        "telemetrygen traces": {"gateway_over_bare": 0.083, "gateway_cpu_s_per_100k": 60.0,
                                "bare_cpu_s_per_100k": 5.0, "floor_over_bare": 0.333,
                                "floor_cpu_s_per_100k": 15.0},
        "telemetrygen logs": {"gateway_over_bare": 0.1, "gateway_cpu_s_per_100k": 40.0,
                              "bare_cpu_s_per_100k": 4.0}}
    assert data["config"] == {"Pulumi.dev.yaml: single": {"kb": 130.5, "statements": 56},
                              "Pulumi.prod.yaml: agent": {"kb": 94.8, "statements": 26},
                              "Pulumi.prod.yaml: sampler": {"kb": 38.0, "statements": 32}}
    assert data["render_s"] == 2.21 and data["load_average"]["start"] == 0.57
    assert isinstance(data["load_average"]["end"], float)
    assert (data["stack"], data["quick"]) == ("Pulumi.dev.yaml", True)
    assert data["collector"].startswith("otelcol-llmobs")
    assert data["date"].endswith("Z") and data["date"][:4].isdigit()
    assert sustained_spans_per_s(path) == 2000.0


@pytest.mark.parametrize("rate", [0, -5, None, "1500", True])
def test_the_reader_refuses_a_rate_that_is_not_positive(tmp_path, rate):
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps({"sustained_spans_per_s": rate}))
    with pytest.raises(AssertionError, match="not a positive number"):
        sustained_spans_per_s(path)


def test_the_reader_names_a_missing_file(tmp_path):
    with pytest.raises(AssertionError, match="scripts/bench --save"):
        sustained_spans_per_s(tmp_path / "benchmarks.json")


def test_the_committed_file_is_in_the_format_the_bench_writes(tmp_path):
    committed = json.loads(BENCH_RESULTS.read_text())
    written = _load_bench().save(tmp_path / "b.json", RESULTS, SIZES, 1, 1.0, 1.0, stack="s", quick=False,
                                 load_start=0.0)
    assert set(written) <= set(committed), set(written) - set(committed)
    traces = set(written["traffic"]["telemetrygen traces"])
    for title, traffic in committed["traffic"].items():   # the floor is measured on telemetrygen traces only
        floor = {key for key in traces if key.startswith("floor_")}
        assert set(traffic) == (traces if title == "telemetrygen traces" else traces - floor)
    assert set(committed["traffic"]) == {"telemetrygen traces", "telemetrygen logs", "loadgen traces+logs"}
    assert set(committed["config"]) == {"Pulumi.dev.yaml: single", "Pulumi.prod.yaml: agent",
                                        "Pulumi.prod.yaml: sampler"}
    assert sustained_spans_per_s() == committed["sustained_spans_per_s"] > 0
