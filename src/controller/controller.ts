// The HPCJob controller: caches (list+watch) of jobs and of the children the operator labelled, a de-duplicating
// queue of job keys, and workers that carry out planReconcile's plan. Event handlers only enqueue the owning job's
// key; reconcile reads the latest cached state, never an event's copy, and never mutates cached objects.
import type { KubeConfig, V1ConfigMap, V1Namespace, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { withDefaults } from '../api/defaults.js';
import { jobProblem, podSecurityProblem } from './invalid-spec.js';
import { GROUP, PLURAL, VERSION, type HPCJob } from '../api/types.js';
import { hostPortForJob, type ClusterConfig } from '../config/cluster-config.js';
import { isConflict, isNotFound, type KubeApi } from '../kube/api.js';
import { ResourceCache, objectKey, type KubeObject } from '../kube/cache.js';
import type { Metrics } from '../metrics.js';
import { configMapName, MANAGED_BY_SELECTOR, serviceName, sshSecretName } from '../render/names.js';
import { renderConfigMap, renderService, renderSshSecret } from '../render/objects.js';
import { enforcedLevel, type PodSecurityLevel } from '../render/pod-security.js';
import { renderLauncherPod, renderWorkerPod } from '../render/pods.js';
import { generateSshKeyPair } from '../render/ssh.js';
import { Expectations } from './expectations.js';
import { planReconcile, type Plan } from './plan.js';
import { isTerminal, isTerminating, onlyWorkerCountsDiffer } from './status.js';
import { WorkQueue } from './workqueue.js';

/** Status writes that only move worker counts wait this long after the previous write. */
const STATUS_COALESCE_MS = 1000;

export interface ControllerOptions {
  kc: KubeConfig;
  api: KubeApi;
  config: ClusterConfig;
  logger: Logger;
  metrics: Metrics;
  /** Jobs reconciled at once. */
  workers?: number;
  /** Child creations in flight at once for one job. */
  createConcurrency?: number;
  /** Every known job is re-enqueued this often, so a missed event heals itself. */
  resyncMs?: number;
  /** Called when a watch gives up: the process should exit and be restarted. */
  onFatal: (err: unknown) => void;
}

type ChildCaches = {
  pods: ResourceCache<V1Pod>;
  secrets: ResourceCache<V1Secret>;
  configMaps: ResourceCache<V1ConfigMap>;
  services: ResourceCache<V1Service>;
};

/** The key of the HPCJob that controls this object, from its ownerReferences. */
export function ownerJobKey(
  obj: KubeObject & {
    metadata?: { ownerReferences?: { kind: string; name: string; apiVersion: string; controller?: boolean }[] };
  },
): string | undefined {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.kind === 'HPCJob' && r.apiVersion.startsWith(`${GROUP}/`));
  return ref && obj.metadata?.namespace ? `${obj.metadata.namespace}/${ref.name}` : undefined;
}

async function inBatches<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item).catch((err: unknown) => errors.push(err));
    }
  });
  await Promise.all(runners);
  if (errors.length > 0) throw errors[0];
}

