// The operator's API calls, in one place: lists for the caches (cluster-wide or per namespace), creates and deletes of children, the launcher's
// finalizer, the status write, the TTL delete of a job, and events. Each call is counted per verb for the write-requests figure.
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type V1ConfigMap,
  type V1Namespace,
  type V1NetworkPolicy,
  type V1Pod,
  type V1Secret,
  type V1Service,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { GROUP, PLURAL, VERSION, type HPCJob } from '../api/types.js';
import type { Workload, WorkloadSpecPatch, WorkloadStatus } from '../api/kueue.js';
import type { ChildKind, ControllerApi, PodGroupKind } from '../controller/ports.js';
import { GANG_MECHANISMS, POD_GROUP_APIS, podGroupKind, type GangMechanism } from '../render/pod-groups.js';
import type { ListResult } from './cache.js';
import { KueueApi } from './kueue-api.js';

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return reuseConnections(kc);
}

/**
 * client-node 2.0 makes a new undici Agent for every request, so every request opens a new TLS connection (and the
 * API server pays a handshake for each). One agent per cluster and user keeps connections alive and reused.
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createDispatcher: (cluster: unknown, options: unknown) => unknown };
  const create = target.createDispatcher.bind(kc);
  const agents = new Map<string, unknown>();
  target.createDispatcher = (cluster, options) => {
    const key = JSON.stringify([kc.getCurrentCluster()?.name, kc.getCurrentUser()?.name]);
    if (!agents.has(key)) agents.set(key, create(cluster, options));
    return agents.get(key);
  };
  return kc;
}

export function httpStatus(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => httpStatus(err) === 404;
export const isAlreadyExists = (err: unknown): boolean => httpStatus(err) === 409;
export const isConflict = (err: unknown): boolean => httpStatus(err) === 409;

/** Accept headers asking the API server for objects' metadata alone (PartialObjectMetadata), not their bodies. */
export const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';
export const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';

/** Where a cache's list looks: one namespace or all, a selector, and whether metadata alone is wanted. */
export interface ListQuery {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  metadataOnly?: boolean;
}

type KubeObjectWithMeta = { metadata?: { name?: string; namespace?: string } };

/** Where a PodGroup kind is served. */
function podGroupApi(kind: PodGroupKind): { group: string; version: string; plural: string } {
  const mechanism = GANG_MECHANISMS.find((m) => podGroupKind(m) === kind)!;
  const { group, version, plural } = POD_GROUP_APIS[mechanism];
  return { group, version, plural };
}

const accept = (q: ListQuery) => (q.metadataOnly ? setHeaderOptions('Accept', METADATA_LIST_ACCEPT) : undefined);

export type WriteVerb = 'create' | 'delete' | 'patch' | 'updateStatus' | 'event';

export class KubeApi implements ControllerApi {
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly networking: NetworkingV1Api;
  /** Kueue's API: discovery, the caches' lists and the writes to the job's own Workload. */
  readonly kueue: KueueApi;

  constructor(
    readonly kc: KubeConfig,
    private readonly countWrite: (verb: WriteVerb, kind: string) => void = () => undefined,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.networking = kc.makeApiClient(NetworkingV1Api);
    this.kueue = new KueueApi(this.custom, countWrite);
  }

