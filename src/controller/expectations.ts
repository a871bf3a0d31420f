// Writes the controller has made but its caches have not shown yet. Until they show, a job is not planned again:
// planning from a stale cache would count one lost worker twice or recreate a pod that is being deleted.
// An expectation older than maxAgeMs is dropped, so a missed event can delay a job but never stall it.

export interface PodView {
  name: string;
  uid: string;
  terminating: boolean;
}

interface Pending {
  statusResourceVersion?: string;
  creates: Set<string>;
  deletes: Map<string, string>; // pod name -> uid being deleted
  since: number;
}

/** True when resourceVersion `seen` is at least `wanted`; both are etcd revisions in practice, compared as numbers. */
function reached(seen: string | undefined, wanted: string): boolean {
  if (seen === wanted) return true;
  if (seen === undefined) return false;
  const a = Number(seen);
  const b = Number(wanted);
  return Number.isFinite(a) && Number.isFinite(b) && a >= b;
}

export class Expectations {
  readonly #pending = new Map<string, Pending>();

  constructor(private readonly maxAgeMs = 30_000) {}

  #entry(jobKey: string): Pending {
    let entry = this.#pending.get(jobKey);
    if (!entry) this.#pending.set(jobKey, (entry = { creates: new Set(), deletes: new Map(), since: Date.now() }));
    return entry;
  }

  expectCreate(jobKey: string, podName: string): void {
    this.#entry(jobKey).creates.add(podName);
  }

  expectDelete(jobKey: string, pod: PodView): void {
    this.#entry(jobKey).deletes.set(pod.name, pod.uid);
  }

  expectStatus(jobKey: string, resourceVersion: string | undefined): void {
    if (resourceVersion) this.#entry(jobKey).statusResourceVersion = resourceVersion;
  }

  forget(jobKey: string): void {
    this.#pending.delete(jobKey);
  }

  /** Whether the caches show every write made for this job; satisfied expectations are cleared. */
  satisfied(jobKey: string, jobResourceVersion: string | undefined, pods: PodView[], now = Date.now()): boolean {
    const entry = this.#pending.get(jobKey);
    if (!entry) return true;
    if (now - entry.since > this.maxAgeMs) {
      this.#pending.delete(jobKey);
      return true;
    }
    const byName = new Map(pods.map((p) => [p.name, p]));
    for (const name of entry.creates) if (byName.has(name)) entry.creates.delete(name);
    for (const [name, uid] of entry.deletes) {
      const pod = byName.get(name);
      if (!pod || pod.terminating || pod.uid !== uid) entry.deletes.delete(name);
    }
    if (entry.statusResourceVersion && reached(jobResourceVersion, entry.statusResourceVersion)) {
      delete entry.statusResourceVersion;
    }
    const done = entry.creates.size === 0 && entry.deletes.size === 0 && entry.statusResourceVersion === undefined;
    if (done) this.#pending.delete(jobKey);
    return done;
  }
}
