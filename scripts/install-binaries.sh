#!/usr/bin/env bash
# Install the real binaries that `stackctl up-local` and the end-to-end tests run,
# pinned by settings/versions.yaml where a registry serves them:
#   prometheus, promtool  built from the Prometheus module at the Go module version of the
#       images.prometheus release (Prometheus tags each v3.Y.Z release as Go module
#       v0.3YY.Z too: v3.5.0 = v0.305.0), inside the module tree (its go.mod has a replace).
#       Built without the `builtinassets` tag: no web UI, the API and everything the tests use work;
#       with only the service discoveries the configs use (prometheus_sd below).
#   alertmanager, amtool  go install at the images.alertmanager tag.
#   jaeger        go install github.com/jaegertracing/jaeger/cmd/jaeger at the Go module
#       version of the images.jaeger release (the module path has no /v2 suffix, so v2.x tags
#       cannot be used; Jaeger tags each v2.x release commit with a v1.x tag too).
#   telemetrygen  go install .../cmd/telemetrygen at the collector release.
#   kube-score    go install github.com/zegl/kube-score/cmd/kube-score at tools.kube-score.
#   checkov       pip install checkov==tools.checkov into a venv of its own (it pins many
#       libraries the project also uses), cached per version like the Go binaries.
# Idempotent: Go binaries are cached per version in
# ${LLMOBS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llmobs} and linked into .bin/ (git-ignored).
# Prints `name=path` lines on stdout, one per binary; progress goes to stderr.
# Usage: scripts/install-binaries.sh [--only NAME[,NAME...]]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
versions="$root/settings/versions.yaml"
cache="${LLMOBS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llmobs}"
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only=",$2,"; shift ;;
    *) echo "usage: $0 [--only NAME[,NAME...]]" >&2; exit 2 ;;
  esac
  shift
done
want() { [ -z "$only" ] || [[ "$only" == *",$1,"* ]]; }

pin() {  # pin images.jaeger.tag | pin collector.release
  python3 - "$versions" "$1" <<'EOF'
import sys, yaml
node = yaml.safe_load(open(sys.argv[1]))
for part in sys.argv[2].split("."):
    node = node[part]
print(node)
EOF
}

# Jaeger image tag (v2.x) -> Go module version of the same release commit that the Go
# module proxy serves (it answers 403 for the v2.x tags). Add a row when bumping the image.
jaeger_module_version() {
  case "$1" in
    2.8.0) echo "v1.71.0" ;;   # v2.8.0 and v1.71.0 tag one release (2025-07); commit d321ea3e86c3
    *) echo "install-binaries: no Go module version known for jaeger image tag $1;" \
            "add it to jaeger_module_version() (go list -m -json github.com/jaegertracing/jaeger@<v1.x>)" >&2
       return 1 ;;
  esac
}

mkdir -p "$cache" "$root/.bin"
link() { ln -sfn "$2" "$root/.bin/$1"; echo "$1=$2"; }

