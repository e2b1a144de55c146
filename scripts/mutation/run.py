"""Mutation practice (outside CI): plant one small bug at a time and see whether a test fails.

Python areas (alerts, dashboards, collector_config, telemetry, settings, components): a small AST
mutator (no mutmut: it rewrites the whole tree and wants its own runner; per-module selection of
the tests to run is simpler here) makes one-line mutants of a module: a comparison flipped or
moved off by one (== !=, < <=, > >=, in / not in), `and`/`or` swapped, a `not` dropped, an int
constant +1, a float constant scaled, a non-empty string constant changed, a `return x` turned into
`return None`, a list or tuple literal losing its last item. Go components: the mutations listed by
hand in scripts/mutation/go_mutants.py, each with the package's `go test`.

Each mutant runs in a scratch copy of the committed tree (`git archive HEAD`; .bin and the
grammars linked), never in the checkout, with only the tests that cover its module (FILE_TESTS
below, else its area's AREA_TESTS), `-x`, and a timeout; a test failure or a timeout kills it.
A selection first runs once unmutated (every test must pass: a failing one would kill every
mutant) and records each test's time; each mutant then runs that selection in one pytest process,
its cheapest test files first, so a mutant one cheap test catches costs seconds.
The committed-JSON/golden staleness checks are deselected: regenerating the files would accept
the bug, so they do not count as kills. A selection that names a missing test file, or that pytest
refuses as a usage error, stops the run: it would otherwise fail every mutant and count as kills.

    nice -n 10 python3 scripts/mutation/run.py --area dashboards --sample 20 --seed 1
    nice -n 10 python3 scripts/mutation/run.py --area go
    python3 scripts/mutation/run.py --area settings --list      # the mutants, not run

Prints one line per mutant (killed/survived/timeout, seconds, where, what) and a summary, and
appends a JSON line per run to --out (default: scripts/mutation/results.jsonl).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from go_mutants import GO_MUTANTS  # noqa: E402

GOLDEN = "not committed and not unchanged_pr"   # staleness checks of generated files: not kills
AREAS = ("alerts", "dashboards", "collector_config", "telemetry", "settings", "components")

# The tests that cover each area (fast enough to run per mutant); per module where it matters.
AREA_TESTS: dict[str, list[str]] = {
    # The dashboards read alert modules too (the SLO windows and factors, the audit query, the links).
    "alerts": ["tests/test_alerts.py -k 'not fires_exactly and not broken_alert'", "tests/test_alerts_guards.py",
               "tests/test_alert_routing.py", "tests/test_alert_delivery.py", "tests/test_recording_rules.py",
               "tests/test_alerts_grafana.py", f"tests/test_dashboards.py -k '{GOLDEN}'",
               "tests/test_dashboard_semantics.py",
               # the scenario -> alerts table against loadgen's scenarios; the stack-less tests of the e2e module
               "tests/test_alerts_up_local.py -k 'every_failure or profile or timing'"],
    # test_dashboard_semantics: a hand-written row per panel (the per-panel oracle; test_dashboards holds
    # the lint, ids, house style and the diff).
    # test_dashboard_signals: the exemplar and Loki-field checks, and lint.queries over every panel.
    "dashboards": [f"tests/test_dashboards.py -k '{GOLDEN}'", "tests/test_dashboard_semantics.py",
                   "tests/test_dashboard_signals.py"],
    "collector_config": ["tests/test_collector_config.py", "tests/test_contract.py", "tests/test_gateway.py",
                         "tests/test_detector_tables.py"],
    "telemetry": ["tests/test_contract.py", "tests/test_detector_tables.py", "tests/test_content_instrumentations.py",
                  "tests/test_alias_sources.py", "tests/test_gateway.py"],
    # test_settings_defaults' "another value" half renders every artifact per key: too slow per mutant.
    "settings": ["tests/test_settings.py", "tests/test_settings_boundaries.py", "tests/test_settings_rules.py",
                 "tests/test_settings_defaults.py -k 'not another_value'", "tests/test_debug_settings.py",
                 # the backends.* rules live in settings/load.py too
                 "tests/test_external_backends.py -k 'bad_input or missing_credential'"],
    # Two of the 24 network layouts (one per backend, tier, store and TLS mode between them).
    "components": ["tests/test_kubernetes.py", "tests/test_docker_stack.py", "tests/test_placement.py",
                   "tests/test_network_layouts.py -k 'tempo-two-off-none or jaeger-single-on-secret'"],
}
FILE_TESTS: dict[str, list[str]] = {
    # test_alias_table_by_hand: flattened content items of every content key, hashed, through the real gateway.
    "collector_config/redact.py": ["tests/test_detector_tables.py", "tests/test_redaction_combinations.py",
                                   "tests/test_content_instrumentations.py", "tests/test_collector_config.py",
                                   "tests/test_alias_table_by_hand.py", "tests/test_log_event_bodies.py"],
    "collector_config/forwarding.py": ["tests/test_debug_and_forwarding.py -k forwarding", "tests/test_collector_config.py"],
    "collector_config/debug.py": ["tests/test_debug_settings.py", "tests/test_collector_config.py",
                                  "tests/test_debug_and_forwarding.py", "tests/test_debug_span_content.py"],
    "collector_config/audit.py": ["tests/test_debug_audit.py"],
    # The per-tenant content policy (never_retain, never_forward) runs on the real gateway there.
    "collector_config/policy.py": ["tests/test_debug_and_forwarding.py -k 'never_retain or forwarding'",
                                   *AREA_TESTS["collector_config"]],
    "collector_config/sampling.py": ["tests/test_sampling_and_content.py", "tests/test_collector_config.py"],
    "collector_config/cost.py": ["tests/test_gateway.py", "tests/test_redaction_cost.py", "tests/test_collector_config.py"],
    "collector_config/metrics.py": ["tests/test_metrics_oracle.py", "tests/test_contract.py"],
    "collector_config/normalize.py": ["tests/test_normalize_oracle.py", "tests/test_gateway.py"],
    "telemetry/detectors.py": ["tests/test_detector_tables.py", "tests/test_redaction_combinations.py",
                               "tests/test_redaction_benign.py"],
    "telemetry/aliases.py": ["tests/test_alias_sources.py", "tests/test_alias_table_by_hand.py",
                             "tests/test_normalize_oracle.py", "tests/test_content_instrumentations.py"],
    "telemetry/catalog.py": ["tests/test_catalog_by_hand.py", "tests/test_contract.py", "tests/test_metrics_oracle.py", "tests/test_dashboard_semantics.py",
                             "tests/test_self_metrics.py"],
    # The canonical keys: the alias rows and the instrumenting guide are written by hand.
    "telemetry/keys.py": [*AREA_TESTS["telemetry"], "tests/test_alias_table_by_hand.py", "tests/test_instrumenting_keys.py"],
    "components/kubernetes/network.py": ["tests/test_network_layouts.py -k 'tempo-two-off-none or jaeger-single-on-secret'",
                                         "tests/test_kubernetes.py -k 'network or egress'"],
    "components/docker/plan.py": ["tests/test_docker_stack.py", "tests/test_placement.py"],
    # The external-backend components: their own tests (the area's selection builds bundled stacks).
    "components/grafana_api.py": ["tests/test_external_backends.py", "tests/test_external_docker.py"],
    "components/kubernetes/external.py": ["tests/test_external_backends.py", "tests/test_external_modes.py"],
    # stack.py places the GrafanaApi component too; its resource names are pinned by the external tests.
    "components/kubernetes/stack.py": [*AREA_TESTS["components"], "tests/test_external_backends.py"],
    # manifests.py holds the custom-resource table the operator stacks' CRD reads come from.
    # test_debug_targets: the debug store's Grafana bootstrap, the one postStart hook.
    "components/kubernetes/manifests.py": [*AREA_TESTS["components"], "tests/test_external_backends.py",
                                           "tests/test_debug_targets.py"],
    "alerts/runbooks.py": ["tests/test_alerts.py -k 'runbook or panel'"],
    "dashboards/lint.py": [f"tests/test_dashboards.py -k 'lint and ({GOLDEN})'", "tests/test_dashboard_signals.py"],
}
PROMTOOL = "tests/test_alerts.py -k 'fires_exactly and ({})'"   # the promtool tests of the module's alerts


@dataclass
class Mutant:
    path: str      # repo-relative
    line: int
    what: str
    source: str    # the whole mutated module


_FLIP = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
         ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.add(id(first.value))
    return out


def _not_product(tree: ast.AST) -> set[int]:
    """Nodes no mutant may touch: type annotations (never evaluated: `from __future__ import
    annotations`) and the promtool examples beside each alert rule (`Example(...)`: test cases, their
    names and input series; they reach no deployed file, only `promtool test rules`)."""
    roots = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
        elif isinstance(node, ast.arg) and node.annotation is not None:
            roots.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            roots.append(node.returns)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Example":
            roots.append(node)
    return {id(n) for root in roots for n in ast.walk(root)}


def _sites(tree: ast.AST):
    """(node, description, apply) for every mutation site; apply mutates the node in place."""
    skip = _docstrings(tree) | _not_product(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _FLIP:
                    new = _FLIP[type(op)]
                    yield node, f"{type(op).__name__} -> {new.__name__}", (lambda n=node, i=i, new=new: n.ops.__setitem__(i, new()))
        elif isinstance(node, ast.BoolOp):
            new = ast.Or if isinstance(node.op, ast.And) else ast.And
            yield node, f"{type(node.op).__name__} -> {new.__name__}", (lambda n=node, new=new: setattr(n, "op", new()))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, "not x -> x", (lambda n=node: (setattr(n, "op", ast.UAdd()), setattr(n, "operand", ast.Call(
                func=ast.Name("bool", ast.Load()), args=[n.operand], keywords=[]))))
        elif isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or v is None:
                continue
            if isinstance(v, int):
                yield node, f"{v} -> {v + 1}", (lambda n=node, v=v: setattr(n, "value", v + 1))
            elif isinstance(v, float):
                yield node, f"{v} -> {v * 1.5 + 0.1:g}", (lambda n=node, v=v: setattr(n, "value", v * 1.5 + 0.1))
            elif isinstance(v, str) and v.strip() and len(v) < 200:
                yield node, f"{v[:30]!r} -> +'_x'", (lambda n=node, v=v: setattr(n, "value", v + "_x"))
        elif isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            yield node, "return x -> return None", (lambda n=node: setattr(n, "value", ast.Constant(None)))
        elif isinstance(node, (ast.List, ast.Tuple)) and isinstance(node.ctx, ast.Load) and len(node.elts) >= 2 \
                and not any(isinstance(e, ast.Starred) for e in node.elts):
            yield node, f"[{len(node.elts)} items] -> last dropped", (lambda n=node: n.elts.pop())


def site_count(path: str) -> int:
    return sum(1 for _ in _sites(ast.parse((ROOT / path).read_text())))


def mutants_of(path: str, indexes: list[int] | None = None) -> list[Mutant]:
    text = (ROOT / path).read_text()
    out = []
    for index in range(site_count(path)) if indexes is None else indexes:
        tree = ast.parse(text)   # fresh tree: each mutant is one change
        node, what, apply = list(_sites(tree))[index]
        apply()
        try:
            source = ast.unparse(ast.fix_missing_locations(tree))
        except Exception:   # noqa: BLE001 (an unparsable mutant is skipped)
            continue
        out.append(Mutant(path, getattr(node, "lineno", 0), what, source))
    return out


def area_files(area: str) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / area).rglob("*.py")
                  if "generated" not in p.parts and "__pycache__" not in p.parts)


def tests_for(path: str, area: str) -> list[str]:
    tests = FILE_TESTS.get(path, AREA_TESTS[area])
    if area == "alerts":
        import re
        names = sorted(set(re.findall(r'"(Llm[A-Za-z]+)"', (ROOT / path).read_text())))
        if names:
            tests = tests + [PROMTOOL.format(" or ".join(names))]
    return tests


def scratch() -> Path:
    """The committed tree in a temporary directory, with the built binaries and grammars linked."""
    d = Path(tempfile.mkdtemp(prefix=f"llmobs-mutation-{os.getpid()}-"))
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(d, filter="data")
    os.symlink(ROOT / ".bin", d / ".bin")
    modules = ROOT / "tools/grammars/node_modules"
    if modules.exists():
        os.symlink(modules, d / "tools/grammars/node_modules")
    return d


def check_selection(tests: list[str]) -> None:
    """Every test file a selection names exists (pytest exits 4 on a missing one, which would count
    as a kill for every mutant)."""
    missing = [spec for spec in tests if not (ROOT / shlex.split(spec)[0]).is_file()]
    if missing:
        raise SystemExit(f"test selection names missing files: {missing} (scripts/mutation/run.py AREA_TESTS/FILE_TESTS)")


def _pytest(work: Path, args: list[str], timeout: float, times: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(work / "scripts/mutation"), os.environ.get("PYTHONPATH", "")])}
    if times is not None:
        env["LLMOBS_MUTATION_TIMES"] = str(times)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "timing_plugin", *args],
                          cwd=work, capture_output=True, text=True, timeout=timeout, env=env)


@dataclass
class Selection:
    """A selection's node ids, cheapest test file first (the order of the tests within a file kept:
    module fixtures are set up once)."""
    nodeids: list[str]
    seconds: float


_SELECTIONS: dict[tuple[str, ...], Selection] = {}


def baseline(work: Path, tests: list[str]) -> Selection:
    """Run the selection once on the unmutated tree; every test must pass."""
    key = tuple(tests)
    if key in _SELECTIONS:
        return _SELECTIONS[key]
    times = work / f".mutation-times-{len(_SELECTIONS)}.jsonl"
    start = time.monotonic()
    for spec in tests:
        out = _pytest(work, shlex.split(spec), timeout=3600, times=times)
        if out.returncode == 4:   # usage error (a bad path or -k): the selection is broken, not the mutant
            raise SystemExit(f"pytest usage error for {spec}:\n{out.stderr.strip()[-2000:]}")
        if out.returncode not in (0, 5):   # 5: a -k that matches nothing
            raise SystemExit(f"the unmutated tree fails {spec} (exit {out.returncode}): fix it or the selection "
                             f"before mutating:\n{out.stdout.strip()[-3000:]}")
    per_test: dict[str, float] = {}
    for line in times.read_text().splitlines() if times.exists() else []:
        r = json.loads(line)
        per_test[r["nodeid"]] = per_test.get(r["nodeid"], 0.0) + r["seconds"]
    by_file: dict[str, list[str]] = {}
    for nodeid in per_test:   # in the order they ran
        by_file.setdefault(nodeid.split("::")[0], []).append(nodeid)
    files = sorted(by_file, key=lambda f: sum(per_test[n] for n in by_file[f]))
    selection = Selection([n for f in files for n in by_file[f]], time.monotonic() - start)
    print(f"  baseline: {len(selection.nodeids)} tests in {len(files)} files, {selection.seconds:.0f}s", flush=True)
    _SELECTIONS[key] = selection
    return selection


def run_tests(work: Path, tests: list[str], timeout: float) -> tuple[str, float]:
    selection = baseline(work, tests)
    args = work / ".mutation-args"
    args.write_text("\n".join(selection.nodeids) + "\n")
    start = time.monotonic()
    try:
        out = _pytest(work, ["-x", f"@{args}"], timeout=timeout)
        if out.returncode == 4:   # a test id the mutant renamed (ids made from its strings): the specs as written
            return _run_specs(work, tests, timeout - (time.monotonic() - start), start)
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - start
    return ("killed" if out.returncode != 0 else "survived"), time.monotonic() - start


def _run_specs(work: Path, tests: list[str], timeout: float, start: float) -> tuple[str, float]:
    deadline = time.monotonic() + timeout
    for spec in tests:
        out = _pytest(work, ["-x", *shlex.split(spec)], timeout=max(1.0, deadline - time.monotonic()))
        if out.returncode not in (0, 5):   # 5: nothing selected, not a kill
            return "killed", time.monotonic() - start
    return "survived", time.monotonic() - start


def last_survivors(out: str, area: str) -> set[tuple[str, str]]:
    """(where, what) of the mutants that survived the area's last run in `out`."""
    runs = [json.loads(line) for line in Path(out).read_text().splitlines() if line.strip()]
    last = [r for r in runs if r["area"] == area][-1]
    return {(r["where"], r["what"]) for r in last["results"] if r["status"] == "survived"}


