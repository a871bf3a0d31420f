// Kueue in the model cluster: the real Controller queues jobs through its Workloads while a model of Kueue admits,
// evicts and takes turns with one job's worth of quota; the invariants K1-K3 (kueue.ts) beside the model's own.
import fc from 'fast-check';
import { commands } from './commands.js';
import { finishRun } from './fair.js';
import { admit, canAdmit, clearedAfter, evict, FLAVOR_LABELS, kueueRound, storedWorkload } from './kueue.js';
import { kueueCommands } from './kueue-commands.js';
import { condition, kubelet, pass, settle, until, withWorld, writesSince } from './script.js';
import { runModel, worldSetup } from './setup.js';
import { World, type JobSetup } from './world.js';

const JOB: JobSetup = {
  name: 'a',
  workers: 2,
  backoffLimit: 0,
  cleanPodPolicy: 'Running',
  fairExitCode: 0,
  queue: 'q',
};

async function queuedWorld(...jobs: Partial<JobSetup>[]): Promise<World> {
  const w = new World({ jobs: jobs.map((j) => ({ ...JOB, ...j })), lostNodesRecover: true, kueue: true });
  await w.startOperator();
  return w;
}

const livePods = (w: World) =>
  w.store
    .list('pods')
    .filter((p) => p.metadata.deletionTimestamp === undefined)
    .map((p) => p.metadata.name)
    .sort();

test('a queued job creates nothing but its Workload until Kueue admits it; then it runs on the flavor and ends', () =>
  withWorld(queuedWorld({}), async (w) => {
    await settle(w);
    expect(w.store.list('pods')).toEqual([]);
    expect(w.store.list('secrets')).toEqual([]);
    expect(w.store.list('workloads.kueue.x-k8s.io').map((o) => o.metadata.name)).toEqual([
      expect.stringMatching(/^hpcjob-a-/),
    ]);
    expect(condition(w, 'a', 'Queued')).toMatchObject({ status: 'True', reason: 'Pending' });
    expect(w.job('a')?.status?.phase).toBe('Pending');

    admit(w, 'a');
    await until(w, 'Running');
    expect(condition(w, 'a', 'Queued')).toMatchObject({ status: 'False', reason: 'Admitted' });
    expect(w.pod('a-worker-0')?.spec?.nodeSelector).toEqual(FLAVOR_LABELS);
    expect(w.pod('a-launcher')?.spec?.nodeSelector).toBeUndefined();
    await finishRun(w);
    expect(w.job('a')?.status?.phase).toBe('Succeeded');
  }));

test('preempted mid-run: no failure is counted, the admission is cleared after the pods stop, and it runs again', () =>
  withWorld(queuedWorld({}), async (w) => {
    await settle(w);
    admit(w, 'a');
    await until(w, 'Running');
    const running = livePods(w);
    evict(w, 'a', 'Preempted');

    // The pass that sees the eviction only writes it: a new attempt, no restart, the pods still there.
    let mark = w.writes.length;
    await pass(w);
    expect(writesSince(w, mark).filter((x) => x.startsWith('deletePod'))).toEqual([]);
    expect(w.job('a')?.status).toMatchObject({ phase: 'Pending', attempt: 2, restartCount: 0 });
    expect(condition(w, 'a', 'Queued')).toMatchObject({ status: 'True', reason: 'Preempted' });
    expect(livePods(w)).toEqual(running);

    // The next pass deletes them; the admission is cleared only once none is active (K2 checks every write).
    mark = w.writes.length;
    await pass(w);
    expect(writesSince(w, mark).filter((x) => x.startsWith('deletePod'))).toHaveLength(running.length);
    await settle(w);
    kubelet(w);
    await settle(w);
    const wl = storedWorkload(w, 'a')!.status as {
      admission?: unknown;
      conditions: { type: string; status: string }[];
    };
    expect(wl.admission).toBeNull();
    expect(wl.conditions.find((c) => c.type === 'Requeued')?.status).toBe('True');
    expect(canAdmit(w, 'a')).toBe(true);

    admit(w, 'a');
    await finishRun(w);
    expect(w.job('a')?.status).toMatchObject({ phase: 'Succeeded', restartCount: 0, attempt: 2 });
  }));

test('two queued jobs on one job of quota take turns; a crash between eviction and cleanup loses nothing', () =>
  withWorld(queuedWorld({ name: 'a' }, { name: 'b' }), async (w) => {
    await settle(w, 'a');
    await settle(w, 'b');
    kueueRound(w);
    const first = canAdmit(w, 'a') ? 'b' : 'a';
    await until(w, 'Running', first);
    // The operator dies right after the write that ends the attempt; the next one deletes the pods and clears.
    evict(w, first, 'PodsReadyTimeout');
    w.crashAfterWrite('replaceStatus');
    await pass(w, first);
    expect(w.operatorStarts).toBe(2);
    expect(w.job(first)?.status).toMatchObject({ attempt: 2, restartCount: 0 });
    await finishRun(w);
    for (const name of ['a', 'b']) expect(w.job(name)?.status?.phase).toMatch(/Succeeded|Failed/);
  }));

test('random steps with Kueue admitting and evicting keep every invariant, and every job ends', async () => {
  const queued = worldSetup.map((setup) => ({
    ...setup,
    kueue: true,
    jobs: setup.jobs.map((j) => ({ ...j, queue: 'q' })),
  }));
  const seen = new Set<string>();
  const tally = (w: World) => {
    for (const name of w.jobs.keys()) {
      const status = w.job(name)?.status;
      if (status?.phase === 'Succeeded' && (status.attempt ?? 1) > 1) seen.add('succeeded after a stopped attempt');
    }
  };
  await fc.assert(
    fc.asyncProperty(
      queued,
      fc.commands([commands(), kueueCommands()], { maxCommands: 50, size: 'max' }),
      (setup, steps) => runModel(setup, steps, tally),
    ),
    // A fixed seed: the coverage check below asks that the runs reach every kind of eviction, which a random seed
    // misses now and then (a deactivation is a rare path); MODEL_SEED explores other sequences.
    { numRuns: 300, seed: Number(process.env.MODEL_SEED ?? 13) },
  );
  // The runs reach what they are meant to test: evictions of each kind cleared, and jobs finishing after one.
  for (const reason of clearedAfter) seen.add(`cleared after ${reason}`);
  expect(seen.has('cleared after no eviction')).toBe(false);
  expect([...seen].sort()).toEqual(
    expect.arrayContaining([
      'cleared after Deactivated',
      'cleared after PodsReadyTimeout',
      'cleared after Preempted',
      'succeeded after a stopped attempt',
    ]),
  );
});
