// The reconcile decision as a pure function: (job, observed children, now) -> what to create or delete, the new
// status, the events to record and when to look again. controller.ts carries a plan out against the API server.
//
// The steps run in order with early returns, as a flat list:
//   1. a finished job: clean pods per cleanPodPolicy, delete the job when its TTL passes; the phase never reverts
//   2. a spec the operator cannot run: Failed / InvalidSpec; pods the namespace's Pod Security level rejects:
//      Failed / PodSecurityViolation
//   3. suspend: every pod deleted, Suspended; resume clears it and restarts the deadline clock
//   4. activeDeadlineSeconds passed: Failed / DeadlineExceeded, every pod stopped
//   5. shared objects (ssh Secret, ConfigMap, headless Service) created if missing
//   6. launcher finished: Succeeded, or retry within backoffLimit, or Failed with its exit code
//   7. a worker failed or vanished under a running launcher: gang restart within backoffLimit, or Failed naming it
//   8. missing workers created; the launcher created once every worker is ready
//   9. status: phase, conditions, worker counts, Unschedulable with the scheduler's message
import type { V1Pod } from '@kubernetes/client-node';
import type { HPCJob, HPCJobStatus } from '../api/types.js';
import { launcherName, workerName } from '../render/names.js';
import { podsToCleanUp } from './cleanup.js';
import { msUntilDeadline } from './deadline.js';
import {
  isConditionTrue,
  isPodFinished,
  isPodReady,
  isTerminal,
  isTerminating,
  mainContainerEnded,
  setCondition,
  terminatedState,
  unschedulableMessage,
} from './status.js';
import { msUntilExpiry } from './ttl.js';

export interface Observed {
  /** The HPCJob with defaults applied (never the cached object itself). */
  job: HPCJob;
  /** Pods labelled as this job's, including terminating ones. */
  pods: V1Pod[];
  hasSecret: boolean;
  hasConfigMap: boolean;
  hasService: boolean;
  /** Set when the spec cannot be run: the message names the field. */
  invalidSpec?: string;
  /** Set when the job's pods break the namespace's Pod Security level: the rules and fields. */
  podSecurityProblem?: string;
  now: Date;
}

export interface JobEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Plan {
  createSecret: boolean;
  createConfigMap: boolean;
  createService: boolean;
  createWorkers: number[];
  createLauncher: boolean;
  deletePods: string[];
  deleteJob: boolean;
  status: HPCJobStatus;
  events: JobEvent[];
  requeueAfterMs?: number;
}

interface Children {
  launcher?: V1Pod;
  workers: Map<number, V1Pod>;
  /** Names held by pods that are still terminating: they cannot be recreated yet. */
  terminating: Set<string>;
}

function classify(job: HPCJob, pods: V1Pod[]): Children {
  const launcher = launcherName(job);
  const workerIndex = new Map<string, number>();
  for (let i = 0; i < job.spec.workers; i++) workerIndex.set(workerName(job, i), i);
  const children: Children = { workers: new Map(), terminating: new Set() };
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    if (isTerminating(pod)) {
      children.terminating.add(name);
      continue;
    }
    if (name === launcher) children.launcher = pod;
    const index = workerIndex.get(name);
    if (index !== undefined) children.workers.set(index, pod);
  }
  return children;
}

function emptyPlan(status: HPCJobStatus): Plan {
  return {
    createSecret: false,
    createConfigMap: false,
    createService: false,
    createWorkers: [],
    createLauncher: false,
    deletePods: [],
    deleteJob: false,
    status,
    events: [],
  };
}

function livePodNames(pods: V1Pod[]): string[] {
  return pods.filter((p) => !isTerminating(p)).map((p) => p.metadata?.name ?? '');
}