go_install() {  # name package version [module] [ldflags] [prometheus SD plugins]
  # With a module argument the package is built inside that module's own source tree,
  # so its go.mod replace directives apply (`go install pkg@version` refuses those).
  # -s -w: no symbol table or DWARF (a shorter link; nothing here debugs these binaries).
  # With SD plugins (Prometheus only), a copy of the tree is built with plugins/plugins.go
  # listing just those: what Prometheus' README documents (edit plugins.yml, `make plugins`).
  local name=$1 pkg=$2 version=$3 module=${4:-} ldflags="-s -w ${5:-}" plugins=${6:-}
  local dir="$cache/$name-$version${plugins:+-sd-${plugins// /-}}"
  if [ -x "$dir/$name" ]; then
    echo "$name: cached $dir/$name" >&2
  else
    command -v go >/dev/null || { echo "install-binaries: go is needed to build $name" >&2; exit 1; }
    echo "$name: go install $pkg@$version" >&2
    local start tmp
    start=$(date +%s)
    tmp=$(mktemp -d "$cache/.$name.XXXXXX")
    if [ -n "$module" ]; then
      local src
      src=$(go mod download -json "$module@$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
      if [ -n "$plugins" ]; then
        cp -r "$src" "$tmp/src" && chmod -R u+w "$tmp/src" && src="$tmp/src"
        { printf 'package plugins\n\nimport (\n'
          for p in $plugins; do printf '\t_ "github.com/prometheus/prometheus/discovery/%s"\n' "$p"; done
          printf ')\n'; } > "$src/plugins/plugins.go"
      fi
      (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "$ldflags" -o "$tmp/$name" \
        "./${pkg#"$module"/}") >&2
      rm -rf "$tmp/src"
    else
      # GOFLAGS=-mod=mod: build with the module's own go.mod, never a vendor dir; CGO off: static.
      CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-mod=mod go install -trimpath -ldflags "$ldflags" "$pkg@$version" >&2
    fi
    rm -rf "$dir"; mv "$tmp" "$dir"
    echo "$name: built in $(( $(date +%s) - start ))s" >&2
  fi
  link "$name" "$dir/$name"
}

# Prometheus image tag v3.X.Y -> Go module version v0.3XX.Y (the proxy serves no v3 tags:
# the module path has no /v3 suffix).
prometheus_module_version() {
  local tag=${1#v} major minor patch
  IFS=. read -r major minor patch <<<"$tag"
  [ "$major" = 3 ] || { echo "install-binaries: no Go module scheme known for Prometheus $1" >&2; return 1; }
  printf 'v0.3%02d.%s\n' "$minor" "$patch"
}

# Prometheus' own builds stamp the release into `--version` (the tests check it against the pin).
stamp() { echo "-X github.com/prometheus/common/version.Version=${1#v}"; }
prometheus_tag=$(pin images.prometheus.tag)
# The service discoveries the generated configs use (dns: the collector pods; kubernetes kept for
# configs teams bring); file and http are always in (plugins/minimum.go). The cloud ones pull in
# the EC2, Azure and GCE SDKs: about a third of a cold Prometheus build. A config that uses another
# fails `promtool check config` in tests/test_backends.py.
prometheus_sd="dns kubernetes"
for name in prometheus promtool; do
  if want "$name"; then
    go_install "$name" "github.com/prometheus/prometheus/cmd/$name" "$(prometheus_module_version "$prometheus_tag")" \
      github.com/prometheus/prometheus "$(stamp "$prometheus_tag")" "$prometheus_sd"
  fi
done
alertmanager_tag=$(pin images.alertmanager.tag)
for name in alertmanager amtool; do
  if want "$name"; then
    go_install "$name" "github.com/prometheus/alertmanager/cmd/$name" "$alertmanager_tag" "" "$(stamp "$alertmanager_tag")"
  fi
done
if want jaeger; then
  go_install jaeger github.com/jaegertracing/jaeger/cmd/jaeger "$(jaeger_module_version "$(pin images.jaeger.tag)")" \
    github.com/jaegertracing/jaeger
fi
if want telemetrygen; then
  go_install telemetrygen github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen "v$(pin collector.release)"
fi
if want actionlint; then
  go_install actionlint github.com/rhysd/actionlint/cmd/actionlint "$(pin tools.actionlint)"
fi
if want kube-score; then
  go_install kube-score github.com/zegl/kube-score/cmd/kube-score "$(pin tools.kube-score)"
fi
if want checkov; then
  version=$(pin tools.checkov)
  dir="$cache/checkov-$version"
  if [ -x "$dir/bin/checkov" ]; then
    echo "checkov: cached $dir/bin/checkov" >&2
  else
    echo "checkov: pip install checkov==$version" >&2
    rm -rf "$dir.tmp"
    python3 -m venv "$dir.tmp"
    "$dir.tmp/bin/pip" install -q --disable-pip-version-check "checkov==$version" >&2
    rm -rf "$dir"; mv "$dir.tmp" "$dir"
    # The venv's scripts name their interpreter by path: re-point them after the move.
    find "$dir/bin" -maxdepth 1 -type f -exec sed -i "1s|$dir.tmp|$dir|" {} +
  fi
  link checkov "$dir/bin/checkov"
fi
