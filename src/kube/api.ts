// The operator's API calls, in one place: lists for the caches (cluster-wide or per namespace), creates and deletes of
// children, the launcher's finalizer, the status write, the TTL delete of a job, and events. Each write is counted per
// verb for the write-requests figure. Requests go through the operator's own REST client (rest.ts).
import type { CoreV1Event } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { GROUP, VERSION, type HPCJob } from '../api/types.js';
import type { WorkloadSpecPatch, WorkloadStatus } from '../api/kueue.js';
import type { ChildKind, ControllerApi } from '../controller/ports.js';
import { GANG_MECHANISMS, POD_GROUP_APIS, type GangMechanism } from '../render/pod-groups.js';
import type { ListResult } from './cache.js';
import { loadClusterAccess } from './kubeconfig.js';
import { KueueApi } from './kueue-api.js';
import { childCollection, objectPath } from './paths.js';
import { httpStatus, isConflict, isNotFound, RestClient, servesResource, STRATEGIC_MERGE_PATCH } from './rest.js';

/** The REST client for a kubeconfig file (or KUBECONFIG, the in-cluster ServiceAccount, ~/.kube/config). */
export function connect(kubeconfig?: string): RestClient {
  return new RestClient(loadClusterAccess(kubeconfig));
}

export { httpStatus, isAlreadyExists, isConflict, isNotFound, MERGE_PATCH, STRATEGIC_MERGE_PATCH } from './rest.js';

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

const jobPath = (job: HPCJob): string => objectPath('HPCJob', job.metadata.namespace, job.metadata.name);

export type WriteVerb = 'create' | 'delete' | 'patch' | 'updateStatus' | 'event';

type Created = { metadata?: { uid?: string } };

export class KubeApi implements ControllerApi {
  /** Kueue's API: discovery and the writes to the job's own Workload. */
  readonly kueue: KueueApi;

  constructor(
    readonly client: RestClient,
    private readonly countWrite: (verb: WriteVerb, kind: string) => void = () => undefined,
  ) {
    this.kueue = new KueueApi(client, countWrite);
  }

  /** A collection (collectionPath in paths.ts), whole objects or metadata alone. */
  list = <T>(path: string, q: ListQuery): Promise<ListResult<T>> =>
    this.client.get<ListResult<T>>(path, {
      query: { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector },
      accept: q.metadataOnly ? METADATA_LIST_ACCEPT : undefined,
    });

  /** Creates an object and returns its uid; the API's error is thrown as it came (409 AlreadyExists included). */
  async create(kind: ChildKind, namespace: string, body: object): Promise<string | undefined> {
    this.countWrite('create', kind);
    return (await this.client.post<Created>(childCollection(kind, namespace), body)).metadata?.uid;
  }

  /** Which gang schedulers' PodGroup APIs the server serves (discovery, asked once at start). */
  async servedPodGroupApis(): Promise<Set<GangMechanism>> {
    const served = new Set<GangMechanism>();
    for (const mechanism of GANG_MECHANISMS) {
      const { group, version, plural } = POD_GROUP_APIS[mechanism];
      if (await servesResource(this.client, group, version, plural)) served.add(mechanism);
    }
    return served;
  }

  /** The uid of the object's controlling owner; null when it has none; undefined when the object does not exist. */
  async controllerOf(kind: ChildKind, namespace: string, name: string): Promise<string | null | undefined> {
    try {
      // Metadata only: the owner is all that is read, and a Secret's keys never reach the operator.
      const obj = await this.client.get<{ metadata?: { ownerReferences?: { uid: string; controller?: boolean }[] } }>(
        objectPath(kind, namespace, name),
        { accept: METADATA_ACCEPT },
      );
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
      await this.client.delete(objectPath('Pod', namespace, name), { preconditions: { uid } });
    } catch (err) {
      // 404: gone already; 409: the name now belongs to another pod.
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  /** Removes one finalizer from exactly this pod (uid precondition); a pod already gone is fine. */
  async removePodFinalizer(namespace: string, name: string, uid: string, finalizer: string): Promise<void> {
    this.countWrite('patch', 'Pod');
    try {
      await this.client.patch(
        objectPath('Pod', namespace, name),
        { metadata: { uid, '$deleteFromPrimitiveList/finalizers': [finalizer] } },
        STRATEGIC_MERGE_PATCH,
      );
    } catch (err) {
      // 404: gone; 409 or 422 (uid is immutable): the name now belongs to another pod, which is not this one's.
      if (!isNotFound(err) && !isConflict(err) && httpStatus(err) !== 422) throw err;
    }
  }

  /** Replaces the status subresource; a 409 means the job changed meanwhile and the reconcile is retried. */
  async replaceStatus(job: HPCJob): Promise<HPCJob> {
    this.countWrite('updateStatus', 'HPCJob');
    return this.client.put<HPCJob>(`${jobPath(job)}/status`, job);
  }

  async deleteJob(job: HPCJob): Promise<void> {
    this.countWrite('delete', 'HPCJob');
    try {
      await this.client.delete(
        jobPath(job),
        { preconditions: { uid: job.metadata.uid } },
        { propagationPolicy: 'Background' },
      );
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
    await this.client.post(`/api/v1/namespaces/${job.metadata.namespace}/events`, event);
  }
}
