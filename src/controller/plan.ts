// The reconcile decision as a pure function: (job, observed children, now) -> what to create or delete, the new
// status, the events to record and when to look again. controller.ts carries a plan out against the API server.
//
// Decide, write, then act: a pass that decides an outcome (the job ended, an attempt failed) only writes it to the
// status; the pods go in a later pass, on the strength of the stored status. A crash or a 409 between the two can
// therefore never run a finished job again or count one failure twice.
//
// The steps run in order with early returns:
//   1. a finished job: clean pods per cleanPodPolicy, release launcher finalizers, delete the job when its TTL passes
//   2. the current attempt's launcher ended (or was evicted, deleted, lost): Succeeded, a retry, or Failed
//   3. a spec the operator cannot run: Failed / InvalidSpec; one the site policy forbids: PolicyViolation; pods
//      Pod Security would reject: PodSecurityViolation
//   4. suspend: every pod deleted, Suspended; resume clears it and restarts the deadline clock
//  4b. Kueue (queueing.ts): no pod before the job's Workload is admitted; an eviction ends the attempt like a suspend
//   5. activeDeadlineSeconds passed: Failed / DeadlineExceeded
//   6. shared objects (ssh Secret, ConfigMap, headless Service, NetworkPolicy, PodGroup) created if missing; a gang
//      scheduler the cluster does not serve: Blocked, nothing created
//   7. a worker of the current attempt failed or vanished under its launcher: a gang restart, or Failed naming it
//   8. earlier attempts' pods deleted; missing workers created; the launcher once every worker is ready (or with
//      them: launcher.creationPolicy AtStartup)
//   9. status: phase, conditions, worker counts, Unschedulable and Blocked with their messages
import type { V1Pod } from '@kubernetes/client-node';
import type { HPCJob, HPCJobStatus } from '../api/types.js';
import { launcherName, workerName } from '../render/names.js';
import { classify, currentAttempt, hasLauncherFinalizer, launcherOutcome, lostAt, lostWorker } from './attempts.js';
import type { Children, LauncherOutcome } from './attempts.js';
import { podsToCleanUp } from './cleanup.js';
import { msUntilDeadline } from './deadline.js';
import { blockedByTermination, finish, restart, workerCounts } from './plan-status.js';
import {
  isConditionTrue,
  isPodReady,
  isTerminal,
  isTerminating,
  setCondition,
  unschedulableMessage,
} from './status.js';
import { msUntilExpiry } from './ttl.js';
import { gangUnschedulableMessage, isGangWait, NO_GANG, planGang, type ObservedGang } from './gang.js';
import type { GangMechanism } from '../render/pod-groups.js';
import { holdForQueue, planWorkload, type QueueObservation, type WorkloadPlan } from './queueing.js';
import type { Placements } from '../render/kueue-placement.js';

export interface Observed {
  /** The HPCJob with defaults applied (never the cached object itself). */
  job: HPCJob;
  /** Pods this job owns, including terminating ones. */
  pods: V1Pod[];
  /** Whether the job's own objects exist: its ssh Secret, and a batch job's ConfigMap. */
  hasSecret: boolean;
  hasConfigMap: boolean;
  /** Whether its namespace's shared objects exist: the hosts Service and the scripts ConfigMap. */
  hasService: boolean;
  hasScripts: boolean;
  hasNetworkPolicy: boolean;
  /** Whether the job should have a NetworkPolicy (the site's switch, and not a host-network job). */
  wantsNetworkPolicy: boolean;
  /** Set when the spec cannot be run: the message names the field. */
  invalidSpec?: string;
  /** Set when the job's pods break the namespace's Pod Security level: the rules and fields. */
  podSecurityProblem?: string;
  /** Set when the job breaks the site policy (it got past admission): the rules and fields. */
  policyProblem?: string;
  /** The API (not only the cache) has no launcher pod, though the status records one for this attempt. */
  launcherGone?: boolean;
  /** How the workers are gang-scheduled, and the job's PodGroup (none when absent). */
  gang?: ObservedGang;
  /** Set when Kueue serves workloads or the job asks for a queue: its label, Workload and the flavors. */
  queue?: QueueObservation;
  now: Date;
}

/**
 * A wide job's workers are created over several passes, this many at most in each: its status (and `kubectl get`)
 * then follows its start instead of waiting for its last pod. The next pass runs as soon as the caches show these.
 */
export const MAX_POD_CREATES_PER_PASS = 1000;

export interface JobEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface PodRef {
  name: string;
  uid: string;
}

