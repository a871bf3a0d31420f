// Benchmark of the operator on the local control plane (run through hack/bench/run.sh, which builds and starts what
// it needs). Prints a JSON report; docs/benchmarks.md records the figures.
//
//   wide:  one job with WIDE workers: create -> all pods exist; all workers ready -> launcher running
//   many:  JOBS jobs x 8 workers: worker pods created per second, and jobs fully created (launcher included) per second
//   writes: API write requests per job over its life, creation to Succeeded (from the operator's own counter)
//   rss/cpu: the operator's resident memory and CPU time with all of them alive
//   baseline: the same pods (the operator's own renderer, with an owner reference) created directly by a plain client at the same
//             concurrency: the API server's own limit
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { withDefaults } from '../../dist/api/defaults.js';
import { reuseConnections } from '../../dist/kube/api.js';
import { parseClusterConfig } from '../../dist/config/cluster-config.js';
import { renderWorkerPod } from '../../dist/render/pods.js';
import { ensureBenchNodes } from './bench-nodes.mjs';

const WIDE = Number(process.env.BENCH_WIDE ?? 500);
const JOBS = Number(process.env.BENCH_JOBS ?? 200);
const WORKERS_PER_JOB = Number(process.env.BENCH_WORKERS_PER_JOB ?? 8);
// After every job has finished, the operator is watched this long with nothing to do: it should do nothing.
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
// The plain client keeps its connections alive too (as the operator does), so the baseline is the API server's limit
// rather than the cost of a TLS handshake per request.
const kc = reuseConnections(new KubeConfig());
kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const group = 'hpcjob.dev';
const version = 'v1alpha1';
const plural = 'hpcjobs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

async function waitUntil(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function inBatches(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function countPods(namespace, selector) {
  const list = await core.listNamespacedPod({ namespace, labelSelector: selector });
  return list.items;
}

const BENCH_NAMESPACES = ['bench-plain-wide', 'bench-wide', 'bench-plain-many', 'bench-many'];

/** Deletes the namespace and waits until it is gone: a deletion still running would load the API server. */
async function deleteNamespaceAndWait(name) {
  await core.deleteNamespace({ name }).catch(() => undefined);
  await waitUntil(
    async () =>
      core.readNamespace({ name }).then(
        () => false,
        () => true,
      ),
    600_000,
    `namespace ${name} deleted`,
  );
}

async function freshNamespace(name) {
  await deleteNamespaceAndWait(name);
  await core.createNamespace({ body: { metadata: { name } } });
  // An owner for the plain pods, so the garbage collector tracks them as it tracks the operator's.
  const owner = await core.createNamespacedConfigMap({ namespace: name, body: { metadata: { name: 'owner' } } });
  return owner.metadata.uid;
}

/** A job; with runFor set, KWOK ends its launcher with exit code 0 after that long. */
function job(name, workers, namespace, runFor) {
  const annotations = runFor ? { 'kwok.hpcjob.dev/exit-code': '0', 'kwok.hpcjob.dev/run-duration': runFor } : {};
  return {
    apiVersion: `${group}/${version}`,
    kind: 'HPCJob',
    metadata: { name, namespace },
    spec: {
      image: 'bench/mpi',
      command: ['mpirun', 'true'],
      workers,
      launcher: { template: { metadata: { annotations } } },
      runPolicy: { cleanPodPolicy: 'None' },
    },
  };
}

/** The same pod the operator would create for a worker (the operator's renderer), owned by a plain ConfigMap. */
function plainPod(name, labels, ownerUid) {
  const template = withDefaults(job('plain', 1, 'plain'));
  template.metadata.uid = 'plain';
  const pod = renderWorkerPod(template, parseClusterConfig(undefined), 0, 2222);
  const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: ownerUid }];
  return { ...pod, metadata: { name, labels, ownerReferences } };
}

function processStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { rssMiB: Math.round(rssKiB / 102.4) / 10, cpuSeconds: ticks / 100 };
}

async function operatorWrites(metricsPort) {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let total = 0;
  const byVerb = {};
  for (const line of text.split('\n')) {
    const m = /^hpcjob_api_write_requests_total\{verb="(\w+)",kind="(\w+)"\} (\d+)/.exec(line);
    if (m) {
      total += Number(m[3]);
      byVerb[`${m[1]} ${m[2]}`] = Number(m[3]);
    }
  }
  return { total, byVerb };
}

/** Reconcile passes so far, from the operator's reconcile duration histogram. */
async function reconcileCount(metricsPort) {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let count = 0;
  for (const m of text.matchAll(/^hpcjob_reconcile_duration_seconds_count\{[^}]*\} (\d+)/gm)) count += Number(m[1]);
  return count;
}

