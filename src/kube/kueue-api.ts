// The operator's calls to Kueue's API (kueue.x-k8s.io/v1beta2): discovery, the caches' lists of Workloads and
// ResourceFlavors, and the writes to the job's own Workload. KubeApi delegates to it; each write is counted.
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import {
  KUEUE_GROUP,
  KUEUE_VERSION,
  type ResourceFlavor,
  type Workload,
  type WorkloadSpecPatch,
  type WorkloadStatus,
} from '../api/kueue.js';
import type { ListQuery, WriteVerb } from './api.js';
import type { ListResult } from './cache.js';

const where = { group: KUEUE_GROUP, version: KUEUE_VERSION };
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function httpCode(err: unknown): number | undefined {
  const e = err as { code?: unknown };
  return typeof e?.code === 'number' ? e.code : undefined;
}

export class KueueApi {
  constructor(
    private readonly custom: CustomObjectsApi,
    private readonly countWrite: (verb: WriteVerb, kind: string) => void,
  ) {}

  /** Whether the API server serves Kueue's Workloads (Kueue's CRDs are installed). */
  async servesWorkloads(): Promise<boolean> {
    try {
      const list = await this.custom.getAPIResources(where);
      return list.resources.some((r) => r.name === 'workloads');
    } catch (err) {
      if (httpCode(err) === 404) return false;
      throw err;
    }
  }

  listWorkloads = async (q: ListQuery): Promise<ListResult<Workload>> => {
    const query = { ...where, plural: 'workloads', labelSelector: q.labelSelector };
    return (await (q.namespace
      ? this.custom.listNamespacedCustomObject({ ...query, namespace: q.namespace })
      : this.custom.listClusterCustomObject(query))) as ListResult<Workload>;
  };

  listResourceFlavors = async (q: ListQuery): Promise<ListResult<ResourceFlavor>> =>
    (await this.custom.listClusterCustomObject({
      ...where,
      plural: 'resourceflavors',
      labelSelector: q.labelSelector,
    })) as ListResult<ResourceFlavor>;

  async create(namespace: string, body: Workload): Promise<string | undefined> {
    const created = (await this.custom.createNamespacedCustomObject({
      ...where,
      plural: 'workloads',
      namespace,
      body,
    })) as Workload;
    return created.metadata?.uid;
  }

  /** The uid of the Workload's controlling owner; null when it has none; undefined when there is no Workload. */
  async controllerOf(namespace: string, name: string): Promise<string | null | undefined> {
    try {
      const wl = (await this.custom.getNamespacedCustomObject({
        ...where,
        plural: 'workloads',
        namespace,
        name,
      })) as Workload;
      return wl.metadata?.ownerReferences?.find((r) => r.controller)?.uid ?? null;
    } catch (err) {
      if (httpCode(err) === 404) return undefined;
      throw err;
    }
  }

  async patchSpec(namespace: string, name: string, spec: WorkloadSpecPatch): Promise<void> {
    this.countWrite('patch', 'Workload');
    await this.custom.patchNamespacedCustomObject(
      { ...where, plural: 'workloads', namespace, name, body: { spec } },
      mergePatch,
    );
  }

  /**
   * A merge patch of the status subresource: the conditions list is replaced whole (merge patches do not merge
   * lists), a null admission removes it, and the resourceVersion makes a patch over a newer status a 409.
   */
  async patchStatus(namespace: string, name: string, resourceVersion: string, status: WorkloadStatus): Promise<void> {
    this.countWrite('patch', 'Workload');
    await this.custom.patchNamespacedCustomObjectStatus(
      { ...where, plural: 'workloads', namespace, name, body: { metadata: { resourceVersion }, status } },
      mergePatch,
    );
  }

  async delete(namespace: string, name: string, uid: string): Promise<void> {
    this.countWrite('delete', 'Workload');
    try {
      await this.custom.deleteNamespacedCustomObject({
        ...where,
        plural: 'workloads',
        namespace,
        name,
        body: { preconditions: { uid } },
      });
    } catch (err) {
      if (httpCode(err) !== 404 && httpCode(err) !== 409) throw err;
    }
  }

  /** A WorkloadPriorityClass's value; undefined when there is no class of that name. */
  async priority(name: string): Promise<number | undefined> {
    try {
      const cls = (await this.custom.getClusterCustomObject({
        ...where,
        plural: 'workloadpriorityclasses',
        name,
      })) as { value?: number };
      return cls.value ?? 0;
    } catch (err) {
      if (httpCode(err) === 404) return undefined;
      throw err;
    }
  }
}