export class Controller {
  readonly queue = new WorkQueue({ baseDelayMs: 50, maxDelayMs: 60_000 });
  readonly #expectations = new Expectations();
  readonly #lastStatusWrite = new Map<string, number>();
  readonly #opts: Required<ControllerOptions>;
  #jobs!: ResourceCache<HPCJob>;
  #children!: ChildCaches;
  /** Namespaces, for the Pod Security level each enforces. */
  #namespaces!: ResourceCache<V1Namespace>;
  #resyncTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(opts: ControllerOptions) {
    this.#opts = { workers: 16, createConcurrency: 32, resyncMs: 5 * 60_000, ...opts };
  }

  async start(): Promise<void> {
    const { kc, api, logger, metrics } = this.#opts;
    const common = {
      kc,
      logger,
      onGiveUp: (err: unknown) => this.#opts.onFatal(err),
    };
    const enqueueOwner = (_: string, obj: KubeObject) => {
      const key = ownerJobKey(obj as never);
      if (key) this.queue.add(key);
    };
    const child = <T extends KubeObject>(path: string, list: (s?: string) => Promise<{ items: T[] }>, kind: string) =>
      new ResourceCache<T>({
        ...common,
        path,
        labelSelector: MANAGED_BY_SELECTOR,
        list: list as never,
        onEvent: enqueueOwner,
        onWatchRestart: (reason) => metrics.watchRestarts.inc({ resource: kind, reason }),
        indexBy: (obj) => ownerJobKey(obj as never),
      });
    this.#jobs = new ResourceCache<HPCJob>({
      ...common,
      path: `/apis/${GROUP}/${VERSION}/${PLURAL}`,
      list: api.listJobs,
      onEvent: (_, job) => this.queue.add(objectKey(job)),
      onWatchRestart: (reason) => metrics.watchRestarts.inc({ resource: 'hpcjobs', reason }),
    });
    this.#children = {
      pods: child<V1Pod>('/api/v1/pods', api.listPods, 'pods'),
      secrets: child<V1Secret>('/api/v1/secrets', api.listSecrets, 'secrets'),
      configMaps: child<V1ConfigMap>('/api/v1/configmaps', api.listConfigMaps, 'configmaps'),
      services: child<V1Service>('/api/v1/services', api.listServices, 'services'),
    };
    this.#namespaces = new ResourceCache<V1Namespace>({
      ...common,
      path: '/api/v1/namespaces',
      list: api.listNamespaces as never,
      // A changed Pod Security label matters to the jobs of that namespace that have not started yet.
      onEvent: (_, ns) => {
        for (const job of this.#jobs?.list() ?? []) {
          if (job.metadata.namespace === ns.metadata?.name) this.queue.add(objectKey(job));
        }
      },
      onWatchRestart: (reason) => metrics.watchRestarts.inc({ resource: 'namespaces', reason }),
    });
    // Children first, so the first reconcile of every job sees what already exists (no duplicate creates after a
    // restart of the operator).
    await Promise.all(
      [...Object.values(this.#children), this.#namespaces].map((c: ResourceCache<KubeObject>) => c.start()),
    );
    await this.#jobs.start();
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

  stop(): void {
    this.#stopped = true;
    if (this.#resyncTimer) clearInterval(this.#resyncTimer);
    this.queue.shutDown();
    this.#jobs?.stop();
    for (const c of Object.values(this.#children ?? {})) c.stop();
    this.#namespaces?.stop();
  }

  async #workerLoop(): Promise<void> {
    const { logger, metrics } = this.#opts;
    while (!this.#stopped) {
      const key = await this.queue.get();
      if (key === undefined) return;
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
  }

  /** One pass over one job; returns when to look again, if a timer (deadline, TTL) needs it. */
  async reconcile(key: string): Promise<number | undefined> {
    const cached = this.#jobs.get(key);
    if (!cached) {
      this.#expectations.forget(key);
      this.#lastStatusWrite.delete(key);
      return undefined;
    }
    if (cached.metadata.deletionTimestamp) return undefined;
    const uid = cached.metadata.uid;
    const pods = this.#children.pods
      .byIndex(key)
      .filter((p) => p.metadata?.ownerReferences?.some((r) => r.uid === uid));
    const podViews = pods.map((p) => ({
      name: p.metadata?.name ?? '',
      uid: p.metadata?.uid ?? '',
      terminating: isTerminating(p),
    }));
    if (!this.#expectations.satisfied(key, cached.metadata.resourceVersion, podViews)) return 200;

    const job = withDefaults(structuredClone(cached));
    const log = this.#opts.logger.child({ job: key, uid });
    const ns = job.metadata.namespace;
    const has = (cache: ResourceCache<KubeObject>, name: string) => cache.get(`${ns}/${name}`) !== undefined;
    const level = this.#podSecurityLevel(ns);
    const plan = planReconcile({
      job,
      pods,
      hasSecret: has(this.#children.secrets, sshSecretName(job)),
      hasConfigMap: has(this.#children.configMaps, configMapName(job)),
      hasService: has(this.#children.services, serviceName(job)),
      invalidSpec: jobProblem(job, this.#opts.config),
      // Only a job with no live pod can be refused for Pod Security: rendering its pods on every pass of a
      // running job would be wasted work.
      podSecurityProblem: pods.every(isTerminating)
        ? podSecurityProblem(job, this.#opts.config, level, job.status?.sshPort ?? this.#opts.config.sshPort)
        : undefined,
      now: new Date(),
    });
    if (job.spec.network?.mode === 'host' && plan.status.sshPort === undefined) {
      plan.status.sshPort = this.#chooseHostPort(key, uid ?? key);
    }
    const deferredMs = await this.#execute(key, cached, job, plan, log, level);
    if (deferredMs === undefined) return plan.requeueAfterMs;
    return plan.requeueAfterMs === undefined ? deferredMs : Math.min(deferredMs, plan.requeueAfterMs);
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

  /** Carries the plan out; returns when to look again if a status write was deferred. */
  async #execute(
    key: string,
    cached: HPCJob,
    job: HPCJob,
    plan: Plan,
    log: Logger,
    level: PodSecurityLevel,
  ): Promise<number | undefined> {
    const { api, config } = this.#opts;
    const ns = job.metadata.namespace;
    const sshPort = plan.status.sshPort ?? config.sshPort;

    if (plan.deleteJob) {
      log.info('ttlSecondsAfterFinished passed; deleting the job');
      await api.deleteJob(job);
      return;
    }
    const shared: Promise<void>[] = [];
    if (plan.createSecret) {
      const name = job.metadata.name;
      const keys = { user: generateSshKeyPair(`hpcjob-${name}`), host: generateSshKeyPair(`hpcjob-${name}-host`) };
      shared.push(api.createIfAbsent('Secret', ns, renderSshSecret(job, keys)));
    }
    if (plan.createConfigMap) shared.push(api.createIfAbsent('ConfigMap', ns, renderConfigMap(job, config, sshPort)));
    if (plan.createService) shared.push(api.createIfAbsent('Service', ns, renderService(job)));
    await Promise.all(shared);

    const podsToCreate: V1Pod[] = plan.createWorkers.map((i) => renderWorkerPod(job, config, i, sshPort, level));
    if (plan.createLauncher)
      podsToCreate.push(renderLauncherPod(job, config, (plan.status.restartCount ?? 0) + 1, sshPort, level));
    for (const pod of podsToCreate) this.#expectations.expectCreate(key, pod.metadata?.name ?? '');
    const deletions = plan.deletePods
      .map((name) => this.#children.pods.get(`${ns}/${name}`))
      .filter((p) => p !== undefined);
    for (const pod of deletions) {
      this.#expectations.expectDelete(key, {
        name: pod.metadata?.name ?? '',
        uid: pod.metadata?.uid ?? '',
        terminating: false,
      });
    }
    try {
      await Promise.all([
        inBatches(podsToCreate, this.#opts.createConcurrency, (pod) => api.createIfAbsent('Pod', ns, pod)),
        inBatches(deletions, this.#opts.createConcurrency, (pod) => api.deletePod(ns, pod.metadata?.name ?? '')),
      ]);
    } catch (err) {
      // What did happen will show in the caches; what did not is retried, so nothing is waited for.
      this.#expectations.forget(key);
      throw err;
    }
    if (podsToCreate.length > 0) log.info({ pods: podsToCreate.map((p) => p.metadata?.name) }, 'created pods');
    if (deletions.length > 0) log.info({ pods: plan.deletePods }, 'deleted pods');

    let requeueAfterMs: number | undefined;
    if (!isDeepStrictEqual(cached.status ?? {}, plan.status)) {
      // Worker counts alone change with every pod that becomes ready; writing them at most once a second keeps a
      // wide job from costing one status write per worker.
      const sinceLastWrite = Date.now() - (this.#lastStatusWrite.get(key) ?? 0);
      if (onlyWorkerCountsDiffer(cached.status ?? {}, plan.status) && sinceLastWrite < STATUS_COALESCE_MS) {
        requeueAfterMs = STATUS_COALESCE_MS - sinceLastWrite;
      } else {
        try {
          const written = await api.replaceStatus({ ...cached, status: plan.status });
          this.#expectations.expectStatus(key, written.metadata.resourceVersion);
          this.#lastStatusWrite.set(key, Date.now());
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
        if (cached.status?.phase !== plan.status.phase)
          log.info({ phase: plan.status.phase, from: cached.status?.phase }, 'phase changed');
      }
    }
    for (const event of plan.events) {
      await api.recordEvent(cached, event.type, event.reason, event.message).catch((err: unknown) => {
        log.warn(
          { err: err instanceof Error ? err.message : String(err), reason: event.reason },
          'could not record event',
        );
      });
    }
    return requeueAfterMs;
  }
}
