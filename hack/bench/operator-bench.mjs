// Benchmark of hpcjob-operator beside its peer, Kubeflow MPI Operator v0.8.2, on the local control plane, in one run,
// one operator at a time (hack/bench/run.sh prepares the cluster, the identities and the builds, then runs this).
// Prints one JSON report; docs/benchmarks.md records the figures.
//
//   operators (BENCH_OPERATORS, default hpcjob,mpi-default,mpi-tuned): hpcjob (its defaults, or scheduling.gang
//   BENCH_HPCJOB_GANG; its heap as the chart sets it; its jobs' launcher.creationPolicy BENCH_HPCJOB_LAUNCHER_CREATION),
//   hpcjob-nogang (scheduling.gang None: pods scheduled as they come, as MPI Operator's are),
//   mpi-default (MPI Operator's defaults), mpi-tuned (MPI_TUNED_FLAGS, or BENCH_MPI_TUNED_FLAGS)
//   scenarios: see scenariosFromEnv in scenarios.mjs (wide, many; alive and huge when sized)
//   heap: BENCH_HEAP_SNAPSHOT=alive (scenario names) has hpcjob-operator write a heap snapshot at that scenario's end
//   baseline: each scenario's pod count created directly by a plain client at the same concurrency
//
// Every client has its own identity (a client certificate), so the API server's audit log (BENCH_AUDIT_LOG) tells
// whose writes are whose: the operator, the benchmark's client (the jobs), the plain client, and the control plane's
// components (the admin certificate, told apart by user agent).
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clientsFor, deleteNamespaceAndWait } from './bench-lib.mjs';
import { ensureBenchNodes } from './bench-nodes.mjs';
import { MPI_DEFAULT_FLAGS, MPI_TUNED_FLAGS, mpiOperatorSubject } from './peer-bench.mjs';
import { sideBySide } from './report.mjs';
import { describe, podsOf, runBaseline, runScenario, scenariosFromEnv } from './scenarios.mjs';
import { chartMemorySettings, hpcjobSubject } from './subject-hpcjob.mjs';

const env = process.env;
const required = (name) => env[name] || fail(`${name} is not set (run hack/bench/run.sh)`);
function fail(message) {
  throw new Error(`bench: ${message}`);
}
const log = (message) => console.error(`bench: ${message}`);

const admin = clientsFor(required('KUBECONFIG'));
const userOf = (clients) => clients.kc.getCurrentUser().name;
const ctx = {
  admin,
  client: clientsFor(required('BENCH_CLIENT_KUBECONFIG')),
  plain: clientsFor(required('BENCH_PLAIN_KUBECONFIG')),
  audit: { file: required('BENCH_AUDIT_LOG'), sharedUser: userOf(admin) },
  concurrency: Number(env.BENCH_CONCURRENCY ?? 32),
  settleMs: Number(env.BENCH_SETTLE_SECONDS ?? 3) * 1000,
  // Generous: MPI Operator at its defaults takes minutes where hpcjob-operator takes seconds.
  timeoutMs: (s) => Number(env.BENCH_TIMEOUT_SECONDS ?? 900 + podsOf(s)) * 1000,
  // Scenarios (e.g. alive) after which an operator that can writes a heap snapshot, summarized in the report.
  heapSnapshotAfter: new Set((env.BENCH_HEAP_SNAPSHOT ?? '').split(',').filter(Boolean)),
};
ctx.plainUser = userOf(ctx.plain);
const runDir = env.BENCH_RUN_DIR || mkdtempSync(path.join(os.tmpdir(), 'operator-bench-'));

// hpcjob-operator's memory settings as its chart sets them; BENCH_HPCJOB_NODE_OPTIONS replaces NODE_OPTIONS ('' for
// none), BENCH_HPCJOB_MALLOC_ARENA_MAX the allocator's arenas, and BENCH_HPCJOB_NODE_FLAGS Node.js's flags before the
// script (space-separated; '' for none: V8's optimizing compilers on).
const chart = await chartMemorySettings();
const memoryEnv = {
  NODE_OPTIONS: env.BENCH_HPCJOB_NODE_OPTIONS ?? chart.env.NODE_OPTIONS ?? '',
  ...((env.BENCH_HPCJOB_MALLOC_ARENA_MAX ?? chart.env.MALLOC_ARENA_MAX)
    ? { MALLOC_ARENA_MAX: env.BENCH_HPCJOB_MALLOC_ARENA_MAX ?? chart.env.MALLOC_ARENA_MAX }
    : {}),
};
const nodeFlags =
  env.BENCH_HPCJOB_NODE_FLAGS === undefined ? chart.nodeFlags : env.BENCH_HPCJOB_NODE_FLAGS.split(' ').filter(Boolean);