def run_python(area: str, sample: int, seed: int, timeout: float, only: str | None,
               survivors: set[tuple[str, str]] | None = None) -> list[dict]:
    files = [only] if only else area_files(area)
    every = [(f, i) for f in files for i in range(site_count(f))]
    rng = random.Random(seed)
    picked = sorted(rng.sample(every, min(sample, len(every)))) if sample else every
    chosen = [m for f in sorted({f for f, _ in picked}) for m in mutants_of(f, [i for g, i in picked if g == f])]
    if survivors is not None:   # the same sample, only those that survived last time
        chosen = [m for m in chosen if (f"{m.path}:{m.line}", m.what) in survivors]
    print(f"{area}: {len(every)} mutants in {len(files)} modules; running {len(chosen)}", flush=True)
    for f in sorted({m.path for m in chosen}):
        check_selection(tests_for(f, area))
    work = scratch()
    results = []
    for m in chosen:
        target = work / m.path
        original = target.read_text()
        baseline(work, tests_for(m.path, area))   # on the unmutated tree, once per selection
        target.write_text(m.source)
        try:
            status, took = run_tests(work, tests_for(m.path, area), timeout)
        finally:
            target.write_text(original)
        results.append({"area": area, "where": f"{m.path}:{m.line}", "what": m.what, "status": status, "seconds": round(took, 1)})
        print(f"  {status:8} {took:6.1f}s  {m.path}:{m.line}  {m.what}", flush=True)
    return results


