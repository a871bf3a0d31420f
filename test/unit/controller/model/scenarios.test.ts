// Named scenarios of the job lifecycle (issue 9), each played step by step against the real Controller over the
// in-memory cluster, with the model's invariants checked after every pass and a fair run to the end.
import { LAUNCHER_FINALIZER } from '../../../../src/render/names.js';
import { deletePod, exitMain, labelJob } from './cluster.js';
import { finishRun } from './fair.js';
import { condition, kubelet, pass, settle, until, withWorld, worldWith, writesSince } from './script.js';
import type { World } from './world.js';

const DAY_MS = 24 * 60 * 60 * 1000;

const creates = (w: World, name: string) => w.writes.filter((x) => x.verb === 'create' && x.what === `Pod ${name}`);
const live = (w: World) =>
  w.store
    .list('pods')
    .filter((p) => p.metadata.deletionTimestamp === undefined)
    .map((p) => p.metadata.name)
    .sort();

test('a launcher deleted after it exited 0, before the operator saw it, leaves the job Succeeded with exit code 0', () =>
  withWorld(worldWith({ cleanPodPolicy: 'All' }), async (w) => {
    await until(w, 'Running');
    exitMain(w, 'a-launcher', 0);
    deletePod(w, 'a-launcher');
    // A finished pod goes at once, but the finalizer keeps it (and its exit code) until the result is written.
    expect(w.pod('a-launcher')?.metadata?.deletionTimestamp).toBeDefined();
    expect(w.pod('a-launcher')?.metadata?.finalizers).toContain(LAUNCHER_FINALIZER);

    await pass(w);
    expect(w.job('a')?.status).toMatchObject({
      phase: 'Succeeded',
      restartCount: 0,
      launcher: { podName: 'a-launcher', attempt: 1, exitCode: 0 },
    });
    expect(condition(w, 'a', 'Succeeded')?.reason).toBe('LauncherSucceeded');

    await settle(w);
    kubelet(w);
    expect(w.pod('a-launcher')).toBeUndefined();
    await finishRun(w);
    expect(w.job('a')?.status?.phase).toBe('Succeeded');
  }));

test('a 409 on the terminal status write deletes no pod before the status is stored, and the job never runs again', () =>
  withWorld(worldWith({ cleanPodPolicy: 'All', backoffLimit: 0 }), async (w) => {
    await until(w, 'Running');
    w.deliverAll();
    const pods = live(w);
    exitMain(w, 'a-launcher', 3);
    labelJob(w, 'a');
    // The operator sees the launcher end, not the label: its Failed write conflicts.
    w.deliver(Infinity, 'pods');
    let mark = w.writes.length;
    await w.reconcile('a');
    expect(writesSince(w, mark)).toEqual(['replaceStatus a']);
    expect(w.job('a')?.status?.phase).toBe('Running');
    expect(live(w)).toEqual(pods);

    // Decided again from the fresh cache and stored; still nothing deleted in the pass that writes it.
    mark = w.writes.length;
    await pass(w);
    expect(w.job('a')?.status).toMatchObject({ phase: 'Failed', launcher: { exitCode: 3 } });
    expect(writesSince(w, mark).filter((x) => x.startsWith('deletePod'))).toEqual([]);
    expect(live(w)).toEqual(pods);

    // The next pass carries the stored outcome out: every pod goes (All), the launcher's finalizer comes off.
    mark = w.writes.length;
    await pass(w);
    expect(
      writesSince(w, mark)
        .filter((x) => x.startsWith('deletePod'))
        .sort(),
    ).toEqual(pods.map((p) => `deletePod ${p}`));
    expect(writesSince(w, mark)).toContain('removeFinalizer a-launcher');
    await finishRun(w);
    expect(w.store.list('pods')).toEqual([]);
    expect(w.job('a')?.status).toMatchObject({ phase: 'Failed', restartCount: 0 });
    expect(creates(w, 'a-launcher')).toHaveLength(1);
  }));

