// What the controller needs from a cluster, as interfaces: the writes it makes and the caches it reads. The operator
// plugs in the API server (KubeApi, ResourceCache); the model-based tests plug in an in-memory API that can delay
// watch events, fail writes and stop the controller between any two calls.
import type { WorkloadSpecPatch, WorkloadStatus } from '../api/kueue.js';
import type { HPCJob } from '../api/types.js';
import type { CacheEvent, KubeObject } from '../kube/cache.js';

/** The job's PodGroup, one kind per gang scheduler (each has its own API group). */
export type PodGroupKind = 'NativePodGroup' | 'VolcanoPodGroup' | 'SchedulerPluginsPodGroup';

export type ChildKind = 'Pod' | 'Secret' | 'ConfigMap' | 'Service' | 'NetworkPolicy' | PodGroupKind | 'Workload';

export interface ControllerApi {
  /** Creates an object and returns its uid; the API's error is thrown as it came (409 AlreadyExists included). */
  create(kind: ChildKind, namespace: string, body: object): Promise<string | undefined>;
  /**
   * Who controls an existing object: the uid in its controller ownerReference, null when it has none, undefined
   * when there is no such object.
   */
  controllerOf(kind: ChildKind, namespace: string, name: string): Promise<string | null | undefined>;
  /** Deletes exactly this pod (uid precondition) with its own grace period; a pod already gone is fine. */
  deletePod(namespace: string, name: string, uid: string): Promise<void>;
  /** Removes one finalizer from exactly this pod (uid precondition); a pod already gone is fine. */
  removePodFinalizer(namespace: string, name: string, uid: string, finalizer: string): Promise<void>;
  /** Replaces the status subresource; 409 when the job changed since it was read. */
  replaceStatus(job: HPCJob): Promise<HPCJob>;
  /** Deletes the job (uid precondition); its children go with it through the garbage collector. */
  deleteJob(job: HPCJob): Promise<void>;
  recordEvent(job: HPCJob, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
  /** Kueue: changes a Workload's spec.active or spec.queueName (a merge patch). */
  patchWorkloadSpec(namespace: string, name: string, patch: WorkloadSpecPatch): Promise<void>;
  /** Kueue: writes a Workload's status; 409 when it changed since resourceVersion. */
  patchWorkloadStatus(namespace: string, name: string, resourceVersion: string, status: WorkloadStatus): Promise<void>;
  /** Kueue: deletes exactly this Workload (uid precondition); one already gone is fine. */
  deleteWorkload(namespace: string, name: string, uid: string): Promise<void>;
  /** Kueue: the value of a WorkloadPriorityClass, undefined when there is none of that name. */
  workloadPriority(name: string): Promise<number | undefined>;
}

/** The PodGroups of each gang scheduler, named as kubectl names them. */
export type PodGroupResource =
  'podgroups.scheduling.k8s.io' | 'podgroups.scheduling.volcano.sh' | 'podgroups.scheduling.x-k8s.io';

/** Kueue: the operator's own Workloads (namespaced) and the ResourceFlavors (cluster-scoped). */
export type KueueResource = 'workloads.kueue.x-k8s.io' | 'resourceflavors.kueue.x-k8s.io';

export type Resource =
  | 'hpcjobs'
  | 'pods'
  | 'secrets'
  | 'configmaps'
  | 'services'
  | 'networkpolicies'
  | 'namespaces'
  | PodGroupResource
  | KueueResource;

export interface CacheSpec<T extends KubeObject> {
  resource: Resource;
  labelSelector?: string;
  onEvent: (event: CacheEvent, obj: T) => void;
  onWatchRestart?: (reason: string) => void;
  /** A secondary index: objects grouped by this value (e.g. the owning job's key). */
  indexBy?: (obj: T) => string | undefined;
}

export interface ObjectCache<T extends KubeObject> {
  /** Resolves once the first list has filled the cache. */
  start(): Promise<void>;
  stop(): void;
  get(key: string): T | undefined;
  list(): T[];
  byIndex(value: string): T[];
  readonly size: number;
  /** Milliseconds since the last watch event or bookmark. */
  readonly quietForMs: number;
}

export type CacheFactory = <T extends KubeObject>(spec: CacheSpec<T>) => ObjectCache<T>;

/** Named points in a pass where fault-injection tests stop the operator (see crash-points.ts). */
export type CrashPoint = 'before-status-write' | 'after-status-write' | 'after-pod-deletes' | 'after-pod-creates';
