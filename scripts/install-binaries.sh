#!/usr/bin/env bash
# Install the real binaries that `stackctl up-local` and the end-to-end tests run,
# pinned by settings/versions.yaml where a registry serves them:
#   prometheus, promtool  built from the Prometheus module at the Go module version of the
#       images.prometheus release (Prometheus tags each v3.Y.Z release as Go module
#       v0.3YY.Z too: v3.5.0 = v0.305.0), inside the module tree (its go.mod has a replace).
#       Built without the `builtinassets` tag: no web UI, the API and everything the tests use work;
#       with only the service discoveries the configs use (scripts/overlays/prometheus).
#   alertmanager, amtool  go install at the images.alertmanager tag.
#   jaeger        go install github.com/jaegertracing/jaeger/cmd/jaeger at the Go module
#       version of the images.jaeger release (the module path has no /v2 suffix, so v2.x tags
#       cannot be used; Jaeger tags each v2.x release commit with a v1.x tag too), with only the
#       components the configs use (scripts/overlays/jaeger).
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

go_install() {  # name package version [module] [ldflags] [overlay]
  # With a module argument the package is built inside that module's own source tree,
  # so its go.mod replace directives apply (`go install pkg@version` refuses those).
  # -s -w: no symbol table or DWARF (a shorter link; nothing here debugs these binaries).
  # With an overlay (a directory under scripts/overlays/, module only), each of its files takes
  # the place of the module's file at the same path in a copy of the tree: the test binaries
  # leave out components the stack never configures. The cache key holds the overlay's hash.
  local name=$1 pkg=$2 version=$3 module=${4:-} ldflags="-s -w ${5:-}" overlay=${6:-} key=""
  if [ -n "$overlay" ]; then
    key=-$(cd "$root/scripts/overlays/$overlay" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-12)
  fi
  local dir="$cache/$name-$version$key"
  if [ -x "$dir/$name" ]; then
    echo "$name: cached $dir/$name" >&2
  else
    command -v go >/dev/null || { echo "install-binaries: go is needed to build $name" >&2; exit 1; }
    echo "$name: go install $pkg@$version${overlay:+ (overlay scripts/overlays/$overlay)}" >&2
    local start tmp
    start=$(date +%s)
    tmp=$(mktemp -d "$cache/.$name.XXXXXX")
    if [ -n "$module" ]; then
      local src
      src=$(go mod download -json "$module@$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
      if [ -n "$overlay" ]; then   # go build -overlay refuses files in the module cache: build a copy
        cp -r "$src" "$tmp/src" && chmod -R u+w "$tmp/src" && src="$tmp/src"
        python3 - "$root/scripts/overlays/$overlay" "$src" <<'PY'
import pathlib, shutil, sys
overlay, src = map(pathlib.Path, sys.argv[1:])
files = sorted(p.relative_to(overlay) for p in overlay.rglob("*") if p.is_file())
missing = [str(p) for p in files if not (src / p).is_file()]
if missing:   # an overlay only replaces: a path the release moved must fail here, not build a stray file
    sys.exit(f"install-binaries: the module has no {', '.join(missing)} to replace (update {overlay})")
for p in files:
    shutil.copyfile(overlay / p, src / p)
PY
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
for name in prometheus promtool; do
  if want "$name"; then
    go_install "$name" "github.com/prometheus/prometheus/cmd/$name" "$(prometheus_module_version "$prometheus_tag")" \
      github.com/prometheus/prometheus "$(stamp "$prometheus_tag")" prometheus
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
    github.com/jaegertracing/jaeger "" jaeger
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
