// What one Controller instance talks to: ControllerApi over the in-memory store (with the faults the test arms), and
// caches that list the store when started and then see only the watch events the test delivers.
import type { CacheEvent, KubeObject } from '../../../../src/kube/cache.js';
import type {
  CacheFactory,
  CacheSpec,
  ChildKind,
  ControllerApi,
  ObjectCache,
  Resource,
} from '../../../../src/controller/ports.js';
import type { HPCJob } from '../../../../src/api/types.js';
import type { WorkloadSpecPatch, WorkloadStatus } from '../../../../src/api/kueue.js';
import { ApiError, frozenCopy, keyOf, type StoredObject, type Store, type WatchEvent } from './store.js';

/** The operator process died: thrown by every API call it makes from then on. */
export class Crash extends Error {
  constructor(call: number) {
    super(`operator crashed before API call ${call}`);
  }
}

export type WriteVerb =
  | 'create'
  | 'deletePod'
  | 'removeFinalizer'
  | 'replaceStatus'
  | 'deleteJob'
  | 'event'
  | 'patchWorkload'
  | 'deleteWorkload';

export interface ApiWrite {
  verb: WriteVerb;
  what: string;
}

/** A create failure armed by the test, taken by the next create. */
export type CreateFault = 'quota' | 'invalid' | 'internal';

const CREATE_FAULTS: Record<CreateFault, { code: number; message: (name: string) => string }> = {
  quota: {
    code: 403,
    message: (name) =>
      `pods "${name}" is forbidden: exceeded quota: gpu-quota, requested: requests.nvidia.com/gpu=1, used: 8, limited: 8`,
  },
  invalid: {
    code: 422,
    message: (name) => `Pod "${name}" is invalid: spec.containers[0].image: Required value`,
  },
  internal: { code: 500, message: () => 'Internal error occurred: failed calling webhook "policy.example.com"' },
};

const RESOURCE_OF: Record<ChildKind, Resource> = {
  Pod: 'pods',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  Service: 'services',
  NetworkPolicy: 'networkpolicies',
  NativePodGroup: 'podgroups.scheduling.k8s.io',
  VolcanoPodGroup: 'podgroups.scheduling.volcano.sh',
  SchedulerPluginsPodGroup: 'podgroups.scheduling.x-k8s.io',
  Workload: 'workloads.kueue.x-k8s.io',
};

/** What the world wants to hear about while a controller writes (the invariants that are checked per write). */
export interface ApiHooks {
  /** Called with every write the controller attempts (failed ones included). */
  written(write: ApiWrite): void;
  /** A child the API accepted. */
  created(resource: Resource, obj: StoredObject): void;
  /** A status the API accepted: the job before and after. */
  statusWritten(before: StoredObject, after: StoredObject): void;
  /** A Workload status the API accepted, before and after. */
  workloadStatusWritten(before: StoredObject, after: StoredObject): void;
  /** Armed faults: each is taken (and so disarmed) when it fires. */
  takeCreateFault(): CreateFault | undefined;
  takeCrash(): boolean;
}

function matches(selector: string | undefined, obj: StoredObject): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return obj.metadata.labels?.[k!] === v;
  });
}

/** A cache as the controller sees it: fed by start()'s list and by the events deliver() hands it. */
export class ModelCache<T extends KubeObject> implements ObjectCache<T> {
  readonly #items = new Map<string, T>();
  readonly #index = new Map<string, Map<string, T>>();
  /** How far into the resource's log this cache has seen. */
  cursor = 0;
  stopped = false;

  constructor(
    readonly spec: CacheSpec<T>,
    private readonly store: Store,
  ) {}

