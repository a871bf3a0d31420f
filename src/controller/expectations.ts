// Writes the controller has made but its caches have not shown yet. Until they show, a job is not planned again:
// planning from a stale cache would count one lost worker twice or recreate a pod that is being deleted.
// Pod expectations that make no progress for maxAgeMs are dropped, so a missed event can delay a job but never stall
// it; the job's own status write is always awaited (its watch resumes or relists, it never stays behind for good).
// Age counts from the last progress (a new write, or one the caches showed), not the first write: a large batch of
// creates can take longer than maxAgeMs in all while each of its pods shows promptly.

export interface PodView {
  name: string;
  uid: string;
  terminating: boolean;
}

interface Pending {
  statusResourceVersion?: string;
  creates: Set<string>;
  deletes: Map<string, string>; // pod name -> uid being deleted
  /** When a write was last expected or last seen in the caches. */
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

function outstanding(entry: Pending): number {
  return entry.creates.size + entry.deletes.size + (entry.statusResourceVersion === undefined ? 0 : 1);
}

export class Expectations {
  readonly #pending = new Map<string, Pending>();

  constructor(
    private readonly maxAgeMs = 30_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The job's entry, its age restarted by the write about to be expected. */
  #entry(jobKey: string): Pending {
    let entry = this.#pending.get(jobKey);
    if (!entry) this.#pending.set(jobKey, (entry = { creates: new Set(), deletes: new Map(), since: 0 }));
    entry.since = this.clock();
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
  satisfied(jobKey: string, jobResourceVersion: string | undefined, pods: PodView[], now = this.clock()): boolean {
    const entry = this.#pending.get(jobKey);
    if (!entry) return true;
    const before = outstanding(entry);
    const byName = new Map(pods.map((p) => [p.name, p]));
    for (const name of entry.creates) if (byName.has(name)) entry.creates.delete(name);
    for (const [name, uid] of entry.deletes) {
      const pod = byName.get(name);
      if (!pod || pod.terminating || pod.uid !== uid) entry.deletes.delete(name);
    }
    if (entry.statusResourceVersion && reached(jobResourceVersion, entry.statusResourceVersion)) {
      delete entry.statusResourceVersion;
    }
    const left = outstanding(entry);
    if (left < before) entry.since = now;
    if (left > 0 && now - entry.since > this.maxAgeMs) {
      // Pods that never showed are given up on (a missed event must not stall the job), but never the job's own
      // status write: planning from a job older than the status it last wrote could undo a stored decision.
      entry.creates.clear();
      entry.deletes.clear();
    }
    const done = outstanding(entry) === 0;
    if (done) this.#pending.delete(jobKey);
    return done;
  }
}
