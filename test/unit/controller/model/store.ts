// The in-memory API server of the model tests: objects by resource, one resourceVersion counter for all of them,
// uids, finalizers, graceful deletion, uid preconditions and resourceVersion checks on status writes. Every write
// appends a watch event to its resource's log; caches see an event only once the test delivers it.
import type { Resource } from '../../../../src/controller/ports.js';

export const NAMESPACE = 'ns';
/** What the API server defaults a pod's terminationGracePeriodSeconds to. */
const DEFAULT_GRACE_SECONDS = 30;

/** An object as the store keeps it: Kubernetes metadata plus whatever the kind carries. */
export interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; uid: string; apiVersion: string; controller?: boolean }[];
}

// The store serves every kind, so its objects are loosely typed: spec and status are read by the helpers that know
// the kind.
export interface StoredObject {
  metadata: Meta;
  [field: string]: unknown;
}

export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  /** Global order of writes, across resources. */
  seq: number;
  resource: Resource;
  type: WatchType;
  obj: StoredObject;
}

/** An HTTP error as client-node throws it: the status code in `code`, the API's Status in `body`. */
export class ApiError extends Error {
  readonly body: { message: string };
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`HTTP ${code}: ${message}`);
    this.body = { message };
  }
}

export const RESOURCES: Resource[] = [
  'hpcjobs',
  'pods',
  'secrets',
  'configmaps',
  'services',
  'networkpolicies',
  'namespaces',
  'workloads.kueue.x-k8s.io',
  'resourceflavors.kueue.x-k8s.io',
];

/** A deep copy that nobody can change: what a watch event or a cache hands out. */
export function frozenCopy<T>(value: T): T {
  const freeze = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return;
    Object.freeze(v);
    for (const inner of Object.values(v)) freeze(inner);
  };
  const copy = structuredClone(value);
  freeze(copy);
  return copy;
}

export const keyOf = (obj: { metadata: { name: string; namespace?: string } }): string =>
  obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;

export class Store {
  #rv = 0;
  #uids = 0;
  #seq = 0;
  readonly #objects = new Map<Resource, Map<string, StoredObject>>(RESOURCES.map((r) => [r, new Map()]));
  readonly logs = new Map<Resource, WatchEvent[]>(RESOURCES.map((r) => [r, []]));
  /** Kueue's WorkloadPriorityClasses: name -> value (read by a GET, never watched). */
  readonly priorityClasses = new Map<string, number>();

  constructor(readonly now: () => number) {}

  get(resource: Resource, key: string): StoredObject | undefined {
    return this.#objects.get(resource)!.get(key);
  }

