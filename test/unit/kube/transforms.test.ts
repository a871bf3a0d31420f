// The caches keep a few fields of each pod and job (transforms.ts): the controller must decide exactly as it would
// on the whole objects, and the kept pod must be a small part of the whole.
import type { V1Pod } from '@kubernetes/client-node';
import { withDefaults } from '../../../src/api/defaults.js';
import type { HPCJob } from '../../../src/api/types.js';
import { planReconcile } from '../../../src/controller/plan.js';
import { keepJob, keepPod } from '../../../src/kube/transforms.js';
import { renderLauncherPod, renderWorkerPod } from '../../../src/render/pods.js';
import { makeJob, testConfig } from '../api/fixtures.js';
import { now, observe } from '../controller/observed.js';

const at = now.toISOString();
const managedFields = [{ manager: 'kubelet', operation: 'Update', fieldsV1: { 'f:status': { '.': {} } }, time: at }];

/** A pod as the API server sends it: the operator's rendering, a uid, managedFields, and a status. */
function served(pod: V1Pod, status: V1Pod['status'], extra: Partial<V1Pod['metadata']> = {}): V1Pod {
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      uid: `uid-${pod.metadata?.name}`,
      resourceVersion: '42',
      creationTimestamp: now,
      annotations: {
        ...pod.metadata?.annotations,
        'kwok.x-k8s.io/node': 'fake',
        'cni.projectcalico.org/podIP': '10.0.0.1',
      },
      managedFields: managedFields as never,
      ...extra,
    },
    spec: { ...pod.spec!, nodeName: 'node-1' },
    status,
  };
}

const ready = { type: 'Ready', status: 'True', lastTransitionTime: now };
const running = (name: string) => ({
  name,
  image: 'i',
  imageID: 'sha256:1',
  ready: true,
  restartCount: 0,
  state: { running: { startedAt: now } },
});
const exited = (name: string, exitCode: number) => ({
  name,
  image: 'i',
  imageID: 'sha256:1',
  ready: false,
  restartCount: 0,
  state: {
    terminated: {
      exitCode,
      reason: exitCode ? 'Error' : 'Completed',
      message: 'bye',
      startedAt: now,
      finishedAt: now,
      containerID: 'containerd://1',
    },
  },
});

function podsOf(job: HPCJob, launcherStatus: V1Pod['status'], workerExtra: Partial<V1Pod['metadata']> = {}): V1Pod[] {
  const workers = [0, 1].map((i) =>
    served(
      renderWorkerPod(job, testConfig, i, 2222, 'privileged', 1),
      {
        phase: 'Running',
        conditions: [ready],
        containerStatuses: [running('worker')],
        podIP: '10.0.0.2',
      },
      i === 1 ? workerExtra : {},
    ),
  );
  return [...workers, served(renderLauncherPod(job, testConfig, 1, 2222, 'privileged'), launcherStatus)];
}

describe('the pod kept by the cache', () => {
  const job = withDefaults(makeJob({ workers: 2 }));
  const cases: [string, V1Pod[]][] = [
    [
      'launcher running',
      podsOf(job, { phase: 'Running', conditions: [ready], containerStatuses: [running('launcher')] }),
    ],
    ['launcher exited 3', podsOf(job, { phase: 'Failed', containerStatuses: [exited('launcher', 3)] })],
    [
      'launcher ended beside a sidecar still running',
      podsOf(job, { phase: 'Running', containerStatuses: [running('a-sidecar'), exited('launcher', 0)] }),
    ],
    ['launcher evicted', podsOf(job, { phase: 'Failed', reason: 'Evicted', message: 'node out of memory' })],
    [
      'a worker terminating',
      podsOf(job, { phase: 'Running', containerStatuses: [running('launcher')] }, { deletionTimestamp: now }),
    ],
    [
      'a launcher not scheduled',
      podsOf(job, {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/4 nodes',
            lastTransitionTime: now,
          },
        ],
      }),
    ],
  ];

  it.each(cases)('gives the same plan as the whole pod: %s', (_, pods) => {
    const running = {
      ...job,
      status: { phase: 'Running' as const, launcher: { podName: 'cfd-launcher', attempt: 1 } },
    };
    const kept = pods.map((p) => keepPod(JSON.parse(JSON.stringify(p)) as V1Pod));
    const whole = JSON.parse(JSON.stringify(pods)) as V1Pod[];
    expect(planReconcile(observe(running, kept))).toEqual(planReconcile(observe(running, whole)));
  });

  it('keeps identity, owners, finalizers, its own annotations, node and states; drops the rest', () => {
    const launcher = cases[1]![1][2]!;
    const kept = keepPod(JSON.parse(JSON.stringify(launcher)) as V1Pod);
    expect(kept.metadata).toEqual({
      name: 'cfd-launcher',
      namespace: 'team-a',
      uid: 'uid-cfd-launcher',
      resourceVersion: '42',
      labels: launcher.metadata?.labels,
      annotations: { 'hpcjob.dev/attempt': '1', 'hpcjob.dev/main-container': 'launcher' },
      ownerReferences: launcher.metadata?.ownerReferences,
      finalizers: ['hpcjob.dev/launcher-result'],
    });
    expect(kept.spec).toEqual({ nodeName: 'node-1', containers: [] });
    expect(kept.status).toEqual({
      phase: 'Failed',
      containerStatuses: [
        { name: 'launcher', state: { terminated: { exitCode: 3, reason: 'Error', message: 'bye' } } },
      ],
    });
  });

  it('is a small part of the pod the API server sends', () => {
    const worker = cases[0]![1][0]!;
    const size = (o: unknown) => JSON.stringify(o).length;
    expect(size(keepPod(JSON.parse(JSON.stringify(worker)) as V1Pod))).toBeLessThan(size(worker) / 4);
  });
});

describe('the job kept by the cache', () => {
  it('drops managedFields and the last-applied manifest, and keeps everything else', () => {
    const job = makeJob({ workers: 3 });
    const served = {
      ...job,
      metadata: {
        ...job.metadata,
        managedFields: managedFields,
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(job), team: 'cfd' },
        labels: { 'kueue.x-k8s.io/queue-name': 'q' },
      },
      status: { phase: 'Running' as const },
    } as HPCJob;
    const kept = keepJob(served);
    expect(kept).toEqual({
      ...job,
      metadata: { ...job.metadata, annotations: { team: 'cfd' }, labels: { 'kueue.x-k8s.io/queue-name': 'q' } },
      status: { phase: 'Running' },
    });
    expect(keepJob(job)).toEqual(job);
  });
});
