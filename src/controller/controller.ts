// The HPCJob controller: caches (list+watch) of jobs and of the children the operator labelled, a de-duplicating
// queue of job keys, and workers that carry out planReconcile's plan. Event handlers only enqueue the owning job's
// key; reconcile reads the latest cached state, never an event's copy, and never mutates cached objects.
import type { V1ConfigMap, V1Namespace, V1OwnerReference, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { withDefaults } from '../api/defaults.js';
import { jobProblem, podSecurityProblem, policyProblem } from './invalid-spec.js';
import { GROUP, type HPCJob } from '../api/types.js';
import { hostPortForJob, type ClusterConfig } from '../config/cluster-config.js';
import { isConflict } from '../kube/api.js';
import { objectKey, type KubeObject } from '../kube/cache.js';
import type { Metrics } from '../metrics.js';
import {
  configMapName,
  LAUNCHER_FINALIZER,
  launcherName,
  MANAGED_BY_SELECTOR,
  networkPolicyName,
  HOSTS_SERVICE,
  sshSecretName,
} from '../render/names.js';
import { SCRIPTS_CONFIGMAP } from '../render/entrypoints.js';
import { wantsNetworkPolicy } from '../render/network-policy.js';
import { enforcedLevel, type PodSecurityLevel } from '../render/pod-security.js';
import { currentAttempt, hasLauncherFinalizer } from './attempts.js';
import { crashFromEnvironment, type CrashHook } from './crash-points.js';
import { PlanExecutor } from './execute.js';
import { Expectations } from './expectations.js';
import { KueueView } from './kueue-view.js';
import { planReconcile } from './plan.js';
import type { CacheFactory, ControllerApi, ObjectCache, Resource } from './ports.js';
import {
  podGroupName,
  podGroupResource,
  podGroupWaitMessage,
  resolveGang,
  type GangMechanism,
} from '../render/pod-groups.js';
import { isTerminal, isTerminating } from './status.js';
import { WorkQueue } from './workqueue.js';

export interface ControllerOptions {
  api: ControllerApi;
  /** The caches the controller reads (list+watch on the API server, or the model tests' in-memory API). */
  caches: CacheFactory;
  config: ClusterConfig;
  logger: Logger;
  metrics: Metrics;
  /** Jobs reconciled at once. */
  workers?: number;
  /** Child creations in flight at once for one job. */
  createConcurrency?: number;
  /** Every known job is re-enqueued this often, so a missed event heals itself. */
  resyncMs?: number;
  /** Fault injection: called at named points of a pass (see crash-points.ts). */
  crash?: CrashHook;
  /** The clock, in milliseconds (the model tests drive their own). */
  now?: () => number;
  /** The gang schedulers whose PodGroup API the cluster serves (discovered at start). */
  gangApis?: ReadonlySet<GangMechanism>;
  /** Whether the API server serves Kueue's Workloads (main.ts asks discovery once); default false. */
  kueue?: boolean;
}

/** What the controller reads of a child it only needs to find and check the owner of. */
type OwnedObject = KubeObject & { metadata?: { ownerReferences?: V1OwnerReference[] } };

type ChildCaches = {
  pods: ObjectCache<V1Pod>;
  secrets: ObjectCache<V1Secret>;
  configMaps: ObjectCache<V1ConfigMap>;
  services: ObjectCache<V1Service>;
  /** Only while the site's switch is on: with it off the operator needs no access to NetworkPolicies at all. */
  networkPolicies?: ObjectCache<OwnedObject>;
  /** The PodGroups of each gang scheduler the cluster serves. */
  podGroups: Partial<Record<GangMechanism, ObjectCache<OwnedObject>>>;
};

/** Whether obj is controlled by the object with this uid. */
function controlledBy(obj: KubeObject | undefined, uid: string | undefined): boolean {
  const refs = (obj as { metadata?: { ownerReferences?: { uid: string; controller?: boolean }[] } } | undefined)
    ?.metadata?.ownerReferences;
  return uid !== undefined && refs?.some((r) => r.uid === uid && r.controller === true) === true;
}

/** The key of the HPCJob that controls this object, from its ownerReferences. */
export function ownerJobKey(
  obj: KubeObject & {
    metadata?: { ownerReferences?: { kind: string; name: string; apiVersion: string; controller?: boolean }[] };
  },
): string | undefined {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.kind === 'HPCJob' && r.apiVersion.startsWith(`${GROUP}/`));
  return ref && obj.metadata?.namespace ? `${obj.metadata.namespace}/${ref.name}` : undefined;
}

