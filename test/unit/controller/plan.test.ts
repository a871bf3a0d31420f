// The reconcile decision, step by step, from observed state alone.
import type { V1Pod } from '@kubernetes/client-node';
import type { HPCJobStatus } from '../../../src/api/types.js';
import { planReconcile } from '../../../src/controller/plan.js';
import { inAttempt, job, now, observe, pod } from './observed.js';

const readyWorkers = [pod('j-worker-0', 'ready'), pod('j-worker-1', 'ready')];

test('a new job gets its shared objects and workers, but no launcher yet', () => {
  const missing = {
    hasSecret: false,
    hasConfigMap: false,
    hasService: false,
    hasScripts: false,
    hasNetworkPolicy: false,
  };
  const plan = planReconcile(observe(job(), [], missing));
  expect(plan).toMatchObject({
    createSecret: true,
    createConfigMap: false,
    createScripts: true,
    createService: true,
    createNetworkPolicy: true,
    createWorkers: [0, 1],
    createLauncher: false,
  });
  expect(plan.status.phase).toBe('Pending');
  expect(plan.status.startTime).toBe(now.toISOString());
  expect(plan.status.workersReady).toBe('0/2');
});

describe('the NetworkPolicy', () => {
  it('is created only when the job wants one and does not own one yet', () => {
    const plans = [
      { wantsNetworkPolicy: true, hasNetworkPolicy: false },
      { wantsNetworkPolicy: true, hasNetworkPolicy: true },
      { wantsNetworkPolicy: false, hasNetworkPolicy: false },
    ].map((extra) => planReconcile(observe(job(), [], extra)).createNetworkPolicy);
    expect(plans).toEqual([true, false, false]);
  });

  it('missing under a running job is created again, and nothing else changes', () => {
    const pods = [...readyWorkers, pod('j-launcher', 'running')];
    const plan = planReconcile(observe(job(), pods, { hasNetworkPolicy: false }));
    expect(plan).toMatchObject({ createNetworkPolicy: true, createWorkers: [], createLauncher: false, deletePods: [] });
    expect(plan.status.phase).toBe('Running');
  });

  it('is not created for a finished or suspended job', () => {
    const succeeded = job({}, { phase: 'Succeeded', restartCount: 0 });
    expect(planReconcile(observe(succeeded, [], { hasNetworkPolicy: false })).createNetworkPolicy).toBe(false);
    const suspended = job({ runPolicy: { suspend: true } });
    expect(planReconcile(observe(suspended, [], { hasNetworkPolicy: false })).createNetworkPolicy).toBe(false);
  });
});

test('the launcher is created only when every worker is ready', () => {
  expect(planReconcile(observe(job(), [pod('j-worker-0', 'ready'), pod('j-worker-1', 'pending')])).createLauncher).toBe(
    false,
  );
  const plan = planReconcile(observe(job(), readyWorkers));
  expect(plan.createLauncher).toBe(true);
  expect(plan.createWorkers).toEqual([]);
});

test('a running launcher makes the job Running', () => {
  const plan = planReconcile(observe(job(), [...readyWorkers, pod('j-launcher', 'running')]));
  expect(plan.status.phase).toBe('Running');
  expect(plan.status.conditions?.find((c) => c.type === 'Running')?.status).toBe('True');
  expect(plan.status.workersReady).toBe('2/2');
});

const names = (refs: { name: string }[]) => refs.map((r) => r.name).sort();

test('launcher exit 0: Succeeded with exit code 0, written first; the next pass cleans up the running workers', () => {
  const pods = [...readyWorkers, pod('j-launcher', 'succeeded', 0)];
  const plan = planReconcile(observe(job(), pods));
  expect(plan.status.phase).toBe('Succeeded');
  expect(plan.status.launcher).toMatchObject({ exitCode: 0, attempt: 1 });
  expect(plan.status.completionTime).toBe(now.toISOString());
  expect(plan.deletePods).toEqual([]);
  const next = planReconcile(observe(job({}, plan.status), pods));
  expect(names(next.deletePods)).toEqual(['j-worker-0', 'j-worker-1']);
});

