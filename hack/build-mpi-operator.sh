#!/usr/bin/env bash
# Builds Kubeflow MPI Operator (the peer in hack/bench/run.sh) from the Go module github.com/kubeflow/mpi-operator
# into a cache outside the repository, once per version, with its MPIJob CRD and ClusterRole beside it. Prints the
# directory.
#
#   hack/build-mpi-operator.sh               build what is missing, print the directory
#   hack/build-mpi-operator.sh --print-dir   print the directory only
#
# The directory holds bin/mpi-operator and manifests/{kubeflow.org_mpijobs.yaml,cluster-role.yaml}.
# MPI_OPERATOR_VERSION picks the release (v0.8.2, the newest the module proxy serves here). `go install pkg@version`
# cannot be used: it asks the proxy for the module's version list, which the proxy here refuses (403). A wrapper
# module that requires the exact version resolves without the list.
set -euo pipefail
. "$(dirname "$0")/lib/go-build.sh"

VERSION="${MPI_OPERATOR_VERSION:-v0.8.2}"
CACHE_ROOT="${HPCJOB_CACHE:-$HOME/.cache/hpcjob-operator}"
OUT_DIR="$CACHE_ROOT/mpi-operator-$VERSION"
MODULE=github.com/kubeflow/mpi-operator
MANIFESTS=(kubeflow.org_mpijobs.yaml cluster-role.yaml)

say() { echo "build-mpi-operator: $*" >&2; }
complete() {
  local m
  [ -x "$OUT_DIR/bin/mpi-operator" ] || return 1
  for m in "${MANIFESTS[@]}"; do [ -f "$OUT_DIR/manifests/$m" ] || return 1; done
}

if [ "${1:-}" = "--print-dir" ]; then echo "$OUT_DIR"; exit 0; fi
if complete; then echo "$OUT_DIR"; exit 0; fi

WORK="$CACHE_ROOT/build/mpi-operator-$VERSION"
mkdir -p "$OUT_DIR/bin"
go_build_start "$WORK"
export GOFLAGS=-mod=mod
trap 'rm -rf "$GOCACHE" "$OUT_DIR/manifests.tmp"' EXIT

module_field() { go_module_field "$MODULE" "$VERSION" "$1"; }

# The wrapper asks for the exact version and the Go version the module itself declares; MPI Operator's go.mod has
# no replace directives, so nothing else is needed. -mod=mod fills in go.sum and the indirect requirements.
write_wrapper() {
  local upstream_mod
  upstream_mod="$(module_field GoMod)"
  [ -f "$upstream_mod" ] || { say "cannot fetch $MODULE@$VERSION"; exit 1; }
  grep -q '^replace' "$upstream_mod" && { say "$MODULE@$VERSION has replace directives: the wrapper would need them"; exit 1; }
  {
    echo "module hpcjob.local/mpi-operator"
    echo
    grep -m1 '^go ' "$upstream_mod"
    echo
    echo "require $MODULE $VERSION"
  } > go.mod
}

# The variables the project's Makefile sets, so `mpi-operator --version` names the release.
build_binary() {
  [ -x "$OUT_DIR/bin/mpi-operator" ] && return 0
  step "fetching $MODULE@$VERSION" module_field Dir
  write_wrapper
  local ldflags="-s -w -X $MODULE/pkg/version.Version=$VERSION -X $MODULE/pkg/version.GitSHA=$(module_field Hash)"
  step "building mpi-operator $VERSION (several minutes on 2 cores)" \
    go build -trimpath -ldflags "$ldflags" -o "$WORK/mpi-operator" "$MODULE/cmd/mpi-operator"
  mv "$WORK/mpi-operator" "$OUT_DIR/bin/mpi-operator"
}

# The CRD and the ClusterRole of the same version; the CRD is too large for a client-side apply (use --server-side).
copy_manifests() {
  local source m
  source="$(module_field Dir)/manifests/base"
  for m in "${MANIFESTS[@]}"; do [ -f "$source/$m" ] || { say "no $m in $source"; exit 1; }; done
  rm -rf "$OUT_DIR/manifests.tmp"
  mkdir -p "$OUT_DIR/manifests.tmp"
  for m in "${MANIFESTS[@]}"; do cp "$source/$m" "$OUT_DIR/manifests.tmp/"; done
  chmod -R u+w,a+r "$OUT_DIR/manifests.tmp"
  rm -rf "$OUT_DIR/manifests"
  mv "$OUT_DIR/manifests.tmp" "$OUT_DIR/manifests"
}

build_binary
copy_manifests
complete
go_build_done "$OUT_DIR"
echo "$OUT_DIR"
