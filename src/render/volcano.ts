// Volcano's PodGroup (scheduling.volcano.sh/v1beta1) and the fields that hand a pod to Volcano. Volcano admits a
// group to its queue once the queue has room for minResources, then binds minMember of its pods together or none.
//
// The launcher is scheduled by Volcano too, but outside the workers' group, in a group of its own in the job's
// queue. Left to the default scheduler it would be placed by a second scheduler on nodes Volcano believes it holds
// (and it takes GPUs when it runs ranks). Volcano gives every pod it schedules that names no group a one-pod group,
// in the queue its queue-name annotation names (else "default"). Inside the workers' group, beyond minMember, it
// would make the group preemptable down to minMember: Volcano's gang rule counts members, so a worker could be
// taken, and a job that loses a worker fails. In its own group of one, the gang rule protects it as it does them.
import type { V1Pod } from '@kubernetes/client-node';
import type { HPCJob } from '../api/types.js';
import type { ClusterConfig } from '../config/cluster-config.js';
import { ownedMetadata, podGroupName, type Role } from './names.js';
import { workersMinResources } from './pod-requests.js';

export const VOLCANO_GROUP = 'scheduling.volcano.sh';
export const VOLCANO_VERSION = 'v1beta1';
/** The pod annotation Volcano's scheduler reads a pod's PodGroup from (v1beta1.KubeGroupNameAnnotationKey). */
export const VOLCANO_GROUP_ANNOTATION = 'scheduling.k8s.io/group-name';
/** The queue of the group Volcano makes for a pod that names no group (v1beta1.QueueNameAnnotationKey). */
export const VOLCANO_QUEUE_ANNOTATION = 'scheduling.volcano.sh/queue-name';

/** The job's queue: its own, else the site's default. */
export const volcanoQueue = (job: HPCJob, config: ClusterConfig): string =>
  job.spec.scheduling?.queue ?? config.scheduling.volcano.queue;

export function renderVolcanoPodGroup(job: HPCJob, config: ClusterConfig): object {
  const minResources = workersMinResources(job, config);
  // Volcano orders and preempts groups by the group's priority, not its pods'.
  const priorityClassName = job.spec.worker?.template?.spec?.priorityClassName;
  return {
    apiVersion: `${VOLCANO_GROUP}/${VOLCANO_VERSION}`,
    kind: 'PodGroup',
    metadata: ownedMetadata(job, podGroupName(job)),
    spec: {
      minMember: job.spec.workers,
      ...(Object.keys(minResources).length > 0 ? { minResources } : {}),
      queue: volcanoQueue(job, config),
      ...(priorityClassName ? { priorityClassName } : {}),
    },
  };
}

/** Hands a pod to Volcano: a worker in its job's group, the launcher in a group of its own in the job's queue. */
export function withVolcano(pod: V1Pod, job: HPCJob, config: ClusterConfig, role: Role): V1Pod {
  const membership: Record<string, string> =
    role === 'worker'
      ? { [VOLCANO_GROUP_ANNOTATION]: podGroupName(job) }
      : { [VOLCANO_QUEUE_ANNOTATION]: volcanoQueue(job, config) };
  return {
    ...pod,
    metadata: { ...pod.metadata, annotations: { ...pod.metadata?.annotations, ...membership } },
    spec: { ...pod.spec!, schedulerName: config.scheduling.volcano.schedulerName },
  };
}
