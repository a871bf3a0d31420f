// Carries a plan out against the API: finalizers and deletions the stored status justifies, then creations (a slow
// start that stops at the first failure), then the status write, then events. A failed create is classified
// (create-errors.ts) and reaches the job as a condition and a Warning event; one that needs a change to the spec ends
// the job, a quota releases the partial gang and waits.
import type { V1Pod } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { HPCJob } from '../api/types.js';
import type { ClusterConfig } from '../config/cluster-config.js';
import { isNotFound } from '../kube/api.js';
import { classifyCreateError, type CreateFailure } from '../kube/create-errors.js';
import { SCRIPTS_CONFIGMAP } from '../render/entrypoints.js';
import { configMapName, HOSTS_SERVICE, LAUNCHER_FINALIZER, networkPolicyName, sshSecretName } from '../render/names.js';
import { renderNetworkPolicy } from '../render/network-policy.js';
import {
  renderBatchConfigMap,
  renderHostsService,
  renderScriptsConfigMap,
  renderSshSecret,
} from '../render/objects.js';
import type { PodSecurityLevel } from '../render/pod-security.js';
import { renderLauncherPod, renderWorkerPod } from '../render/pods.js';
import { withPlacement } from '../render/kueue-placement.js';
import { renderWorkload, workloadName } from '../render/kueue-workload.js';
import { podGroupKind, podGroupName, renderPodGroup, withGang } from '../render/pod-groups.js';
import type { Role } from '../render/names.js';
import { generateSshKeyPair } from '../render/ssh.js';
import type { Expectations } from './expectations.js';
import { OnceAtATime } from './once.js';
import { inParallel, slowStart } from './pools.js';
import type { JobEvent, Plan } from './plan.js';
import { finish } from './plan-status.js';
import type { CrashHook } from './crash-points.js';
import type { ChildKind, ControllerApi } from './ports.js';
import { onlyProgressDiffers, setCondition } from './status.js';

/**
 * A status write that only reports progress (worker counts, Created, the launcher's name: onlyProgressDiffers)
 * waits 15 s after the job was first seen or last written; a phase change or a decision is written at once. The
 * CRD defaults a new job's status to Pending, so `kubectl get` shows its phase with no write at all, and a job that
 * starts within 15 s costs one status write per phase a user sees after that (Running, then Succeeded). A job read
 * with no phase (a CRD installed before that default) has its first write after 3 s instead.
 */
export const FIRST_PROGRESS_WRITE_MS = 3000;
export const PROGRESS_WRITE_INTERVAL_MS = 15_000;
const progressDelayMs = (stored: HPCJob['status']): number =>
  stored?.phase === undefined ? FIRST_PROGRESS_WRITE_MS : PROGRESS_WRITE_INTERVAL_MS;
/** Events that report an action taken (not a decision written): recorded even when the status write fails. */
const ACTION_EVENTS = new Set(['LauncherCreated']);
/** A namespace's shared object just created is not created again for this long, whatever a lagging cache shows. */
const NAMESPACE_OBJECT_MEMORY_MS = 30_000;
/** A job whose create failed waits this long before trying again, doubling per failure up to the maximum. */
const CREATE_RETRY_BASE_MS = 2000;
const CREATE_RETRY_MAX_MS = 60_000;
/** How often a pass creating many pods logs how many it has created. */
const CREATE_PROGRESS_LOG_MS = 10_000;

export interface ExecutorDeps {
  api: ControllerApi;
  config: ClusterConfig;
  expectations: Expectations;
  /** Creations in flight at once for one job, once the slow start has ramped up. */
  createConcurrency: number;
  crash: CrashHook;
  now: () => number;
}

interface ChildToCreate {
  kind: ChildKind;
  name: string;
  /** Shared by the namespace's jobs, owned by none: one that exists is the one wanted. */
  namespaced?: boolean;
  body: () => object;
}

/** Every name of a few pods; the first ones of many (a 10,000-worker job's names are 200 KB of log line). */
function namesForLog(names: string[]): string[] {
  return names.length <= 20 ? names : [...names.slice(0, 10), `... and ${names.length - 10} more`];
}

/** The launcher planned for this pass was not created: the status and events must not say it was. */
function unclaimLauncher(plan: Plan): void {
  delete plan.status.launcher;
  plan.events = plan.events.filter((e) => e.reason !== 'LauncherCreated');
}

class CreateFailed extends Error {
  constructor(
    readonly child: ChildToCreate,
    readonly failure: CreateFailure,
  ) {
    super(failure.message);
  }
}

export class PlanExecutor {
  /** When each job's status was last written, or, before its first write, when this operator first saw it. */
  readonly #lastStatusWrite = new Map<string, number>();
  readonly #namespaceObjects: OnceAtATime;
  readonly #createFailures = new Map<string, number>();
  /** After a failed create, no create is tried for the job before this time (its pods' events come sooner). */
  readonly #createsNotBefore = new Map<string, number>();

