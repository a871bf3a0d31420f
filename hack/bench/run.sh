#!/usr/bin/env bash
# Runs the operator benchmark on the local control plane and prints its JSON report.
#   bash hack/bench/run.sh                      # 500-worker job, 200 jobs x 8 workers
#   BENCH_WIDE=100 BENCH_JOBS=20 bash hack/bench/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
. hack/lib/node.sh
ensure_node_project "$ROOT"
bash hack/cluster up
KUBECONFIG="$(bash hack/cluster kubeconfig)"
export KUBECONFIG
npm run --silent build
"$(bash hack/cluster bin-dir)/kubectl" apply -f crds/hpcjob.yaml >/dev/null
node hack/bench/operator-bench.mjs