  listJobs = async (q: ListQuery): Promise<ListResult<HPCJob>> => {
    const where = { group: GROUP, version: VERSION, plural: PLURAL, labelSelector: q.labelSelector };
    return (await (q.namespace
      ? this.custom.listNamespacedCustomObject({ ...where, namespace: q.namespace })
      : this.custom.listClusterCustomObject(where))) as ListResult<HPCJob>;
  };
  listPods = (q: ListQuery): Promise<ListResult<V1Pod>> =>
    (q.namespace
      ? this.core.listNamespacedPod({ namespace: q.namespace, labelSelector: q.labelSelector }, accept(q))
      : this.core.listPodForAllNamespaces({ labelSelector: q.labelSelector }, accept(q))) as Promise<ListResult<V1Pod>>;
  listSecrets = (q: ListQuery): Promise<ListResult<V1Secret>> =>
    (q.namespace
      ? this.core.listNamespacedSecret({ namespace: q.namespace, labelSelector: q.labelSelector }, accept(q))
      : this.core.listSecretForAllNamespaces({ labelSelector: q.labelSelector }, accept(q))) as Promise<
      ListResult<V1Secret>
    >;
  listConfigMaps = (q: ListQuery): Promise<ListResult<V1ConfigMap>> =>
    (q.namespace
      ? this.core.listNamespacedConfigMap({ namespace: q.namespace, labelSelector: q.labelSelector }, accept(q))
      : this.core.listConfigMapForAllNamespaces({ labelSelector: q.labelSelector }, accept(q))) as Promise<
      ListResult<V1ConfigMap>
    >;
  listServices = (q: ListQuery): Promise<ListResult<V1Service>> =>
    (q.namespace
      ? this.core.listNamespacedService({ namespace: q.namespace, labelSelector: q.labelSelector }, accept(q))
      : this.core.listServiceForAllNamespaces({ labelSelector: q.labelSelector }, accept(q))) as Promise<
      ListResult<V1Service>
    >;
  listNetworkPolicies = (q: ListQuery): Promise<ListResult<V1NetworkPolicy>> =>
    (q.namespace
      ? this.networking.listNamespacedNetworkPolicy(
          { namespace: q.namespace, labelSelector: q.labelSelector },
          accept(q),
        )
      : this.networking.listNetworkPolicyForAllNamespaces({ labelSelector: q.labelSelector }, accept(q))) as Promise<
      ListResult<V1NetworkPolicy>
    >;

  /** Namespaces (all, or one by a metadata.name field selector): the operator reads their Pod Security labels. */
  listNamespaces = (q: ListQuery): Promise<ListResult<V1Namespace>> =>
    this.core.listNamespace({ fieldSelector: q.fieldSelector }) as Promise<ListResult<V1Namespace>>;

  /** Creates an object and returns its uid; the API's error is thrown as it came (409 AlreadyExists included). */
  async create(kind: ChildKind, namespace: string, body: object): Promise<string | undefined> {
    this.countWrite('create', kind);
    switch (kind) {
      case 'Pod':
        return (await this.core.createNamespacedPod({ namespace, body: body as V1Pod })).metadata?.uid;
      case 'Secret':
        return (await this.core.createNamespacedSecret({ namespace, body: body as V1Secret })).metadata?.uid;
      case 'ConfigMap':
        return (await this.core.createNamespacedConfigMap({ namespace, body: body as V1ConfigMap })).metadata?.uid;
      case 'Service':
        return (await this.core.createNamespacedService({ namespace, body: body as V1Service })).metadata?.uid;
      case 'NetworkPolicy':
        return (await this.networking.createNamespacedNetworkPolicy({ namespace, body: body as V1NetworkPolicy }))
          .metadata?.uid;
      case 'Workload':
        return this.kueue.create(namespace, body as Workload);
      default: {
        const where = { ...podGroupApi(kind), namespace, body };
        return ((await this.custom.createNamespacedCustomObject(where)) as { metadata?: { uid?: string } }).metadata
          ?.uid;
      }
    }
  }

  /** The PodGroups of one gang scheduler (full objects: the scheduler's status message is read). */
  listPodGroups =
    (mechanism: GangMechanism) =>
    async (q: ListQuery): Promise<ListResult<KubeObjectWithMeta>> => {
      const { group, version, plural } = POD_GROUP_APIS[mechanism];
      const where = { group, version, plural, labelSelector: q.labelSelector };
      return (await (q.namespace
        ? this.custom.listNamespacedCustomObject({ ...where, namespace: q.namespace })
        : this.custom.listClusterCustomObject(where))) as ListResult<KubeObjectWithMeta>;
    };

