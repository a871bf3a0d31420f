// Kueue: a job labelled kueue.x-k8s.io/queue-name is queued through a Workload that the operator owns (one per job,
// as Kueue's own job integrations and AppWrapper do), with no Kueue webhook involved. Pure decisions:
//   holdForQueue   step 4b of planReconcile: no pod (and no Secret, ConfigMap, Service) before the Workload is
//                  admitted; an eviction or a lost admission ends the attempt like a suspend (not counted against
//                  backoffLimit); the Queued condition says why the job waits, in Kueue's own words.
//   planWorkload   what to do to the Workload after the plan: create it, (de)activate it for runPolicy.suspend,
//                  clear an evicted admission once no pod is active, mark it Finished once the outcome is stored.
import type { V1Pod } from '@kubernetes/client-node';
import type { HPCJob, HPCJobStatus } from '../api/types.js';
import {
  LABEL_PRIORITY_CLASS,
  LABEL_QUEUE_NAME,
  type ResourceFlavor,
  type Workload,
  type WorkloadSpecPatch,
  type WorkloadStatus,
} from '../api/kueue.js';
import { admittedPlacement } from '../render/kueue-placement.js';
import { workloadName } from '../render/kueue-workload.js';
import type { Children } from './attempts.js';
import {
  clearedAdmissionStatus,
  finishedStatus,
  podsReadyStatus,
  workloadCondition,
  workloadConditionTrue,
} from './kueue-status.js';
import { finish } from './plan-status.js';
import type { Plan } from './plan.js';
import { getCondition, isTerminal, isTerminating, setCondition } from './status.js';

export interface QueueObservation {
  /** The LocalQueue the job's label names; undefined when the job has no such label (a Workload may remain). */
  queueName?: string;
  /** Whether the API server serves kueue.x-k8s.io/v1beta2 workloads (discovered once at start). */
  served: boolean;
  /** The job's own Workload, as the cache holds it. */
  workload?: Workload;
  /** ResourceFlavors by name, for the node labels and tolerations of an admission. */
  flavors: ReadonlyMap<string, ResourceFlavor>;
  /** The WorkloadPriorityClass the job's label names and its value (undefined: no such class); read only while
   *  the Workload is still to be created. */
  priority?: { className: string; value?: number };
}

export interface WorkloadCreate {
  queueName: string;
  active: boolean;
  priority?: { className: string; value: number };
}

export interface WorkloadPlan {
  create?: WorkloadCreate;
  /**
   * spec.active false while the job is suspended, true once it resumes and holds no quota; spec.queueName when the
   * job's label names another LocalQueue before admission (as Kueue's own reconciler follows the label).
   */
  spec?: { name: string; patch: WorkloadSpecPatch };
  /** The Workload's whole new status, written with the resourceVersion it was computed from as precondition. */
  status?: { name: string; resourceVersion: string; status: WorkloadStatus };
  /** The job is no longer queued (its label went): the Workload goes, and its quota with it. */
  delete?: { name: string; uid: string };
}

/** The label values that make a job queued; undefined for a job Kueue does not queue. */
export function queueLabels(job: HPCJob): { queueName?: string; priorityClass?: string } {
  const labels = job.metadata.labels ?? {};
  return { queueName: labels[LABEL_QUEUE_NAME] || undefined, priorityClass: labels[LABEL_PRIORITY_CLASS] || undefined };
}

type AdmissionState =
  | { admitted: true; clusterQueue: string }
  | { admitted: false; reason: string; message: string; warning: boolean; ended?: boolean };

