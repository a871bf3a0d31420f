// The operator's calls to Kueue's API (kueue.x-k8s.io/v1beta2): discovery, and the writes to the job's own
// Workload. KubeApi delegates to it; each write is counted.
import { KUEUE_GROUP, KUEUE_VERSION, type WorkloadSpecPatch, type WorkloadStatus } from '../api/kueue.js';
import type { WriteVerb } from './api.js';
import { objectPath } from './paths.js';
import { httpStatus, MERGE_PATCH, servesResource, type RestClient } from './rest.js';

export class KueueApi {
  constructor(
    private readonly client: RestClient,
    private readonly countWrite: (verb: WriteVerb, kind: string) => void,
  ) {}

  /** Whether the API server serves Kueue's Workloads (Kueue's CRDs are installed). */
  servesWorkloads = (): Promise<boolean> => servesResource(this.client, KUEUE_GROUP, KUEUE_VERSION, 'workloads');

  async patchSpec(namespace: string, name: string, spec: WorkloadSpecPatch): Promise<void> {
    this.countWrite('patch', 'Workload');
    await this.client.patch(objectPath('Workload', namespace, name), { spec }, MERGE_PATCH);
  }

  /**
   * A merge patch of the status subresource: the conditions list is replaced whole (merge patches do not merge
   * lists), a null admission removes it, and the resourceVersion makes a patch over a newer status a 409.
   */
  async patchStatus(namespace: string, name: string, resourceVersion: string, status: WorkloadStatus): Promise<void> {
    this.countWrite('patch', 'Workload');
    const body = { metadata: { resourceVersion }, status };
    await this.client.patch(`${objectPath('Workload', namespace, name)}/status`, body, MERGE_PATCH);
  }

  async delete(namespace: string, name: string, uid: string): Promise<void> {
    this.countWrite('delete', 'Workload');
    try {
      await this.client.delete(objectPath('Workload', namespace, name), { preconditions: { uid } });
    } catch (err) {
      if (httpStatus(err) !== 404 && httpStatus(err) !== 409) throw err;
    }
  }

  /** A WorkloadPriorityClass's value; undefined when there is no class of that name. */
  async priority(name: string): Promise<number | undefined> {
    try {
      const cls = await this.client.get<{ value?: number }>(
        `/apis/${KUEUE_GROUP}/${KUEUE_VERSION}/workloadpriorityclasses/${name}`,
      );
      return cls.value ?? 0;
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw err;
    }
  }
}