  list(resource: Resource): StoredObject[] {
    return [...this.#objects.get(resource)!.values()];
  }

  get resourceVersion(): string {
    return String(this.#rv);
  }

  #iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }

  #emit(resource: Resource, type: WatchType, obj: StoredObject): void {
    this.logs.get(resource)!.push({ seq: ++this.#seq, resource, type, obj: frozenCopy(obj) });
  }

  #put(resource: Resource, obj: StoredObject, type: WatchType): StoredObject {
    obj.metadata.resourceVersion = String(++this.#rv);
    this.#objects.get(resource)!.set(keyOf(obj), obj);
    this.#emit(resource, type, obj);
    return obj;
  }

  #remove(resource: Resource, obj: StoredObject): void {
    obj.metadata.resourceVersion = String(++this.#rv);
    this.#objects.get(resource)!.delete(keyOf(obj));
    this.#emit(resource, 'DELETED', obj);
  }

  /** Creates an object from a body: 409 AlreadyExists when the name is taken. Returns the stored object. */
  create(resource: Resource, body: object): StoredObject {
    const obj = structuredClone(body) as StoredObject;
    const namespace = resource === 'resourceflavors.kueue.x-k8s.io' ? undefined : (obj.metadata.namespace ?? NAMESPACE);
    obj.metadata = { ...obj.metadata, namespace } as Meta;
    if (this.get(resource, keyOf(obj))) {
      throw new ApiError(409, `${resource} "${obj.metadata.name}" already exists`);
    }
    obj.metadata.uid = `${resource}-${++this.#uids}`;
    obj.metadata.creationTimestamp = this.#iso();
    obj.metadata.generation = 1;
    if (resource === 'pods') {
      const spec = (obj.spec ?? {}) as { terminationGracePeriodSeconds?: number };
      spec.terminationGracePeriodSeconds ??= DEFAULT_GRACE_SECONDS;
      obj.spec = spec;
      obj.status = { phase: 'Pending' };
    }
    return this.#put(resource, obj, 'ADDED');
  }

  /** Changes an object in place (labels, spec, a kubelet's status) and records the write. */
  update(resource: Resource, key: string, change: (obj: StoredObject) => void): StoredObject {
    const obj = this.get(resource, key);
    if (!obj) throw new ApiError(404, `${resource} "${key}" not found`);
    change(obj);
    this.#maybeFinish(resource, obj);
    if (this.get(resource, key)) this.#put(resource, obj, 'MODIFIED');
    return obj;
  }

  /** The status subresource: 409 when the sent resourceVersion (or uid) is not the stored one. */
  replaceStatus(resource: Resource, body: StoredObject): StoredObject {
    const key = keyOf(body);
    const obj = this.get(resource, key);
    if (!obj) throw new ApiError(404, `${resource} "${key}" not found`);
    if (body.metadata.uid !== obj.metadata.uid) throw new ApiError(409, `uid precondition failed for ${key}`);
    if (body.metadata.resourceVersion !== obj.metadata.resourceVersion) {
      throw new ApiError(409, `the object has been modified; please apply your changes to the latest version`);
    }
    obj.status = structuredClone(body.status);
    return this.#put(resource, obj, 'MODIFIED');
  }

  /**
   * A delete: with graceSeconds 0 (or for a pod that never reached a node, or already finished) the object goes at
   * once unless finalizers hold it; otherwise it gets a deletionTimestamp now + grace and waits for its kubelet.
   * A uid precondition that does not match is a 409; a second delete of a terminating object may only shorten it.
   */
  delete(resource: Resource, key: string, opts: { uid?: string; graceSeconds?: number } = {}): void {
    const obj = this.get(resource, key);
    if (!obj) throw new ApiError(404, `${resource} "${key}" not found`);
    if (opts.uid !== undefined && opts.uid !== obj.metadata.uid) {
      throw new ApiError(
        409,
        `Precondition failed: UID in precondition: ${opts.uid}, UID in object meta: ${obj.metadata.uid}`,
      );
    }
    let grace = 0;
    if (resource === 'pods') {
      const spec = obj.spec as { nodeName?: string; terminationGracePeriodSeconds?: number };
      const phase = (obj.status as { phase?: string } | undefined)?.phase;
      const finished = phase === 'Succeeded' || phase === 'Failed';
      grace = opts.graceSeconds ?? spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
      if (!spec.nodeName || finished) grace = 0;
    }
    const meta = obj.metadata;
    if (meta.deletionTimestamp !== undefined) {
      if (grace >= (meta.deletionGracePeriodSeconds ?? 0)) return;
    }
    meta.deletionTimestamp = this.#iso(this.now() + grace * 1000);
    meta.deletionGracePeriodSeconds = grace;
    if (grace === 0 && !meta.finalizers?.length) {
      this.#remove(resource, obj);
      return;
    }
    this.#put(resource, obj, 'MODIFIED');
  }

  /** Removes a finalizer (uid precondition); the object goes once nothing else holds it. */
  removeFinalizer(resource: Resource, key: string, uid: string, finalizer: string): void {
    const obj = this.get(resource, key);
    if (!obj) throw new ApiError(404, `${resource} "${key}" not found`);
    if (obj.metadata.uid !== uid) throw new ApiError(409, `Precondition failed: UID mismatch for ${key}`);
    const finalizers = obj.metadata.finalizers ?? [];
    if (!finalizers.includes(finalizer)) return;
    obj.metadata.finalizers = finalizers.filter((f) => f !== finalizer);
    if (this.#maybeFinish(resource, obj)) return;
    this.#put(resource, obj, 'MODIFIED');
  }

  /** A deleted object with no grace left and no finalizer is removed; returns whether it was. */
  #maybeFinish(resource: Resource, obj: StoredObject): boolean {
    const meta = obj.metadata;
    if (meta.deletionTimestamp === undefined || meta.deletionGracePeriodSeconds !== 0) return false;
    if (meta.finalizers?.length) return false;
    this.#remove(resource, obj);
    return true;
  }
}