function subjectFor(key) {
  const mpi = (flags) => {
    const kubeconfig = required('BENCH_MPI_KUBECONFIG');
    const binary = required('BENCH_MPI_OPERATOR_BIN');
    const user = userOf(clientsFor(kubeconfig));
    return mpiOperatorSubject({ key, binary, flags, kubeconfig, user, runDir, admin });
  };
  const hpcjob = (gang) => {
    const kubeconfig = required('BENCH_HPCJOB_KUBECONFIG');
    const heapSnapshots = ctx.heapSnapshotAfter.size > 0;
    const user = userOf(clientsFor(kubeconfig));
    const launcherCreation = env.BENCH_HPCJOB_LAUNCHER_CREATION || undefined;
    return hpcjobSubject({
      key,
      kubeconfig,
      user,
      runDir,
      gang,
      memoryEnv,
      nodeFlags,
      heapSnapshots,
      launcherCreation,
    });
  };
  switch (key) {
    case 'hpcjob':
      return hpcjob(env.BENCH_HPCJOB_GANG);
    case 'hpcjob-nogang':
      return hpcjob('None');
    case 'mpi-default':
      return mpi(MPI_DEFAULT_FLAGS);
    case 'mpi-tuned':
      return mpi(env.BENCH_MPI_TUNED_FLAGS ? env.BENCH_MPI_TUNED_FLAGS.split(/\s+/).filter(Boolean) : MPI_TUNED_FLAGS);
    default:
      return fail(`unknown operator '${key}' in BENCH_OPERATORS (hpcjob, hpcjob-nogang, mpi-default, mpi-tuned)`);
  }
}

/** Namespaces of an earlier run (this one's or the older benchmark's) that would still be deleting. */
async function deleteLeftovers() {
  const list = await admin.core.listNamespace();
  const names = list.items.map((n) => n.metadata.name).filter((n) => n.startsWith('bench-'));
  await Promise.all(names.map((name) => deleteNamespaceAndWait(admin.core, name)));
}

async function main() {
  const operators = (env.BENCH_OPERATORS ?? 'hpcjob,mpi-default,mpi-tuned').split(',').filter(Boolean);
  const subjects = operators.map(subjectFor);
  const scenarios = scenariosFromEnv(env);
  const report = {
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    // The cores are shared with whatever else runs: the load says how much else did.
    loadAverageAtStart: os.loadavg().map((n) => Math.round(n * 10) / 10),
    concurrency: ctx.concurrency,
    launcherRunDuration: env.BENCH_RUN_DURATION ?? '1s',
    scenarios: scenarios.map(describe),
    logs: runDir,
    operators: Object.fromEntries(subjects.map((s) => [s.key, { name: s.name, user: s.user, ...s.settings }])),
    baseline: {},
    results: {},
  };
  // The figures so far, kept after every scenario: a run cut short still leaves what it measured.
  const reportFile = path.join(runDir, 'report.json');
  const save = () => writeFileSync(reportFile, JSON.stringify(report, null, 2));
  log(`operator logs and the report so far: ${runDir}`);
  await deleteLeftovers();
  // Roomy fake nodes (1000 pods each) for the largest scenario, so node capacity never makes pods wait.
  const nodes = Math.max(Number(env.BENCH_NODES ?? 8), ...scenarios.map((s) => Math.ceil(podsOf(s) / 900)));
  await ensureBenchNodes(admin.core, nodes);
  try {
    for (const s of scenarios.filter((s) => s.baseline)) {
      log(`plain client: ${describe(s)}`);
      report.baseline[s.name] = await runBaseline(ctx, s);
      save();
    }
    for (const subject of subjects) {
      const results = (report.results[subject.key] = {});
      for (const s of scenarios) {
        log(`${subject.key}: ${describe(s)}`);
        results[s.name] = await runScenario(ctx, subject, s).catch((err) => {
          log(`${subject.key} ${s.name} failed: ${err.message}`);
          return { error: err.message };
        });
        save();
      }
    }
  } finally {
    for (let i = 0; i < nodes; i++) await admin.core.deleteNode({ name: `kwok-bench-${i}` }).catch(() => undefined);
  }
  report.loadAverageAtEnd = os.loadavg().map((n) => Math.round(n * 10) / 10);
  report.sideBySide = sideBySide(scenarios, report.results, report.baseline);
  save();
  console.log(JSON.stringify(report, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
