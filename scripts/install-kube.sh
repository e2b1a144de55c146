#!/usr/bin/env bash
# Install what the real API server tests (tests/test_apiserver.py) run, pinned in settings/versions.yaml:
#   kube-apiserver, kubectl  built at tools.kube from the Go module proxy: a module generated here
#       requires k8s.io/kubernetes and replaces each of its ./staging modules (required as v0.0.0)
#       with the published v0.X.Y of the same release; `go install` refuses k8s.io/kubernetes
#       itself because of its replace directives. A cold build takes ~13 min on 2 cores.
#   etcd          Debian's etcd-server, installed only when no etcd is on PATH.
#   CRDs          deploy/crds/ of github.com/cert-manager/cert-manager at tools.cert-manager-crds and
#       example/prometheus-operator-crd/ of github.com/prometheus-operator/prometheus-operator at
#       tools.prometheus-operator-crds, read from the module zips (`go mod download`).
# Idempotent: cached per version in ${LLMOBS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llmobs} and
# linked into .bin/ (kube-apiserver, kubectl, etcd, crds/cert-manager, crds/prometheus-operator).
# Prints `name=path` lines on stdout; progress goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="${LLMOBS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llmobs}"
pin() { python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["tools"][sys.argv[2]])' \
  "$root/settings/versions.yaml" "$1"; }
mkdir -p "$cache" "$root/.bin/crds"
link() { ln -sfn "$2" "$root/.bin/$1"; echo "$1=$2"; }
module_dir() { go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'; }

kube=$(pin kube)
dir="$cache/kube-$kube"
if [ -x "$dir/kube-apiserver" ] && [ -x "$dir/kubectl" ]; then
  echo "kube: cached $dir" >&2
else
  command -v go >/dev/null || { echo "install-kube: go is needed to build kube-apiserver" >&2; exit 1; }
  start=$(date +%s)
  staging=v0.${kube#v1.}           # v1.37.2 -> v0.37.2
  src=$(module_dir "k8s.io/kubernetes@$kube")
  tmp=$(mktemp -d "$cache/.kube.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  mkdir "$tmp/mod"
  {
    echo "module llmobs.local/kube"
    sed -n 's/^go \(.*\)/go \1/p' "$src/go.mod"
    echo "require k8s.io/kubernetes $kube"
    # Every module kubernetes requires as v0.0.0 is one of its ./staging replaces.
    sed -n 's/^\t\(k8s\.io\/[^ ]*\) v0\.0\.0$/replace \1 => \1 '"$staging"'/p' "$src/go.mod"
  } >"$tmp/mod/go.mod"
  echo "kube: building kube-apiserver, kubectl $kube ($(grep -c ^replace "$tmp/mod/go.mod") staging modules at $staging)" >&2
  ldflags="-s -w"   # no symbol table or DWARF: a shorter link; nothing here debugs these binaries
  minor=${kube#v1.}; minor=${minor%%.*}
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldflags+=" -X $pkg.gitVersion=$kube -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  # -mod=mod: resolve go.sum from the proxy (checked against sum.golang.org); CGO off as in the release builds.
  (cd "$tmp/mod" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl) >&2
  mkdir -p "$tmp/out"
  mv "$tmp/kube-apiserver" "$tmp/kubectl" "$tmp/mod/go.mod" "$tmp/mod/go.sum" "$tmp/out/"
  rm -rf "$dir"; mv "$tmp/out" "$dir"
  echo "kube: built in $(( $(date +%s) - start ))s" >&2
fi
link kube-apiserver "$dir/kube-apiserver"
link kubectl "$dir/kubectl"

if ! command -v etcd >/dev/null; then
  echo "etcd: apt-get install etcd-server" >&2
  root_do() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  root_do apt-get update -qq >&2
  root_do env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >&2
fi
link etcd "$(command -v etcd)"

crds() {  # name module version subdir
  local out="$cache/crds-$1-$3"
  if [ ! -d "$out" ]; then
    local src tmp
    src=$(module_dir "$2@$3")
    tmp=$(mktemp -d "$cache/.crds.XXXXXX")
    cp "$src/$4"/*.yaml "$tmp/"
    chmod -R u+w "$tmp"
    rm -rf "$out"; mv "$tmp" "$out"
  fi
  link "crds/$1" "$out"
}
crds cert-manager github.com/cert-manager/cert-manager "$(pin cert-manager-crds)" deploy/crds
crds prometheus-operator github.com/prometheus-operator/prometheus-operator "$(pin prometheus-operator-crds)" \
  example/prometheus-operator-crd
