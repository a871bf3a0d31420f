// Kueue decisions through planReconcile: no pod before admission, the Queued condition in Kueue's words, an eviction
// as a suspend, and what is done to the Workload (create, activate, clear, finish, delete).
import type { V1Pod } from '@kubernetes/client-node';
import type { KueueCondition, ResourceFlavor, Workload } from '../../../src/api/kueue.js';
import type { HPCJob, HPCJobStatus } from '../../../src/api/types.js';
import { planReconcile, type Observed } from '../../../src/controller/plan.js';
import type { QueueObservation } from '../../../src/controller/queueing.js';
import { terminatedMain } from './observed.js';

const now = new Date('2026-06-01T12:00:00Z');
const earlier = '2026-06-01T11:00:00Z';

function job(status?: HPCJobStatus, labels: Record<string, string> = { 'kueue.x-k8s.io/queue-name': 'gpus' }): HPCJob {
  return {
    apiVersion: 'hpcjob.dev/v1alpha1',
    kind: 'HPCJob',
    metadata: { name: 'j', namespace: 'ns', uid: 'u', generation: 1, labels },
    spec: { image: 'i', command: ['mpirun', 'x'], workers: 2, resources: { gpus: 8 } },
    ...(status ? { status } : {}),
  };
}

const cond = (type: string, status: 'True' | 'False', reason: string, message = reason): KueueCondition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: earlier,
});

const QUOTA_MESSAGE =
  "couldn't assign flavors to pod set worker: insufficient unused quota for nvidia.com/gpu in flavor f, 8 more needed";
const pending = (): Workload => ({
  metadata: { name: 'hpcjob-j-abcde', uid: 'wl-uid', resourceVersion: '5' },
  spec: {
    queueName: 'gpus',
    podSets: [
      { name: 'launcher', count: 1, template: { spec: { containers: [{ name: 'launcher' }] } } },
      { name: 'worker', count: 2, template: { spec: { containers: [{ name: 'worker' }] } } },
    ],
  },
  status: { conditions: [cond('QuotaReserved', 'False', 'Pending', QUOTA_MESSAGE)] },
});
const admitted = (...more: KueueCondition[]): Workload => ({
  ...pending(),
  status: {
    conditions: [cond('QuotaReserved', 'True', 'QuotaReserved'), cond('Admitted', 'True', 'Admitted'), ...more],
    admission: {
      clusterQueue: 'cq',
      podSetAssignments: [
        { name: 'launcher', flavors: {} },
        { name: 'worker', flavors: { 'nvidia.com/gpu': 'rack-1' } },
      ],
    },
  },
});
const FLAVORS = new Map<string, ResourceFlavor>([
  ['rack-1', { metadata: { name: 'rack-1' }, spec: { nodeLabels: { rack: 'rack-1' } } }],
]);

function queue(extra: Partial<QueueObservation> = {}): QueueObservation {
  return { queueName: 'gpus', served: true, flavors: FLAVORS, ...extra };
}

function pod(name: string, attempt = 1, opts: { ready?: boolean; terminating?: boolean } = {}): V1Pod {
  return {
    metadata: {
      name,
      uid: `${name}-uid`,
      annotations: { 'hpcjob.dev/attempt': String(attempt) },
      ...(opts.terminating ? { deletionTimestamp: now } : {}),
    },
    spec: { containers: [{ name: 'main' }], nodeName: 'n1' },
    status: { phase: 'Running', conditions: opts.ready ? [{ type: 'Ready', status: 'True' }] : [] },
  };
}

function observe(j: HPCJob, q: QueueObservation | undefined, pods: V1Pod[] = []): Observed {
  return {
    job: j,
    pods,
    hasSecret: false,
    hasConfigMap: false,
    hasService: false,
    hasScripts: false,
    hasNetworkPolicy: false,
    wantsNetworkPolicy: false,
    now,
    ...(q ? { queue: q } : {}),
  };
}

const queued = (s: HPCJobStatus) => s.conditions?.find((c) => c.type === 'Queued');
const nothingCreated = (plan: ReturnType<typeof planReconcile>) => {
  expect(plan.createWorkers).toEqual([]);
  expect(plan.createLauncher).toBe(false);
  expect([plan.createSecret, plan.createConfigMap, plan.createService]).toEqual([false, false, false]);
};