test('launcher exit 3 within backoffLimit: retried, with the attempt and exit code in an event', () => {
  const plan = planReconcile(
    observe(job({ runPolicy: { backoffLimit: 2 } }), [...readyWorkers, pod('j-launcher', 'failed', 3)]),
  );
  expect(plan.status.phase).toBe('Pending');
  expect(plan.status.restartCount).toBe(1);
  expect(plan.deletePods).toEqual([]);
  expect(plan.events.find((e) => e.reason === 'LauncherFailed')?.message).toContain('attempt 1 exited with code 3');
});

test('launcher exit 3 past backoffLimit: Failed with exit code 3; the launcher pod stays for its log', () => {
  const plan = planReconcile(
    observe(
      job({ runPolicy: { backoffLimit: 1 } }, { restartCount: 1 }),
      [...readyWorkers, pod('j-launcher', 'failed', 3)].map((p) => inAttempt(p, 2)),
    ),
  );
  expect(plan.status.phase).toBe('Failed');
  expect(plan.status.launcher?.exitCode).toBe(3);
  expect(plan.status.conditions?.find((c) => c.type === 'Failed')).toMatchObject({
    status: 'True',
    reason: 'LauncherFailed',
  });
  expect(names(plan.deletePods)).not.toContain('j-launcher');
});

test('a worker vanishing under a running launcher restarts the gang within backoffLimit', () => {
  const pods = [pod('j-worker-0', 'ready'), pod('j-launcher', 'running')];
  const plan = planReconcile(observe(job({ runPolicy: { backoffLimit: 1 } }), pods));
  expect(plan.status.restartCount).toBe(1);
  expect(plan.deletePods).toEqual([]);
  // Once the restart is stored, the first attempt's pods are stale and go.
  const next = planReconcile(observe(job({ runPolicy: { backoffLimit: 1 } }, plan.status), pods));
  expect(names(next.deletePods)).toEqual(['j-launcher', 'j-worker-0']);
  expect(next.status.restartCount).toBe(1);
  expect(plan.status.conditions?.find((c) => c.type === 'Restarting')?.message).toContain('j-worker-1');
});

