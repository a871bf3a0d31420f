// The status changes the operator makes to its Workloads, as Kueue's own job reconciler makes them.
import type { KueueCondition, Workload } from '../../../src/api/kueue.js';
import { clearedAdmissionStatus, finishedStatus, podsReadyStatus } from '../../../src/controller/kueue-status.js';

const earlier = '2026-06-01T11:00:00Z';
const now = new Date('2026-06-01T12:00:00Z');

const cond = (type: string, status: 'True' | 'False', reason: string, message = reason): KueueCondition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: earlier,
});

function admitted(...more: KueueCondition[]): Workload {
  return {
    metadata: { name: 'w', generation: 2, resourceVersion: '7' },
    spec: { queueName: 'q', podSets: [] },
    status: {
      conditions: [
        cond('QuotaReserved', 'True', 'QuotaReserved', 'Quota reserved in ClusterQueue cq'),
        cond('Admitted', 'True', 'Admitted', 'The workload is admitted'),
        cond('PodsReady', 'True', 'Started'),
        ...more,
      ],
      admission: { clusterQueue: 'cq', podSetAssignments: [{ name: 'worker', flavors: { 'nvidia.com/gpu': 'f' } }] },
      requeueState: { count: 1 },
    },
  };
}

const byType = (conditions: KueueCondition[] | undefined) =>
  Object.fromEntries((conditions ?? []).map((c) => [c.type, c]));

test('a preempted Workload: admission cleared, QuotaReserved=False/Pending, Admitted=False, Requeued=True', () => {
  const message = 'Preempted to accommodate a workload (UID: x, JobUID: y) due to prioritization in the ClusterQueue';
  const wl = admitted(cond('Evicted', 'True', 'Preempted', message), cond('Preempted', 'True', 'InClusterQueue'));
  const status = clearedAdmissionStatus(wl, now)!;
  expect(status.admission).toBeNull();
  const c = byType(status.conditions);
  expect(c.QuotaReserved).toEqual({
    type: 'QuotaReserved',
    status: 'False',
    reason: 'Pending',
    message,
    lastTransitionTime: now.toISOString(),
    observedGeneration: 2,
  });
  expect(c.Admitted).toMatchObject({ status: 'False', reason: 'NoReservation', lastTransitionTime: now.toISOString() });
  expect(c.Requeued).toMatchObject({ status: 'True', reason: 'Preempted', message });
  expect(c.PodsReady).toMatchObject({ status: 'False', reason: 'WaitForStart' });
  // Kueue's own conditions and fields are kept as they were; the input is not changed.
  expect(c.Evicted).toEqual(cond('Evicted', 'True', 'Preempted', message));
  expect(status.requeueState).toEqual({ count: 1 });
  expect(wl.status?.admission).not.toBeNull();
  expect(status.conditions?.map((x) => x.type)).toEqual([
    'QuotaReserved',
    'Admitted',
    'PodsReady',
    'Evicted',
    'Preempted',
    'Requeued',
  ]);
});

test('other evictions requeue with Requeued=False; nothing to clear without eviction or reservation', () => {
  const deactivated = admitted(cond('Evicted', 'True', 'Deactivated', 'The workload is deactivated'));
  expect(byType(clearedAdmissionStatus(deactivated, now)?.conditions).Requeued).toMatchObject({
    status: 'False',
    reason: 'Deactivated',
  });
  const nodeFailure = admitted(cond('Evicted', 'True', 'NodeFailures', 'node lost'));
  expect(byType(clearedAdmissionStatus(nodeFailure, now)?.conditions).Requeued?.status).toBe('True');
  expect(clearedAdmissionStatus(admitted(), now)).toBeUndefined();
  const cleared = { ...deactivated, status: clearedAdmissionStatus(deactivated, now)! };
  expect(clearedAdmissionStatus(cleared, now)).toBeUndefined();
});

test('Finished=True with the outcome, once; PodsReady=True, once', () => {
  const done = finishedStatus(admitted(), false, 'launcher attempt 1 exited with code 3', now)!;
  expect(byType(done.conditions).Finished).toEqual({
    type: 'Finished',
    status: 'True',
    reason: 'Failed',
    message: 'launcher attempt 1 exited with code 3',
    lastTransitionTime: now.toISOString(),
    observedGeneration: 2,
  });
  expect(done.admission).toBeDefined();
  expect(finishedStatus({ ...admitted(), status: done }, true, 'x', now)).toBeUndefined();
  expect(byType(finishedStatus(admitted(), true, 'ok', now)?.conditions).Finished?.reason).toBe('Succeeded');

  const fresh: Workload = { ...admitted(), status: { conditions: [cond('Admitted', 'True', 'Admitted')] } };
  const ready = podsReadyStatus(fresh, 'running', now)!;
  expect(byType(ready.conditions).PodsReady).toMatchObject({ status: 'True', reason: 'Started', message: 'running' });
  expect(podsReadyStatus({ ...fresh, status: ready }, 'running', now)).toBeUndefined();
});
