import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import pytest  # noqa: E402

# Modules that start real servers or binaries (collector, Prometheus, Alertmanager, Jaeger,
# kube-apiserver, promtool, scanners, Go tests): `pytest -m "not slow"` leaves them out for inner
# loops; `.ci/run` runs everything.
SLOW = {
    "test_alert_routing", "test_alerts", "test_alerts_grafana", "test_alerts_up_local", "test_apiserver",
    "test_backends", "test_bad_input", "test_collector_config", "test_concurrency", "test_content_instrumentations",
    "test_contract", "test_dashboard_signals", "test_debug_access", "test_debug_and_forwarding", "test_debug_audit",
    "test_debug_span_content", "test_distribution_image", "test_faults", "test_gateway", "test_gateway_tls",
    "test_jaeger_badger", "test_loadgen", "test_metrics_oracle", "test_normalize_oracle", "test_recording_rules",
    "test_redaction_positions", "test_redaction_properties", "test_sampling_and_content", "test_scanners",
    "test_sinks", "test_up_local", "test_up_local_ports", "test_up_local_signals", "test_workflows", "test_detector_tables",
    "test_redaction_benign", "test_redaction_chunks", "test_content_markerless", "test_alerts_guards",
    "test_quickstart", "test_content_hashing", "test_alert_delivery", "test_redaction_combinations",
    "test_alias_table_by_hand", "test_collector_harness",
    "test_external_rules", "test_external_push",
    "test_suite_grouping",  # runs a pytest of its own (-n 2): the full suite's layout, not an inner loop's
    # Not servers, but each case renders and places whole stacks (hundreds of cases): out of the inner loop.
    "test_settings_defaults", "test_network_layouts", "test_settings_boundaries",
}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: starts real servers or binaries (left out by -m 'not slow')")
    # xdist deals the groups out by their number of tests unless told not to: the long modules
    # (few tests, minutes each) started last and one ran alone at the end (3 min more a run).
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


# Under `--dist loadgroup` every module runs in one worker: its module fixtures (a started gateway)
# start once, and so do its in-process caches (rendered stacks, Kubernetes graphs). Dealing a module's
# cases out over the workers cost more CPU than it saved wall time (test_kubernetes: 61 CPU-s in one
# worker, 141 over four; the suite is CPU-bound on 2 cores).
# The longest modules (wall time in one worker, a warm run) go to the workers first, longest first,
# so that none of them starts last.
LONG_FIRST = ("test_apiserver", "test_faults", "test_alerts_up_local", "test_collector_config", "test_alerts",
              "test_settings_defaults", "test_network_layouts", "test_kubernetes", "test_contract",
              "test_external_rules", "test_up_local", "test_docker_stack", "test_quickstart", "test_distribution_image",
              "test_loadgen", "test_backends")


def _module(item) -> str:
    return item.module.__name__.rsplit(".", 1)[-1]


# tryfirst: xdist's own hook reads the xdist_group marks to tie a module to one worker; run after
# it, the marks came too late and every module was spread (a module fixture started once per worker).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        name = _module(item)
        if name in SLOW:
            item.add_marker(pytest.mark.slow)
        item.add_marker(pytest.mark.xdist_group(name))
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(_module(item), len(LONG_FIRST)))   # stable: order kept within
