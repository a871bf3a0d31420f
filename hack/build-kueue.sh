#!/usr/bin/env bash
# Builds the Kueue manager from its Go module (sigs.k8s.io/kueue) into a cache outside the repository, once per
# version, with the module's base CRDs beside it (config/components/crd/bases: no conversion webhook, unlike the
# release manifests). Prints the directory; the integration tests run Kueue from there.
#
#   hack/build-kueue.sh                  build what is missing, print the directory
#   hack/build-kueue.sh --print-dir      print the directory only
#
# The directory holds bin/kueue and crds/*.yaml. KUEUE_VERSION picks the release; v0.17.0 was the newest the Go
# module proxy listed (`go list -m -versions sigs.k8s.io/kueue`) when this was written.
set -euo pipefail
. "$(dirname "$0")/lib/go-build.sh"

KUEUE_VERSION="${KUEUE_VERSION:-v0.17.0}"
CACHE_ROOT="${HPCJOB_CACHE:-$HOME/.cache/hpcjob-operator}"
KUEUE_DIR="$CACHE_ROOT/kueue-$KUEUE_VERSION"
MODULE=sigs.k8s.io/kueue

say() { echo "build-kueue: $*" >&2; }
complete() { [ -x "$KUEUE_DIR/bin/kueue" ] && compgen -G "$KUEUE_DIR/crds/*.yaml" >/dev/null; }

if [ "${1:-}" = "--print-dir" ]; then echo "$KUEUE_DIR"; exit 0; fi
if complete; then echo "$KUEUE_DIR"; exit 0; fi

WORK="$CACHE_ROOT/build/kueue-$KUEUE_VERSION"
mkdir -p "$KUEUE_DIR/bin"
go_build_start "$WORK"
trap 'rm -rf "$GOCACHE" "$WORK/gobin" "$KUEUE_DIR/crds.tmp"' EXIT

# The module has no replace directives, so `go install pkg@version` builds it from its own go.mod. The version
# variables are those Kueue's Makefile sets; the manager logs them at start.
build_manager() {
  [ -x "$KUEUE_DIR/bin/kueue" ] && return 0
  rm -rf "$WORK/gobin"
  step "building the Kueue manager $KUEUE_VERSION" env GOBIN="$WORK/gobin" go install -trimpath \
    -ldflags "-s -w -X $MODULE/pkg/version.GitVersion=$KUEUE_VERSION" "$MODULE/cmd/kueue@$KUEUE_VERSION"
  mv "$WORK/gobin/kueue" "$KUEUE_DIR/bin/kueue"
}

# The CRDs come from the same module version as the binary: the module cache has its source tree.
copy_crds() {
  compgen -G "$KUEUE_DIR/crds/*.yaml" >/dev/null && return 0
  local source
  source="$(go_module_field "$MODULE" "$KUEUE_VERSION" Dir)"
  [ -d "$source/config/components/crd/bases" ] || { say "no CRD bases in $MODULE@$KUEUE_VERSION ($source)"; exit 1; }
  rm -rf "$KUEUE_DIR/crds.tmp"
  mkdir -p "$KUEUE_DIR/crds.tmp"
  cp "$source"/config/components/crd/bases/*.yaml "$KUEUE_DIR/crds.tmp/"
  chmod 0644 "$KUEUE_DIR"/crds.tmp/*.yaml
  rm -rf "$KUEUE_DIR/crds"
  mv "$KUEUE_DIR/crds.tmp" "$KUEUE_DIR/crds"
}

build_manager
copy_crds
complete
go_build_done "$KUEUE_DIR"
echo "$KUEUE_DIR"
