// Gang scheduling's cost: the time from a job's creation to all of its workers bound, with the native Workload API
// PodGroup and without (scheduling.gang None), for GANG_JOBS jobs created together on roomy KWOK nodes (so capacity
// never makes a job wait: what differs is the scheduler's pod-group cycle and the PodGroup create). Run through
// hack/bench/gang.sh, which builds and starts what it needs; prints a JSON report (docs/scheduling.md).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { reuseConnections } from '../../dist/kube/client-node-pool.js';
import { ensureBenchNodes } from './bench-nodes.mjs';

const JOBS = Number(process.env.GANG_JOBS ?? 100);
const WORKERS = Number(process.env.GANG_WORKERS ?? 4);
const kc = reuseConnections(new KubeConfig());
kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`gang-bench: timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function recreateNamespace(name) {
  await core.deleteNamespace({ name }).catch(() => undefined);
  await waitUntil(
    () =>
      core.readNamespace({ name }).then(
        () => false,
        () => true,
      ),
    600_000,
    `${name} deleted`,
  );
  await core.createNamespace({ body: { metadata: { name } } });
}

function startOperator(gang) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gang-bench-'));
  const config = path.join(dir, 'config.yaml');
  // The NetworkPolicy is off in both runs: one object fewer per job, the same in both.
  writeFileSync(config, `scheduling: {gang: ${gang}}\nnetworkPolicy: false\n`);
  const child = spawn(process.execPath, ['dist/main.js', '--config', config, '--metrics-port', '0'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  return child;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function run(gang) {
  const namespace = `gang-bench-${gang.toLowerCase()}`;
  await recreateNamespace(namespace);
  const operator = startOperator(gang);
  try {
    await sleep(3000);
    const created = new Map();
    const bound = new Map();
    const start = performance.now();
    await Promise.all(
      Array.from({ length: JOBS }, async (_, i) => {
        const name = `job-${i}`;
        const body = {
          apiVersion: 'hpcjob.dev/v1alpha1',
          kind: 'HPCJob',
          metadata: { name, namespace },
          spec: { image: 'bench/mpi', command: ['mpirun', 'true'], workers: WORKERS, resources: { cpu: '100m' } },
        };
        await custom.createNamespacedCustomObject({
          group: 'hpcjob.dev',
          version: 'v1alpha1',
          plural: 'hpcjobs',
          namespace,
          body,
        });
        created.set(name, performance.now());
      }),
    );
    await waitUntil(
      async () => {
        const pods = await core.listNamespacedPod({ namespace, labelSelector: 'hpcjob.dev/role=worker' });
        const perJob = new Map();
        for (const pod of pods.items) {
          if (!pod.spec?.nodeName) continue;
          const job = pod.metadata.labels['hpcjob.dev/job-name'];
          perJob.set(job, (perJob.get(job) ?? 0) + 1);
        }
        const t = performance.now();
        for (const [job, n] of perJob) if (n === WORKERS && !bound.has(job)) bound.set(job, t);
        return bound.size === JOBS;
      },
      600_000,
      'every job bound',
    );
    const latencies = [...bound].map(([job, t]) => (t - created.get(job)) / 1000).sort((a, b) => a - b);
    const round = (s) => Math.round(s * 100) / 100;
    return {
      gang,
      jobs: JOBS,
      workersPerJob: WORKERS,
      creationToAllBoundSeconds: {
        p50: round(percentile(latencies, 50)),
        p95: round(percentile(latencies, 95)),
        max: round(latencies.at(-1)),
      },
      allJobsBoundSeconds: round((Math.max(...bound.values()) - start) / 1000),
    };
  } finally {
    operator.kill('SIGTERM');
    await new Promise((resolve) => operator.once('exit', resolve));
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  }
}

await ensureBenchNodes(core, 4);
const runs = [];
for (const gang of (process.env.GANG_MODES ?? 'Native,None').split(',')) runs.push(await run(gang));
console.log(JSON.stringify({ runs }, null, 2));
