// The PodGroup of scheduler-plugins' Coscheduling plugin (scheduling.x-k8s.io/v1alpha1) and the fields that put a
// pod in it. Coscheduling holds each member at its Permit stage until minMember members are placed, and refuses
// the group early when the free capacity of the whole cluster is below minResources; a gang that does not reach its
// quorum within scheduleTimeoutSeconds is released and retried.
//
// The launcher carries no group label: Coscheduling passes such a pod straight through. It still names the same
// scheduler, so one scheduler, not two racing over the same free capacity, places every pod of the job (the
// scheduler-plugins image is a whole kube-scheduler with the plugin added).
import type { V1Pod } from '@kubernetes/client-node';
import type { HPCJob } from '../api/types.js';
import type { ClusterConfig } from '../config/cluster-config.js';
import { ownedMetadata, podGroupName, type Role } from './names.js';
import { workersMinResources } from './pod-requests.js';

export const SCHEDULER_PLUGINS_GROUP = 'scheduling.x-k8s.io';
export const SCHEDULER_PLUGINS_VERSION = 'v1alpha1';
/** The pod label Coscheduling reads a pod's PodGroup from (v1alpha1.PodGroupLabel). */
export const COSCHEDULING_GROUP_LABEL = 'scheduling.x-k8s.io/pod-group';

export function renderCoschedulingPodGroup(job: HPCJob, config: ClusterConfig): object {
  const minResources = workersMinResources(job, config);
  return {
    apiVersion: `${SCHEDULER_PLUGINS_GROUP}/${SCHEDULER_PLUGINS_VERSION}`,
    kind: 'PodGroup',
    metadata: ownedMetadata(job, podGroupName(job)),
    spec: {
      minMember: job.spec.workers,
      ...(Object.keys(minResources).length > 0 ? { minResources } : {}),
      scheduleTimeoutSeconds: config.scheduling.schedulerPlugins.scheduleTimeoutSeconds,
    },
  };
}

/** Hands a pod to the scheduler-plugins scheduler; only workers join the group. */
export function withCoscheduling(pod: V1Pod, job: HPCJob, config: ClusterConfig, role: Role): V1Pod {
  const labels: Record<string, string> = role === 'worker' ? { [COSCHEDULING_GROUP_LABEL]: podGroupName(job) } : {};
  return {
    ...pod,
    metadata: { ...pod.metadata, labels: { ...pod.metadata?.labels, ...labels } },
    spec: { ...pod.spec!, schedulerName: config.scheduling.schedulerPlugins.schedulerName },
  };
}