def run_go(timeout: float) -> list[dict]:
    work = scratch()
    results = []
    print(f"go: {len(GO_MUTANTS)} hand-listed mutants", flush=True)
    for path, old, new, why in GO_MUTANTS:
        target = work / path
        original = target.read_text()
        assert original.count(old) == 1, f"{path}: {old!r} must occur exactly once"
        target.write_text(original.replace(old, new))
        start = time.monotonic()
        try:
            out = subprocess.run(["go", "test", "-count=1", "./..."], cwd=target.parent, capture_output=True, text=True,
                                 timeout=timeout)
            status = "killed" if out.returncode != 0 else "survived"
        except subprocess.TimeoutExpired:
            status = "timeout"
        finally:
            target.write_text(original)
        took = time.monotonic() - start
        results.append({"area": "go", "where": path, "what": why, "status": status, "seconds": round(took, 1)})
        print(f"  {status:8} {took:6.1f}s  {path}  {why}", flush=True)
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--area", required=True, choices=AREAS + ("go",))
    p.add_argument("--sample", type=int, default=0, help="run this many mutants, chosen at random (0: all)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=600, help="seconds per mutant (a timeout counts as killed)")
    p.add_argument("--module", help="only this module of the area (repo-relative path)")
    p.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    p.add_argument("--survivors", action="store_true",
                   help="run again only the mutants of the same sample that survived the area's last run in --out")
    p.add_argument("--out", default=str(ROOT / "scripts/mutation/results.jsonl"))
    args = p.parse_args()
    if args.list:
        if args.area == "go":
            for path, _, _, why in GO_MUTANTS:
                print(f"{path}  {why}")
        else:
            for f in [args.module] if args.module else area_files(args.area):
                for m in mutants_of(f):
                    print(f"{m.path}:{m.line}  {m.what}  -> {tests_for(m.path, args.area)}")
        return
    start = time.monotonic()
    survivors = last_survivors(args.out, args.area) if args.survivors else None
    results = run_go(args.timeout) if args.area == "go" else run_python(args.area, args.sample, args.seed, args.timeout,
                                                                        args.module, survivors)
    for work in Path(tempfile.gettempdir()).glob(f"llmobs-mutation-{os.getpid()}-*"):
        shutil.rmtree(work, ignore_errors=True)
    killed = sum(r["status"] != "survived" for r in results)
    took = time.monotonic() - start
    print(f"{args.area}: {killed}/{len(results)} killed ({100 * killed / max(1, len(results)):.0f}%) in {took / 60:.1f} min")
    with open(args.out, "a") as f:
        f.write(json.dumps({"area": args.area, "sample": args.sample, "seed": args.seed, "survivors_only": args.survivors,
                            "killed": killed,
                            "total": len(results), "minutes": round(took / 60, 1), "results": results}) + "\n")


if __name__ == "__main__":
    main()