test('a failed worker with no retries left fails the job naming the worker', () => {
  const plan = planReconcile(
    observe(job(), [pod('j-worker-0', 'ready'), pod('j-worker-1', 'failed', 137), pod('j-launcher', 'running')]),
  );
  expect(plan.status.phase).toBe('Failed');
  expect(plan.status.conditions?.find((c) => c.type === 'Failed')?.message).toMatch(
    /j-worker-1 ended Failed \(exit code 137/,
  );
});

test('pods still terminating are waited for, not recreated, with no polling until they would count as stuck', () => {
  const plan = planReconcile(observe(job(), [pod('j-worker-0', 'terminating')]));
  expect(plan.createWorkers).toEqual([1]);
  expect(plan.requeueAfterMs).toBe(30_000);
});

test('suspend is written first (the attempt moves on), then every pod is deleted; resume clears it', () => {
  const pods = [...readyWorkers, pod('j-launcher', 'running')];
  const suspended = planReconcile(observe(job({ runPolicy: { suspend: true } }), pods));
  expect(suspended.status.phase).toBe('Suspended');
  expect(suspended.status.attempt).toBe(2);
  expect(suspended.deletePods).toHaveLength(0);
  expect(suspended.status.startTime).toBeUndefined();
  const deleting = planReconcile(observe(job({ runPolicy: { suspend: true } }, suspended.status), pods));
  expect(deleting.deletePods).toHaveLength(3);
  const resumed = planReconcile(observe(job({}, suspended.status), []));
  expect(resumed.status.conditions?.find((c) => c.type === 'Suspended')).toMatchObject({
    status: 'False',
    reason: 'Resumed',
  });
  expect(resumed.createWorkers).toEqual([0, 1]);
  expect(resumed.attempt).toBe(2);
});

test('the deadline fails the job and stops every pod; before it, a requeue is asked for', () => {
  const start = new Date(now.getTime() - 10_000).toISOString();
  const early = planReconcile(
    observe(job({ runPolicy: { activeDeadlineSeconds: 60 } }, { startTime: start }), readyWorkers),
  );
  expect(early.requeueAfterMs).toBe(50_000);
  const late = planReconcile(
    observe(job({ runPolicy: { activeDeadlineSeconds: 5 } }, { startTime: start }), readyWorkers),
  );
  expect(late.status.phase).toBe('Failed');
  expect(late.status.conditions?.find((c) => c.type === 'Failed')?.reason).toBe('DeadlineExceeded');
  expect(late.deletePods).toHaveLength(0);
  const cleanup = planReconcile(
    observe(job({ runPolicy: { activeDeadlineSeconds: 5, cleanPodPolicy: 'None' } }, late.status), readyWorkers),
  );
  expect(cleanup.deletePods).toHaveLength(2);
});

test('a finished job never reverts, and is deleted once its TTL passes', () => {
  const done = { phase: 'Succeeded' as const, completionTime: new Date(now.getTime() - 5_000).toISOString() };
  const waiting = planReconcile(
    observe(job({ runPolicy: { ttlSecondsAfterFinished: 60 } }, done), [pod('j-worker-0', 'ready')]),
  );
  expect(waiting.status.phase).toBe('Succeeded');
  expect(waiting.deleteJob).toBe(false);
  expect(waiting.requeueAfterMs).toBe(55_000);
  expect(waiting.createWorkers).toEqual([]);
  const expired = planReconcile(observe(job({ runPolicy: { ttlSecondsAfterFinished: 1 } }, done), []));
  expect(expired.deleteJob).toBe(true);
});

test('an invalid spec fails the job with InvalidSpec and the message', () => {
  const plan = planReconcile(
    observe(job(), readyWorkers, { invalidSpec: 'spec.network.networks[0]: unknown SR-IOV network "x"' }),
  );
  expect(plan.status.phase).toBe('Failed');
  expect(plan.status.conditions?.find((c) => c.type === 'Failed')).toMatchObject({
    reason: 'InvalidSpec',
    message: expect.stringContaining('spec.network.networks[0]'),
  });
});

test('an unschedulable pod puts the scheduler message on the Unschedulable condition', () => {
  const plan = planReconcile(observe(job(), [pod('j-worker-0', 'ready'), pod('j-worker-1', 'unschedulable')]));
  const c = plan.status.conditions?.find((x) => x.type === 'Unschedulable');
  expect(c).toMatchObject({ status: 'True', reason: 'Unschedulable' });
  expect(c?.message).toContain('Insufficient nvidia.com/gpu');
  expect(plan.status.phase).toBe('Pending');
});

test('a finished job keeps the worker counts it ended with while its pods are cleaned up', () => {
  const done = {
    phase: 'Succeeded' as const,
    completionTime: now.toISOString(),
    workers: { total: 2, ready: 2, failed: 0 },
    workersReady: '2/2',
  };
  const plan = planReconcile(observe(job({}, done), [pod('j-worker-0', 'terminating')]));
  expect(plan.status.workersReady).toBe('2/2');
  expect(plan.status.workers).toEqual({ total: 2, ready: 2, failed: 0 });
});

test('pods the namespace Pod Security level rejects fail a job that has no pods yet, at once, naming the rule', () => {
  const problem = 'namespace ns enforces Pod Security "restricted"; the pods would break: worker hostNetwork: ...';
  const plan = planReconcile(observe(job(), [], { podSecurityProblem: problem }));
  expect(plan.createWorkers).toEqual([]);
  expect(plan.status.phase).toBe('Failed');
  expect(plan.status.conditions?.find((c) => c.type === 'Failed')).toMatchObject({
    reason: 'PodSecurityViolation',
    message: problem,
  });
  expect(plan.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'PodSecurityViolation' }));
});

test('a Pod Security label added under a running job leaves its pods alone', () => {
  const plan = planReconcile(observe(job(), readyWorkers, { podSecurityProblem: 'x' }));
  expect(plan.status.phase).not.toBe('Failed');
  expect(plan.deletePods).toEqual([]);
});

test("a launcher with a sidecar ends the job when the launcher's own container ends, with its exit code", () => {
  const launcher: V1Pod = {
    metadata: { name: 'j-launcher', uid: 'l', annotations: { 'hpcjob.dev/main-container': 'launcher' } },
    status: {
      phase: 'Running',
      containerStatuses: [
        { name: 'a-sidecar', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } },
        {
          name: 'launcher',
          image: 'i',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 3, reason: 'Error' } },
        },
      ],
    },
  };
  const plan = planReconcile(observe(job(), [...readyWorkers, launcher]));
  expect(plan.status.phase).toBe('Failed');
  expect(plan.status.launcher).toMatchObject({ podName: 'j-launcher', exitCode: 3 });
});