test('Kueue not served: the labelled job waits with KueueNotInstalled naming the label, and one Warning event', () => {
  const plan = planReconcile(observe(job(), queue({ served: false })));
  nothingCreated(plan);
  expect(plan.status.phase).toBe('Pending');
  expect(queued(plan.status)).toMatchObject({ status: 'True', reason: 'KueueNotInstalled' });
  expect(queued(plan.status)?.message).toContain('kueue.x-k8s.io/queue-name=gpus');
  expect(plan.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'KueueNotInstalled' })]);
  expect(plan.workload).toBeUndefined();
  // The next pass, on the stored status, says nothing new.
  expect(planReconcile(observe(job(plan.status), queue({ served: false }))).events).toEqual([]);
});

test('a queued job with no Workload yet: the Workload is created, and nothing else', () => {
  const plan = planReconcile(observe(job(), queue()));
  nothingCreated(plan);
  expect(plan.workload).toEqual({ create: { queueName: 'gpus', active: true } });
  expect(queued(plan.status)).toMatchObject({ status: 'True', reason: 'Pending' });
  expect(plan.events).toEqual([expect.objectContaining({ type: 'Normal', reason: 'Queued' })]);
  expect(plan.status.startTime).toBeUndefined();
});

test('the priority class label: its value goes into the Workload; a missing class is reported, not created', () => {
  const labels = { 'kueue.x-k8s.io/queue-name': 'gpus', 'kueue.x-k8s.io/priority-class': 'high' };
  const found = planReconcile(observe(job(undefined, labels), queue({ priority: { className: 'high', value: 1000 } })));
  expect(found.workload?.create).toEqual({
    queueName: 'gpus',
    active: true,
    priority: { className: 'high', value: 1000 },
  });
  const missing = planReconcile(observe(job(undefined, labels), queue({ priority: { className: 'high' } })));
  expect(missing.workload).toBeUndefined();
  expect(queued(missing.status)).toMatchObject({ status: 'True', reason: 'PriorityClassNotFound' });
  expect(missing.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'PriorityClassNotFound' })]);
});

test("while Kueue holds the Workload, the job has no pod and Queued says which queue and Kueue's message", () => {
  const plan = planReconcile(observe(job(), queue({ workload: pending() })));
  nothingCreated(plan);
  expect(plan.workload).toBeUndefined();
  expect(queued(plan.status)).toMatchObject({
    status: 'True',
    reason: 'Pending',
    message: `LocalQueue ns/gpus: ${QUOTA_MESSAGE}`,
  });
  const reserved: Workload = {
    ...pending(),
    status: { conditions: [cond('QuotaReserved', 'True', 'QuotaReserved', 'Quota reserved in ClusterQueue cq')] },
  };
  const checks = planReconcile(observe(job(), queue({ workload: reserved })));
  nothingCreated(checks);
  expect(queued(checks.status)).toMatchObject({ reason: 'QuotaReserved' });
});

test("admitted: workers are created with the flavors' placement; Queued=False/Admitted with an event", () => {
  const first = planReconcile(observe(job(), queue({ workload: pending() })));
  const plan = planReconcile(observe(job(first.status), queue({ workload: admitted() })));
  expect(plan.createWorkers).toEqual([0, 1]);
  expect(plan.createSecret).toBe(true);
  expect(plan.placements?.worker?.nodeSelector).toEqual({ rack: 'rack-1' });
  expect(plan.placements?.launcher?.nodeSelector).toEqual({});
  expect(queued(plan.status)).toMatchObject({ status: 'False', reason: 'Admitted' });
  expect(queued(plan.status)?.message).toContain('ClusterQueue cq');
  expect(plan.events.map((e) => e.reason)).toEqual(['Admitted']);
  expect(plan.status.conditions?.find((c) => c.type === 'Created')?.status).toBe('True');
  expect(plan.status.startTime).toBe(now.toISOString());
});

test('admitted with a flavor the cache lacks: the job waits and looks again; a conflicting placement fails it', () => {
  const late = planReconcile(observe(job(), queue({ workload: admitted(), flavors: new Map() })));
  nothingCreated(late);
  expect(late.requeueAfterMs).toBe(1000);
  expect(queued(late.status)).toMatchObject({ reason: 'WaitingForFlavor' });
  const wl = admitted();
  wl.spec.podSets = [
    { name: 'worker', count: 2, template: { spec: { containers: [], nodeSelector: { rack: 'rack-0' } } } },
  ];
  const conflict = planReconcile(observe(job(), queue({ workload: wl })));
  expect(conflict.status.phase).toBe('Failed');
  expect(conflict.status.conditions?.find((c) => c.type === 'Failed')?.reason).toBe('PlacementConflict');
});

