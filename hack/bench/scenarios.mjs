// The benchmark's scenarios, each run against one subject (an operator in one configuration, started fresh for it in
// its own namespace), and the plain client's baseline: the same number of pods created directly.
import os from 'node:os';
import { auditOffset, countWrites, readAuditEvents, writesPerJob } from './audit.mjs';
import {
  deleteNamespaceAndWait,
  freshNamespace,
  inBatches,
  now,
  operatorModule,
  processStats,
  sampleAnonPeak,
  retryingNetworkErrors,
  seconds,
  sleep,
  within,
} from './bench-lib.mjs';
import { hpcJob } from './subject-hpcjob.mjs';
import { podFlags, Tracker } from './tracker.mjs';

/** A launcher run time no scenario outlives: its job stays alive. */
const NEVER = '1000h';
const JOB_CONTROLLER = 'kube-controller-manager/job-controller';

/**
 * The scenarios the environment selects (a size of 0 leaves one out):
 *   wide:  1 job x BENCH_WIDE workers (500), to Succeeded
 *   many:  BENCH_JOBS jobs (200) x BENCH_WORKERS_PER_JOB workers (8), to Succeeded, then BENCH_IDLE_SECONDS idle (30)
 *   alive: BENCH_ALIVE_JOBS jobs (0) x 8 workers whose launchers never end: memory with all of them alive
 *   huge:  1 job x BENCH_HUGE workers (0), to its launcher Running
 * Launchers of wide and many end with exit code 0 after BENCH_RUN_DURATION (1s) of Running.
 */
export function scenariosFromEnv(env) {
  const size = (name, fallback) => Number(env[name] ?? fallback);
  const runFor = env.BENCH_RUN_DURATION ?? '1s';
  const perJob = size('BENCH_WORKERS_PER_JOB', 8);
  const idleSeconds = size('BENCH_IDLE_SECONDS', 30);
  return [
    { name: 'wide', jobs: 1, workers: size('BENCH_WIDE', 500), runFor, untilSucceeded: true, baseline: true },
    {
      name: 'many',
      jobs: size('BENCH_JOBS', 200),
      workers: perJob,
      runFor,
      untilSucceeded: true,
      baseline: true,
      idleSeconds,
    },
    { name: 'alive', jobs: size('BENCH_ALIVE_JOBS', 0), workers: perJob, runFor: NEVER, untilSucceeded: false },
    { name: 'huge', jobs: 1, workers: size('BENCH_HUGE', 0), runFor: NEVER, untilSucceeded: false, baseline: true },
  ].filter((s) => s.jobs > 0 && s.workers > 0);
}

