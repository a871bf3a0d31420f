// The part of Kueue's API (kueue.x-k8s.io/v1beta2, as served by Kueue v0.17) that the operator reads and writes:
// its own Workload per queued job, the ResourceFlavors an admission names, and WorkloadPriorityClasses. Field names
// follow Kueue's Go types (apis/kueue/v1beta2); only the fields used here are typed.
import type { V1ObjectMeta, V1PodTemplateSpec, V1Toleration } from '@kubernetes/client-node';

export const KUEUE_GROUP = 'kueue.x-k8s.io';
export const KUEUE_VERSION = 'v1beta2';
export const KUEUE_API_VERSION = `${KUEUE_GROUP}/${KUEUE_VERSION}`;

/** On an HPCJob: the LocalQueue (in the job's namespace) that queues it. The label Kueue's own integrations read. */
export const LABEL_QUEUE_NAME = 'kueue.x-k8s.io/queue-name';
/** On an HPCJob: the WorkloadPriorityClass of its Workload. */
export const LABEL_PRIORITY_CLASS = 'kueue.x-k8s.io/priority-class';
/** On a Workload: the uid of the job it stands for (Kueue's preemption messages quote it as JobUID). */
export const LABEL_JOB_UID = 'kueue.x-k8s.io/job-uid';

/** A metav1.Condition as Kueue writes it. */
export interface KueueCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface PodSet {
  name: string;
  count: number;
  template: V1PodTemplateSpec;
}

export interface PodSetAssignment {
  name: string;
  /** Resource name -> ResourceFlavor name. */
  flavors?: Record<string, string>;
  count?: number;
  resourceUsage?: Record<string, string>;
  /** Kueue's topology-aware scheduling; not applied by the operator (see docs/scheduling.md). */
  topologyAssignment?: unknown;
}

export interface Admission {
  clusterQueue: string;
  podSetAssignments: PodSetAssignment[];
}

/** What an admission check asks to change in the pods of one pod set. */
export interface PodSetUpdate {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
}

export interface AdmissionCheckState {
  name: string;
  state: string;
  message?: string;
  podSetUpdates?: PodSetUpdate[];
}

export interface WorkloadSpec {
  queueName: string;
  podSets: PodSet[];
  /** Default true; false deactivates the Workload (Kueue evicts it and releases its quota). */
  active?: boolean;
  priority?: number;
  priorityClassRef?: { group: string; kind: string; name: string };
}

/** The spec fields the operator changes after creating its Workload. */
export interface WorkloadSpecPatch {
  active?: boolean;
  queueName?: string;
}

export interface WorkloadStatus {
  conditions?: KueueCondition[];
  admission?: Admission | null;
  admissionChecks?: AdmissionCheckState[];
  [field: string]: unknown;
}

export interface Workload {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec: WorkloadSpec;
  status?: WorkloadStatus;
}

export interface ResourceFlavor {
  metadata?: V1ObjectMeta;
  spec?: { nodeLabels?: Record<string, string>; tolerations?: V1Toleration[] };
}