async function main() {
  // Nothing left from an earlier run may still be deleting while this one measures.
  await Promise.all(BENCH_NAMESPACES.map(deleteNamespaceAndWait));
  await ensureBenchNodes(core, Number(process.env.BENCH_NODES ?? 8));
  const metricsPort = 18089;
  const operator = spawn(process.execPath, ['dist/main.js', '--metrics-port', String(metricsPort)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  await waitUntil(
    async () =>
      fetch(`http://127.0.0.1:${metricsPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
    60_000,
    'operator ready',
  );
  const report = { machine: `${(await import('node:os')).cpus().length} cores`, concurrency: CONCURRENCY };
  try {
    // Baseline for the wide job: the same pod count created directly.
    const wideOwner = await freshNamespace('bench-plain-wide');
    let t0 = now();
    await inBatches([...Array(WIDE + 1).keys()], CONCURRENCY, (i) =>
      core.createNamespacedPod({
        namespace: 'bench-plain-wide',
        body: plainPod(`p-${i}`, { bench: 'wide' }, wideOwner),
      }),
    );
    report.baselineWideCreateSeconds = (now() - t0) / 1000;

    await freshNamespace('bench-wide');
    t0 = now();
    await custom.createNamespacedCustomObject({
      group,
      version,
      plural,
      namespace: 'bench-wide',
      body: job('wide', WIDE, 'bench-wide'),
    });
    await waitUntil(
      async () => (await countPods('bench-wide', 'hpcjob.dev/role=worker')).length >= WIDE,
      600_000,
      'wide workers',
    );
    report.wideCreateSeconds = (now() - t0) / 1000;
    await waitUntil(
      async () =>
        (await countPods('bench-wide', 'hpcjob.dev/role=worker')).every((p) =>
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        ),
      600_000,
      'wide workers ready',
    );
    const ready = now();
    await waitUntil(
      async () =>
        (await countPods('bench-wide', 'hpcjob.dev/role=launcher')).some((p) => p.status?.phase === 'Running'),
      600_000,
      'wide launcher running',
    );
    report.wideReadyToLauncherRunningSeconds = (now() - ready) / 1000;

    // Many jobs, and the baseline of the same pods created directly.
    const manyOwner = await freshNamespace('bench-plain-many');
    const plainNames = [];
    for (let j = 0; j < JOBS; j++) for (let w = 0; w <= WORKERS_PER_JOB; w++) plainNames.push(`j${j}-p${w}`);
    t0 = now();
    await inBatches(plainNames, CONCURRENCY, (name) =>
      core.createNamespacedPod({ namespace: 'bench-plain-many', body: plainPod(name, { bench: 'many' }, manyOwner) }),
    );
    report.baselineManyPodsPerSecond = plainNames.length / ((now() - t0) / 1000);

    await freshNamespace('bench-many');
    const writesBefore = await operatorWrites(metricsPort);
    t0 = now();
    await inBatches([...Array(JOBS).keys()], CONCURRENCY, (j) =>
      custom.createNamespacedCustomObject({
        group,
        version,
        plural,
        namespace: 'bench-many',
        body: job(`j${j}`, WORKERS_PER_JOB, 'bench-many', '30s'),
      }),
    );
    const expected = JOBS * (WORKERS_PER_JOB + 1);
    // Workers alone are what the plain client's creates compare with; launchers also wait for every worker to be
    // scheduled and Ready (KWOK), by design.
    await waitUntil(
      async () => (await countPods('bench-many', 'hpcjob.dev/role=worker')).length >= JOBS * WORKERS_PER_JOB,
      900_000,
      'many workers created',
    );
    report.manyWorkerPodsPerSecond = (JOBS * WORKERS_PER_JOB) / ((now() - t0) / 1000);
    await waitUntil(
      async () => (await countPods('bench-many', 'hpcjob.dev/job-name')).length >= expected,
      900_000,
      'many jobs created',
    );
    const manySeconds = (now() - t0) / 1000;
    report.manyJobsPerSecond = JOBS / manySeconds;
    report.manyPodsPerSecond = expected / manySeconds;
    report.operatorWithAllAlive = processStats(operator.pid);
    await waitUntil(
      async () => {
        const list = await custom.listNamespacedCustomObject({ group, version, plural, namespace: 'bench-many' });
        return list.items.every((j) => j.status?.phase === 'Succeeded');
      },
      900_000,
      'many jobs succeeded',
    );
    const writesAfter = await operatorWrites(metricsPort);
    report.writeRequestsPerJob = (writesAfter.total - writesBefore.total) / JOBS;
    report.writesByVerb = Object.fromEntries(
      Object.entries(writesAfter.byVerb).map(([k, v]) => [
        k,
        Math.round(((v - (writesBefore.byVerb[k] ?? 0)) / JOBS) * 100) / 100,
      ]),
    );
    report.operatorAfterRun = processStats(operator.pid);
    const passesBefore = await reconcileCount(metricsPort);
    await sleep(IDLE_SECONDS * 1000);
    report.idle = {
      finishedJobs: JOBS,
      seconds: IDLE_SECONDS,
      reconcilesPerSecond: ((await reconcileCount(metricsPort)) - passesBefore) / IDLE_SECONDS,
    };
    // The operator stays up while the namespaces go: it releases the finalizers of launchers still running.
    console.error('bench: deleting the benchmark namespaces');
    await Promise.all(BENCH_NAMESPACES.map(deleteNamespaceAndWait));
  } finally {
    operator.kill('SIGTERM');
  }
  for (let i = 0; i < Number(process.env.BENCH_NODES ?? 8); i++)
    await core.deleteNode({ name: `kwok-bench-${i}` }).catch(() => undefined);
  console.log(JSON.stringify(report, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
