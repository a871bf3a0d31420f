// All-or-nothing placement: one PodGroup per job gathers its workers, so the scheduler binds all of them or none
// (two jobs that each got half the GPUs they need would otherwise wait for each other forever).
//
// The launcher stays outside the group: by default the operator creates it only once every worker is ready (its sshd
// must answer), so a group that counted it would wait for a pod that is created only after the group is placed; one
// created at startup (launcher.creationPolicy) waits for the workers itself.
//
// Which scheduler does it is resolved once per pass (resolveGang, from the APIs discovered at start); the plan carries
// the answer (plan.gang) to the executor, which renders the PodGroup and joins the pods to it.
import type { V1Pod } from '@kubernetes/client-node';
import type { GangScheduler, HPCJob } from '../api/types.js';
import type { ClusterConfig } from '../config/cluster-config.js';
import type { PodGroupKind, PodGroupResource } from '../controller/ports.js';
import { ownedMetadata, podGroupName, type Role } from './names.js';
import {
  renderCoschedulingPodGroup,
  SCHEDULER_PLUGINS_GROUP,
  SCHEDULER_PLUGINS_VERSION,
  withCoscheduling,
} from './scheduler-plugins.js';
import { renderVolcanoPodGroup, VOLCANO_GROUP, VOLCANO_VERSION, withVolcano } from './volcano.js';

export { podGroupName };

export type GangMechanism = Exclude<GangScheduler, 'None'>;

export interface PodGroupApi {
  group: string;
  version: string;
  plural: string;
  /** What a user reads when the API is missing. */
  product: string;
}

export const POD_GROUP_APIS: Record<GangMechanism, PodGroupApi> = {
  Native: {
    group: 'scheduling.k8s.io',
    version: 'v1alpha2',
    plural: 'podgroups',
    product: 'the Kubernetes Workload API (feature gates GenericWorkload, GangScheduling)',
  },
  Volcano: { group: VOLCANO_GROUP, version: VOLCANO_VERSION, plural: 'podgroups', product: 'Volcano' },
  SchedulerPlugins: {
    group: SCHEDULER_PLUGINS_GROUP,
    version: SCHEDULER_PLUGINS_VERSION,
    plural: 'podgroups',
    product: 'scheduler-plugins (Coscheduling)',
  },
};

export const podGroupKind = (m: GangMechanism): PodGroupKind => `${m}PodGroup`;
export const podGroupResource = (m: GangMechanism): PodGroupResource =>
  `${POD_GROUP_APIS[m].plural}.${POD_GROUP_APIS[m].group}` as PodGroupResource;
export const GANG_MECHANISMS: readonly GangMechanism[] = ['Native', 'Volcano', 'SchedulerPlugins'];

export const podGroupApiVersion = (m: GangMechanism): string =>
  `${POD_GROUP_APIS[m].group}/${POD_GROUP_APIS[m].version}`;

export type GangResolution =
  | { kind: 'none' }
  | { kind: 'gang'; mechanism: GangMechanism }
  /** The job (or the site) asks for a gang scheduler whose API this cluster does not serve. */
  | { kind: 'unavailable'; mechanism: GangMechanism; message: string };

/**
 * The gang scheduler of a job: its own choice, else the site's; Auto takes the native API where it is served.
 * `served` holds the mechanisms whose PodGroup API the API server serves (discovery).
 */
export function resolveGang(job: HPCJob, config: ClusterConfig, served: ReadonlySet<GangMechanism>): GangResolution {
  const asked = job.spec.scheduling?.gang ?? config.scheduling.gang;
  if (asked === 'None') return { kind: 'none' };
  if (asked === 'Auto') return served.has('Native') ? { kind: 'gang', mechanism: 'Native' } : { kind: 'none' };
  if (served.has(asked)) return { kind: 'gang', mechanism: asked };
  const api = POD_GROUP_APIS[asked];
  const source = job.spec.scheduling?.gang ? 'spec.scheduling.gang' : "the cluster configuration's scheduling.gang";
  return {
    kind: 'unavailable',
    mechanism: asked,
    message:
      `${source} is ${asked}, but this cluster does not serve ${api.plural}.${api.group}/${api.version} ` +
      `(${api.product} is not installed or not enabled)`,
  };
}

/** The PodGroup of the Workload API: minCount workers, and the job's topology domain as a constraint. */
export function renderNativePodGroup(job: HPCJob, config: ClusterConfig): object {
  const domain = job.spec.placement?.sameDomain;
  const key = domain === undefined ? undefined : config.topologyKeys[domain];
  return {
    apiVersion: podGroupApiVersion('Native'),
    kind: 'PodGroup',
    metadata: ownedMetadata(job, podGroupName(job)),
    spec: {
      schedulingPolicy: { gang: { minCount: job.spec.workers } },
      ...(key ? { schedulingConstraints: { topology: [{ key }] } } : {}),
    },
  };
}

/** The PodGroup the job's gang scheduler reads. */
export function renderPodGroup(job: HPCJob, mechanism: GangMechanism, config: ClusterConfig): object {
  switch (mechanism) {
    case 'Native':
      return renderNativePodGroup(job, config);
    case 'Volcano':
      return renderVolcanoPodGroup(job, config);
    case 'SchedulerPlugins':
      return renderCoschedulingPodGroup(job, config);
  }
}

/**
 * Joins a rendered pod to its job's gang: workers reference the PodGroup. The native launcher is left as it is; a
 * Volcano or scheduler-plugins launcher names the same scheduler as its workers (see volcano.ts).
 */
export function withGang(pod: V1Pod, job: HPCJob, mechanism: GangMechanism, role: Role, config: ClusterConfig): V1Pod {
  switch (mechanism) {
    case 'Native':
      if (role !== 'worker') return pod;
      // The Workload API's pod field (1.36), not yet in the client's types.
      return { ...pod, spec: { ...pod.spec!, schedulingGroup: { podGroupName: podGroupName(job) } } as never };
    case 'Volcano':
      return withVolcano(pod, job, config, role);
    case 'SchedulerPlugins':
      return withCoscheduling(pod, job, config, role);
  }
}

/**
 * What the gang scheduler wrote on a group it cannot place: the Workload API's PodGroupScheduled=False, or
 * Volcano's Unschedulable=True condition.
 */
export function podGroupWaitMessage(podGroup: unknown): string | undefined {
  const conditions = (podGroup as { status?: { conditions?: { type?: string; status?: string; message?: string }[] } })
    ?.status?.conditions;
  const waiting = conditions?.find(
    (c) =>
      (c.type === 'PodGroupScheduled' && c.status === 'False') || (c.type === 'Unschedulable' && c.status === 'True'),
  );
  return waiting?.message || undefined;
}