describe('suspend and resume do not count as failures', () => {
  const withFinalizer = (p: V1Pod): V1Pod => ({
    ...p,
    metadata: { ...p.metadata, finalizers: ['hpcjob.dev/launcher-result'] },
  });
  const killed = (p: V1Pod, finalizer: boolean): V1Pod => {
    const stopped = pod(p.metadata!.name!, 'terminating', 143);
    return finalizer ? withFinalizer(stopped) : stopped;
  };

  test('a launcher stopped by the suspend neither fails the job nor counts: its attempt is over', () => {
    const running = [...readyWorkers, withFinalizer(pod('j-launcher', 'running'))];
    const first = planReconcile(observe(job({ runPolicy: { suspend: true, backoffLimit: 0 } }), running));
    expect(first.status.phase).toBe('Suspended');
    expect(first.releaseFinalizers).toEqual([]);
    const second = planReconcile(observe(job({ runPolicy: { suspend: true } }, first.status), running));
    expect(second.releaseFinalizers.map((p) => p.name)).toEqual(['j-launcher']);
    const stopping = [killed(readyWorkers[0]!, false), killed(pod('j-launcher', 'running'), true)];
    const resumed = planReconcile(observe(job({}, second.status), stopping));
    expect(resumed.status.phase).toBe('Pending');
    expect(resumed.status.restartCount).toBe(0);
    expect(resumed.createLauncher).toBe(false);
    expect(resumed.releaseFinalizers.map((p) => p.name)).toEqual(['j-launcher']);
  });

  test('a launcher that fails while a suspend is asked for leaves the job Suspended, not Failed', () => {
    const plan = planReconcile(
      observe(job({ runPolicy: { suspend: true } }), [...readyWorkers, withFinalizer(pod('j-launcher', 'failed', 1))]),
    );
    expect(plan.status.phase).toBe('Suspended');
  });

  test('a launcher that already exited 0 makes the job Succeeded even when a suspend is asked for', () => {
    const plan = planReconcile(
      observe(job({ runPolicy: { suspend: true } }), [
        ...readyWorkers,
        withFinalizer(pod('j-launcher', 'succeeded', 0)),
      ]),
    );
    expect(plan.status.phase).toBe('Succeeded');
  });
});