  constructor(private readonly deps: ExecutorDeps) {
    this.#namespaceObjects = new OnceAtATime(() => deps.now(), NAMESPACE_OBJECT_MEMORY_MS);
  }

  forget(key: string): void {
    this.#lastStatusWrite.delete(key);
    this.#createFailures.delete(key);
    this.#createsNotBefore.delete(key);
  }

  /** Carries the plan out; returns when to look again when a status write was deferred or a create failed. */
  async execute(key: string, cached: HPCJob, job: HPCJob, plan: Plan, log: Logger, level: PodSecurityLevel) {
    const { api, expectations, crash } = this.deps;
    const ns = job.metadata.namespace;
    if (!this.#lastStatusWrite.has(key)) this.#lastStatusWrite.set(key, this.deps.now());
    if (plan.deleteJob) {
      log.info('ttlSecondsAfterFinished passed; deleting the job');
      await api.deleteJob(job);
      return undefined;
    }

    // What the stored status already decided: finalizers come off, pods go (gracefully, exactly these pods).
    await inParallel(plan.releaseFinalizers, this.deps.createConcurrency, (pod) =>
      api.removePodFinalizer(ns, pod.name, pod.uid, LAUNCHER_FINALIZER),
    );
    for (const pod of plan.deletePods) expectations.expectDelete(key, { ...pod, terminating: false });
    await inParallel(plan.deletePods, this.deps.createConcurrency, (pod) => api.deletePod(ns, pod.name, pod.uid));
    if (plan.deletePods.length > 0) log.info({ pods: plan.deletePods.map((p) => p.name) }, 'deleted pods');
    crash('after-pod-deletes', job.metadata.name, plan.status.phase);
    await this.#changeWorkload(job, plan, log);

    let retryAfterMs = this.#createBackoff(key, plan);
    if (retryAfterMs === undefined) {
      const failure = await this.#createChildren(key, job, plan, log, level);
      crash('after-pod-creates', job.metadata.name, plan.status.phase);
      if (failure) {
        retryAfterMs = await this.#onCreateFailure(key, job, plan, failure, log);
      } else if (plan.createWorkers.length > 0 || plan.createLauncher) {
        this.#createFailures.delete(key);
      }
    }
    // What was done is reported whatever happens to the status write: a retried pass will not do it again.
    await this.#recordEvents(cached, plan, log, (e) => ACTION_EVENTS.has(e.reason));

    const deferredMs = await this.#writeStatus(key, cached, plan, log);
    await this.#recordEvents(cached, plan, log, (e) => !ACTION_EVENTS.has(e.reason));
    if (retryAfterMs === undefined) return deferredMs;
    return deferredMs === undefined ? retryAfterMs : Math.min(retryAfterMs, deferredMs);
  }

  async #recordEvents(cached: HPCJob, plan: Plan, log: Logger, which: (e: JobEvent) => boolean): Promise<void> {
    for (const event of plan.events.filter(which)) {
      await this.deps.api.recordEvent(cached, event.type, event.reason, event.message).catch((err: unknown) => {
        log.warn({ err: err instanceof Error ? err.message : String(err), reason: event.reason }, 'event not recorded');
      });
    }
  }

  /**
   * While a failed create's backoff runs, the pass creates nothing (and its status must not claim a launcher it did
   * not create); returns how long is left, or undefined when creates may go ahead.
   */
  #createBackoff(key: string, plan: Plan): number | undefined {
    const left = (this.#createsNotBefore.get(key) ?? 0) - this.deps.now();
    if (left <= 0) return undefined;
    if (plan.createLauncher) unclaimLauncher(plan);
    const creates = plan.createWorkers.length > 0 || plan.createLauncher;
    const shared =
      plan.createSecret ||
      plan.createConfigMap ||
      plan.createService ||
      plan.createScripts ||
      plan.createNetworkPolicy ||
      plan.createPodGroup ||
      plan.workload?.create !== undefined;
    return creates || shared ? left : undefined;
  }

