// spec.launcher.creationPolicy: when the launcher is planned, and when a missing worker breaks the attempt.
import type { HPCJobStatus } from '../../../src/api/types.js';
import { MAX_POD_CREATES_PER_PASS, planReconcile } from '../../../src/controller/plan.js';
import { onlyProgressDiffers } from '../../../src/controller/status.js';
import { inAttempt, job, observe, pod } from './observed.js';

const atStartup = (status?: HPCJobStatus) =>
  job({ launcher: { creationPolicy: 'AtStartup' }, runPolicy: { backoffLimit: 1 } }, status);

test('AtStartup: a new job plans its launcher with its workers, and records it', () => {
  const plan = planReconcile(observe(atStartup(), []));
  expect(plan.createWorkers).toEqual([0, 1]);
  expect(plan.createLauncher).toBe(true);
  expect(plan.status.launcher).toEqual({ podName: 'j-launcher', attempt: 1 });
});

test('WaitForWorkersReady (the default, and when named): no launcher before every worker is Ready', () => {
  for (const spec of [{}, { launcher: { creationPolicy: 'WaitForWorkersReady' as const } }]) {
    const plan = planReconcile(observe(job(spec), [pod('j-worker-0', 'ready'), pod('j-worker-1', 'pending')]));
    expect(plan.createLauncher).toBe(false);
  }
});

test('AtStartup: a worker missing before all were Ready is created again, the attempt goes on', () => {
  const pods = [pod('j-launcher', 'running'), pod('j-worker-0', 'ready')];
  const plan = planReconcile(observe(atStartup(), pods));
  expect(plan.createWorkers).toEqual([1]);
  expect(plan.status.restartCount).toBe(0);
  expect(plan.status.phase).toBe('Running');
  expect(plan.status.allWorkersReadyAttempt).toBeUndefined();
});

test('AtStartup: once every worker was Ready the attempt records it, and a missing worker then breaks it', () => {
  const ready = planReconcile(
    observe(atStartup(), [pod('j-launcher', 'running'), pod('j-worker-0', 'ready'), pod('j-worker-1', 'ready')]),
  );
  expect(ready.status.allWorkersReadyAttempt).toBe(1);
  expect(ready.status.restartCount).toBe(0);

  const lost = planReconcile(
    observe(atStartup(ready.status), [pod('j-launcher', 'running'), pod('j-worker-0', 'ready')]),
  );
  expect(lost.status.restartCount).toBe(1);
  expect(lost.createWorkers).toEqual([]);
  expect(lost.status.conditions?.find((c) => c.type === 'Restarting')?.message).toContain('worker j-worker-1 is gone');
});

test("AtStartup: an earlier attempt's record does not count for the current one", () => {
  const status: HPCJobStatus = { restartCount: 1, attempt: 2, allWorkersReadyAttempt: 1 };
  const pods = [pod('j-launcher', 'running'), pod('j-worker-0', 'ready')].map((p) => inAttempt(p, 2));
  const plan = planReconcile(observe(atStartup(status), pods));
  expect(plan.createWorkers).toEqual([1]);
  expect(plan.status.restartCount).toBe(1);
});

test('AtStartup: a worker whose container ended breaks the attempt even before all were Ready', () => {
  const pods = [pod('j-launcher', 'running'), pod('j-worker-0', 'failed', 137)];
  const plan = planReconcile(observe(atStartup(), pods));
  expect(plan.status.restartCount).toBe(1);
  expect(plan.status.conditions?.find((c) => c.type === 'Restarting')?.message).toContain('j-worker-0 ended Failed');
});

test('WaitForWorkersReady: the launcher is the proof; no record is kept, and a missing worker breaks the attempt', () => {
  const all = [pod('j-launcher', 'running'), pod('j-worker-0', 'ready'), pod('j-worker-1', 'ready')];
  const running = planReconcile(observe(job({ runPolicy: { backoffLimit: 1 } }), all));
  expect(running.status.allWorkersReadyAttempt).toBeUndefined();
  const lost = planReconcile(observe(job({ runPolicy: { backoffLimit: 1 } }), all.slice(0, 2)));
  expect(lost.status.restartCount).toBe(1);
});

test('AtStartup: the record is written at once, not held back like worker counts', () => {
  const before = { phase: 'Running' as const, workersReady: '1/2' };
  const after = { ...before, workersReady: '2/2' };
  expect(onlyProgressDiffers(before, after)).toBe(true);
  expect(onlyProgressDiffers(before, { ...after, allWorkersReadyAttempt: 1 })).toBe(false);
});

test('a wide job gets its workers over several passes, at most MAX_POD_CREATES_PER_PASS each; the launcher in the first', () => {
  const wide = (status?: HPCJobStatus) => job({ workers: 2500, launcher: { creationPolicy: 'AtStartup' } }, status);
  const first = planReconcile(observe(wide(), []));
  expect(first.createLauncher).toBe(true);
  expect(first.createWorkers).toEqual([...Array(MAX_POD_CREATES_PER_PASS).keys()]);
  const existing = [pod('j-launcher', 'running'), ...first.createWorkers.map((i) => pod(`j-worker-${i}`, 'pending'))];
  const second = planReconcile(observe(wide(first.status), existing));
  expect(second.createLauncher).toBe(false);
  expect(second.createWorkers[0]).toBe(MAX_POD_CREATES_PER_PASS);
  expect(second.createWorkers).toHaveLength(MAX_POD_CREATES_PER_PASS);
  // The launcher runs meanwhile: the job is Running before its last worker exists.
  expect(second.status.phase).toBe('Running');
});