describe('issue scenarios: results are never lost, failures never counted twice', () => {
  test('a launcher that vanished (its finalizer removed by someone) counts as a failed attempt, not a silent re-run', () => {
    const status: HPCJobStatus = { phase: 'Running', launcher: { podName: 'j-launcher', attempt: 1 } };
    // Only once the API itself confirms the pod is gone: a lagging pod watch is not a vanished launcher.
    const lagging = planReconcile(observe(job({ runPolicy: { backoffLimit: 1 } }, status), readyWorkers));
    expect(lagging.status.restartCount).toBe(0);
    const plan = planReconcile(
      observe(job({ runPolicy: { backoffLimit: 1 } }, status), readyWorkers, { launcherGone: true }),
    );
    expect(plan.createLauncher).toBe(false);
    expect(plan.status.restartCount).toBe(1);
    expect(plan.events).toContainEqual(expect.objectContaining({ reason: 'LauncherFailed' }));
    expect(plan.events.find((e) => e.reason === 'LauncherFailed')?.message).toContain('vanished');
  });

  test('one broken attempt uses one restart: the stale launcher and worker of attempt 1 are not counted again', () => {
    const limit = { runPolicy: { backoffLimit: 1 } };
    const broken = [pod('j-worker-0', 'ready'), pod('j-worker-1', 'failed', 137), pod('j-launcher', 'running')];
    const first = planReconcile(observe(job(limit), broken));
    expect(first.status.restartCount).toBe(1);
    // mpirun notices the lost worker and exits 1 before the stale pods are gone.
    const after = [pod('j-worker-0', 'ready'), pod('j-worker-1', 'failed', 137), pod('j-launcher', 'failed', 1)];
    const second = planReconcile(observe(job(limit, first.status), after));
    expect(second.status.restartCount).toBe(1);
    expect(second.status.phase).toBe('Pending');
    expect(names(second.deletePods)).toEqual(['j-launcher', 'j-worker-0', 'j-worker-1']);
  });

  test("a worker-caused failure does not show an earlier attempt's exit code", () => {
    const limit = { runPolicy: { backoffLimit: 1 } };
    const first = planReconcile(observe(job(limit), [...readyWorkers, pod('j-launcher', 'failed', 3)]));
    expect(first.status.launcher).toBeUndefined();
    const failedWorker = inAttempt(pod('j-worker-0', 'failed', 137), 2);
    const second = planReconcile(observe(job(limit, first.status), [failedWorker]));
    expect(second.status.phase).toBe('Failed');
    expect(second.status.conditions?.find((c) => c.type === 'Failed')?.reason).toBe('WorkerFailed');
    expect(second.status.launcher?.exitCode).toBeUndefined();
  });

  test('a deadline that passed after the launcher succeeded leaves the job Succeeded', () => {
    const start = new Date(now.getTime() - 60_000).toISOString();
    const plan = planReconcile(
      observe(job({ runPolicy: { activeDeadlineSeconds: 5 } }, { startTime: start }), [
        ...readyWorkers,
        pod('j-launcher', 'succeeded', 0),
      ]),
    );
    expect(plan.status.phase).toBe('Succeeded');
  });

  test('Unschedulable does not survive into Suspended', () => {
    const pending = planReconcile(observe(job(), [pod('j-worker-0', 'unschedulable')]));
    expect(pending.status.conditions?.find((c) => c.type === 'Unschedulable')?.status).toBe('True');
    const suspended = planReconcile(
      observe(job({ runPolicy: { suspend: true } }, pending.status), [pod('j-worker-0', 'unschedulable')]),
    );
    expect(suspended.status.conditions?.find((c) => c.type === 'Unschedulable')?.status).toBe('False');
  });

  test('a terminating pod stuck past its deadline sets Blocked naming it and its node, once', () => {
    const stuck: V1Pod = {
      ...pod('j-worker-0', 'terminating'),
      spec: { containers: [], nodeName: 'rack1-node7' },
    };
    stuck.metadata!.deletionTimestamp = new Date(now.getTime() - 31_000);
    const plan = planReconcile(observe(job(), [stuck]));
    const blocked = plan.status.conditions?.find((c) => c.type === 'Blocked');
    expect(blocked).toMatchObject({ status: 'True', reason: 'PodStuckTerminating' });
    expect(blocked?.message).toContain('rack1-node7');
    expect(plan.events.filter((e) => e.reason === 'PodStuckTerminating')).toHaveLength(1);
    const again = planReconcile(observe(job({}, plan.status), [stuck]));
    expect(again.events.filter((e) => e.reason === 'PodStuckTerminating')).toHaveLength(0);
    expect(again.requeueAfterMs).toBeUndefined();
  });
});

test('a Blocked condition from a failed create stays while the released gang terminates, and clears once all exist', () => {
  const blocked: HPCJobStatus = {
    phase: 'Pending',
    conditions: [
      {
        type: 'Blocked',
        status: 'True',
        reason: 'QuotaExceeded',
        message: 'creating Pod j-worker-1: exceeded quota',
        lastTransitionTime: now.toISOString(),
      },
    ],
  };
  const released = planReconcile(observe(job({}, blocked), [pod('j-worker-0', 'terminating')]));
  expect(released.status.conditions?.find((c) => c.type === 'Blocked')?.status).toBe('True');
  const half = planReconcile(observe(job({}, blocked), [pod('j-worker-0', 'pending')]));
  expect(half.status.conditions?.find((c) => c.type === 'Blocked')?.status).toBe('True');
  const all = planReconcile(observe(job({}, blocked), [pod('j-worker-0', 'pending'), pod('j-worker-1', 'pending')]));
  expect(all.status.conditions?.find((c) => c.type === 'Blocked')).toMatchObject({
    status: 'False',
    reason: 'Progressing',
  });
});

test('a launcher the status records for this attempt is never created again from a cache that lags', () => {
  const status: HPCJobStatus = { phase: 'Pending', launcher: { podName: 'j-launcher', attempt: 1 } };
  expect(planReconcile(observe(job({}, status), readyWorkers)).createLauncher).toBe(false);
});