  async #createChildren(key: string, job: HPCJob, plan: Plan, log: Logger, level: PodSecurityLevel) {
    const { config, expectations } = this.deps;
    const sshPort = plan.status.sshPort ?? config.sshPort;
    const ns = job.metadata.namespace;
    const shared: ChildToCreate[] = [];
    if (plan.createSecret) {
      const name = job.metadata.name;
      shared.push({
        kind: 'Secret',
        name: sshSecretName(job),
        body: () =>
          renderSshSecret(job, {
            user: generateSshKeyPair(`hpcjob-${name}`),
            host: generateSshKeyPair(`hpcjob-${name}-host`),
          }),
      });
    }
    if (plan.createConfigMap)
      shared.push({ kind: 'ConfigMap', name: configMapName(job), body: () => renderBatchConfigMap(job) });
    if (plan.createScripts)
      shared.push({
        kind: 'ConfigMap',
        name: SCRIPTS_CONFIGMAP,
        namespaced: true,
        body: () => renderScriptsConfigMap(ns),
      });
    if (plan.createService)
      shared.push({ kind: 'Service', name: HOSTS_SERVICE, namespaced: true, body: () => renderHostsService(ns) });
    const policy = plan.createNetworkPolicy ? renderNetworkPolicy(job, config) : undefined;
    if (policy) shared.push({ kind: 'NetworkPolicy', name: networkPolicyName(job), body: () => policy });
    const queued = plan.workload?.create;
    if (queued) {
      const podSets = {
        launcher: renderLauncherPod(job, config, plan.attempt, sshPort, level),
        worker: renderWorkerPod(job, config, 0, sshPort, level, plan.attempt),
      };
      shared.push({ kind: 'Workload', name: workloadName(job), body: () => renderWorkload(job, podSets, queued) });
    }
    const gang = plan.gang;
    if (gang && plan.createPodGroup) {
      shared.push({ kind: podGroupKind(gang), name: podGroupName(job), body: () => renderPodGroup(job, gang, config) });
    }
    // Kueue's admission decides where the pods go (its flavors' node labels and tolerations, queueing.ts); a gang
    // scheduler's PodGroup which pods bind together.
    const placed = (pod: V1Pod, role: Role) => {
      const admitted = withPlacement(pod, plan.placements?.[role]);
      return gang ? withGang(admitted, job, gang, role, config) : admitted;
    };
    const pods: V1Pod[] = plan.createWorkers.map((i) =>
      placed(renderWorkerPod(job, config, i, sshPort, level, plan.attempt), 'worker'),
    );
    // A launcher created with its workers (AtStartup) goes first: the scheduler then places it before a wide job's
    // workers, and its wait starts at once.
    if (plan.createLauncher)
      pods.unshift(placed(renderLauncherPod(job, config, plan.attempt, sshPort, level), 'launcher'));

