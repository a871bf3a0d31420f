#!/usr/bin/env bash
# The PodGroup CRDs of Volcano and scheduler-plugins, for the unit tests that validate the operator's PodGroups
# against their schemas. Fetched through the Go module proxy into a cache outside the repository, once per version:
#   scheduler-plugins: config/crd/bases/scheduling.x-k8s.io_podgroups.yaml of its module, as released.
#   Volcano: the module volcano.sh/volcano (whose config/crd/volcano/bases holds the YAML) is not served by the
#   proxy; its API types are, as volcano.sh/apis, and Volcano generates that YAML from them with controller-gen.
#   The same generator, at the version and with the options Volcano's Makefile uses, gives the same schema.
# Prints the directory with --print-dir (nothing is fetched); otherwise prints nothing unless it has work to do.
set -euo pipefail

VOLCANO_APIS_VERSION="${VOLCANO_APIS_VERSION:-v1.14.0}"
CONTROLLER_TOOLS_VERSION="${CONTROLLER_TOOLS_VERSION:-v0.18.0}"
SCHEDULER_PLUGINS_VERSION="${SCHEDULER_PLUGINS_VERSION:-v0.34.7}"
CACHE_ROOT="${HPCJOB_CACHE:-$HOME/.cache/hpcjob-operator}"
DIR="$CACHE_ROOT/scheduler-crds-volcano-apis-$VOLCANO_APIS_VERSION-controller-gen-$CONTROLLER_TOOLS_VERSION-scheduler-plugins-$SCHEDULER_PLUGINS_VERSION"
FILES=(scheduling.volcano.sh_podgroups.yaml scheduling.x-k8s.io_podgroups.yaml)

if [ "${1:-}" = "--print-dir" ]; then echo "$DIR"; exit 0; fi
complete() {
  local f
  for f in "${FILES[@]}"; do [ -s "$DIR/$f" ] || return 1; done
}
if complete; then exit 0; fi

[ -x /usr/local/go/bin/go ] && case ":$PATH:" in *":/usr/local/go/bin:"*) ;; *) PATH="/usr/local/go/bin:$PATH" ;; esac
command -v go >/dev/null || { echo "fetch-scheduler-crds: Go is required (none on PATH or in /usr/local/go)" >&2; exit 1; }
echo "fetch-scheduler-crds: fetching the PodGroup CRDs into $DIR" >&2

# The extracted module's directory, from `go mod download -json` (run outside any module); its error if none.
module_dir() {
  local json dir
  json="$(cd / && GOFLAGS=-mod=mod go mod download -json "$1" 2>&1)" || true
  dir="$(sed -n 's/^\s*"Dir": "\(.*\)",\?$/\1/p' <<<"$json")"
  [ -n "$dir" ] && [ -d "$dir" ] || { echo "fetch-scheduler-crds: cannot download $1: $json" >&2; exit 1; }
  echo "$dir"
}

controller_gen_dir="$CACHE_ROOT/controller-gen-$CONTROLLER_TOOLS_VERSION"
if [ ! -x "$controller_gen_dir/controller-gen" ]; then
  build_log="$(GOBIN="$controller_gen_dir" CGO_ENABLED=0 go install -trimpath \
    "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_TOOLS_VERSION" 2>&1)" ||
    { echo "fetch-scheduler-crds: cannot build controller-gen $CONTROLLER_TOOLS_VERSION: $build_log" >&2; exit 1; }
fi

mkdir -p "$CACHE_ROOT"
work="$(mktemp -d "$CACHE_ROOT/scheduler-crds.XXXXXX")"
trap 'rm -rf "$work"' EXIT

plugins="$(module_dir "sigs.k8s.io/scheduler-plugins@$SCHEDULER_PLUGINS_VERSION")"
cp "$plugins/config/crd/bases/scheduling.x-k8s.io_podgroups.yaml" "$work/"

volcano="$(module_dir "volcano.sh/apis@$VOLCANO_APIS_VERSION")"
# Volcano's Makefile: CRD_OPTIONS="crd:crdVersions=v1,generateEmbeddedObjectMeta=true" on scheduling/v1beta1.
# The module cache is read-only: its go.mod and go.sum are used as they are.
(cd "$volcano" && GOFLAGS=-mod=readonly "$controller_gen_dir/controller-gen" crd:crdVersions=v1,generateEmbeddedObjectMeta=true \
  paths=./pkg/apis/scheduling/v1beta1 output:crd:dir="$work/volcano") >&2
cp "$work/volcano/scheduling.volcano.sh_podgroups.yaml" "$work/"

mkdir -p "$DIR"
for f in "${FILES[@]}"; do install -m 0644 "$work/$f" "$DIR/$f.tmp" && mv "$DIR/$f.tmp" "$DIR/$f"; done
complete