test('preempted while running: the attempt ends like a suspend (no failure counted), then its pods go', () => {
  const running: HPCJobStatus = {
    phase: 'Running',
    attempt: 1,
    restartCount: 0,
    startTime: earlier,
    launcher: { podName: 'j-launcher', attempt: 1 },
    conditions: [
      { type: 'Queued', status: 'False', reason: 'Admitted', message: 'admitted', lastTransitionTime: earlier },
      { type: 'Running', status: 'True', reason: 'LauncherRunning', message: 'running', lastTransitionTime: earlier },
    ],
  };
  const pods = [pod('j-worker-0', 1, { ready: true }), pod('j-worker-1', 1, { ready: true }), pod('j-launcher')];
  const message = 'Preempted to accommodate a workload (UID: x, JobUID: y) due to prioritization in the ClusterQueue';
  const evicted = admitted(cond('Evicted', 'True', 'Preempted', message), cond('Preempted', 'True', 'InClusterQueue'));

  const decide = planReconcile(observe(job(running), queue({ workload: evicted }), pods));
  // Decided and written first: nothing is deleted in this pass, the attempt moves on, no restart is counted.
  expect(decide.deletePods).toEqual([]);
  expect(decide.status).toMatchObject({ phase: 'Pending', attempt: 2, restartCount: 0 });
  expect(decide.status.launcher).toBeUndefined();
  expect(decide.status.startTime).toBeUndefined();
  expect(queued(decide.status)).toMatchObject({ status: 'True', reason: 'Preempted' });
  expect(queued(decide.status)?.message).toContain(message);
  expect(decide.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'Preempted' })]);
  expect(decide.status.conditions?.find((c) => c.type === 'Running')).toMatchObject({
    status: 'False',
    reason: 'Preempted',
  });
  // The admission is cleared only once no pod is active.
  expect(decide.workload).toBeUndefined();

  const carry = planReconcile(observe(job(decide.status), queue({ workload: evicted }), pods));
  expect(carry.deletePods.map((p) => p.name).sort()).toEqual(['j-launcher', 'j-worker-0', 'j-worker-1']);
  expect(carry.releaseFinalizers).toEqual([]);
  nothingCreated(carry);
  expect(carry.events).toEqual([]);

  const gone = pods.map((p) => ({ ...p, metadata: { ...p.metadata, deletionTimestamp: now } }));
  const clear = planReconcile(observe(job(carry.status), queue({ workload: evicted }), gone));
  expect(clear.workload?.status).toMatchObject({ name: 'hpcjob-j-abcde', resourceVersion: '5' });
  expect(clear.workload?.status?.status.admission).toBeNull();
});

test('a job that ended: the Workload is marked Finished once the outcome is stored, not before', () => {
  const running: HPCJobStatus = { phase: 'Running', attempt: 1, launcher: { podName: 'j-launcher', attempt: 1 } };
  const launcher: V1Pod = {
    ...pod('j-launcher'),
    status: {
      phase: 'Succeeded',
      containerStatuses: [terminatedMain(0)],
    },
  };
  const pods = [pod('j-worker-0', 1, { ready: true }), pod('j-worker-1', 1, { ready: true }), launcher];
  const decide = planReconcile(observe(job(running), queue({ workload: admitted() }), pods));
  expect(decide.status.phase).toBe('Succeeded');
  expect(decide.workload).toBeUndefined();
  const after = planReconcile(observe(job(decide.status), queue({ workload: admitted() }), pods));
  const finished = after.workload?.status?.status.conditions?.find((c) => c.type === 'Finished');
  expect(finished).toMatchObject({ status: 'True', reason: 'Succeeded', message: 'launcher exited 0 on attempt 1' });
});

