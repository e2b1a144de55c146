#!/usr/bin/env bash
# Everything the tests need, on a fresh machine: Python packages (also the docs site's), the gateway
# collector (built from the manifest, cached per user) and the other pinned binaries
# (Prometheus, Alertmanager, Jaeger, ... built by go install, cached per version), and a
# real API server (kube-apiserver, kubectl, etcd, CRDs).
# Idempotent; prints how long each step took.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
step() { local t=$SECONDS; "$@"; echo "setup: $* took $((SECONDS - t))s" >&2; }

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

step python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r requirements-dev.txt
# The docs site (mkdocs-material), built by tests/test_docs.py.
step python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r requirements-docs.txt
step alias_wheels
step bash scripts/build-collector.sh >/dev/null
if [ -f scripts/install-binaries.sh ]; then step bash scripts/install-binaries.sh >/dev/null; fi
# kube-apiserver, kubectl (cold: ~13 min on 2 cores), etcd and the real CRDs for tests/test_apiserver.py.
step bash scripts/install-kube.sh >/dev/null
# Grafana's LogQL/TraceQL grammars for the dashboard lint (versions locked in package-lock.json).
step npm ci --prefix tools/grammars --no-audit --no-fund --loglevel=error
