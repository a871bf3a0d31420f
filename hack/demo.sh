#!/usr/bin/env bash
# The main job, end to end on this machine: the local control plane with its real node, the CRD, the operator (built
# from this checkout) and a real MPI job (examples/local/ring.yaml: 2 workers × 2 slots, Open MPI 4) run to
# completion. Shows the launcher's log (each rank and the host it ran on), then the job's phase and exit code.
# Where a real node cannot run here, hack/cluster says why and the KWOK example runs instead.
#   npm run demo                                  # examples/local/ring.yaml on the real node
#   npm run demo -- examples/local/gpu-allreduce.yaml   # any other manifest
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
. hack/lib/node.sh
started=$SECONDS
say() { echo "demo: [$((SECONDS - started))s] $*"; }

say "preparing Node.js and npm dependencies"
ensure_node_project "$ROOT"
say "starting the local cluster (a first run builds Kubernetes, containerd and CoreDNS from their Go modules: about 10 min on 2 cores)"
bash hack/cluster up
KUBECONFIG="$(bash hack/cluster kubeconfig)"
export KUBECONFIG
kubectl="$(bash hack/cluster bin-dir)/kubectl"

manifest="${1:-}"
if [ -z "$manifest" ]; then
  if bash hack/cluster node-ip >/dev/null 2>&1; then
    say "building the Open MPI 4 job image (first run: about a minute; cached afterwards)"
    bash hack/images/build.sh openmpi4
    bash hack/cluster images
    manifest=examples/local/ring.yaml
  else
    say "no real node here (hack/cluster said why above): running the KWOK example, whose pods only pretend"
    manifest=examples/local/openfoam.yaml
  fi
fi

npm run --silent build
"$kubectl" apply -f crds/hpcjob.yaml >/dev/null
"$kubectl" wait --for=condition=Established --timeout=60s crd/hpcjobs.hpcjob.dev >/dev/null

log_dir="${HPCJOB_CACHE:-$HOME/.cache/hpcjob-operator}/demo"
mkdir -p "$log_dir"
node dist/main.js --metrics-port 0 >"$log_dir/operator.log" 2>&1 &
operator_pid=$!
trap 'kill "$operator_pid" 2>/dev/null || true' EXIT
say "operator running (pid $operator_pid, log $log_dir/operator.log)"

name="$("$kubectl" create --dry-run=client -o jsonpath='{.metadata.name}' -f "$manifest")"
"$kubectl" delete hpcjob "$name" --ignore-not-found --wait=true >/dev/null
"$kubectl" apply -f "$manifest"
say "waiting for hpcjob/$name to finish"
phase=""
for _ in $(seq 1 300); do
  phase="$("$kubectl" get hpcjob "$name" -o jsonpath='{.status.phase}')"
  case "$phase" in Succeeded | Failed) break ;; esac
  sleep 1
done
"$kubectl" get hpcjob "$name"
"$kubectl" get pods -l "hpcjob.dev/job-name=$name" -o wide
if [ "$manifest" = examples/local/ring.yaml ]; then
  echo "----- kubectl logs $name-launcher -----"
  "$kubectl" logs "$name-launcher" || true
  echo "-----"
fi
exit_code="$("$kubectl" get hpcjob "$name" -o jsonpath='{.status.launcher.exitCode}')"
say "hpcjob/$name phase=${phase:-unknown} exitCode=${exit_code:-none}"
[ "$phase" = Succeeded ]