test('suspend deactivates the Workload; resume reactivates it once its admission is cleared', () => {
  const suspended = job();
  suspended.spec.runPolicy = { suspend: true };
  const deactivate = planReconcile(observe(suspended, queue({ workload: admitted() })));
  expect(deactivate.workload?.spec).toEqual({ name: 'hpcjob-j-abcde', patch: { active: false } });
  expect(planReconcile(observe(suspended, queue())).workload?.create).toEqual({ queueName: 'gpus', active: false });

  const inactive = (wl: Workload): Workload => ({ ...wl, spec: { ...wl.spec, active: false } });
  const holding = inactive(admitted(cond('Evicted', 'True', 'Deactivated', 'The workload is deactivated')));
  const resumed = planReconcile(observe(job({ phase: 'Suspended' }), queue({ workload: holding })));
  expect(resumed.workload?.spec).toBeUndefined();
  expect(resumed.workload?.status?.status.admission).toBeNull();
  nothingCreated(resumed);
  const cleared = inactive({ ...pending(), status: resumed.workload!.status!.status });
  const reactivate = planReconcile(observe(job({ phase: 'Suspended' }), queue({ workload: cleared })));
  expect(reactivate.workload?.spec).toEqual({ name: 'hpcjob-j-abcde', patch: { active: true } });
});

test('a label naming another LocalQueue moves the Workload there before admission, never after', () => {
  const moved = { 'kueue.x-k8s.io/queue-name': 'other' };
  const waiting = planReconcile(observe(job(undefined, moved), queue({ queueName: 'other', workload: pending() })));
  expect(waiting.workload?.spec).toEqual({ name: 'hpcjob-j-abcde', patch: { queueName: 'other' } });
  const running = planReconcile(observe(job(undefined, moved), queue({ queueName: 'other', workload: admitted() })));
  expect(running.workload?.spec).toBeUndefined();
});

test('the label removed: the Workload is deleted and the job runs without Kueue', () => {
  const stored: HPCJobStatus = {
    conditions: [{ type: 'Queued', status: 'True', reason: 'Pending', message: 'm', lastTransitionTime: earlier }],
  };
  const plan = planReconcile(observe(job(stored, {}), { served: true, flavors: new Map(), workload: pending() }));
  expect(plan.workload).toEqual({ delete: { name: 'hpcjob-j-abcde', uid: 'wl-uid' } });
  expect(plan.createWorkers).toEqual([0, 1]);
  expect(queued(plan.status)).toMatchObject({ status: 'False', reason: 'NotQueued' });
});

test('a Workload Kueue finished on its own ends the job; a running job reports PodsReady', () => {
  const ended = admitted(cond('Finished', 'True', 'MaximumExecutionTimeExceeded', 'exceeded 600s'));
  const plan = planReconcile(observe(job(), queue({ workload: ended })));
  expect(plan.status.phase).toBe('Failed');
  expect(plan.status.conditions?.find((c) => c.type === 'Failed')).toMatchObject({ reason: 'WorkloadFinished' });

  const pods = [pod('j-worker-0', 1, { ready: true }), pod('j-worker-1', 1, { ready: true }), pod('j-launcher')];
  const running = planReconcile(
    observe(
      job({ attempt: 1, launcher: { podName: 'j-launcher', attempt: 1 } }),
      queue({ workload: admitted() }),
      pods,
    ),
  );
  expect(running.status.phase).toBe('Running');
  expect(running.workload?.status?.status.conditions?.find((c) => c.type === 'PodsReady')).toMatchObject({
    status: 'True',
  });
});

test('a job without the label and without a Workload is not touched by the queueing step', () => {
  const plan = planReconcile(observe(job(undefined, {}), undefined));
  expect(plan.workload).toBeUndefined();
  expect(plan.createWorkers).toEqual([0, 1]);
  expect(queued(plan.status)).toBeUndefined();
});

test('a launcher created at startup running before its workers are Ready is not PodsReady yet', () => {
  const atStartup = (pods: V1Pod[]) => {
    const j = job({ attempt: 1, launcher: { podName: 'j-launcher', attempt: 1 } });
    j.spec.launcher = { creationPolicy: 'AtStartup' };
    return planReconcile(observe(j, queue({ workload: admitted() }), pods));
  };
  const podsReady = (plan: ReturnType<typeof planReconcile>) =>
    plan.workload?.status?.status.conditions?.find((c) => c.type === 'PodsReady');
  const early = atStartup([pod('j-worker-0', 1, { ready: true }), pod('j-worker-1', 1), pod('j-launcher')]);
  expect(early.status.phase).toBe('Running');
  expect(podsReady(early)).toBeUndefined();
  const ready = atStartup([
    pod('j-worker-0', 1, { ready: true }),
    pod('j-worker-1', 1, { ready: true }),
    pod('j-launcher'),
  ]);
  expect(podsReady(ready)).toMatchObject({ status: 'True' });
});
