#!/usr/bin/env bash
# Build the gateway collector from collector_config/distribution/manifest.yaml with the
# OpenTelemetry Collector Builder. The binary is cached per user, keyed by the hash of the
# manifest and the project's own components beside it, so a fresh clone on the same machine
# reuses it; it is rebuilt only when one of them changes. Prints the binary's path on stdout (last line).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dist="$root/collector_config/distribution"
manifest="$dist/manifest.yaml"
cache="${LLMOBS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llmobs}"
builder_version=$(python3 -c 'import yaml,sys; print(yaml.safe_load(open(sys.argv[1]))["dist"]["version"])' "$manifest")
key=$(cd "$root" && python3 -m collector_config.image --binary-key)
out="$cache/otelcol-llmobs-$key"
bin="$out/otelcol-llmobs"
mkdir -p "$root/.bin"
if [ -x "$bin" ]; then
  echo "collector: cached $bin" >&2
else
  builder="$cache/ocb-v$builder_version/builder"
  if [ ! -x "$builder" ]; then
    echo "collector: installing builder v$builder_version" >&2
    GOBIN="$cache/ocb-v$builder_version" GOFLAGS=-mod=mod go install "go.opentelemetry.io/collector/cmd/builder@v$builder_version"
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  sed "s#output_path: .*#output_path: $work/build#" "$manifest" > "$work/manifest.yaml"
  start=$(date +%s)
  echo "collector: building (manifest $key)" >&2
  # Local component paths in the manifest are relative to its directory.
  (cd "$dist" && "$builder" --config "$work/manifest.yaml" >&2)
  mkdir -p "$out"
  cp "$work/build/otelcol-llmobs" "$bin.tmp" && mv "$bin.tmp" "$bin"
  echo "collector: built in $(( $(date +%s) - start ))s" >&2
fi
ln -sfn "$bin" "$root/.bin/otelcol-llmobs"
echo "$bin"