function minDelay(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/** Ends the job: the terminal phase and condition, its event, and when the TTL will want it deleted. */
function finish(plan: Plan, job: HPCJob, succeeded: boolean, reason: string, message: string, now: Date) {
  const status = plan.status;
  status.phase = succeeded ? 'Succeeded' : 'Failed';
  status.completionTime = now.toISOString();
  setCondition(status, succeeded ? 'Succeeded' : 'Failed', true, reason, message, now);
  setCondition(status, 'Running', false, reason, message, now);
  setCondition(status, 'Restarting', false, reason, message, now);
  plan.events.push({ type: succeeded ? 'Normal' : 'Warning', reason, message });
  const expiry = msUntilExpiry({ ...job, status }, now);
  if (expiry !== undefined) plan.requeueAfterMs = Math.max(expiry, 0);
}

function workerCounts(job: HPCJob, children: Children, status: HPCJobStatus): void {
  const workers = [...children.workers.values()];
  const ready = workers.filter(isPodReady).length;
  const failed = workers.filter((p) => p.status?.phase === 'Failed').length;
  status.workers = { total: job.spec.workers, ready, failed };
  status.workersReady = `${ready}/${job.spec.workers}`;
}

/** Why a worker counts as lost: failed, or gone/terminating while the launcher depends on it. */
function lostWorker(job: HPCJob, children: Children): { name: string; why: string } | undefined {
  for (const [index, pod] of children.workers) {
    if (mainContainerEnded(pod)) {
      const t = terminatedState(pod);
      const detail = t
        ? `exit code ${t.exitCode}${t.reason ? `, ${t.reason}` : ''}`
        : (pod.status?.reason ?? 'no detail');
      const how = isPodFinished(pod) ? `ended ${pod.status?.phase}` : 'main container ended';
      return { name: workerName(job, index), why: `${how} (${detail})` };
    }
  }
  if (!children.launcher) return undefined;
  for (let i = 0; i < job.spec.workers; i++) {
    if (!children.workers.has(i))
      return { name: workerName(job, i), why: 'was deleted or evicted while the launcher ran' };
  }
  return undefined;
}

export function planReconcile(observed: Observed): Plan {
  const { job, pods, now } = observed;
  const status: HPCJobStatus = structuredClone(job.status ?? {});
  status.observedGeneration = job.metadata.generation;
  status.restartCount ??= 0;
  const plan = emptyPlan(status);
  const runPolicy = job.spec.runPolicy ?? {};
  const backoffLimit = runPolicy.backoffLimit ?? 0;
  const cleanPodPolicy = runPolicy.cleanPodPolicy ?? 'Running';
  const children = classify(job, pods);
  // A finished job keeps the counts it ended with; the cleanup that follows is not news worth a status write.
  if (!isTerminal(status.phase)) workerCounts(job, children, status);

  // 1. Finished: the phase never reverts.
  if (isTerminal(status.phase)) {
    plan.deletePods = podsToCleanUp(pods, cleanPodPolicy).map((p) => p.metadata?.name ?? '');
    const expiry = msUntilExpiry(job, now);
    if (expiry !== undefined && expiry <= 0) plan.deleteJob = true;
    else plan.requeueAfterMs = expiry;
    return plan;
  }

  // 2. A spec the schema let through but the operator cannot run.
  if (observed.invalidSpec) {
    plan.deletePods = livePodNames(pods);
    finish(plan, job, false, 'InvalidSpec', observed.invalidSpec, now);
    return plan;
  }

  // 2b. Pods the namespace's Pod Security admission would reject: say which rule at once instead of retrying
  // creates forever. Pods that already run (the namespace's label may change under them) are left alone.
  if (observed.podSecurityProblem && livePodNames(pods).length === 0) {
    finish(plan, job, false, 'PodSecurityViolation', observed.podSecurityProblem, now);
    return plan;
  }

  // 3. Suspend and resume.
  if (runPolicy.suspend) {
    plan.deletePods = livePodNames(pods);
    if (status.phase !== 'Suspended') {
      plan.events.push({ type: 'Normal', reason: 'Suspended', message: 'job suspended; its pods are deleted' });
    }
    status.phase = 'Suspended';
    delete status.startTime;
    setCondition(status, 'Suspended', true, 'Suspended', 'spec.runPolicy.suspend is true', now);
    setCondition(status, 'Running', false, 'Suspended', 'job is suspended', now);
    return plan;
  }
  if (isConditionTrue(status, 'Suspended')) {
    setCondition(status, 'Suspended', false, 'Resumed', 'spec.runPolicy.suspend is false', now);
    plan.events.push({ type: 'Normal', reason: 'Resumed', message: 'job resumed; pods are recreated' });
  }
  status.startTime ??= now.toISOString();

  // 4. Deadline.
  const untilDeadline = msUntilDeadline(job, status.startTime, now);
  if (untilDeadline !== undefined && untilDeadline <= 0) {
    plan.deletePods = livePodNames(pods);
    const seconds = runPolicy.activeDeadlineSeconds;
    finish(plan, job, false, 'DeadlineExceeded', `job ran longer than activeDeadlineSeconds (${seconds}s)`, now);
    return plan;
  }
  plan.requeueAfterMs = untilDeadline;

  // 5. Objects shared by every pod of the job.
  plan.createSecret = !observed.hasSecret;
  plan.createConfigMap = !observed.hasConfigMap;
  plan.createService = !observed.hasService;
  if (setCondition(status, 'Created', true, 'Created', 'ssh secret, hostfile and service exist', now)) {
    plan.events.push({
      type: 'Normal',
      reason: 'Created',
      message: 'ssh secret, hostfile and headless service created',
    });
  }

  const restarts = status.restartCount ?? 0;
  const launcher = children.launcher;

  // 6. The launcher's result is the job's result.
  if (launcher && mainContainerEnded(launcher)) {
    const t = terminatedState(launcher);
    const exitCode = t?.exitCode ?? (launcher.status?.phase === 'Succeeded' ? 0 : 1);
    status.launcher = {
      podName: launcher.metadata?.name,
      exitCode,
      ...(t?.reason ? { reason: t.reason } : {}),
      ...(t?.message ? { message: t.message } : {}),
    };
    const attempt = restarts + 1;
    if (exitCode === 0) {
      plan.deletePods = podsToCleanUp(pods, cleanPodPolicy).map((p) => p.metadata?.name ?? '');
      finish(plan, job, true, 'LauncherSucceeded', `launcher exited 0 on attempt ${attempt}`, now);
      return plan;
    }
    if (restarts < backoffLimit) {
      status.restartCount = restarts + 1;
      const message = `launcher attempt ${attempt} exited with code ${exitCode}; retrying (${restarts + 1}/${backoffLimit})`;
      plan.events.push({ type: 'Warning', reason: 'LauncherFailed', message });
      setCondition(status, 'Restarting', true, 'LauncherFailed', message, now);
      setCondition(status, 'Running', false, 'LauncherFailed', message, now);
      status.phase = 'Pending';
      plan.deletePods = [launcher.metadata?.name ?? ''];
      return plan;
    }
    plan.deletePods = podsToCleanUp(pods, cleanPodPolicy).map((p) => p.metadata?.name ?? '');
    const limitNote = backoffLimit > 0 ? `; backoffLimit ${backoffLimit} reached` : '';
    finish(
      plan,
      job,
      false,
      'LauncherFailed',
      `launcher attempt ${attempt} exited with code ${exitCode}${limitNote}`,
      now,
    );
    return plan;
  }

  // 7. A lost worker breaks the gang: restart all of it, or fail naming the worker.
  const lost = lostWorker(job, children);
  if (lost) {
    const message = `worker ${lost.name} ${lost.why}`;
    plan.deletePods = livePodNames(pods);
    if (restarts < backoffLimit) {
      status.restartCount = restarts + 1;
      status.phase = 'Pending';
      plan.events.push({
        type: 'Warning',
        reason: 'WorkerFailed',
        message: `${message}; restarting all pods (${restarts + 1}/${backoffLimit})`,
      });
      setCondition(status, 'Restarting', true, 'WorkerFailed', message, now);
      setCondition(status, 'Running', false, 'WorkerFailed', message, now);
      return plan;
    }
    finish(plan, job, false, 'WorkerFailed', message, now);
    return plan;
  }

  // 8. Workers first; the launcher only once every worker is ready to accept ssh.
  for (let i = 0; i < job.spec.workers; i++) {
    if (!children.workers.has(i) && !children.terminating.has(workerName(job, i))) plan.createWorkers.push(i);
  }
  const waitingForNames = [...children.terminating].length > 0;
  const allReady = children.workers.size === job.spec.workers && [...children.workers.values()].every(isPodReady);
  if (!launcher && allReady && !children.terminating.has(launcherName(job))) {
    plan.createLauncher = true;
    plan.events.push({
      type: 'Normal',
      reason: 'LauncherCreated',
      message: `all ${job.spec.workers} workers ready; launcher attempt ${restarts + 1} started`,
    });
  }
  if (waitingForNames) plan.requeueAfterMs = minDelay(plan.requeueAfterMs, 1000);

  // 9. Status.
  const unschedulable = pods
    .filter((p) => !isTerminating(p))
    .map((p) => [p.metadata?.name, unschedulableMessage(p)] as const)
    .find(([, message]) => message !== undefined);
  if (unschedulable) {
    const message = `pod ${unschedulable[0]}: ${unschedulable[1]}`;
    if (setCondition(status, 'Unschedulable', true, 'Unschedulable', message, now)) {
      plan.events.push({ type: 'Warning', reason: 'Unschedulable', message });
    }
  } else {
    setCondition(status, 'Unschedulable', false, 'Scheduled', 'every pod is scheduled', now);
  }
  if (launcher?.status?.phase === 'Running') {
    status.phase = 'Running';
    status.launcher = { podName: launcher.metadata?.name };
    if (
      setCondition(status, 'Running', true, 'LauncherRunning', `launcher ${launcher.metadata?.name} is running`, now)
    ) {
      plan.events.push({
        type: 'Normal',
        reason: 'Running',
        message: `launcher ${launcher.metadata?.name} is running`,
      });
    }
    setCondition(status, 'Restarting', false, 'LauncherRunning', 'launcher is running', now);
  } else {
    status.phase = 'Pending';
  }
  return plan;
}