export interface Plan {
  /** The attempt new pods are created for. */
  attempt: number;
  createSecret: boolean;
  createConfigMap: boolean;
  createService: boolean;
  createScripts: boolean;
  createNetworkPolicy: boolean;
  /** The job's PodGroup, for the gang scheduler in `gang`. */
  createPodGroup: boolean;
  /** The gang scheduler the workers join (their PodGroup's), if any. */
  gang?: GangMechanism;
  createWorkers: number[];
  createLauncher: boolean;
  deletePods: PodRef[];
  /** Launcher pods whose result is stored (or no longer matters): their finalizer comes off. */
  releaseFinalizers: PodRef[];
  deleteJob: boolean;
  status: HPCJobStatus;
  events: JobEvent[];
  requeueAfterMs?: number;
  /** What to do to the job's Kueue Workload. */
  workload?: WorkloadPlan;
  /** Node labels and tolerations per pod set (launcher, worker) from Kueue's admission. */
  placements?: Placements;
}

const ref = (pod: V1Pod): PodRef => ({ name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' });

function minDelay(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

function emptyPlan(status: HPCJobStatus): Plan {
  return {
    attempt: currentAttempt(status),
    createSecret: false,
    createConfigMap: false,
    createService: false,
    createScripts: false,
    createNetworkPolicy: false,
    createPodGroup: false,
    createWorkers: [],
    createLauncher: false,
    deletePods: [],
    releaseFinalizers: [],
    deleteJob: false,
    status,
    events: [],
  };
}

export function planReconcile(observed: Observed): Plan {
  const plan = planSteps(observed);
  const { job, queue, pods, now } = observed;
  if (queue) plan.workload = planWorkload(job, queue, pods, plan.status, now);
  return plan;
}

function planSteps(observed: Observed): Plan {
  const { job, pods, now } = observed;
  const status: HPCJobStatus = structuredClone(job.status ?? {});
  status.observedGeneration = job.metadata.generation;
  status.restartCount ??= 0;
  const plan = emptyPlan(status);

  // 1. Finished: the phase never reverts; what the stored status decided is carried out.
  if (isTerminal(status.phase)) return planFinished(plan, job, pods, now);

  const children = classify(job, pods, plan.attempt);
  // Earlier attempts' launchers are accounted for by the restart that ended them.
  plan.releaseFinalizers = children.stale.filter(hasLauncherFinalizer).map(ref);
  workerCounts(job, children, status);

  // 2. The launcher's result is the job's result, whatever else happened meanwhile (deadline, suspend).
  // A failure while a suspend is asked for is the suspend's doing.
  const launcher = children.launcher;
  if (launcher) {
    const outcome = launcherOutcome(launcher, now);
    if (outcome && (outcome.exitCode === 0 || !job.spec.runPolicy?.suspend)) {
      return planLauncherEnded(plan, job, launcher, outcome, now);
    }
    const lost = lostAt(launcher);
    if (lost !== undefined) plan.requeueAfterMs = Math.max(lost - now.getTime(), 0);
  } else if (observed.launcherGone && status.launcher?.attempt === plan.attempt) {
    // Created for this attempt (the status says so), and the API confirms it is gone: someone removed its finalizer.
    const summary = 'vanished before its result was recorded';
    return planLauncherEnded(plan, job, undefined, { reason: 'Lost', message: summary, summary }, now);
  }

  // 3. A spec the schema let through but the operator cannot run; pods the namespace's Pod Security admission would
  // reject (checked only before any pod runs: the namespace's label may change under running pods).
  if (observed.invalidSpec) {
    finish(plan, job, false, 'InvalidSpec', observed.invalidSpec, now);
    return plan;
  }
  if (observed.policyProblem && pods.every(isTerminating)) {
    finish(plan, job, false, 'PolicyViolation', observed.policyProblem, now);
    return plan;
  }
  if (observed.podSecurityProblem && pods.every(isTerminating)) {
    finish(plan, job, false, 'PodSecurityViolation', observed.podSecurityProblem, now);
    return plan;
  }

  // 4. Suspend and resume. Suspending is asked for by the spec itself, so its pods go at once.
  if (job.spec.runPolicy?.suspend) return planSuspended(plan, pods, now);
  if (isConditionTrue(status, 'Suspended')) {
    setCondition(status, 'Suspended', false, 'Resumed', 'spec.runPolicy.suspend is false', now);
    plan.events.push({ type: 'Normal', reason: 'Resumed', message: 'job resumed; pods are recreated' });
  }
  if (observed.queue && holdForQueue(plan, job, observed.queue, children, now)) return plan;
  status.startTime ??= now.toISOString();

  // 5. Deadline.
  const untilDeadline = msUntilDeadline(job, status.startTime, now);
  if (untilDeadline !== undefined && untilDeadline <= 0) {
    const seconds = job.spec.runPolicy?.activeDeadlineSeconds;
    finish(plan, job, false, 'DeadlineExceeded', `job ran longer than activeDeadlineSeconds (${seconds}s)`, now);
    return plan;
  }
  plan.requeueAfterMs = minDelay(plan.requeueAfterMs, untilDeadline);

  // 6. Objects shared by every pod of the job, the PodGroup among them (before any pod that names it).
  const gang = observed.gang ?? NO_GANG;
  if (!planGang(plan, job, gang, now)) return plan;
  plan.createSecret = !observed.hasSecret;
  plan.createConfigMap = job.spec.batchScript !== undefined && !observed.hasConfigMap;
  plan.createService = !observed.hasService;
  plan.createScripts = !observed.hasScripts;
  // Before any pod: the job's pods are never reachable from other jobs for a moment (once the plugin enforces it).
  plan.createNetworkPolicy = observed.wantsNetworkPolicy && !observed.hasNetworkPolicy;
  // Normal progress is in the conditions (with their times) and the operator's metrics, not in Events: an Event is
  // an API write, and a job's happy path keeps to one write beyond its pods and Secret per phase it shows.
  setCondition(status, 'Created', true, 'Created', 'ssh secret, scripts and hosts service exist', now);

  // 7. A lost worker breaks the attempt: restart the gang, or fail naming the worker.
  // A launcher created once every worker was ready is itself the proof that mpirun may use them; one created at
  // startup needs the record (written at once: it changes how a loss counts).
  const atStartup = launchesAtStartup(job);
  if (atStartup && allWorkersReady(job, children)) status.allWorkersReadyAttempt = plan.attempt;
  const workersWereReady = !atStartup || status.allWorkersReadyAttempt === plan.attempt;
  const lost = lostWorker(job, children, workersWereReady);
  if (lost) {
    restartOrFail(plan, job, 'WorkerFailed', `worker ${lost.name} ${lost.why}`, now);
    return plan;
  }

  // 8. and 9.
  planPods(plan, job, children, now);
  planRunningStatus(plan, pods, children, now, (message) => gangUnschedulableMessage(job, gang, message));
  return plan;
}

function planFinished(plan: Plan, job: HPCJob, pods: V1Pod[], now: Date): Plan {
  const status = plan.status;
  const reason = status.conditions?.find((c) => c.type === status.phase)?.reason;
  plan.deletePods = podsToCleanUp(pods, job.spec.runPolicy?.cleanPodPolicy ?? 'Running', reason).map(ref);
  plan.releaseFinalizers = pods.filter(hasLauncherFinalizer).map(ref);
  const expiry = msUntilExpiry(job, now);
  if (expiry !== undefined && expiry <= 0) plan.deleteJob = true;
  else plan.requeueAfterMs = expiry;
  return plan;
}

function planLauncherEnded(
  plan: Plan,
  job: HPCJob,
  launcher: V1Pod | undefined,
  outcome: LauncherOutcome,
  now: Date,
): Plan {
  const { exitCode, reason, message, summary } = outcome;
  plan.status.launcher = {
    podName: launcher?.metadata?.name ?? launcherName(job),
    attempt: plan.attempt,
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
  if (exitCode === 0) {
    finish(plan, job, true, 'LauncherSucceeded', `launcher exited 0 on attempt ${plan.attempt}`, now);
    return plan;
  }
  restartOrFail(plan, job, 'LauncherFailed', `launcher attempt ${plan.attempt} ${summary}`, now);
  return plan;
}

/** A failed attempt: counted against backoffLimit and written; its pods go once the count is stored. */
function restartOrFail(plan: Plan, job: HPCJob, reason: string, message: string, now: Date): void {
  const backoffLimit = job.spec.runPolicy?.backoffLimit ?? 0;
  const restarts = plan.status.restartCount ?? 0;
  if (restarts < backoffLimit) {
    restart(plan, reason, `${message}; restarting the gang (${restarts + 1}/${backoffLimit})`, now);
    return;
  }
  const limitNote = backoffLimit > 0 ? `; backoffLimit ${backoffLimit} reached` : '';
  finish(plan, job, false, reason, `${message}${limitNote}`, now);
}

/**
 * Suspending ends the attempt without counting a failure: the pass that sees the suspend writes Suspended and moves
 * the attempt on; later passes delete the pods, which are stale by then (a suspended attempt has no result to keep).
 */
function planSuspended(plan: Plan, pods: V1Pod[], now: Date): Plan {
  const status = plan.status;
  if (status.phase === 'Suspended') {
    plan.deletePods = pods.filter((p) => !isTerminating(p)).map(ref);
    plan.releaseFinalizers = pods.filter(hasLauncherFinalizer).map(ref);
  } else {
    plan.events.push({ type: 'Normal', reason: 'Suspended', message: 'job suspended; its pods are deleted' });
    // With no pod yet there is nothing to make stale.
    if (pods.length > 0) status.attempt = plan.attempt + 1;
    plan.deletePods = [];
    plan.releaseFinalizers = [];
  }
  status.phase = 'Suspended';
  delete status.startTime;
  delete status.launcher;
  setCondition(status, 'Suspended', true, 'Suspended', 'spec.runPolicy.suspend is true', now);
  setCondition(status, 'Running', false, 'Suspended', 'job is suspended', now);
  setCondition(status, 'Unschedulable', false, 'Suspended', 'job is suspended', now);
  setCondition(status, 'Blocked', false, 'Suspended', 'job is suspended', now);
  return plan;
}

const launchesAtStartup = (job: HPCJob): boolean => job.spec.launcher?.creationPolicy === 'AtStartup';

function allWorkersReady(job: HPCJob, children: Children): boolean {
  return children.workers.size === job.spec.workers && [...children.workers.values()].every(isPodReady);
}

/**
 * Stale pods go; workers are created where their names are free; the launcher once every worker is ready, or with
 * the workers when launcher.creationPolicy is AtStartup.
 */
function planPods(plan: Plan, job: HPCJob, children: Children, now: Date): void {
  plan.deletePods = children.stale.filter((p) => !isTerminating(p)).map(ref);
  for (let i = 0; i < job.spec.workers && plan.createWorkers.length < MAX_POD_CREATES_PER_PASS; i++) {
    if (!children.workers.has(i) && !children.namesInUse.has(workerName(job, i))) plan.createWorkers.push(i);
  }
  const launcherDue = launchesAtStartup(job) || allWorkersReady(job, children);
  // The status records a launcher created for this attempt: it exists, whatever a lagging cache shows.
  const launcherRecorded = plan.status.launcher?.attempt === plan.attempt;
  if (!children.launcher && !launcherRecorded && launcherDue && !children.namesInUse.has(launcherName(job))) {
    plan.createLauncher = true;
    plan.status.launcher = { podName: launcherName(job), attempt: plan.attempt };
  }
  // Names held by terminating pods: look again when one would count as stuck, not every second (their deletion
  // wakes the job through the watch).
  const blocking = blockedByTermination(plan, job, children, now);
  plan.requeueAfterMs = minDelay(plan.requeueAfterMs, blocking);
}

function planRunningStatus(
  plan: Plan,
  pods: V1Pod[],
  children: Children,
  now: Date,
  explain: (podMessage: string) => string,
): void {
  const status = plan.status;
  const waiting = pods
    .filter((p) => !isTerminating(p))
    .map((p) => [p.metadata?.name, unschedulableMessage(p)] as const)
    .filter(([, message]) => message !== undefined);
  // In a gang, most pods only say they wait for the others: the pod that says why (no room, no rack) is the one shown.
  const unschedulable = waiting.find(([, message]) => !isGangWait(message!)) ?? waiting[0];
  if (unschedulable) {
    const message = explain(`pod ${unschedulable[0]}: ${unschedulable[1]}`);
    if (setCondition(status, 'Unschedulable', true, 'Unschedulable', message, now)) {
      plan.events.push({ type: 'Warning', reason: 'Unschedulable', message });
    }
  } else {
    setCondition(status, 'Unschedulable', false, 'Scheduled', 'every pod is scheduled', now);
  }
  const launcher = children.launcher;
  const wasRunning = status.phase === 'Running';
  if (launcher?.status?.phase === 'Running' && !isTerminating(launcher)) {
    status.phase = 'Running';
    status.launcher = { podName: launcher.metadata?.name, attempt: plan.attempt };
    const message = `launcher ${launcher.metadata?.name} is running (attempt ${plan.attempt})`;
    setCondition(status, 'Running', true, 'LauncherRunning', message, now);
    setCondition(status, 'Restarting', false, 'LauncherRunning', 'launcher is running', now);
    return;
  }
  status.phase = 'Pending';
  if (wasRunning) {
    const message = launcher ? `launcher ${launcher.metadata?.name} is being deleted` : 'launcher is gone';
    setCondition(status, 'Running', false, 'LauncherStopping', message, now);
    plan.events.push({ type: 'Normal', reason: 'Pending', message });
  }
}
