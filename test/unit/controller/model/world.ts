// The world a model test runs in: the in-memory API server, the clock, one operator process (a real Controller over
// a ModelApi) that can crash and be started again, watch delivery, and what the invariants need to remember about
// each job (its stored terminal phase, its restarts, the failures the world injected into each attempt).
import pino from 'pino';
import type { V1Pod } from '@kubernetes/client-node';
import { Controller } from '../../../../src/controller/controller.js';
import { loadClusterConfig, type ClusterConfig } from '../../../../src/config/cluster-config.js';
import { Metrics } from '../../../../src/metrics.js';
import type { Resource } from '../../../../src/controller/ports.js';
import type { HPCJob, LauncherCreationPolicy } from '../../../../src/api/types.js';
import { ANNOTATION_ATTEMPT, LABEL_ROLE } from '../../../../src/render/names.js';
import { ApiError, NAMESPACE, RESOURCES, Store, type StoredObject, type WatchEvent } from './store.js';
import { Crash, ModelApi, type ApiHooks, type ApiWrite, type CreateFault } from './api.js';
import { checkPodCreate, checkStatusWrite } from './invariants.js';
import { checkQueuedPodCreate, checkQuotaRelease, installKueue } from './kueue.js';

export type CleanPodPolicy = 'None' | 'Running' | 'All';

export interface JobSetup {
  name: string;
  workers: number;
  backoffLimit: number;
  deadlineSeconds?: number;
  cleanPodPolicy: CleanPodPolicy;
  ttlSeconds?: number;
  /** The code launchers exit with once the fair phase runs them to the end. */
  fairExitCode: number;
  /** The LocalQueue of its kueue.x-k8s.io/queue-name label: the job is queued by Kueue (kueue.ts). */
  queue?: string;
  /** spec.launcher.creationPolicy; unset: the default. */
  launcherCreation?: LauncherCreationPolicy;
}

export interface WorldSetup {
  jobs: JobSetup[];
  /** In the fair phase, lost nodes come back (true) or are declared dead and their pods force-deleted (false). */
  lostNodesRecover: boolean;
  /** The site configuration the operator runs with; the defaults when absent. */
  config?: ClusterConfig;
  /** Kueue is installed (its Workloads are served) and plays its part in the fair phase (kueue.ts). */
  kueue?: boolean;
  /** The CRD defaults a new job's status to Pending, as the shipped CRD does; false: a CRD from before that. */
  statusDefault?: boolean;
}

/** What the invariants remember about one job. */
export interface JobRecord {
  setup: JobSetup;
  uid: string;
  /** The first terminal status the API stored. */
  terminal?: { phase: string; resourceVersion: string };
  /** The highest restartCount stored so far. */
  restartCount: number;
  /** Attempts in which the world broke a pod (a failure, an eviction, a deletion, a lost node). */
  injured: Set<number>;
  /**
   * Each attempt's latest launcher pod and the exit code its kubelet reported, if it did (a suspended attempt gets a
   * second launcher when it resumes).
   */
  launcherExit: Map<number, { uid: string; code?: number }>;
  /** Status writes the API accepted, as lines, for failure messages. */
  history: string[];
  deletedByUser: boolean;
}

export const NODES = ['node-1', 'node-2', 'node-3'];
export type NodeState = 'up' | 'lost';
/** The model clock's start; the invariants' messages give times relative to it. */
export const START = Date.parse('2026-06-01T00:00:00Z');
const metrics = new Metrics();
const config = loadClusterConfig();
const logger = pino({ level: 'silent' });
const realNow = Date.now.bind(Date);

export const podOf = (obj: StoredObject | undefined): V1Pod | undefined => obj as unknown as V1Pod | undefined;
export const jobOf = (obj: StoredObject | undefined): HPCJob | undefined => obj as unknown as HPCJob | undefined;
export const attemptOf = (pod: V1Pod): number => Number(pod.metadata?.annotations?.[ANNOTATION_ATTEMPT] ?? 0);

