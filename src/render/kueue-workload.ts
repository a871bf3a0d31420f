// The Kueue Workload that stands for a queued HPCJob: one per job, controlled by it, with the two pod sets Kueue
// counts quota for (launcher x1, worker xN) taken from the pods the operator would create, so Kueue sees their real
// requests. Pure; the controller creates it once and afterwards only changes spec.active and the status.
import type { V1Container, V1Pod, V1PodSpec, V1PodTemplateSpec, V1ResourceRequirements } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type { HPCJob } from '../api/types.js';
import { KUEUE_API_VERSION, KUEUE_GROUP, LABEL_JOB_UID, type Workload } from '../api/kueue.js';
import { jobLabels, ownerReference, type Role } from './names.js';

export const POD_SET_LAUNCHER: Role = 'launcher';
export const POD_SET_WORKER: Role = 'worker';

/**
 * hpcjob-<job name>-<5 hex digits of the uid>: stable for the job, and distinct from the Workload of an earlier job
 * of the same name that the garbage collector has not removed yet.
 */
export function workloadName(job: HPCJob): string {
  const digest = createHash('sha256')
    .update(job.metadata.uid ?? '')
    .digest('hex');
  return `hpcjob-${job.metadata.name}-${digest.slice(0, 5)}`;
}

export interface WorkloadOptions {
  queueName: string;
  /** The WorkloadPriorityClass named by the job's label and its value. */
  priority?: { className: string; value: number };
  /** False while the job is suspended (spec.runPolicy.suspend). */
  active: boolean;
}

/** Requests as the API server defaults them for a pod: a limit with no request is also the request. */
function requestsWithLimits(resources: V1ResourceRequirements | undefined): V1ResourceRequirements | undefined {
  if (!resources?.limits && !resources?.requests) return undefined;
  const requests = { ...resources.limits, ...resources.requests };
  return { ...(resources.limits ? { limits: resources.limits } : {}), requests };
}

/** What Kueue reads of a container: its name, image, requests and limits, and the sidecar restartPolicy. */
function containerForQuota(c: V1Container): V1Container {
  const resources = requestsWithLimits(c.resources);
  return {
    name: c.name,
    ...(c.image ? { image: c.image } : {}),
    ...(resources ? { resources } : {}),
    ...(c.restartPolicy ? { restartPolicy: c.restartPolicy } : {}),
  };
}

/**
 * The pod template of a pod set: what decides the pod's quota and which flavors may take it (containers'
 * resources, overhead, node selection, tolerations, priority); the operator's per-pod fields (hostname, volumes,
 * the entrypoint's environment) are left out, so one worker stands for all of them.
 */
export function podSetTemplate(pod: V1Pod): V1PodTemplateSpec {
  const spec = pod.spec ?? { containers: [] };
  const fields: Partial<V1PodSpec> = {
    containers: spec.containers.map(containerForQuota),
    initContainers: spec.initContainers?.length ? spec.initContainers.map(containerForQuota) : undefined,
    nodeSelector: spec.nodeSelector,
    affinity: spec.affinity,
    tolerations: spec.tolerations,
    overhead: spec.overhead,
    priorityClassName: spec.priorityClassName,
    runtimeClassName: spec.runtimeClassName,
    schedulerName: spec.schedulerName,
    restartPolicy: spec.restartPolicy,
  };
  const kept = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as unknown as V1PodSpec;
  return { spec: kept };
}

export function renderWorkload(job: HPCJob, pods: { launcher: V1Pod; worker: V1Pod }, opts: WorkloadOptions): Workload {
  return {
    apiVersion: KUEUE_API_VERSION,
    kind: 'Workload',
    metadata: {
      name: workloadName(job),
      namespace: job.metadata.namespace,
      labels: { ...jobLabels(job), [LABEL_JOB_UID]: job.metadata.uid ?? '' },
      ownerReferences: [ownerReference(job)],
    },
    spec: {
      queueName: opts.queueName,
      active: opts.active,
      podSets: [
        { name: POD_SET_LAUNCHER, count: 1, template: podSetTemplate(pods.launcher) },
        { name: POD_SET_WORKER, count: job.spec.workers, template: podSetTemplate(pods.worker) },
      ],
      ...(opts.priority
        ? {
            priorityClassRef: { group: KUEUE_GROUP, kind: 'WorkloadPriorityClass', name: opts.priority.className },
            priority: opts.priority.value,
          }
        : {}),
    },
  };
}
