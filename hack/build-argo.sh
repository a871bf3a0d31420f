#!/usr/bin/env bash
# Builds Argo Workflows' workflow-controller and argoexec from the Go module github.com/argoproj/argo-workflows/v3
# into a cache outside the repository, once per version, with the module's own Workflow CRDs beside them. Prints the
# directory; the pipeline e2e test runs the controller from there and hack/images/build.sh puts argoexec in an image.
#
#   hack/build-argo.sh                  build what is missing, print the directory
#   hack/build-argo.sh --print-dir      print the directory only
#
# The directory holds bin/{workflow-controller,argoexec} and crds/{full,minimal}/*.yaml. ARGO_VERSION picks the
# release. v3.7.9 was the newest v3 the Go module proxy served here (v3.7.7 and v3.7.10 answer 403; the proxy
# does not list versions, so exact ones were asked for); v4.0.5 has reported security flaws and is not used.
# The module's source is built from a copy that restores one symlink the module zip lacks (copy_source).
set -euo pipefail
. "$(dirname "$0")/lib/go-build.sh"

ARGO_VERSION="${ARGO_VERSION:-v3.7.9}"
CACHE_ROOT="${HPCJOB_CACHE:-$HOME/.cache/hpcjob-operator}"
ARGO_DIR="$CACHE_ROOT/argo-$ARGO_VERSION"
MODULE=github.com/argoproj/argo-workflows/v3
BINARIES=(workflow-controller argoexec)

say() { echo "build-argo: $*" >&2; }
binaries_present() {
  local b
  for b in "${BINARIES[@]}"; do [ -x "$ARGO_DIR/bin/$b" ] || return 1; done
}
complete() { binaries_present && compgen -G "$ARGO_DIR/crds/full/*.yaml" >/dev/null; }

if [ "${1:-}" = "--print-dir" ]; then echo "$ARGO_DIR"; exit 0; fi
if complete; then echo "$ARGO_DIR"; exit 0; fi

WORK="$CACHE_ROOT/build/argo-$ARGO_VERSION"
mkdir -p "$ARGO_DIR/bin"
go_build_start "$WORK"
export GOFLAGS=-mod=mod
# The source copy, like the compile cache, serves this build only.
trap 'rm -rf "$GOCACHE" "$WORK/src" "$ARGO_DIR/crds.tmp"' EXIT

module_field() { go_module_field "$MODULE" "$ARGO_VERSION" "$1"; }

# Argo's repository has workflow/executor/osspecific/signal_linux.go as a symlink to signal_darwin.go (os-specific/
# before v3.7). Module zips leave symlinks out, so argoexec does not compile from the module as the proxy serves it
# ("undefined: Setpgid"). The build uses a copy of the module's source with that link put back; nothing else differs.
copy_source() {
  local dir
  rm -rf "$WORK/src"
  cp -R "$(module_field Dir)" "$WORK/src"
  chmod -R u+w "$WORK/src"
  for dir in "$WORK"/src/workflow/executor/osspecific "$WORK"/src/workflow/executor/os-specific; do
    if [ -f "$dir/signal_darwin.go" ] && [ ! -e "$dir/signal_linux.go" ]; then ln -s signal_darwin.go "$dir/signal_linux.go"; fi
  done
}

# `go install pkg@version` refuses a module with replace directives, and Argo's go.mod has some: a wrapper module
# requires Argo (the copy above) and repeats its replace lines (single-line or inside a block) so the build resolves
# as Argo's own does.
write_wrapper() {
  local upstream_mod
  upstream_mod="$(module_field GoMod)"
  [ -f "$upstream_mod" ] || { say "cannot fetch $MODULE@$ARGO_VERSION"; exit 1; }
  {
    echo "module hpcjob.local/argo"
    echo
    grep -m1 '^go ' "$upstream_mod"
    echo
    echo "require $MODULE $ARGO_VERSION"
    echo
    echo "replace $MODULE => ./src"
    awk '/^replace \($/ {inside=1; next} inside && /^\)$/ {inside=0; next}
         inside {print "replace " $0; next} /^replace / {print}' "$upstream_mod"
  } > go.mod
  cat > tools.go <<GO
//go:build tools

package tools

import (
	_ "$MODULE/cmd/argoexec"
	_ "$MODULE/cmd/workflow-controller"
)
GO
}

# The version variables are those Argo's Makefile sets; with the commit too, both binaries call themselves a
# release (`workflow-controller version` prints v3.7.9, not v3.7.9+unknown).
build_binaries() {
  binaries_present && return 0
  copy_source
  write_wrapper
  step "resolving modules for Argo Workflows $ARGO_VERSION" go mod tidy
  local ldflags="-s -w -X $MODULE.version=$ARGO_VERSION -X $MODULE.gitTag=$ARGO_VERSION -X $MODULE.gitTreeState=clean"
  ldflags="$ldflags -X $MODULE.gitCommit=$(module_field Hash)"
  local b
  for b in "${BINARIES[@]}"; do
    [ -x "$ARGO_DIR/bin/$b" ] && continue
    step "building $b" go build -trimpath -ldflags "$ldflags" -o "$WORK/$b" "$MODULE/cmd/$b"
    mv "$WORK/$b" "$ARGO_DIR/bin/$b"
  done
}

# The CRDs come from the same module version as the binaries. `full` has the whole validation schema (too big for
# a client-side apply: `kubectl apply --server-side`), `minimal` only the kinds.
copy_crds() {
  compgen -G "$ARGO_DIR/crds/full/*.yaml" >/dev/null && return 0
  local source variant
  source="$(module_field Dir)"
  [ -d "$source/manifests/base/crds/full" ] || { say "no CRDs in $MODULE@$ARGO_VERSION ($source)"; exit 1; }
  rm -rf "$ARGO_DIR/crds.tmp"
  for variant in full minimal; do
    mkdir -p "$ARGO_DIR/crds.tmp/$variant"
    cp "$source/manifests/base/crds/$variant"/argoproj.io_*.yaml "$ARGO_DIR/crds.tmp/$variant/"
  done
  chmod -R u+w,a+r "$ARGO_DIR/crds.tmp"
  rm -rf "$ARGO_DIR/crds"
  mv "$ARGO_DIR/crds.tmp" "$ARGO_DIR/crds"
}

build_binaries
copy_crds
complete
go_build_done "$ARGO_DIR"
echo "$ARGO_DIR"
