#!/usr/bin/env bash
# For users with Docker: a kind cluster with the operator installed by its Helm chart and an example HPCJob.
# (The project's own tests use hack/cluster, which needs no Docker.)
#   hack/kind.sh up      create the cluster, build and load the operator image, helm install, run examples/local/openfoam.yaml
#   hack/kind.sh down    delete the cluster
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CLUSTER="${KIND_CLUSTER:-hpcjob}"
IMAGE="hpcjob-operator:dev"
cd "$ROOT"

need() { command -v "$1" >/dev/null || { echo "kind.sh: $1 is required" >&2; exit 1; }; }

case "${1:-up}" in
  up)
    need docker; need kind; need kubectl
    kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER"
    docker build -t "$IMAGE" -f hack/images/operator/Dockerfile .
    kind load docker-image "$IMAGE" --name "$CLUSTER"
    bash hack/helm.sh upgrade --install hpcjob charts/hpcjob-operator -n hpcjob-system --create-namespace \
      --kube-context "kind-$CLUSTER" --set image.repository=hpcjob-operator --set image.tag=dev --set image.pullPolicy=Never --wait
    # kind nodes run real containers: the example's image must exist for a real run. The local example only checks
    # the operator's objects; replace the image with one carrying sshd and MPI (hack/images/openmpi4) for real ranks.
    kubectl --context "kind-$CLUSTER" apply -f examples/local/openfoam.yaml
    kubectl --context "kind-$CLUSTER" get hpcjobs
    ;;
  down)
    need kind
    kind delete cluster --name "$CLUSTER"
    ;;
  *) echo "usage: hack/kind.sh up|down" >&2; exit 2 ;;
esac