    const created: string[] = [];
    const create = async (child: ChildToCreate): Promise<void> => {
      if (child.kind === 'Pod') expectations.expectCreate(key, child.name);
      await this.#createOwned(job, child);
      if (child.kind === 'Pod') created.push(child.name);
    };
    let failure = await slowStart(shared, shared.length, create);
    if (failure === undefined) {
      const podChildren = pods.map((pod): ChildToCreate => ({
        kind: 'Pod',
        name: pod.metadata!.name!,
        body: () => pod,
      }));
      // A wide job's pods take minutes: say how far it got, in the log, while the pass holds its status.
      const progress = setInterval(
        () => log.info({ created: created.length, of: pods.length }, 'creating pods'),
        CREATE_PROGRESS_LOG_MS,
      );
      failure = await slowStart(podChildren, this.deps.createConcurrency, create).finally(() =>
        clearInterval(progress),
      );
    }
    if (created.length > 0) log.info({ count: created.length, pods: namesForLog(created) }, 'created pods');
    if (failure === undefined) return undefined;
    // The caches show what was created; the failed name will never show, so nothing is waited for.
    expectations.forget(key);
    if (failure instanceof CreateFailed) return failure;
    throw failure;
  }

  /** Creates a child; an existing object of that name counts only if this job controls it. */
  async #createOwned(job: HPCJob, child: ChildToCreate): Promise<string | undefined> {
    const ns = job.metadata.namespace;
    if (child.namespaced) {
      await this.#namespaceObjects.ensure(`${child.kind} ${ns}/${child.name}`, () =>
        this.deps.api.create(child.kind, ns, child.body()).catch((err: unknown) => {
          const failure = classifyCreateError(err);
          if (failure.kind !== 'exists') throw new CreateFailed(child, failure);
          return undefined;
        }),
      );
      return undefined;
    }
    try {
      return await this.deps.api.create(child.kind, ns, child.body());
    } catch (err) {
      const failure = classifyCreateError(err);
      if (failure.kind !== 'exists') throw new CreateFailed(child, failure);
      const owner = await this.deps.api.controllerOf(child.kind, ns, child.name);
      if (owner === job.metadata.uid) return undefined;
      // Gone again meanwhile: the next pass creates it.
      if (owner === undefined) throw new CreateFailed(child, { kind: 'transient', message: failure.message });
      const whose = owner === null ? 'has no owner' : `belongs to another object (uid ${owner})`;
      throw new CreateFailed(child, {
        kind: 'exists',
        message: `${child.kind} ${ns}/${child.name} already exists and ${whose}; delete or rename it, or rename the job`,
      });
    }
  }

  /** Puts a failed create on the job; returns when to try again (undefined when the job ends). */
  async #onCreateFailure(
    key: string,
    job: HPCJob,
    plan: Plan,
    failed: CreateFailed,
    log: Logger,
  ): Promise<number | undefined> {
    const { child, failure } = failed;
    const what = `creating ${child.kind} ${child.name}`;
    // The status must not record a launcher this pass may not have created (a missing launcher that the status
    // records counts as lost); one that was created shows in the caches, and the next pass records it.
    if (plan.createLauncher) unclaimLauncher(plan);
    const now = new Date(this.deps.now());
    log.warn({ kind: failure.kind, object: child.name, err: failure.message }, 'create failed');
    if (failure.kind === 'rejected') {
      // Decided here, carried out by the next pass (the stored Failed status cleans the pods up).
      finish(plan, job, false, 'CreateRejected', `${what}: ${failure.message}`, now);
      return undefined;
    }
    const reason = { quota: 'QuotaExceeded', exists: 'NameConflict', transient: 'CreateFailed' }[failure.kind];
    // A quota refusal names whichever pod hit it; the condition names the quota, so it reads the same each retry.
    const quota = /exceeded quota.*/i.exec(failure.message)?.[0];
    const message =
      failure.kind === 'quota' && quota ? `the gang does not fit: ${quota}` : `${what}: ${failure.message}`;
    if (setCondition(plan.status, 'Blocked', true, reason, message, now)) {
      plan.events.push({ type: 'Warning', reason, message });
    }
    if (failure.kind === 'quota') this.#releaseGang(plan);
    const failures = (this.#createFailures.get(key) ?? 0) + 1;
    this.#createFailures.set(key, failures);
    const delay = Math.min(CREATE_RETRY_MAX_MS, CREATE_RETRY_BASE_MS * 2 ** (failures - 1));
    this.#createsNotBefore.set(key, this.deps.now() + delay);
    return delay;
  }

  /** Kueue: the Workload's status first (its resourceVersion is the one the plan read), then spec.active. */
  async #changeWorkload(job: HPCJob, plan: Plan, log: Logger): Promise<void> {
    const change = plan.workload;
    const ns = job.metadata.namespace;
    if (!change) return;
    if (change.delete) {
      log.info({ workload: change.delete.name }, 'the job is no longer queued; deleting its Workload');
      await this.deps.api.deleteWorkload(ns, change.delete.name, change.delete.uid);
      return;
    }
    if (change.status) {
      await this.deps.api.patchWorkloadStatus(
        ns,
        change.status.name,
        change.status.resourceVersion,
        change.status.status,
      );
      log.info(
        {
          workload: change.status.name,
          conditions: change.status.status.conditions?.map((c) => `${c.type}=${c.status}`),
        },
        'Workload status written',
      );
    }
    if (change.spec) {
      await this.deps.api.patchWorkloadSpec(ns, change.spec.name, change.spec.patch);
      log.info({ workload: change.spec.name, ...change.spec.patch }, 'Workload spec changed');
    }
  }

  /**
   * A gang that the namespace's quota cannot hold whole is let go (nothing has run on it yet: the launcher is the
   * last pod created), so that its pods hold no GPUs while it waits. Like a suspend, the release moves the attempt on
   * without counting a failure: once stored, its pods are stale and go, and no cache however late can make them
   * look like a gang to start or a worker lost.
   */
  #releaseGang(plan: Plan): void {
    plan.status.attempt = plan.attempt + 1;
    unclaimLauncher(plan);
  }

  /** Writes the status when it changed; returns when to look again if a worker-count-only write was deferred. */
  async #writeStatus(key: string, cached: HPCJob, plan: Plan, log: Logger): Promise<number | undefined> {
    const { api, expectations, crash } = this.deps;
    if (isDeepStrictEqual(cached.status ?? {}, plan.status)) return undefined;
    // Worker counts change with every pod that becomes ready, and a quick job is Running before anyone looked at
    // its Pending: progress waits, so a wide job does not cost a write per worker nor a small one a write per step.
    const sinceLastWrite = this.deps.now() - (this.#lastStatusWrite.get(key) ?? this.deps.now());
    const delayMs = progressDelayMs(cached.status);
    if (onlyProgressDiffers(cached.status ?? {}, plan.status) && sinceLastWrite < delayMs) {
      return delayMs - sinceLastWrite;
    }
    crash('before-status-write', cached.metadata.name, plan.status.phase);
    try {
      const written = await api.replaceStatus({ ...cached, status: plan.status });
      expectations.expectStatus(key, written.metadata.resourceVersion);
      this.#lastStatusWrite.set(key, this.deps.now());
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    crash('after-status-write', cached.metadata.name, plan.status.phase);
    if (cached.status?.phase !== plan.status.phase)
      log.info({ phase: plan.status.phase, from: cached.status?.phase }, 'phase changed');
    return undefined;
  }
}