export class World implements ApiHooks {
  clock = START;
  readonly store = new Store(() => this.clock);
  readonly jobs = new Map<string, JobRecord>();
  readonly nodes = new Map<string, NodeState>(NODES.map((n) => [n, 'up']));
  /** Pods whose containers run, by pod uid: what invariant 4 counts. */
  readonly running = new Map<string, { job: string; pod: string; node: string }>();
  readonly violations: string[] = [];
  /** Every write the controllers attempted, in order. */
  readonly writes: ApiWrite[] = [];
  /** When each job key is due again (a requeue the controller asked for, or a retry after an error). */
  readonly timers = new Map<string, number>();
  readonly #failures = new Map<string, number>();
  #crashIn: number | undefined;
  #crashAfter: ApiWrite['verb'] | undefined;
  #createFault: CreateFault | undefined;
  operatorStarts = 0;
  api!: ModelApi;
  controller!: Controller;

  constructor(readonly setup: WorldSetup) {
    // The controller gets the model's clock; whatever still reads Date.now() (the work queue's timers) follows it too.
    Date.now = () => this.clock;
    this.store.create('namespaces', { metadata: { name: NAMESPACE } });
    if (setup.kueue) installKueue(this);
    for (const job of setup.jobs) {
      const runPolicy = {
        backoffLimit: job.backoffLimit,
        cleanPodPolicy: job.cleanPodPolicy,
        ...(job.deadlineSeconds !== undefined ? { activeDeadlineSeconds: job.deadlineSeconds } : {}),
        ...(job.ttlSeconds !== undefined ? { ttlSecondsAfterFinished: job.ttlSeconds } : {}),
      };
      const body = {
        apiVersion: 'hpcjob.dev/v1alpha1',
        kind: 'HPCJob',
        metadata: {
          name: job.name,
          namespace: NAMESPACE,
          ...(job.queue ? { labels: { 'kueue.x-k8s.io/queue-name': job.queue } } : {}),
        },
        spec: {
          image: 'registry.example/solver:1',
          command: ['mpirun', 'solver'],
          workers: job.workers,
          runPolicy,
          ...(job.launcherCreation ? { launcher: { creationPolicy: job.launcherCreation } } : {}),
        },
        // The API server drops a created job's status and reads the CRD's default in its place.
        ...(this.setup.statusDefault !== false ? { status: { phase: 'Pending' } } : {}),
      };
      const stored = this.store.create('hpcjobs', body);
      this.jobs.set(job.name, {
        setup: job,
        uid: stored.metadata.uid,
        restartCount: 0,
        injured: new Set(),
        launcherExit: new Map(),
        history: [],
        deletedByUser: false,
      });
    }
  }

  /** Gives Date.now back and stops the operator. */
  async dispose(): Promise<void> {
    await this.controller?.stop(0);
    Date.now = realNow;
  }

  async startOperator(): Promise<void> {
    this.api = new ModelApi(this.store, this);
    this.controller = new Controller({
      api: this.api,
      caches: this.api.cacheFactory,
      config: this.setup.config ?? config,
      logger,
      metrics,
      workers: 0,
      resyncMs: 1e9,
      now: () => this.clock,
      crash: () => undefined,
      kueue: this.setup.kueue ?? false,
    });
    this.operatorStarts += 1;
    await this.controller.start();
  }

  /** The process is gone: a fresh one lists everything; its queue and expectations start empty. */
  async restartOperator(): Promise<void> {
    await this.controller.stop(0);
    await this.startOperator();
  }

  // ---- faults armed by the test ----
  crashBeforeCall(n: number): void {
    this.#crashIn = n;
  }

  /** The operator dies before its next API call once it has made a write of this verb. */
  crashAfterWrite(verb: ApiWrite['verb']): void {
    this.#crashAfter = verb;
  }

  failNextCreate(fault: CreateFault): void {
    this.#createFault = fault;
  }

