#!/usr/bin/env bash
# Everything the tests need, on a fresh machine: Python packages (also the docs site's), the gateway
# collector (built from the manifest, cached per user) and the other pinned binaries
# (Prometheus, Alertmanager, Jaeger, ... built by go install, cached per version), and a
# real API server (kube-apiserver, kubectl, etcd, CRDs).
# Idempotent; prints how long each step took.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib-step.sh

# Wheels (never installed) of the alias table's source releases that pip cannot install here,
# read by tests/test_alias_sources.py; cached per version, linked at .bin/alias-wheels.
alias_wheels() {
  local dir="${LLMOBS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llmobs}/alias-wheels" spec
  mkdir -p "$dir" .bin
  for spec in $(python3 -c 'from tests.alias_packages import wheel_specs; print(*wheel_specs())'); do
    local file_prefix="${spec%%==*}"; file_prefix="${file_prefix//-/_}-${spec##*==}-"
    compgen -G "$dir/$file_prefix*.whl" >/dev/null || python3 -m pip download -q --disable-pip-version-check \
      --no-deps --only-binary=:all: -d "$dir" "$spec"
  done
  ln -sfn "$dir" .bin/alias-wheels
}

# The Go builds in two streams side by side: on a cold machine one stream's module downloads and
# single-threaded links overlap the other's compiles. Each stream orders builds that share
# packages one after the other, so the build cache serves the second (the collector, telemetrygen
# and Jaeger share the collector's packages; kube-apiserver and Prometheus share client-go).
# Go's module and build caches are safe for concurrent use.
stream() {  # name command...: runs in the background, its stderr prefixed with its name
  local name=$1; shift
  ( "$@" 2>&1 >/dev/null | sed -u "s/^/[$name] /" >&2; exit "${PIPESTATUS[0]}" ) &
  pids+=("$!"); names+=("$name")
}
pids=(); names=()
# The kube stream reads only the version pins (PyYAML): it starts before the Python packages, whose
# install (a minute, mostly one core: downloads, unpacking) would otherwise leave a core idle.
step python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
  "$(grep -i '^pyyaml==' requirements.txt)"
# kube-apiserver, kubectl (cold: ~13 min on 2 cores), etcd and the real CRDs for tests/test_apiserver.py.
stream kube   bash -c 'set -e; . scripts/lib-step.sh; step bash scripts/install-kube.sh
  step bash scripts/install-binaries.sh --only prometheus,promtool,alertmanager,amtool,kube-score,actionlint'
step python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r requirements-dev.txt
# The docs site (mkdocs-material), built by tests/test_docs.py.
step python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r requirements-docs.txt
# The collector's cache key is computed by the project's own code (collector_config.image).
stream otel   bash -c 'set -e; . scripts/lib-step.sh; step bash scripts/build-collector.sh
  step bash scripts/install-binaries.sh --only telemetrygen,jaeger'
# checkov (its own venv), the alias wheels and Grafana's LogQL/TraceQL grammars for the dashboard
# lint (package-lock.json).
export -f alias_wheels
stream tools  bash -c 'set -e; . scripts/lib-step.sh; step bash scripts/install-binaries.sh --only checkov
  step alias_wheels
  step npm ci --prefix tools/grammars --no-audit --no-fund --loglevel=error'
failed=()
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${names[$i]}"); done
[ ${#failed[@]} -eq 0 ] || { echo "setup: failed: ${failed[*]} (see the [name] lines above)" >&2; exit 1; }
echo "setup: done in ${SECONDS}s" >&2
