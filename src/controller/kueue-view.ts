// What the controller sees of Kueue: whether the API server serves its Workloads (discovered once at start), the
// operator's own Workloads (a label-filtered cache indexed by the owning job, like the other children) and the
// ResourceFlavors (a small cluster-scoped cache), gathered per job into the QueueObservation the planner reads.
import type { Logger } from 'pino';
import type { ResourceFlavor, Workload } from '../api/kueue.js';
import type { HPCJob } from '../api/types.js';
import type { KubeObject } from '../kube/cache.js';
import { MANAGED_BY_SELECTOR } from '../render/names.js';
import type { CacheFactory, ControllerApi, ObjectCache } from './ports.js';
import { queueLabels, type QueueObservation } from './queueing.js';
import { isTerminal } from './status.js';

/** The key of the job that controls an object (the controller's ownerJobKey). */
type OwnerLookup = (obj: KubeObject) => string | undefined;

export class KueueView {
  #workloads: ObjectCache<Workload & KubeObject> | undefined;
  #flavors: ObjectCache<ResourceFlavor & KubeObject> | undefined;

  /** served: whether kueue.x-k8s.io/v1beta2 workloads are served; without it no cache is made. */
  constructor(readonly served: boolean) {}

  /** The caches made by makeCaches (none when Kueue is not served). */
  get caches(): ObjectCache<KubeObject>[] {
    return [this.#workloads, this.#flavors].filter((c) => c !== undefined) as ObjectCache<KubeObject>[];
  }

  /** Creates the caches (when served); events on a Workload wake the job that owns it. */
  makeCaches(
    factory: CacheFactory,
    ownerKey: OwnerLookup,
    enqueue: (key: string) => void,
    restarts: (resource: string) => (reason: string) => void,
  ): void {
    if (!this.served) return;
    this.#workloads = factory<Workload & KubeObject>({
      resource: 'workloads.kueue.x-k8s.io',
      labelSelector: MANAGED_BY_SELECTOR,
      onEvent: (_, obj) => {
        const key = ownerKey(obj);
        if (key) enqueue(key);
      },
      onWatchRestart: restarts('workloads.kueue.x-k8s.io'),
      indexBy: ownerKey,
    });
    // A flavor an admission names is normally there long before; a job waiting on a late one looks again by itself.
    this.#flavors = factory<ResourceFlavor & KubeObject>({
      resource: 'resourceflavors.kueue.x-k8s.io',
      onEvent: () => undefined,
      onWatchRestart: restarts('resourceflavors.kueue.x-k8s.io'),
    });
  }

  /** Logged once at start, so an operator without Kueue says why labelled jobs wait. */
  logDiscovery(logger: Logger): void {
    if (this.served)
      logger.info('Kueue serves kueue.x-k8s.io/v1beta2 workloads: jobs with a queue-name label are queued');
    else
      logger.info(
        'kueue.x-k8s.io/v1beta2 workloads are not served: jobs with a queue-name label wait with KueueNotInstalled',
      );
  }

  /**
   * The job's queue, Workload and flavors; undefined for a job that is not queued and has no Workload. The
   * WorkloadPriorityClass is read (one GET) only while the Workload is still to be created.
   */
  async observe(
    job: HPCJob,
    key: string,
    isOwned: (obj: KubeObject) => boolean,
    api: ControllerApi,
  ): Promise<QueueObservation | undefined> {
    const { queueName, priorityClass } = queueLabels(job);
    const workload = this.#workloads?.byIndex(key).find(isOwned);
    if (!queueName && !workload) return undefined;
    const flavors = new Map<string, ResourceFlavor>();
    for (const assignment of workload?.status?.admission?.podSetAssignments ?? []) {
      for (const name of Object.values(assignment.flavors ?? {})) {
        const flavor = this.#flavors?.get(name);
        if (flavor) flavors.set(name, flavor);
      }
    }
    const observation: QueueObservation = { served: this.served, flavors, ...(queueName ? { queueName } : {}) };
    if (workload) observation.workload = workload;
    if (this.served && queueName && priorityClass && !workload && !isTerminal(job.status?.phase)) {
      observation.priority = { className: priorityClass, value: await api.workloadPriority(priorityClass) };
    }
    return observation;
  }
}