  // ---- ApiHooks ----
  written(write: ApiWrite): void {
    this.writes.push(write);
    if (write.verb !== this.#crashAfter) return;
    this.#crashAfter = undefined;
    this.#crashIn = 1;
  }

  created(resource: Resource, obj: StoredObject): void {
    if (resource !== 'pods') return;
    checkPodCreate(this, obj);
    if (this.setup.kueue) checkQueuedPodCreate(this, obj);
    const pod = podOf(obj)!;
    if (pod.metadata?.labels?.[LABEL_ROLE] === 'launcher') {
      this.recordOfPod(pod)?.launcherExit.set(attemptOf(pod), { uid: obj.metadata.uid });
    }
  }

  statusWritten(before: StoredObject, after: StoredObject): void {
    checkStatusWrite(this, before, after);
  }

  workloadStatusWritten(before: StoredObject, after: StoredObject): void {
    checkQuotaRelease(this, before, after);
  }

  takeCreateFault(): CreateFault | undefined {
    const fault = this.#createFault;
    this.#createFault = undefined;
    return fault;
  }

  takeCrash(): boolean {
    if (this.#crashIn === undefined) return false;
    this.#crashIn -= 1;
    if (this.#crashIn > 0) return false;
    this.#crashIn = undefined;
    return true;
  }

  // ---- the operator's work ----
  /** One pass over a job, as the work queue would run it: errors are retried later, a crash restarts the process. */
  async reconcile(name: string): Promise<number | undefined> {
    const key = `${NAMESPACE}/${name}`;
    let requeue: number | undefined;
    try {
      requeue = await this.controller.reconcile(key);
      this.#failures.delete(key);
      if (requeue !== undefined) this.#due(key, requeue);
    } catch (err) {
      const expected = err instanceof Crash || (err instanceof ApiError && err.code === 409) || this.api.dead;
      if (!expected) {
        this.violations.push(`reconcile of ${name} threw ${err instanceof Error ? (err.stack ?? err.message) : err}`);
      }
      const failures = this.#failures.get(key) ?? 0;
      this.#failures.set(key, failures + 1);
      this.#due(key, Math.min(60_000, 50 * 2 ** failures));
    }
    if (this.api.dead) await this.restartOperator();
    return requeue;
  }

  #due(key: string, ms: number): void {
    const at = this.clock + ms;
    const pending = this.timers.get(key);
    if (pending === undefined || at < pending) this.timers.set(key, at);
  }

  /** Keys the controller's queue holds, taken out of it (as its workers would take them). */
  async takeQueued(): Promise<Set<string>> {
    const queue = this.controller.queue;
    const taken: Promise<string | undefined>[] = [];
    // With keys waiting, get() hands one over at once.
    while (queue.length > 0) taken.push(queue.get());
    const keys = new Set((await Promise.all(taken)).filter((k): k is string => k !== undefined));
    for (const key of keys) queue.done(key);
    return keys;
  }

  // ---- watch delivery ----
  /** Events the current operator's caches have not seen, oldest first. */
  pending(resource?: Resource): WatchEvent[] {
    const out: WatchEvent[] = [];
    for (const cache of this.api.caches) {
      if (resource && cache.spec.resource !== resource) continue;
      out.push(...this.store.logs.get(cache.spec.resource)!.slice(cache.cursor));
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** Delivers the k oldest pending events (of one resource, or of all). */
  deliver(k: number, resource?: Resource): number {
    const events = this.pending(resource).slice(0, k);
    for (const event of events) {
      for (const cache of this.api.caches) if (cache.spec.resource === event.resource) cache.deliver(event);
    }
    return events.length;
  }

  deliverAll(): number {
    let n = 0;
    for (const resource of RESOURCES) n += this.deliver(Infinity, resource);
    return n;
  }

  // ---- reading the store ----
  job(name: string): HPCJob | undefined {
    return jobOf(this.store.get('hpcjobs', `${NAMESPACE}/${name}`));
  }

  pod(name: string): V1Pod | undefined {
    return podOf(this.store.get('pods', `${NAMESPACE}/${name}`));
  }

  /** The job record a pod belongs to, by its controller ownerReference. */
  recordOfPod(pod: V1Pod): JobRecord | undefined {
    const uid = pod.metadata?.ownerReferences?.find((r) => r.controller)?.uid;
    return [...this.jobs.values()].find((j) => j.uid === uid);
  }

  /** The world broke this pod: its attempt may now count a failure. */
  injure(pod: V1Pod): void {
    this.recordOfPod(pod)?.injured.add(attemptOf(pod));
  }
}
