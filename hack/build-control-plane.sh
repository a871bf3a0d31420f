#!/usr/bin/env bash
# Builds the local control plane (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd, kwok) and
# the kubelet of the real node from upstream Go modules into a cache outside the repository, once per version.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
CACHE_ROOT="${HPCJOB_CACHE:-$HOME/.cache/hpcjob-operator}"
BIN_DIR="$CACHE_ROOT/k8s-$K8S_VERSION-kwok-$KWOK_VERSION/bin"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet etcd kwok)

all_present() {
  local b
  for b in "${BINARIES[@]}"; do [ -x "$BIN_DIR/$b" ] || return 1; done
}

if [ "${1:-}" = "--print-bin-dir" ]; then echo "$BIN_DIR"; exit 0; fi
if all_present; then echo "$BIN_DIR"; exit 0; fi

[ -x /usr/local/go/bin/go ] && case ":$PATH:" in *":/usr/local/go/bin:"*) ;; *) PATH="/usr/local/go/bin:$PATH" ;; esac
command -v go >/dev/null || { echo "build-control-plane: Go is required (none on PATH or in /usr/local/go)" >&2; exit 1; }
mkdir -p "$BIN_DIR"
work="$CACHE_ROOT/build/k8s-$K8S_VERSION"
mkdir -p "$work"
minor="${K8S_VERSION#v1.}"        # 36.3
staging_tag="v0.$minor"           # v0.36.3

# k8s.io/kubernetes points every staging module at a local directory, which only works inside its own repo.
# A wrapper module replaces each of them with its published v0.<minor>.<patch> tag instead.
upstream_mod="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
[ -f "$upstream_mod" ] || { echo "build-control-plane: cannot fetch k8s.io/kubernetes@$K8S_VERSION" >&2; exit 1; }
go_line="$(grep -m1 '^go ' "$upstream_mod")"
{
  echo "module hpcjob.local/controlplane"
  echo
  echo "$go_line"
  grep '^godebug ' "$upstream_mod" || true
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  echo "replace ("
  grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$upstream_mod" | awk -v tag="$staging_tag" '{print "\t" $1 " => " $1 " " tag}'
  echo ")"
} > "$work/go.mod"
cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO

cd "$work"
# One progress line per step on the terminal; the Go tool's own output (pages of downloads) goes to a log.
build_log="$work/build.log"
: > "$build_log"
build_started=$SECONDS
step() { echo "build-control-plane: [$((SECONDS - build_started))s] $* (log: $build_log)" >&2; }
step "resolving modules for Kubernetes $K8S_VERSION"

go mod tidy -e >/dev/null 2>"$work/tidy.log" || { cat "$work/tidy.log" >&2; exit 1; }

ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*} -X $pkg.gitTreeState=clean"
done
export CGO_ENABLED=0
# The compile cache (several GiB) is only useful during this build; the binaries are what is kept.
export GOCACHE="$work/gocache"
trap 'rm -rf "$GOCACHE"' EXIT
for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet; do
  if [ ! -x "$BIN_DIR/$cmd" ]; then
    step "building $cmd"
    go build -trimpath -ldflags "$ldflags" -o "$BIN_DIR/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd" >>"$build_log" 2>&1 ||
      { tail -n 30 "$build_log" >&2; exit 1; }
    mv "$BIN_DIR/$cmd.tmp" "$BIN_DIR/$cmd"
  fi
done
if [ ! -x "$BIN_DIR/etcd" ]; then
  step "building etcd"
  go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/etcd.tmp" go.etcd.io/etcd/server/v3 >>"$build_log" 2>&1 ||
    { tail -n 30 "$build_log" >&2; exit 1; }
  mv "$BIN_DIR/etcd.tmp" "$BIN_DIR/etcd"
fi
if [ ! -x "$BIN_DIR/kwok" ]; then
  step "building kwok $KWOK_VERSION"
  GOBIN="$BIN_DIR" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >>"$build_log" 2>&1 ||
    { tail -n 30 "$build_log" >&2; exit 1; }
fi
all_present
step "done: $BIN_DIR"
echo "$BIN_DIR"