/** Whether Kueue lets the job run, and if not why, from the Workload's spec and conditions. */
export function admissionState(job: HPCJob, queue: QueueObservation): AdmissionState {
  const wl = queue.workload;
  const where = `LocalQueue ${job.metadata.namespace}/${queue.queueName}`;
  if (!wl)
    return {
      admitted: false,
      reason: 'Pending',
      message: `${where}: waiting for Kueue to admit workload ${workloadName(job)}`,
      warning: false,
    };
  const finished = workloadCondition(wl, 'Finished');
  if (finished?.status === 'True') {
    return {
      admitted: false,
      reason: 'WorkloadFinished',
      message: `Kueue finished workload ${wl.metadata?.name}: ${finished.message}`,
      warning: true,
      ended: true,
    };
  }
  const evicted = workloadCondition(wl, 'Evicted');
  const reserved = workloadCondition(wl, 'QuotaReserved');
  // A deactivation that was undone (the job resumed) is history: the Workload simply waits again.
  const undone = evicted?.reason === 'Deactivated' && wl.spec.active !== false;
  if (evicted?.status === 'True' && !undone) {
    const reason = evicted.reason === 'Preempted' ? 'Preempted' : 'Evicted';
    const waiting = reserved?.status === 'False' ? `; ${where}: ${reserved.message}` : '';
    const by = reason === 'Preempted' ? 'preempted by Kueue' : `evicted by Kueue (${evicted.reason})`;
    return { admitted: false, reason, message: `${by}: ${evicted.message}${waiting}`, warning: true };
  }
  if (wl.spec.active === false) {
    return {
      admitted: false,
      reason: 'Inactive',
      message: `workload ${wl.metadata?.name} is inactive (spec.active is false)`,
      warning: false,
    };
  }
  const admitted = workloadCondition(wl, 'Admitted');
  if (admitted?.status === 'True' && wl.status?.admission) {
    return { admitted: true, clusterQueue: wl.status.admission.clusterQueue };
  }
  if (reserved?.status === 'True') {
    const detail = admitted?.message ?? 'waiting for admission checks';
    return {
      admitted: false,
      reason: 'QuotaReserved',
      message: `${where}: ${reserved.message}; ${detail}`,
      warning: false,
    };
  }
  if (reserved)
    return { admitted: false, reason: reserved.reason, message: `${where}: ${reserved.message}`, warning: false };
  return {
    admitted: false,
    reason: 'Pending',
    message: `${where}: waiting for Kueue to consider workload ${wl.metadata?.name}`,
    warning: false,
  };
}

/** The job waits: Pending, no pod but stale ones going, Queued=True saying why (an event when the reason changes). */
function hold(
  plan: Plan,
  children: Children,
  reason: string,
  message: string,
  event: 'Normal' | 'Warning' | undefined,
  now: Date,
): true {
  const status = plan.status;
  status.phase = 'Pending';
  plan.deletePods = children.stale
    .filter((p) => !isTerminating(p))
    .map((p) => ({ name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '' }));
  const before = getCondition(status, 'Queued');
  setCondition(status, 'Queued', true, reason, message, now);
  if (event && (before?.status !== 'True' || before.reason !== reason)) {
    plan.events.push({ type: event, reason: reason === 'Pending' ? 'Queued' : reason, message });
  }
  setCondition(status, 'Unschedulable', false, 'Queued', 'no pod is created while the job is queued', now);
  return true;
}

/**
 * Step 4b of planReconcile: returns true when the job must wait for Kueue (the plan is complete), false when it may
 * run, with plan.placements set to the flavors' node labels and tolerations.
 */
