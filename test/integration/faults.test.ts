// Fault injection on the real control plane (issue 9), part 1: faults around the operator and the launcher.
// Status writes refused with 409, the operator killed at chosen points of a pass (HPCJOB_CRASH_AT), and the
// launcher deleted or evicted under a running job. Each test runs its own operator processes in its own namespace;
// faults-cluster.test.ts has the faults the cluster itself raises (quota, admission, names, lost nodes, idleness).
import { readFileSync } from 'node:fs';
import { clients, kubectl } from './support/cluster.js';
import { eventually } from './support/eventually.js';
import { eventCounts, labelLoop, reconcileCount, useFaultSuite } from './support/faults.js';
import { jobManifest } from './support/jobs.js';

const { core } = clients();
const ctx = useFaultSuite('flt');
const FINALIZER = 'hpcjob.dev/launcher-result';

/** Waits until a crash-armed operator has killed itself at the point, as its log says. */
async function crashed(op: { running: boolean; logFile: string }, point: string, job: string, phase: string) {
  await eventually(() => expect(op.running).toBe(false), 60_000);
  expect(readFileSync(op.logFile, 'utf8')).toContain(`crash point ${point} reached for ${job} (${phase})`);
}

test('status writes refused with 409 while the launcher exits 0: Succeeded once, one attempt, pods cleaned', async () => {
  const { jobs, namespace } = ctx;
  const op = await ctx.startOperator();
  // Every relabel moves the job's resourceVersion: the operator's status writes from its cached copy meet 409s.
  // Four writers, each every 20 ms, so that nearly every pass that writes the status meets one.
  const loop = labelLoop(namespace, 'conflict', 20, 4);
  let labelWrites = 0;
  try {
    await jobs.create(
      jobManifest('conflict', {
        workers: 2,
        exitCode: 0,
        runDuration: '4s',
        spec: { runPolicy: { cleanPodPolicy: 'All' } },
      }),
    );
    await jobs.waitForPhase('conflict', 'Succeeded', 90_000);
    // The cleanup has to get through under the same conflicts.
    await eventually(async () => expect(await jobs.pods('conflict')).toHaveLength(0), 60_000);
  } finally {
    labelWrites = await loop.stop();
  }
  const status = (await jobs.get('conflict')).status ?? {};
  expect(status.phase).toBe('Succeeded');
  expect(jobs.condition(status, 'Succeeded')?.reason).toBe('LauncherSucceeded');
  expect(status.launcher).toMatchObject({ podName: 'conflict-launcher', attempt: 1, exitCode: 0 });
  expect(status.restartCount).toBe(0);
  // The fault happened: passes ended in a conflict while the loop ran.
  const passes = await reconcileCount(op);
  const events = await eventCounts(jobs, 'conflict');
  console.log(
    `conflict test: ${labelWrites} label writes, passes by result ${JSON.stringify(passes.byResult)}, ` +
      `events ${JSON.stringify(events)}`,
  );
  expect(labelWrites).toBeGreaterThan(100);
  expect(passes.byResult.conflict ?? 0).toBeGreaterThan(0);
  expect(events.LauncherFailed).toBeUndefined();
  expect(events.WorkerFailed).toBeUndefined();
  // One attempt, one launcher, whichever pass's status write met the 409; a success records no Normal event.
  expect(events).toEqual({ launchersCreated: 1 });
}, 150_000);

