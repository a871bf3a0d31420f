#!/usr/bin/env bash
# Runs the test suites: `npm test` runs all of them; `npm test -- static|unit|mpi|integration|e2e` the ones named.
# Installs what the suites need first: a supported Node.js, npm dependencies, the MPI tools (apt), the control plane,
# Kueue, helm, and for e2e the real node's binaries and the job images; all built before any test's timeout starts.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
. hack/lib/node.sh
ensure_node_project "$ROOT"

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(static unit mpi integration e2e)

results="$ROOT/.test-results"
rm -rf "$results" && mkdir -p "$results"
# --forceExit: a handle a test leaks (a socket, a child's pipe) must not keep the run from ending.
jest() { node --experimental-vm-modules "$ROOT/node_modules/jest/bin/jest.js" --forceExit "$@"; }

status=0
for suite in "${suites[@]}"; do
  case "$suite" in
    static)
      # Each check counts as one test in the closing line, so a failed check is never hidden behind "0 failed".
      passed=0 failed=0
      for check in typecheck lint format:check; do
        if npm run --silent "$check"; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
      done
      printf '{"numPassedTests":%d,"numFailedTests":%d,"numPendingTests":0,"numTodoTests":0,"testResults":[]}\n' \
        "$passed" "$failed" >"$results/static.json"
      ;;
    unit)
      # The PodGroup tests validate against Volcano's and scheduler-plugins' own CRDs, fetched here.
      bash hack/fetch-scheduler-crds.sh
      jest --selectProjects unit --json --outputFile="$results/unit.json" || status=1
      ;;
    mpi)
      bash hack/mpi-deps.sh
      jest --selectProjects mpi --runInBand --json --outputFile="$results/mpi.json" || status=1
      ;;
    integration)
      # The cluster the suite starts has the real node too: its binaries are built here, not in jest's setup. The
      # suite itself needs only the KWOK nodes, so a node that cannot be built does not stop it.
      bash hack/build-control-plane.sh >/dev/null
      bash hack/build-node.sh >/dev/null || echo "test.sh: the real node's binaries did not build; see above" >&2
      # The Kueue suite runs the real Kueue manager, built from its Go module.
      bash hack/build-kueue.sh >/dev/null
      npm run --silent build
      # The chart test renders with helm: built here, never inside a test's timeout.
      bash hack/helm.sh version >/dev/null
      jest --selectProjects integration --runInBand --json --outputFile="$results/integration.json" || status=1
      ;;
    e2e)
      bash hack/build-control-plane.sh >/dev/null
      bash hack/build-node.sh >/dev/null
      npm run --silent build
      bash hack/images/build.sh
      # The pipeline test runs Argo Workflows (hack/build-argo.sh, from its Go module) and its executor image.
      bash hack/images/build.sh argoexec
      bash hack/helm.sh version >/dev/null
      jest --selectProjects e2e --runInBand --json --outputFile="$results/e2e.json" || status=1
      ;;
    *) echo "test.sh: unknown suite '$suite' (static, unit, mpi, integration, e2e)" >&2; exit 2 ;;
  esac
done

# One closing line over every suite that ran.
node -e '
  const fs = require("node:fs"), path = require("node:path");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(path.join(process.argv[1], f), "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
    failed += r.testResults.filter((t) => t.status === "failed" && t.assertionResults.length === 0).length;
  }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results"
exit $status
