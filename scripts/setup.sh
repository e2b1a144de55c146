#!/usr/bin/env bash
# Everything the tests need, on a fresh machine: Debian packages, Python packages,
# the gateway collector (built from the manifest, cached per user) and the other
# pinned binaries. Idempotent; prints how long each step took.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
step() { local t=$SECONDS; "$@"; echo "setup: $* took $((SECONDS - t))s" >&2; }

apt_deps() {
  local need=()
  command -v promtool >/dev/null || need+=(prometheus)
  command -v amtool >/dev/null || need+=(prometheus-alertmanager)
  if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d: install the binaries without starting their services.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
  fi
}

step apt_deps
step python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r requirements-dev.txt
step bash scripts/build-collector.sh >/dev/null
if [ -f scripts/install-binaries.sh ]; then step bash scripts/install-binaries.sh >/dev/null; fi
# Grafana's LogQL/TraceQL grammars for the dashboard lint (versions locked in package-lock.json).
step npm ci --prefix tools/grammars --no-audit --no-fund --loglevel=error
