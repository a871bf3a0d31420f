#!/usr/bin/env bash
# The main job, end to end on this machine: the local control plane, the CRD, the operator (built from this checkout)
# and an example HPCJob run to completion. Prints the job's phase and the launcher's exit code.
#   npm run demo                       # examples/local/openfoam.yaml
#   npm run demo -- examples/local/gpu-allreduce.yaml
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
. hack/lib/node.sh
ensure_node_project "$ROOT"

manifest="${1:-examples/local/openfoam.yaml}"
bash hack/cluster up
KUBECONFIG="$(bash hack/cluster kubeconfig)"
export KUBECONFIG
kubectl="$(bash hack/cluster bin-dir)/kubectl"

npm run --silent build
"$kubectl" apply -f crds/hpcjob.yaml >/dev/null
"$kubectl" wait --for=condition=Established --timeout=60s crd/hpcjobs.hpcjob.dev >/dev/null

log_dir="${HPCJOB_CACHE:-$HOME/.cache/hpcjob-operator}/demo"
mkdir -p "$log_dir"
node dist/main.js --metrics-port 0 >"$log_dir/operator.log" 2>&1 &
operator_pid=$!
trap 'kill "$operator_pid" 2>/dev/null || true' EXIT
echo "demo: operator running (pid $operator_pid, log $log_dir/operator.log)"

name="$("$kubectl" create --dry-run=client -o jsonpath='{.metadata.name}' -f "$manifest")"
"$kubectl" delete hpcjob "$name" --ignore-not-found --wait=true >/dev/null
"$kubectl" apply -f "$manifest"
echo "demo: waiting for hpcjob/$name to finish"
for _ in $(seq 1 120); do
  phase="$("$kubectl" get hpcjob "$name" -o jsonpath='{.status.phase}')"
  case "$phase" in Succeeded | Failed) break ;; esac
  sleep 1
done
"$kubectl" get hpcjob "$name"
"$kubectl" get pods -l "hpcjob.dev/job-name=$name" -o wide
exit_code="$("$kubectl" get hpcjob "$name" -o jsonpath='{.status.launcher.exitCode}')"
echo "demo: hpcjob/$name phase=${phase:-unknown} exitCode=${exit_code:-none}"
[ "$phase" = Succeeded ]