test('crashes between the terminal status write and the deletes: the next operator finishes the cleanup, no second launcher', () =>
  withWorld(worldWith({ cleanPodPolicy: 'All' }), async (w) => {
    await until(w, 'Running');
    const pods = live(w);
    exitMain(w, 'a-launcher', 0);
    // The pass that decides writes the status (a success records no event); the operator dies before its next call,
    // the first of the cleanup pass.
    w.crashAfterWrite('replaceStatus');
    await pass(w);
    expect(w.job('a')?.status?.phase).toBe('Succeeded');
    await pass(w);
    expect(w.operatorStarts).toBe(2);
    expect(live(w)).toEqual(pods);

    // The new operator's cleanup pass releases the finalizer (call 1) and dies before its first delete (call 2).
    w.crashBeforeCall(2);
    await pass(w);
    expect(w.operatorStarts).toBe(3);
    expect(w.pod('a-launcher')?.metadata?.finalizers ?? []).not.toContain(LAUNCHER_FINALIZER);
    expect(live(w)).toEqual(pods);

    // The third one deletes everything.
    await pass(w);
    expect(live(w)).toEqual([]);
    await finishRun(w);
    expect(w.store.list('pods')).toEqual([]);
    expect(w.job('a')?.status).toMatchObject({ phase: 'Succeeded', launcher: { exitCode: 0 } });
    expect(creates(w, 'a-launcher')).toHaveLength(1);
  }));

test('one lost worker with backoffLimit 1: exactly one restart, and the retry runs to the end', () =>
  withWorld(worldWith({ workers: 2, backoffLimit: 1 }), async (w) => {
    await until(w, 'Running');
    exitMain(w, 'a-worker-1', 1);
    await pass(w);
    expect(w.job('a')?.status).toMatchObject({ phase: 'Pending', restartCount: 1 });
    expect(condition(w, 'a', 'Restarting')).toMatchObject({ status: 'True', reason: 'WorkerFailed' });

    await until(w, 'Running');
    expect(w.pod('a-launcher')?.metadata?.annotations?.['hpcjob.dev/attempt']).toBe('2');
    expect(creates(w, 'a-launcher')).toHaveLength(2);
    exitMain(w, 'a-launcher', 0);
    await pass(w);
    expect(w.job('a')?.status).toMatchObject({
      phase: 'Succeeded',
      restartCount: 1,
      launcher: { attempt: 2, exitCode: 0 },
    });
    await finishRun(w);
    expect(w.job('a')?.status?.restartCount).toBe(1);
  }));

test('a deadline that passes after the launcher succeeded leaves the job Succeeded, not DeadlineExceeded', () =>
  withWorld(worldWith({ deadlineSeconds: 60 }), async (w) => {
    await until(w, 'Running');
    exitMain(w, 'a-launcher', 0);
    w.clock += 120_000;
    await pass(w);
    expect(w.job('a')?.status?.phase).toBe('Succeeded');
    expect(condition(w, 'a', 'Succeeded')?.reason).toBe('LauncherSucceeded');
    expect(condition(w, 'a', 'Failed')).toBeUndefined();
    await finishRun(w);
  }));

test('a TTL of 30 days: the pass asks to look again in 30 days, which the work queue waits out, with no busy loop', () =>
  withWorld(worldWith({ ttlSeconds: 30 * 24 * 3600 }), async (w) => {
    await until(w, 'Running');
    exitMain(w, 'a-launcher', 0);
    await until(w, 'Succeeded');
    await settle(w);
    const mark = w.writes.length;
    for (let i = 0; i < 3; i++) {
      w.clock += 1000;
      const requeue = await pass(w);
      expect(requeue).toBeGreaterThan(29 * DAY_MS);
      expect(requeue).toBeLessThanOrEqual(30 * DAY_MS);
    }
    expect(writesSince(w, mark)).toEqual([]);

    // The queue takes a delay longer than a Node timer can hold (2^31-1 ms) without waking the job early.
    const requeue = (await pass(w))!;
    await w.takeQueued();
    w.controller.queue.addAfter('ns/a', requeue);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(w.controller.queue.length).toBe(0);

    // Once the TTL has passed the job is deleted, and its children with it.
    w.clock += requeue;
    await pass(w);
    expect(w.job('a')).toBeUndefined();
    await finishRun(w);
    expect(w.store.list('pods')).toEqual([]);
  }));