  /** Which gang schedulers' PodGroup APIs the server serves (discovery, asked once at start). */
  async servedPodGroupApis(): Promise<Set<GangMechanism>> {
    const served = new Set<GangMechanism>();
    for (const mechanism of GANG_MECHANISMS) {
      const { group, version, plural } = POD_GROUP_APIS[mechanism];
      try {
        const list = await this.custom.getAPIResources({ group, version });
        if (list.resources.some((r) => r.name === plural)) served.add(mechanism);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return served;
  }

  /** The uid of the object's controlling owner; null when it has none; undefined when the object does not exist. */
  async controllerOf(kind: ChildKind, namespace: string, name: string): Promise<string | null | undefined> {
    if (kind === 'Workload') return this.kueue.controllerOf(namespace, name);
    try {
      // Metadata only: the owner is all that is read, and a Secret's keys never reach the operator.
      const meta = setHeaderOptions('Accept', METADATA_ACCEPT);
      const read = {
        Pod: () => this.core.readNamespacedPod({ name, namespace }, meta),
        Secret: () => this.core.readNamespacedSecret({ name, namespace }, meta),
        ConfigMap: () => this.core.readNamespacedConfigMap({ name, namespace }, meta),
        Service: () => this.core.readNamespacedService({ name, namespace }, meta),
        NetworkPolicy: () => this.networking.readNamespacedNetworkPolicy({ name, namespace }, meta),
      }[kind as 'Pod'];
      const obj = (await (read
        ? read()
        : this.custom.getNamespacedCustomObject({ ...podGroupApi(kind as PodGroupKind), name, namespace }))) as {
        metadata?: { ownerReferences?: { uid: string; controller?: boolean }[] };
      };
      return obj.metadata?.ownerReferences?.find((r) => r.controller)?.uid ?? null;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Deletes exactly this pod: the uid precondition keeps a newer pod of the same name safe, and the pod's own grace
   * period gives its processes SIGTERM time (a checkpoint) before the name can be reused.
   */
  async deletePod(namespace: string, name: string, uid: string): Promise<void> {
    this.countWrite('delete', 'Pod');
    try {
      await this.core.deleteNamespacedPod({ name, namespace, body: { preconditions: { uid } } });
    } catch (err) {
      // 404: gone already; 409: the name now belongs to another pod.
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  /** Removes one finalizer from exactly this pod (uid precondition); a pod already gone is fine. */
  async removePodFinalizer(namespace: string, name: string, uid: string, finalizer: string): Promise<void> {
    this.countWrite('patch', 'Pod');
    try {
      await this.core.patchNamespacedPod(
        { name, namespace, body: { metadata: { uid, '$deleteFromPrimitiveList/finalizers': [finalizer] } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    } catch (err) {
      // 404: gone; 409 or 422 (uid is immutable): the name now belongs to another pod, which is not this one's.
      if (!isNotFound(err) && !isConflict(err) && httpStatus(err) !== 422) throw err;
    }
  }

  /** Replaces the status subresource; a 409 means the job changed meanwhile and the reconcile is retried. */
  async replaceStatus(job: HPCJob): Promise<HPCJob> {
    this.countWrite('updateStatus', 'HPCJob');
    return (await this.custom.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: job.metadata.namespace,
      name: job.metadata.name,
      body: job,
    })) as HPCJob;
  }

  async deleteJob(job: HPCJob): Promise<void> {
    this.countWrite('delete', 'HPCJob');
    try {
      await this.custom.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: job.metadata.namespace,
        name: job.metadata.name,
        propagationPolicy: 'Background',
        body: { preconditions: { uid: job.metadata.uid } },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  patchWorkloadSpec = (namespace: string, name: string, patch: WorkloadSpecPatch): Promise<void> =>
    this.kueue.patchSpec(namespace, name, patch);
  patchWorkloadStatus = (ns: string, name: string, resourceVersion: string, status: WorkloadStatus): Promise<void> =>
    this.kueue.patchStatus(ns, name, resourceVersion, status);
  deleteWorkload = (namespace: string, name: string, uid: string): Promise<void> =>
    this.kueue.delete(namespace, name, uid);
  workloadPriority = (name: string): Promise<number | undefined> => this.kueue.priority(name);

  async recordEvent(job: HPCJob, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    this.countWrite('event', 'Event');
    const now = new Date();
    const event: CoreV1Event = {
      metadata: { name: `${job.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: job.metadata.namespace },
      involvedObject: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'HPCJob',
        name: job.metadata.name,
        namespace: job.metadata.namespace,
        uid: job.metadata.uid,
        resourceVersion: job.metadata.resourceVersion,
      },
      type,
      reason,
      message,
      source: { component: 'hpcjob-operator' },
      reportingComponent: 'hpcjob.dev/operator',
      reportingInstance: process.env.HOSTNAME ?? 'hpcjob-operator',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    await this.core.createNamespacedEvent({ namespace: job.metadata.namespace, body: event });
  }
}