export class Controller {
  readonly queue = new WorkQueue({ baseDelayMs: 50, maxDelayMs: 60_000 });
  readonly #expectations: Expectations;
  readonly #opts: Required<ControllerOptions>;
  readonly #executor: PlanExecutor;
  #jobs!: ObjectCache<HPCJob>;
  #children!: ChildCaches;
  /** Namespaces, for the Pod Security level each enforces. */
  #namespaces!: ObjectCache<V1Namespace>;
  /** Kueue: the jobs' Workloads and the ResourceFlavors, when served. */
  #kueue!: KueueView;
  #resyncTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Passes under way, so that a shutdown can let them finish (a pass cut short may have acted without writing). */
  readonly #inFlight = new Set<Promise<void>>();

  constructor(opts: ControllerOptions) {
    this.#opts = {
      workers: 16,
      createConcurrency: 32,
      resyncMs: 5 * 60_000,
      crash: crashFromEnvironment(),
      now: Date.now,
      gangApis: new Set(),
      kueue: false,
      ...opts,
    };
    this.#expectations = new Expectations(30_000, this.#opts.now);
    this.#executor = new PlanExecutor({
      api: this.#opts.api,
      config: this.#opts.config,
      expectations: this.#expectations,
      createConcurrency: this.#opts.createConcurrency,
      crash: this.#opts.crash,
      now: this.#opts.now,
    });
  }

  async start(): Promise<void> {
    const { caches, logger, metrics } = this.#opts;
    const restarts = (resource: string) => (reason: string) => metrics.watchRestarts.inc({ resource, reason });
    const child = <T extends KubeObject>(resource: Resource) =>
      caches<T>({
        resource,
        labelSelector: MANAGED_BY_SELECTOR,
        onEvent: (_, obj) => {
          const key = ownerJobKey(obj as never);
          if (key) this.queue.add(key);
        },
        onWatchRestart: restarts(resource),
        indexBy: (obj) => ownerJobKey(obj as never),
      });
    this.#jobs = caches<HPCJob>({
      resource: 'hpcjobs',
      onEvent: (_, job) => this.queue.add(objectKey(job)),
      onWatchRestart: restarts('hpcjobs'),
    });
    this.#children = {
      pods: child<V1Pod>('pods'),
      secrets: child<V1Secret>('secrets'),
      configMaps: child<V1ConfigMap>('configmaps'),
      services: child<V1Service>('services'),
      ...(this.#opts.config.networkPolicy ? { networkPolicies: child<OwnedObject>('networkpolicies') } : {}),
      podGroups: Object.fromEntries([...this.#opts.gangApis].map((m) => [m, child<OwnedObject>(podGroupResource(m))])),
    };
    this.#namespaces = caches<V1Namespace>({
      resource: 'namespaces',
      // A changed Pod Security label matters to the jobs of that namespace that have not started yet.
      onEvent: (_, ns) => {
        for (const job of this.#jobs?.list() ?? []) {
          if (job.metadata.namespace === ns.metadata?.name) this.queue.add(objectKey(job));
        }
      },
      onWatchRestart: restarts('namespaces'),
    });
    this.#kueue = new KueueView(this.#opts.kueue);
    this.#kueue.logDiscovery(logger);
    this.#kueue.makeCaches(
      caches,
      (obj) => ownerJobKey(obj as never),
      (key) => this.queue.add(key),
      restarts,
    );
    // Children first, so the first reconcile of every job sees what already exists (no duplicate creates after a
    // restart of the operator).
    await Promise.all(this.#childCaches().map((c) => c.start()));
    await this.#jobs.start();
    // Pods whose job is gone may still carry the launcher finalizer (the job was deleted while no operator ran).
    for (const pod of this.#children.pods.list()) {
      const key = ownerJobKey(pod as never);
      if (key && hasLauncherFinalizer(pod)) this.queue.add(key);
    }
    metrics.observeCaches(() => ({
      jobs: this.#jobs.list(),
      queueLength: this.queue.length,
      quietForMs: Math.max(this.#jobs.quietForMs, this.#children.pods.quietForMs),
    }));
    for (let i = 0; i < this.#opts.workers; i++) void this.#workerLoop();
    this.#resyncTimer = setInterval(() => {
      for (const job of this.#jobs.list()) this.queue.add(objectKey(job));
    }, this.#opts.resyncMs);
    this.#resyncTimer.unref();
    logger.info({ jobs: this.#jobs.size, pods: this.#children.pods.size }, 'caches synced; controller started');
  }

  /** Stops taking work, lets the passes under way finish (at most drainMs), then stops the caches. */
  async stop(drainMs = 10_000): Promise<void> {
    this.#stopped = true;
    if (this.#resyncTimer) clearInterval(this.#resyncTimer);
    this.queue.shutDown();
    if (this.#inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)));
      await Promise.race([Promise.all(this.#inFlight), timeout]);
      clearTimeout(timer);
    }
    this.#jobs?.stop();
    if (this.#children) for (const c of this.#childCaches()) c.stop();
  }

  async #workerLoop(): Promise<void> {
    while (!this.#stopped) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const pass = this.#process(key);
      this.#inFlight.add(pass);
      await pass;
      this.#inFlight.delete(pass);
    }
  }

  async #process(key: string): Promise<void> {
    const { logger, metrics } = this.#opts;
    const timer = metrics.reconcileSeconds.startTimer();
    try {
      const requeueAfterMs = await this.reconcile(key);
      this.queue.forget(key);
      if (requeueAfterMs !== undefined) this.queue.addAfter(key, requeueAfterMs);
      timer({ result: 'ok' });
    } catch (err) {
      const delay = this.queue.addRateLimited(key);
      timer({ result: isConflict(err) ? 'conflict' : 'error' });
      const log = isConflict(err) ? logger.debug.bind(logger) : logger.warn.bind(logger);
      log(
        { job: key, err: err instanceof Error ? err.message : String(err), retryInMs: delay },
        'reconcile failed; retrying',
      );
    } finally {
      this.queue.done(key);
    }
  }

  /** One pass over one job; returns when to look again, if a timer (deadline, TTL) needs it. */
  async reconcile(key: string): Promise<number | undefined> {
    const cached = this.#jobs.get(key);
    if (!cached || cached.metadata.deletionTimestamp) {
      // The job is gone or going: its pods go with it, and none may be held back by the launcher finalizer.
      const uid = cached?.metadata.uid;
      const going = this.#children.pods
        .byIndex(key)
        .filter((p) => uid === undefined || controlledBy(p, uid) || isTerminating(p));
      await this.#releaseFinalizers(going);
      if (!cached) {
        this.#expectations.forget(key);
        this.#executor.forget(key);
      }
      return undefined;
    }
    const uid = cached.metadata.uid;
    const labelled = this.#children.pods.byIndex(key);
    const pods = labelled.filter((p) => controlledBy(p, uid));
    // A launcher of an earlier job of the same name (deleted while no operator ran) is released too.
    if (labelled.length > pods.length) await this.#releaseFinalizers(labelled.filter((p) => !controlledBy(p, uid)));
    const podViews = pods.map((p) => ({
      name: p.metadata?.name ?? '',
      uid: p.metadata?.uid ?? '',
      terminating: isTerminating(p),
    }));
    if (!this.#expectations.satisfied(key, cached.metadata.resourceVersion, podViews, this.#opts.now())) return 200;

    const job = withDefaults(structuredClone(cached));
    const log = this.#opts.logger.child({ job: key, uid });
    const ns = job.metadata.namespace;
    const owned = (cache: ObjectCache<KubeObject> | undefined, name: string) =>
      controlledBy(cache?.get(`${ns}/${name}`), uid);
    const level = this.#podSecurityLevel(ns);
    const launcherGone = await this.#launcherGone(job, pods);
    if (launcherGone === 'not-cached-yet') return 1000;
    // A finished job's plan never reads these checks (its phase is final), so they are not computed for it.
    const finished = isTerminal(job.status?.phase);
    const checkPods = !finished && pods.every(isTerminating);
    const plan = planReconcile({
      job,
      pods,
      hasSecret: owned(this.#children.secrets, sshSecretName(job)),
      hasConfigMap: owned(this.#children.configMaps, configMapName(job)),
      hasService: this.#children.services.get(`${ns}/${HOSTS_SERVICE}`) !== undefined,
      hasScripts: this.#children.configMaps.get(`${ns}/${SCRIPTS_CONFIGMAP}`) !== undefined,
      hasNetworkPolicy: owned(this.#children.networkPolicies, networkPolicyName(job)),
      wantsNetworkPolicy: wantsNetworkPolicy(job, this.#opts.config),
      invalidSpec: finished ? undefined : jobProblem(job, this.#opts.config),
      // Only a job with no live pod can be refused for the site policy or Pod Security: a policy tightened under
      // running pods leaves them alone, and rendering pods on every pass of a running job would be wasted work.
      policyProblem: checkPods ? policyProblem(job, this.#opts.config) : undefined,
      podSecurityProblem: checkPods
        ? podSecurityProblem(job, this.#opts.config, level, job.status?.sshPort ?? this.#opts.config.sshPort)
        : undefined,
      launcherGone: launcherGone === 'gone',
      gang: finished ? undefined : this.#observeGang(job, owned),
      queue: await this.#kueue.observe(job, key, (obj) => controlledBy(obj, uid), this.#opts.api),
      now: new Date(this.#opts.now()),
    });
    if (job.spec.network?.mode === 'host' && plan.status.sshPort === undefined && !isTerminal(plan.status.phase)) {
      plan.status.sshPort = this.#chooseHostPort(key, uid ?? key);
    }
    const deferredMs = await this.#executor.execute(key, cached, job, plan, log, level);
    if (deferredMs === undefined) return plan.requeueAfterMs;
    return plan.requeueAfterMs === undefined ? deferredMs : Math.min(deferredMs, plan.requeueAfterMs);
  }

  /** Every cache but the jobs': children, PodGroups, namespaces and Kueue's. */
  #childCaches(): ObjectCache<KubeObject>[] {
    const { podGroups, ...children } = this.#children;
    return [...Object.values(children), ...Object.values(podGroups), this.#namespaces, ...(this.#kueue?.caches ?? [])];
  }

  /** How the job's workers are gang-scheduled, and what its PodGroup says. */
  #observeGang(job: HPCJob, owned: (cache: ObjectCache<KubeObject> | undefined, name: string) => boolean) {
    const resolution = resolveGang(job, this.#opts.config, this.#opts.gangApis);
    if (resolution.kind !== 'gang') return { resolution, hasPodGroup: false };
    const cache = this.#children.podGroups[resolution.mechanism];
    const name = podGroupName(job);
    const hasPodGroup = owned(cache, name);
    const group = hasPodGroup ? cache?.get(`${job.metadata.namespace}/${name}`) : undefined;
    return { resolution, hasPodGroup, unschedulableMessage: podGroupWaitMessage(group) };
  }

  /** Removes the launcher finalizer from those of these pods that carry it. */
  async #releaseFinalizers(pods: V1Pod[]): Promise<void> {
    for (const pod of pods.filter(hasLauncherFinalizer)) {
      const { namespace = '', name = '', uid = '' } = pod.metadata ?? {};
      await this.#opts.api.removePodFinalizer(namespace, name, uid, LAUNCHER_FINALIZER);
    }
  }

  /**
   * When the status records a launcher for the current attempt that the cache does not hold, asks the API itself: a
   * pod watch that lags must not make a running launcher look vanished.
   */
  async #launcherGone(job: HPCJob, pods: V1Pod[]): Promise<'gone' | 'not-cached-yet' | undefined> {
    const status = job.status ?? {};
    if (isTerminal(status.phase) || status.launcher?.attempt !== currentAttempt(status)) return undefined;
    const name = launcherName(job);
    if (pods.some((p) => p.metadata?.name === name)) return undefined;
    const owner = await this.#opts.api.controllerOf('Pod', job.metadata.namespace, name);
    return owner === undefined ? 'gone' : 'not-cached-yet';
  }

  #podSecurityLevel(namespace: string): PodSecurityLevel {
    return enforcedLevel(this.#namespaces.get(namespace)?.metadata?.labels);
  }

  /** A port from the configured range, stable per job, avoiding ports other live host-network jobs hold. */
  #chooseHostPort(key: string, uid: string): number {
    const range = this.#opts.config.hostNetworkPortRange;
    const used = new Set(
      this.#jobs
        .list()
        .filter((j) => objectKey(j) !== key && j.status?.sshPort !== undefined && !isTerminal(j.status?.phase))
        .map((j) => j.status!.sshPort!),
    );
    const size = range.max - range.min + 1;
    const start = hostPortForJob(uid, range) - range.min;
    for (let i = 0; i < size; i++) {
      const port = range.min + ((start + i) % size);
      if (!used.has(port)) return port;
    }
    return range.min + start;
  }
}
