// What planReconcile observes, for the plan's unit tests: by default every shared object exists and is wanted; a
// job named j with 2 workers, and its pods in the states a test needs.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { HPCJob, HPCJobStatus } from '../../../src/api/types.js';
import type { Observed } from '../../../src/controller/plan.js';

export const now = new Date('2026-06-01T12:00:00Z');

export function observe(job: HPCJob, pods: V1Pod[], extra: Partial<Observed> = {}): Observed {
  return {
    job,
    pods,
    hasSecret: true,
    hasConfigMap: true,
    hasService: true,
    hasScripts: true,
    hasNetworkPolicy: true,
    wantsNetworkPolicy: true,
    now,
    ...extra,
  };
}

export function job(spec: Partial<HPCJob['spec']> = {}, status?: HPCJobStatus): HPCJob {
  return {
    apiVersion: 'hpcjob.dev/v1alpha1',
    kind: 'HPCJob',
    metadata: { name: 'j', namespace: 'ns', uid: 'u', generation: 1 },
    spec: { image: 'i', command: ['mpirun', 'x'], workers: 2, ...spec },
    ...(status ? { status } : {}),
  };
}

export type PodState = 'pending' | 'ready' | 'running' | 'succeeded' | 'failed' | 'terminating' | 'unschedulable';

export function pod(name: string, state: PodState, exitCode?: number): V1Pod {
  const phase = {
    pending: 'Pending',
    ready: 'Running',
    running: 'Running',
    succeeded: 'Succeeded',
    failed: 'Failed',
    terminating: 'Running',
    unschedulable: 'Pending',
  }[state];
  const conditions = [];
  if (state === 'ready' || state === 'running') conditions.push({ type: 'Ready', status: 'True' });
  if (state === 'unschedulable')
    conditions.push({
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message: '0/4 nodes are available: 4 Insufficient nvidia.com/gpu.',
    });
  return {
    metadata: {
      name,
      uid: `${name}-uid`,
      annotations: { 'hpcjob.dev/attempt': '1' },
      ...(state === 'terminating' ? { deletionTimestamp: now } : {}),
    },
    status: {
      phase,
      conditions,
      ...(exitCode !== undefined ? { containerStatuses: [terminatedMain(exitCode)] } : {}),
    },
  };
}

export function inAttempt(p: V1Pod, attempt: number): V1Pod {
  return { ...p, metadata: { ...p.metadata, annotations: { 'hpcjob.dev/attempt': String(attempt) } } };
}

/** The status of a main container that ended with exitCode. */
export function terminatedMain(exitCode: number): V1ContainerStatus {
  return {
    name: 'main',
    image: 'i',
    imageID: '',
    ready: false,
    restartCount: 0,
    state: { terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed' } },
  };
}