test('operator SIGKILLed between the terminal status write and the deletes: a fresh one cleans up (All)', async () => {
  const { jobs } = ctx;
  const first = await ctx.startOperator({ HPCJOB_CRASH_AT: 'after-status-write@crash-a@Succeeded' });
  await jobs.create(
    jobManifest('crash-a', {
      workers: 2,
      exitCode: 0,
      runDuration: '2s',
      spec: { runPolicy: { cleanPodPolicy: 'All' } },
    }),
  );
  await crashed(first, 'after-status-write', 'crash-a', 'Succeeded');
  // The outcome is stored; nothing was deleted and the launcher's result is still held by its finalizer.
  expect((await jobs.get('crash-a')).status?.phase).toBe('Succeeded');
  const held = await jobs.livePods('crash-a');
  expect(held).toHaveLength(3);
  expect(held.find((p) => p.metadata?.name === 'crash-a-launcher')?.metadata?.finalizers).toContain(FINALIZER);

  await ctx.startOperator();
  await eventually(async () => expect(await jobs.pods('crash-a')).toHaveLength(0), 60_000);
  const status = (await jobs.get('crash-a')).status ?? {};
  expect(status.phase).toBe('Succeeded');
  expect(jobs.condition(status, 'Succeeded')?.reason).toBe('LauncherSucceeded');
  expect(status.launcher).toMatchObject({ attempt: 1, exitCode: 0 });
  expect(status.restartCount).toBe(0);
  const events = await eventCounts(jobs, 'crash-a');
  expect(events).toEqual({ launchersCreated: 1 });
  console.log(`crash after the terminal write: events ${JSON.stringify(events)}`);
}, 150_000);

test('operator SIGKILLed just before the terminal status write: a fresh one decides it once (Running policy)', async () => {
  const { jobs } = ctx;
  const first = await ctx.startOperator({ HPCJOB_CRASH_AT: 'before-status-write@crash-b@Succeeded' });
  await jobs.create(jobManifest('crash-b', { workers: 2, exitCode: 0, runDuration: '2s' }));
  await crashed(first, 'before-status-write', 'crash-b', 'Succeeded');
  expect((await jobs.get('crash-b')).status?.phase).not.toBe('Succeeded');

  await ctx.startOperator();
  const status = await jobs.waitForPhase('crash-b', 'Succeeded', 60_000);
  expect(jobs.condition(status, 'Succeeded')?.reason).toBe('LauncherSucceeded');
  expect(status.launcher).toMatchObject({ attempt: 1, exitCode: 0 });
  expect(status.restartCount).toBe(0);
  // cleanPodPolicy Running: the running workers go, the finished launcher stays for its log, released.
  await eventually(async () => {
    const pods = await jobs.pods('crash-b');
    expect(pods.map((p) => p.metadata?.name)).toEqual(['crash-b-launcher']);
    expect(pods[0]?.status?.phase).toBe('Succeeded');
    expect(pods[0]?.metadata?.finalizers ?? []).not.toContain(FINALIZER);
  }, 60_000);
  const events = await eventCounts(jobs, 'crash-b');
  expect(events).toEqual({ launchersCreated: 1 });
}, 150_000);

test('operator SIGKILLed right after a restart is written: exactly one restart is counted', async () => {
  const { jobs } = ctx;
  const spec = { runPolicy: { backoffLimit: 1 } };
  const normal = await ctx.startOperator();
  await jobs.create(jobManifest('crash-r', { workers: 1, exitCode: 3, runDuration: '12s', spec }));
  await jobs.waitForPhase('crash-r', 'Running', 60_000);
  // Armed only now: every new job's first status write carries Pending too.
  await normal.stop();
  const armed = await ctx.startOperator({ HPCJOB_CRASH_AT: 'after-status-write@crash-r@Pending' });
  await crashed(armed, 'after-status-write', 'crash-r', 'Pending');
  const written = (await jobs.get('crash-r')).status ?? {};
  expect(written.phase).toBe('Pending');
  expect(written.restartCount).toBe(1);

  await ctx.startOperator();
  // Attempt 2 runs (the written restart is not counted again) and fails with the same code: the limit is reached.
  const status = await jobs.waitForPhase('crash-r', 'Failed', 90_000);
  expect(status.restartCount).toBe(1);
  expect(jobs.condition(status, 'Failed')?.reason).toBe('LauncherFailed');
  expect(status.launcher).toMatchObject({ podName: 'crash-r-launcher', attempt: 2, exitCode: 3 });
  const events = await eventCounts(jobs, 'crash-r');
  expect(events.launchersCreated).toBe(2);
  // attempt 1's restart event went down with the operator; attempt 2's failure is recorded.
  expect(events.LauncherFailed).toBeGreaterThanOrEqual(1);
  expect(events.LauncherFailed).toBeLessThanOrEqual(2);
  console.log(`crash after the restart write: events ${JSON.stringify(events)}`);
}, 150_000);