  async start(): Promise<void> {
    const log = this.store.logs.get(this.spec.resource)!;
    this.cursor = log.length;
    for (const obj of this.store.list(this.spec.resource)) {
      if (matches(this.spec.labelSelector, obj)) this.#apply('ADDED', frozenCopy(obj) as unknown as T);
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Applies the next event of this cache's resource. */
  deliver(event: WatchEvent): void {
    this.cursor += 1;
    if (this.stopped || !matches(this.spec.labelSelector, event.obj)) return;
    this.#apply(event.type, event.obj as unknown as T);
  }

  #apply(type: WatchEvent['type'], obj: T): void {
    const key = keyOf(obj as unknown as StoredObject);
    const old = this.#items.get(key);
    this.#unindex(key, old);
    let kind: CacheEvent;
    if (type === 'DELETED') {
      this.#items.delete(key);
      kind = 'delete';
    } else {
      if (old?.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
      this.#items.set(key, obj);
      const value = this.spec.indexBy?.(obj);
      if (value !== undefined) {
        if (!this.#index.has(value)) this.#index.set(value, new Map());
        this.#index.get(value)!.set(key, obj);
      }
      kind = old ? 'update' : 'add';
    }
    this.spec.onEvent(kind, obj);
  }

  #unindex(key: string, old: T | undefined): void {
    const value = old && this.spec.indexBy?.(old);
    if (value === undefined) return;
    const bucket = this.#index.get(value);
    bucket?.delete(key);
    if (bucket?.size === 0) this.#index.delete(value);
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  byIndex(value: string): T[] {
    return [...(this.#index.get(value)?.values() ?? [])];
  }

  get size(): number {
    return this.#items.size;
  }

  get quietForMs(): number {
    return 0;
  }
}

/** One operator process's view of the cluster: its API client and its caches. Dead once it crashed. */
export class ModelApi implements ControllerApi {
  readonly caches: ModelCache<KubeObject>[] = [];
  calls = 0;
  dead = false;

  constructor(
    private readonly store: Store,
    private readonly hooks: ApiHooks,
  ) {}

  readonly cacheFactory: CacheFactory = <T extends KubeObject>(spec: CacheSpec<T>): ObjectCache<T> => {
    const cache = new ModelCache<T>(spec, this.store);
    this.caches.push(cache as unknown as ModelCache<KubeObject>);
    return cache;
  };

  /** Every call passes here: a dead process makes none, and an armed crash kills it before the call. */
  #call(write?: ApiWrite): void {
    this.calls += 1;
    if (!this.dead && this.hooks.takeCrash()) this.dead = true;
    if (this.dead) throw new Crash(this.calls);
    if (write) this.hooks.written(write);
  }

  async create(kind: ChildKind, namespace: string, body: object): Promise<string | undefined> {
    const name = (body as StoredObject).metadata.name;
    this.#call({ verb: 'create', what: `${kind} ${name}` });
    const resource = RESOURCE_OF[kind];
    const fault = resource === 'pods' ? this.hooks.takeCreateFault() : undefined;
    if (fault) throw new ApiError(CREATE_FAULTS[fault].code, CREATE_FAULTS[fault].message(name));
    const obj = this.store.create(resource, { ...body, metadata: { ...(body as StoredObject).metadata, namespace } });
    this.hooks.created(resource, obj);
    return obj.metadata.uid;
  }

  async controllerOf(kind: ChildKind, namespace: string, name: string): Promise<string | null | undefined> {
    this.#call();
    const obj = this.store.get(RESOURCE_OF[kind], `${namespace}/${name}`);
    if (!obj) return undefined;
    return obj.metadata.ownerReferences?.find((r) => r.controller)?.uid ?? null;
  }

  async deletePod(namespace: string, name: string, uid: string): Promise<void> {
    this.#call({ verb: 'deletePod', what: name });
    try {
      this.store.delete('pods', `${namespace}/${name}`, { uid });
    } catch (err) {
      // As the real client: gone already (404) or the name now belongs to another pod (409).
      if (!(err instanceof ApiError) || (err.code !== 404 && err.code !== 409)) throw err;
    }
  }

  async removePodFinalizer(namespace: string, name: string, uid: string, finalizer: string): Promise<void> {
    this.#call({ verb: 'removeFinalizer', what: name });
    try {
      this.store.removeFinalizer('pods', `${namespace}/${name}`, uid, finalizer);
    } catch (err) {
      if (!(err instanceof ApiError) || (err.code !== 404 && err.code !== 409)) throw err;
    }
  }

  async replaceStatus(job: HPCJob): Promise<HPCJob> {
    this.#call({ verb: 'replaceStatus', what: job.metadata.name });
    const before = structuredClone(this.store.get('hpcjobs', keyOf(job)));
    const after = this.store.replaceStatus('hpcjobs', job as unknown as StoredObject);
    if (before) this.hooks.statusWritten(before, after);
    return structuredClone(after) as unknown as HPCJob;
  }

  async deleteJob(job: HPCJob): Promise<void> {
    this.#call({ verb: 'deleteJob', what: job.metadata.name });
    try {
      this.store.delete('hpcjobs', keyOf(job), { uid: job.metadata.uid });
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 404) throw err;
    }
  }

  async recordEvent(job: HPCJob, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    this.#call({ verb: 'event', what: `${type} ${reason} on ${job.metadata.name}: ${message}` });
  }

  async patchWorkloadSpec(namespace: string, name: string, patch: WorkloadSpecPatch): Promise<void> {
    this.#call({ verb: 'patchWorkload', what: `${name} spec ${JSON.stringify(patch)}` });
    this.store.update('workloads.kueue.x-k8s.io', `${namespace}/${name}`, (obj) => {
      obj.spec = { ...(obj.spec as object), ...patch };
    });
  }

  async patchWorkloadStatus(namespace: string, name: string, resourceVersion: string, status: WorkloadStatus) {
    this.#call({ verb: 'patchWorkload', what: `${name} status` });
    const stored = this.store.get('workloads.kueue.x-k8s.io', `${namespace}/${name}`);
    if (!stored) throw new ApiError(404, `workloads "${name}" not found`);
    // The store checks the resourceVersion as the API server checks a patch that carries one.
    const before = structuredClone(stored);
    const after = this.store.replaceStatus('workloads.kueue.x-k8s.io', {
      metadata: { ...stored.metadata, resourceVersion },
      status,
    });
    this.hooks.workloadStatusWritten(before, after);
  }

  async deleteWorkload(namespace: string, name: string, uid: string): Promise<void> {
    this.#call({ verb: 'deleteWorkload', what: name });
    try {
      this.store.delete('workloads.kueue.x-k8s.io', `${namespace}/${name}`, { uid });
    } catch (err) {
      if (!(err instanceof ApiError) || (err.code !== 404 && err.code !== 409)) throw err;
    }
  }

  async workloadPriority(name: string): Promise<number | undefined> {
    this.#call();
    return this.store.priorityClasses.get(name);
  }
}
