// Watches one collection of a namespace (its pods, or its jobs) and keeps counts of what its objects are; a milestone
// resolves at the moment the counts first meet a condition. One watch instead of listing thousands of pods ten times
// a second, which would load the 2 shared cores that the operators and the API server run on.
import { k8s, now } from './bench-lib.mjs';

const STARTED = new Set(['Running', 'Succeeded', 'Failed']);
const isReady = (pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** What a pod counts as, its role read from roleLabel ("worker" or "launcher"). */
export function podFlags(pod, roleLabel) {
  const role = pod.metadata?.labels?.[roleLabel];
  const phase = pod.status?.phase;
  return {
    workers: role === 'worker',
    workersReady: role === 'worker' && isReady(pod),
    launchers: role === 'launcher',
    // Running or past it: a launcher that runs for a second may be Succeeded by the time anyone looks.
    launchersStarted: role === 'launcher' && STARTED.has(phase),
    launchersSucceeded: role === 'launcher' && phase === 'Succeeded',
  };
}

function add(counts, flags, sign) {
  for (const [key, on] of Object.entries(flags)) if (on) counts[key] = (counts[key] ?? 0) + sign;
}

export class Tracker {
  /**
   * @param kc a KubeConfig to watch with
   * @param path the collection, e.g. /api/v1/namespaces/NS/pods
   * @param flagsOf object -> { name: boolean }: what the object counts as
   * @param failure counts -> string | undefined: a reason to give up every milestone (a job failed)
   */
  constructor(kc, path, flagsOf, failure = () => undefined) {
    this.watch = new k8s.Watch(kc);
    this.path = path;
    this.flagsOf = flagsOf;
    this.failure = failure;
    this.objects = new Map();
    this.counts = {};
    this.milestones = [];
    this.resourceVersion = undefined;
    this.stopped = false;
  }

  /** Starts watching; resolves once the watch is open (objects that already exist arrive as ADDED first). */
  async start() {
    await this.connect();
  }

  async connect() {
    if (this.stopped) return;
    const params = { allowWatchBookmarks: true, resourceVersion: this.resourceVersion };
    try {
      this.request = await this.watch.watch(
        this.path,
        params,
        (type, obj) => this.onEvent(type, obj),
        () => this.reconnect(),
      );
    } catch {
      this.reconnect();
    }
  }

  reconnect() {
    if (!this.stopped) setTimeout(() => this.connect(), 200);
  }

  onEvent(type, obj) {
    if (type === 'ERROR') {
      // 410 Gone: the version we resume from is too old. Start over from the current state.
      this.objects.clear();
      this.counts = {};
      this.resourceVersion = undefined;
      return;
    }
    this.resourceVersion = obj.metadata?.resourceVersion ?? this.resourceVersion;
    if (type === 'BOOKMARK') return;
    const name = obj.metadata.name;
    const before = this.objects.get(name);
    if (before) add(this.counts, before, -1);
    if (type === 'DELETED') this.objects.delete(name);
    else {
      const flags = this.flagsOf(obj);
      this.objects.set(name, flags);
      add(this.counts, flags, 1);
    }
    this.check();
  }

  check() {
    const reason = this.failure(this.counts);
    const at = now();
    this.milestones = this.milestones.filter(({ test, resolve, reject }) => {
      if (reason) reject(new Error(`bench: ${reason}`));
      else if (test(this.counts)) resolve(at);
      else return true;
      return false;
    });
  }

  /** The time (performance.now()) at which test(counts) first held; now, if it holds already. */
  when(test) {
    return new Promise((resolve, reject) => {
      this.milestones.push({ test, resolve, reject });
      this.check();
    });
  }

  count(key) {
    return this.counts[key] ?? 0;
  }

  stop() {
    this.stopped = true;
    this.request?.abort();
  }
}
