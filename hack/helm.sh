#!/usr/bin/env bash
# Runs helm, built once from its Go module into the cache (helm is not a Debian package in bookworm).
#   bash hack/helm.sh template charts/hpcjob-operator ...
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
dir="${HPCJOB_CACHE:-$HOME/.cache/hpcjob-operator}/helm-$HELM_VERSION"
if [ ! -x "$dir/helm" ]; then
  [ -x /usr/local/go/bin/go ] && PATH="/usr/local/go/bin:$PATH"
  echo "helm.sh: building helm $HELM_VERSION into $dir" >&2
  GOBIN="$dir" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
fi
exec "$dir/helm" "$@"