/** Waits for the job's launcher to run, then returns it. */
async function runningLauncher(job: string) {
  await ctx.jobs.waitForPhase(job, 'Running', 60_000);
  const launcher = (await ctx.jobs.livePods(job)).find((p) => p.metadata?.name === `${job}-launcher`);
  expect(launcher?.status?.phase).toBe('Running');
  return launcher!;
}

test('launcher deleted while running, backoffLimit 0: Failed LauncherFailed, reason Deleted, exit code 143', async () => {
  const { jobs, namespace } = ctx;
  await ctx.startOperator();
  await jobs.create(jobManifest('del0', { workers: 1 }));
  await runningLauncher('del0');
  const deleted = kubectl(['delete', 'pod', 'del0-launcher', '-n', namespace, '--wait=false']);
  expect(deleted.status).toBe(0);
  const status = await jobs.waitForPhase('del0', 'Failed', 60_000);
  expect(jobs.condition(status, 'Failed')?.reason).toBe('LauncherFailed');
  expect(status.launcher).toMatchObject({ podName: 'del0-launcher', attempt: 1, reason: 'Deleted', exitCode: 143 });
  expect(status.restartCount).toBe(0);
  // Released and gone; never recreated.
  await eventually(async () => expect(await jobs.pods('del0')).toHaveLength(0), 60_000);
  const events = await eventCounts(jobs, 'del0');
  expect(events).toMatchObject({ launchersCreated: 1, LauncherFailed: 1 });
}, 120_000);

test('launcher deleted while running, backoffLimit 1: one restart, and the second attempt runs', async () => {
  const { jobs, namespace } = ctx;
  await ctx.startOperator();
  await jobs.create(jobManifest('del1', { workers: 2, spec: { runPolicy: { backoffLimit: 1 } } }));
  const first = await runningLauncher('del1');
  expect(kubectl(['delete', 'pod', 'del1-launcher', '-n', namespace, '--wait=false']).status).toBe(0);
  const status = await jobs.waitFor(
    'del1',
    (s) => {
      expect(s.phase).toBe('Running');
      expect(s.restartCount).toBe(1);
      expect(s.launcher?.attempt).toBe(2);
    },
    60_000,
  );
  expect(jobs.condition(status, 'Restarting')?.status).toBe('False');
  const live = await jobs.livePods('del1');
  expect(live).toHaveLength(3);
  for (const pod of live) expect(pod.metadata?.annotations?.['hpcjob.dev/attempt']).toBe('2');
  const second = live.find((p) => p.metadata?.name === 'del1-launcher');
  expect(second?.metadata?.uid).not.toBe(first.metadata?.uid);
  const all = await jobs.events('del1');
  const failed = all.filter((e) => e.reason === 'LauncherFailed');
  expect(failed).toHaveLength(1);
  expect(failed[0]?.message).toContain('exit code 143');
  expect(jobs.launcherCreations('del1')).toBe(2);
}, 120_000);

test('launcher evicted through the eviction API: the attempt ends, and the pod is not silently recreated', async () => {
  const { jobs, namespace } = ctx;
  await ctx.startOperator();
  await jobs.create(jobManifest('evict', { workers: 1 }));
  await runningLauncher('evict');
  await core.createNamespacedPodEviction({
    name: 'evict-launcher',
    namespace,
    body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'evict-launcher', namespace } },
  });
  const status = await jobs.waitForPhase('evict', 'Failed', 60_000);
  expect(jobs.condition(status, 'Failed')?.reason).toBe('LauncherFailed');
  // The eviction API deletes the pod (it sets no pod-level reason, unlike a kubelet's eviction): KWOK stops it with
  // 143 and the operator reads a launcher deleted while running.
  expect(status.launcher).toMatchObject({ podName: 'evict-launcher', attempt: 1, reason: 'Deleted', exitCode: 143 });
  expect(status.restartCount).toBe(0);
  await eventually(async () => expect(await jobs.pods('evict')).toHaveLength(0), 60_000);
  const events = await eventCounts(jobs, 'evict');
  expect(events).toMatchObject({ launchersCreated: 1, LauncherFailed: 1 });
}, 120_000);
