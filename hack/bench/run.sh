#!/usr/bin/env bash
# Benchmarks hpcjob-operator beside its peer, Kubeflow MPI Operator v0.8.2, on the local control plane, in one run and
# one operator at a time, and prints one JSON report (hack/bench/operator-bench.mjs; progress goes to stderr).
#
#   bash hack/bench/run.sh                                          # hpcjob, mpi-default, mpi-tuned; wide 500, many 200 x 8
#   BENCH_WIDE=50 BENCH_JOBS=20 BENCH_OPERATORS=hpcjob,mpi-tuned bash hack/bench/run.sh
#   BENCH_WIDE=0 BENCH_JOBS=0 BENCH_ALIVE_JOBS=1000 BENCH_HUGE=10000 BENCH_OPERATORS=hpcjob bash hack/bench/run.sh
#
# BENCH_OPERATORS: any of hpcjob, hpcjob-nogang, mpi-default, mpi-tuned (operator-bench.mjs says what each is).
# BENCH_OPERATOR_DIR: the hpcjob-operator checkout to run (npm dependencies and build made there; default this
# repository). The cluster is hack/cluster's, with its settings (HPCJOB_PORT_BASE, HPCJOB_CLUSTER_DIR,
# HPCJOB_REAL_NODES, ...), and with the API server's audit log on (HPCJOB_AUDIT_LOG, default audit.log in the
# cluster's directory): an API server running without it is restarted with it. Each client gets its own identity
# (a client certificate from `hack/cluster user-kubeconfig`) and each operator the RBAC it ships with.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
. hack/lib/node.sh

OPERATORS="${BENCH_OPERATORS:-hpcjob,mpi-default,mpi-tuned}"
export BENCH_OPERATORS="$OPERATORS"
BENCH_OPERATOR_DIR="$(cd "${BENCH_OPERATOR_DIR:-$ROOT}" && pwd)"
export BENCH_OPERATOR_DIR
CLUSTER_DIR="${HPCJOB_CLUSTER_DIR:-${HPCJOB_CACHE:-$HOME/.cache/hpcjob-operator}/cluster}"
HPCJOB_AUDIT_LOG="${HPCJOB_AUDIT_LOG:-$CLUSTER_DIR/audit.log}"
export HPCJOB_AUDIT_LOG BENCH_AUDIT_LOG="$HPCJOB_AUDIT_LOG"

say() { echo "bench: $*" >&2; }
wants() { case ",$OPERATORS," in *",$1"*) return 0 ;; *) return 1 ;; esac; }
kubectl_() { "$(bash hack/cluster bin-dir)/kubectl" "$@"; }
# A client certificate of its own (CN = NAME, O = GROUP...); prints the kubeconfig's path.
identity() { bash hack/cluster user-kubeconfig "$@"; }
apply_quiet() { kubectl_ apply "$@" >/dev/null; }
bind_cluster_role() {
  kubectl_ create clusterrolebinding "bench-$2" --clusterrole="$1" --user="$2" --dry-run=client -o yaml | apply_quiet -f -
}

ensure_node_project "$BENCH_OPERATOR_DIR"
(cd "$BENCH_OPERATOR_DIR" && npm run --silent build)
wants mpi && { MPI_DIR="$(bash hack/build-mpi-operator.sh)"; export BENCH_MPI_OPERATOR_BIN="$MPI_DIR/bin/mpi-operator"; }
bash hack/cluster up >&2
KUBECONFIG="$(bash hack/cluster kubeconfig)"
export KUBECONFIG

# The benchmark's own clients: the one creating the jobs, and the plain client of the baseline.
BENCH_CLIENT_KUBECONFIG="$(identity bench-client system:masters)"
BENCH_PLAIN_KUBECONFIG="$(identity bench-plain-client system:masters)"
export BENCH_CLIENT_KUBECONFIG BENCH_PLAIN_KUBECONFIG

if wants hpcjob; then
  say "hpcjob-operator from $BENCH_OPERATOR_DIR: its CRD, and the chart's ClusterRole for its own identity"
  apply_quiet -f "$BENCH_OPERATOR_DIR/crds/hpcjob.yaml"
  # The chart's cluster-wide ClusterRole, rendered for this cluster's version; bound to a user instead of the
  # chart's ServiceAccount.
  bash hack/helm.sh template hpcjob-operator "$BENCH_OPERATOR_DIR/charts/hpcjob-operator" \
    --kube-version "$(kubectl_ get --raw /version | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p')" \
    --show-only templates/rbac.yaml \
    | awk 'BEGIN { RS = "\n---\n" } /(^|\n)kind: ClusterRole\n/ { print "---"; print }' | apply_quiet -f -
  bind_cluster_role hpcjob-operator bench-hpcjob-operator
  BENCH_HPCJOB_KUBECONFIG="$(identity bench-hpcjob-operator)"
  export BENCH_HPCJOB_KUBECONFIG
fi

if wants mpi; then
  say "MPI Operator from $MPI_DIR: its CRD, its ClusterRole for its own identity, its Lease's namespace"
  # Too large for the last-applied annotation of a client-side apply.
  apply_quiet --server-side --force-conflicts -f "$MPI_DIR/manifests/kubeflow.org_mpijobs.yaml"
  apply_quiet -f "$MPI_DIR/manifests/cluster-role.yaml"
  kubectl_ create namespace mpi-operator --dry-run=client -o yaml | apply_quiet -f -
  bind_cluster_role mpi-operator bench-mpi-operator
  BENCH_MPI_KUBECONFIG="$(identity bench-mpi-operator)"
  export BENCH_MPI_KUBECONFIG
fi

kubectl_ wait --for condition=established --timeout=60s crd --all >/dev/null
exec node hack/bench/operator-bench.mjs