export const podsOf = (s) => s.jobs * (s.workers + 1);
export const describe = (s) => `${s.name} (${s.jobs} x ${s.workers} workers)`;
const round = (n, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * The figures of one scenario, measured the same way for every subject: from the first create, the time to all
 * worker pods existing, all workers Ready, all launchers Running (or past it), all jobs Succeeded; API writes per job
 * per client from the audit log (creation to the end plus ctx.settleMs); the operator's peak RSS (VmHWM, the process
 * being new), its peak anonymous RSS (sampled: what is its own, not its binary's pages) and its CPU time over the
 * same span.
 */
export async function runScenario(ctx, subject, s) {
  const { admin, client, audit } = ctx;
  const namespace = `bench-${subject.key}-${s.name}`;
  const { group, version, plural } = subject.api;
  await freshNamespace(admin.core, namespace);
  const proc = await subject.start(s.name);
  const pods = new Tracker(admin.kc, `/api/v1/namespaces/${namespace}/pods`, (p) => podFlags(p, subject.roleLabel));
  const jobs = new Tracker(
    admin.kc,
    `/apis/${group}/${version}/namespaces/${namespace}/${plural}`,
    (j) => ({ succeeded: subject.succeeded(j), failed: subject.failed(j) }),
    (c) => (c.failed ? `${c.failed} ${plural} failed in ${namespace}` : undefined),
  );
  let anon;
  try {
    await Promise.all([pods.start(), jobs.start()]);
    const workers = s.jobs * s.workers;
    const milestones = {
      allWorkerPods: pods.when((c) => (c.workers ?? 0) >= workers),
      allWorkersReady: pods.when((c) => (c.workersReady ?? 0) >= workers),
      allLaunchersRunning: pods.when((c) => (c.launchersStarted ?? 0) >= s.jobs),
    };
    if (s.untilSucceeded) milestones.allSucceeded = jobs.when((c) => (c.succeeded ?? 0) >= s.jobs);
    for (const m of Object.values(milestones)) m.catch(() => undefined);

    const from = auditOffset(audit.file);
    const cpuBefore = processStats(proc.pid).cpuSeconds;
    anon = sampleAnonPeak(proc.pid);
    const t0 = now();
    await inBatches([...Array(s.jobs).keys()], ctx.concurrency, (j) =>
      retryingNetworkErrors(() =>
        client.custom.createNamespacedCustomObject({
          group,
          version,
          plural,
          namespace,
          body: subject.job(`j${j}`, namespace, s.workers, s.runFor),
        }),
      ),
    );
    const result = { jobs: s.jobs, workersPerJob: s.workers, createJobsSeconds: seconds(now() - t0) };
    for (const [name, m] of Object.entries(milestones)) {
      const at = await within(m, ctx.timeoutMs(s), `${name}, ${subject.key} ${describe(s)}`);
      result[`${name}Seconds`] = seconds(at - t0);
    }
    await sleep(ctx.settleMs);
    const stats = processStats(proc.pid);
    result.operator = {
      peakRssMiB: stats.peakRssMiB,
      peakAnonMiB: anon.stop(),
      rssMiB: stats.rssMiB,
      anonMiB: stats.anonMiB,
      fileMiB: stats.fileMiB,
      cpuSeconds: round(stats.cpuSeconds - cpuBefore, 2),
    };
    // After the memory figures: writing a snapshot takes memory of its own.
    if (ctx.heapSnapshotAfter?.has(s.name) && subject.heapSnapshot) result.heap = await subject.heapSnapshot(proc);
    const events = readAuditEvents(audit.file, from);
    const clients = writesPerJob(countWrites(events, namespace, audit.sharedUser), s.jobs);
    result.writesPerJob = {
      operator: clients[subject.user]?.perJob ?? 0,
      launcherJobController: clients[JOB_CONTROLLER]?.perJob ?? 0,
      byClient: clients,
    };
    result.loadAverage1m = Math.round(os.loadavg()[0] * 10) / 10;
    if (s.idleSeconds > 0) result.idle = await idle(ctx, subject, namespace, s.idleSeconds);
    return result;
  } finally {
    anon?.stop();
    pods.stop();
    jobs.stop();
    // The operator stays up while the namespace goes: hpcjob-operator releases its launchers' finalizers.
    await deleteNamespaceAndWait(admin.core, namespace);
    await proc.stop();
  }
}

/** After every job has ended: what the operator still writes (and, where it tells, how often it reconciles). */
async function idle(ctx, subject, namespace, idleSeconds) {
  const from = auditOffset(ctx.audit.file);
  const passes = await subject.reconciles?.();
  await sleep(idleSeconds * 1000);
  const events = readAuditEvents(ctx.audit.file, from);
  const writes = countWrites(events, namespace, ctx.audit.sharedUser)[subject.user]?.total ?? 0;
  const result = { seconds: idleSeconds, operatorWrites: writes };
  if (passes !== undefined) result.reconcilesPerSecond = ((await subject.reconciles()) - passes) / idleSeconds;
  return result;
}

const { withDefaults } = await operatorModule('api/defaults.js');
const { parseClusterConfig } = await operatorModule('config/cluster-config.js');
const { renderWorkerPod } = await operatorModule('render/pods.js');

/** A worker pod as hpcjob-operator renders it, owned by a ConfigMap so the garbage collector tracks it the same way. */
function plainPod(name, ownerUid) {
  const template = withDefaults(hpcJob('plain', 'plain', 1, '1s'));
  template.metadata.uid = 'plain';
  const pod = renderWorkerPod(template, parseClusterConfig(undefined), 0, 2222);
  const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: ownerUid }];
  return { ...pod, metadata: { name, labels: { bench: 'plain' }, ownerReferences } };
}

/** The scenario's pod count (workers and launchers) created directly by a plain client at the same concurrency. */
export async function runBaseline(ctx, s) {
  const { admin, plain, audit } = ctx;
  const namespace = `bench-plain-${s.name}`;
  await freshNamespace(admin.core, namespace);
  try {
    const owner = await plain.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'owner' } } });
    const names = [];
    for (let j = 0; j < s.jobs; j++) for (let w = 0; w <= s.workers; w++) names.push(`j${j}-p${w}`);
    const from = auditOffset(audit.file);
    const t0 = now();
    await inBatches(names, ctx.concurrency, (name) =>
      retryingNetworkErrors(() =>
        plain.core.createNamespacedPod({ namespace, body: plainPod(name, owner.metadata.uid) }),
      ),
    );
    const createSeconds = seconds(now() - t0);
    const events = readAuditEvents(audit.file, from);
    const writes = countWrites(events, namespace, audit.sharedUser)[ctx.plainUser]?.total ?? 0;
    return { pods: names.length, createSeconds, podsPerSecond: round(names.length / createSeconds), writes };
  } finally {
    await deleteNamespaceAndWait(admin.core, namespace);
  }
}
