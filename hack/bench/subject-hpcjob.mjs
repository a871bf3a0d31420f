// hpcjob-operator as a subject of the benchmark: its HPCJob, how its pods and jobs read, and its process, run from
// BENCH_OPERATOR_DIR's dist/ as its own client identity (kubeconfig) with the chart's ClusterRole.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OPERATOR_DIR, operatorPackage, sleep } from './bench-lib.mjs';
import { summarizeHeap } from './heap-summary.mjs';
import { portInUse, startProcess, waitReady } from './operator-process.mjs';

/** KWOK ends a container annotated so with that exit code after run-duration (hack/kwok/stages.yaml). */
export const kwokExit = (runFor) => ({ 'kwok.hpcjob.dev/exit-code': '0', 'kwok.hpcjob.dev/run-duration': runFor });

/**
 * A job of `workers` workers whose launcher KWOK ends with exit code 0 after runFor; launcherCreation sets
 * spec.launcher.creationPolicy (unset: the operator's default).
 */
export function hpcJob(name, namespace, workers, runFor, launcherCreation) {
  const launcher = { template: { metadata: { annotations: kwokExit(runFor) } } };
  return {
    apiVersion: 'hpcjob.dev/v1alpha1',
    kind: 'HPCJob',
    metadata: { name, namespace },
    spec: {
      image: 'bench/mpi',
      command: ['mpirun', 'true'],
      workers,
      launcher: launcherCreation ? { ...launcher, creationPolicy: launcherCreation } : launcher,
      // Workers stay when the job ends, as with MPI Operator's default (cleanPodPolicy None): no deletes to count.
      runPolicy: { cleanPodPolicy: 'None' },
    },
  };
}

/**
 * The memory settings the chart's Deployment gives Node.js from values.yaml's heap, so that the operator is measured
 * as deployed: env, NODE_OPTIONS (V8's heap) and MALLOC_ARENA_MAX (glibc's allocator); nodeFlags, what the
 * container's command puts before the script (V8's optimizing compilers off unless heap.optimizingCompilers).
 */
export async function chartMemorySettings() {
  const { parse } = await operatorPackage('yaml');
  const values = parse(readFileSync(path.join(OPERATOR_DIR, 'charts/hpcjob-operator/values.yaml'), 'utf8'));
  const heap = values.heap;
  if (!heap) return { env: {}, nodeFlags: [] };
  return {
    env: {
      NODE_OPTIONS: `--max-old-space-size=${heap.maxOldSpaceMiB} --max-semi-space-size=${heap.maxSemiSpaceMiB}`,
      MALLOC_ARENA_MAX: String(heap.mallocArenas),
    },
    nodeFlags: heap.optimizingCompilers === false ? ['--no-opt', '--no-maglev'] : [],
  };
}

/**
 * @param kubeconfig the operator's own identity
 * @param user that identity's user name (the audit log's user.username)
 * @param runDir where its log and configuration go
 * @param gang scheduling.gang for the operator's configuration (e.g. None); unset: its default
 * @param memoryEnv NODE_OPTIONS and MALLOC_ARENA_MAX for its Node.js (chartMemorySettings() runs it as the chart does)
 * @param nodeFlags Node.js's flags before the script (the chart's container command)
 * @param heapSnapshots whether heapSnapshot() may be asked for (the process then writes one on SIGUSR2)
 * @param launcherCreation the jobs' spec.launcher.creationPolicy; unset: the operator's default
 */
export function hpcjobSubject({
  key = 'hpcjob',
  kubeconfig,
  user,
  runDir,
  gang,
  memoryEnv = {},
  nodeFlags = [],
  heapSnapshots = false,
  metricsPort = 18089,
  launcherCreation,
}) {
  const args = [
    ...nodeFlags,
    path.join(OPERATOR_DIR, 'dist/main.js'),
    '--kubeconfig',
    kubeconfig,
    '--metrics-port',
    `${metricsPort}`,
  ];
  if (gang) {
    const config = path.join(runDir, 'hpcjob-config.yaml');
    writeFileSync(config, `scheduling: {gang: ${gang}}\n`);
    args.push('--config', config);
  }
  const snapshotOptions = heapSnapshots ? ` --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${runDir}` : '';
  const metrics = () => fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
  return {
    key,
    name: 'hpcjob-operator',
    user,
    settings: {
      config: gang ? { scheduling: { gang } } : '(defaults)',
      memoryEnv,
      nodeFlags,
      launcherCreationPolicy: launcherCreation ?? '(default)',
    },
    api: { group: 'hpcjob.dev', version: 'v1alpha1', plural: 'hpcjobs' },
    roleLabel: 'hpcjob.dev/role',
    job: (name, namespace, workers, runFor) => hpcJob(name, namespace, workers, runFor, launcherCreation),
    succeeded: (job) => job.status?.phase === 'Succeeded',
    failed: (job) => job.status?.phase === 'Failed',

    async start(scenario) {
      if (await portInUse(metricsPort)) throw new Error(`bench: port ${metricsPort} (operator metrics) is taken`);
      const proc = startProcess(process.execPath, args, {
        cwd: OPERATOR_DIR,
        logFile: path.join(runDir, `${key}-${scenario}.log`),
        env: { ...memoryEnv, NODE_OPTIONS: `${memoryEnv.NODE_OPTIONS ?? ''}${snapshotOptions}`.trim() },
      });
      const ready = () =>
        fetch(`http://127.0.0.1:${metricsPort}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
      await waitReady(proc, ready, 120_000, 'hpcjob-operator');
      return proc;
    },

    /** Has the process write a heap snapshot into runDir; returns where its memory is (heap-summary.mjs). */
    async heapSnapshot(proc) {
      const snapshots = () => readdirSync(runDir).filter((f) => f.endsWith('.heapsnapshot'));
      const before = new Set(snapshots());
      process.kill(proc.pid, 'SIGUSR2');
      // The file appears at once and grows while V8 writes it: done once its size holds for two seconds.
      let file;
      let size = -1;
      for (let waited = 0; waited < 300_000; waited += 2000) {
        await sleep(2000);
        file ??= snapshots().find((f) => !before.has(f));
        if (!file) continue;
        const now = statSync(path.join(runDir, file)).size;
        if (now > 0 && now === size) break;
        size = now;
      }
      if (!file) throw new Error(`bench: ${key} wrote no heap snapshot into ${runDir}`);
      const where = path.join(runDir, file);
      return { file: where, ...summarizeHeap(JSON.parse(readFileSync(where, 'utf8')), 20) };
    },

    /** Reconcile passes so far, from the operator's reconcile duration histogram. */
    async reconciles() {
      let count = 0;
      for (const m of (await metrics()).matchAll(/^hpcjob_reconcile_duration_seconds_count\{[^}]*\} (\d+)/gm))
        count += Number(m[1]);
      return count;
    },
  };
}
