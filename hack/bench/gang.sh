#!/usr/bin/env bash
# Gang scheduling's cost on the local control plane: creation to all workers bound, native PodGroup vs none.
#   bash hack/bench/gang.sh                    # 100 jobs x 4 workers, Native then None
#   GANG_JOBS=20 GANG_MODES=Native bash hack/bench/gang.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
. hack/lib/node.sh
ensure_node_project "$ROOT"
bash hack/cluster up >/dev/null
KUBECONFIG="$(bash hack/cluster kubeconfig)"
export KUBECONFIG
npm run --silent build
"$(bash hack/cluster bin-dir)/kubectl" apply -f crds/hpcjob.yaml >/dev/null
node hack/bench/gang-bench.mjs