export function holdForQueue(plan: Plan, job: HPCJob, queue: QueueObservation, children: Children, now: Date): boolean {
  const status = plan.status;
  if (!queue.queueName) {
    setCondition(status, 'Queued', false, 'NotQueued', `the job has no ${LABEL_QUEUE_NAME} label`, now);
    return false;
  }
  if (!queue.served) {
    const message =
      `label ${LABEL_QUEUE_NAME}=${queue.queueName} asks for Kueue, but the API server does not serve ` +
      'kueue.x-k8s.io/v1beta2 workloads: install Kueue (and restart the operator) or remove the label';
    return hold(plan, children, 'KueueNotInstalled', message, 'Warning', now);
  }
  if (!queue.workload && queue.priority && queue.priority.value === undefined) {
    const message = `WorkloadPriorityClass ${queue.priority.className} (label ${LABEL_PRIORITY_CLASS}) does not exist`;
    return hold(plan, children, 'PriorityClassNotFound', message, 'Warning', now);
  }
  const state = admissionState(job, queue);
  if (!state.admitted) {
    if (state.ended) {
      finish(plan, job, false, state.reason, state.message, now);
      return true;
    }
    // Pods of this attempt still run: the attempt ends like a suspend, decided here and carried out once stored.
    const live = (children.launcher && !isTerminating(children.launcher)) || children.workers.size > 0;
    if (live) {
      status.attempt = plan.attempt + 1;
      delete status.launcher;
      delete status.startTime;
      setCondition(status, 'Running', false, state.reason, state.message, now);
      const what = state.reason === 'Preempted' ? 'preempted' : 'no longer admitted';
      plan.events.push({
        type: 'Warning',
        reason: state.reason,
        message: `job ${what}; its pods are deleted: ${state.message}`,
      });
    }
    const event = live ? undefined : state.warning ? 'Warning' : 'Normal';
    return hold(plan, children, state.reason, state.message, event, now);
  }
  const placed = admittedPlacement(queue.workload!, queue.flavors);
  if ('missingFlavor' in placed) {
    plan.requeueAfterMs = 1000;
    const message = `admitted, but ResourceFlavor ${placed.missingFlavor} is not in the operator's cache yet`;
    return hold(plan, children, 'WaitingForFlavor', message, 'Normal', now);
  }
  if ('conflict' in placed) {
    finish(plan, job, false, 'PlacementConflict', `Kueue's admission cannot be applied: ${placed.conflict}`, now);
    return true;
  }
  plan.placements = placed.placements;
  const wasQueued = getCondition(status, 'Queued')?.status === 'True';
  const local = `${job.metadata.namespace}/${queue.queueName}`;
  const message = `admitted by ClusterQueue ${state.clusterQueue} (LocalQueue ${local})`;
  if (setCondition(status, 'Queued', false, 'Admitted', message, now) && wasQueued) {
    plan.events.push({ type: 'Normal', reason: 'Admitted', message });
  }
  return false;
}

const allWorkersReady = (status: HPCJobStatus): boolean =>
  status.workers !== undefined && status.workers.ready === status.workers.total;

/** What to do to the job's Workload, given the stored status (job.status) and the one this pass writes (next). */
export function planWorkload(
  job: HPCJob,
  queue: QueueObservation,
  pods: V1Pod[],
  next: HPCJobStatus,
  now: Date,
): WorkloadPlan | undefined {
  const wl = queue.workload;
  const stored = job.status ?? {};
  if (!queue.served) return undefined;
  const name = wl?.metadata?.name ?? '';
  const write = (status: WorkloadStatus | undefined) =>
    status ? { name, resourceVersion: wl?.metadata?.resourceVersion ?? '', status } : undefined;
  if (!queue.queueName) {
    return wl && !isTerminal(stored.phase) ? { delete: { name, uid: wl.metadata?.uid ?? '' } } : undefined;
  }
  // The outcome releases the quota once it is stored, never on the strength of a write that may still fail.
  if (isTerminal(stored.phase)) {
    const succeeded = stored.phase === 'Succeeded';
    const outcome = getCondition(stored, succeeded ? 'Succeeded' : 'Failed');
    const status = write(wl && finishedStatus(wl, succeeded, outcome?.message ?? `job ${stored.phase}`, now));
    return status ? { status } : undefined;
  }
  if (isTerminal(next.phase)) return undefined;
  const suspended = job.spec.runPolicy?.suspend === true;
  if (!wl) {
    if (queue.priority?.value === undefined && queue.priority) return undefined;
    const priority = queue.priority ? { className: queue.priority.className, value: queue.priority.value! } : undefined;
    return { create: { queueName: queue.queueName, active: !suspended, ...(priority ? { priority } : {}) } };
  }
  const plan: WorkloadPlan = {};
  const active = wl.spec.active !== false;
  const reserved = workloadConditionTrue(wl, 'QuotaReserved');
  const patch: WorkloadSpecPatch = {};
  if (suspended && active) patch.active = false;
  if (!suspended && !active && !reserved) patch.active = true;
  if (!reserved && wl.spec.queueName !== queue.queueName) patch.queueName = queue.queueName;
  if (Object.keys(patch).length > 0) plan.spec = { name, patch };
  if (pods.every(isTerminating)) {
    plan.status = write(clearedAdmissionStatus(wl, now));
  } else if (next.phase === 'Running' && allWorkersReady(next) && workloadConditionTrue(wl, 'Admitted')) {
    // A launcher created at startup runs before its workers are ready: Running alone is not PodsReady then.
    plan.status = write(podsReadyStatus(wl, 'All pods reached readiness and the launcher is running', now));
  }
  return plan.status || plan.spec ? plan : undefined;
}
