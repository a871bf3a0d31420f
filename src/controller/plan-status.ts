// The status the planner writes when a job ends, restarts or waits: phases, conditions and their events.
import type { V1Pod } from '@kubernetes/client-node';
import type { HPCJob, HPCJobStatus } from '../api/types.js';
import type { Children } from './attempts.js';
import { lostAt } from './attempts.js';
import type { Plan } from './plan.js';
import { getCondition, isPodReady, setCondition } from './status.js';
import { msUntilExpiry } from './ttl.js';

/** Reasons of the Blocked condition that the operator sets when creating a child fails (see create-errors.ts). */
export const CREATE_BLOCKED_REASONS = new Set(['QuotaExceeded', 'NameConflict', 'CreateFailed']);

/** Ends the job: the terminal phase and condition and its event. Its pods go in a later pass (planFinished). */
export function finish(plan: Plan, job: HPCJob, succeeded: boolean, reason: string, message: string, now: Date) {
  const status = plan.status;
  status.phase = succeeded ? 'Succeeded' : 'Failed';
  status.completionTime = now.toISOString();
  setCondition(status, succeeded ? 'Succeeded' : 'Failed', true, reason, message, now);
  setCondition(status, 'Running', false, reason, message, now);
  setCondition(status, 'Restarting', false, reason, message, now);
  setCondition(status, 'Blocked', false, reason, message, now);
  // A failure is worth an Event (kubectl describe, alerting on Warnings); a success is in the status alone.
  if (!succeeded) plan.events.push({ type: 'Warning', reason, message });
  const expiry = msUntilExpiry({ ...job, status }, now);
  // The next pass carries the outcome out (cleanup) once the write shows; the TTL after that.
  plan.requeueAfterMs = expiry === undefined ? undefined : Math.max(expiry, 0);
}

/** Counts a restart; the next attempt starts once the count is stored and the earlier pods are gone. */
export function restart(plan: Plan, reason: string, message: string, now: Date): void {
  const status = plan.status;
  status.restartCount = (status.restartCount ?? 0) + 1;
  status.attempt = plan.attempt + 1;
  status.phase = 'Pending';
  // status.launcher speaks of the current attempt only; how this one ended is in the message.
  delete status.launcher;
  plan.events.push({ type: 'Warning', reason, message });
  setCondition(status, 'Restarting', true, reason, message, now);
  setCondition(status, 'Running', false, reason, message, now);
}

export function workerCounts(job: HPCJob, children: Children, status: HPCJobStatus): void {
  const workers = [...children.workers.values()];
  const ready = workers.filter(isPodReady).length;
  const failed = workers.filter((p) => p.status?.phase === 'Failed').length;
  status.workers = { total: job.spec.workers, ready, failed };
  status.workersReady = `${ready}/${job.spec.workers}`;
}

function describeStuck(pod: V1Pod): string {
  const node = pod.spec?.nodeName ? ` on node ${pod.spec.nodeName}` : '';
  const since = pod.metadata?.deletionTimestamp ? new Date(pod.metadata.deletionTimestamp).toISOString() : 'unknown';
  return `pod ${pod.metadata?.name}${node} is still terminating (deletion due ${since})`;
}

/**
 * Pods that hold a name the job needs while they terminate. One terminating past its deadline plus LOST_AFTER_MS
 * (a lost node: nothing will confirm it stopped) sets Blocked with a message saying so; the operator never
 * force-deletes it, since a rank might still run there. Returns when the next one would count as stuck.
 * With nothing in the way and nothing left to create, a Blocked condition set by a failed create is cleared.
 */
export function blockedByTermination(plan: Plan, job: HPCJob, children: Children, now: Date): number | undefined {
  const status = plan.status;
  const terminating = [...children.stale, ...children.terminatingWorkers.values()].filter(
    (p) => p.metadata?.deletionTimestamp,
  );
  let next: number | undefined;
  const stuck: V1Pod[] = [];
  for (const pod of terminating) {
    const at = lostAt(pod)!;
    if (at <= now.getTime()) stuck.push(pod);
    else next = Math.min(next ?? Infinity, at - now.getTime());
  }
  if (stuck.length > 0) {
    const message =
      `${stuck.map(describeStuck).join('; ')}; its node may be lost. The job goes on once the pod is gone ` +
      `(kubectl delete pod --force, once the node is known to be down)`;
    if (setCondition(status, 'Blocked', true, 'PodStuckTerminating', message, now)) {
      plan.events.push({ type: 'Warning', reason: 'PodStuckTerminating', message });
    }
    return next;
  }
  // A failed create is behind the job once everything it needs exists: every worker (a released gang's workers are
  // still terminating while it waits), the shared objects, and the launcher once the workers are ready for it.
  const blocked = getCondition(status, 'Blocked');
  const workers = [...children.workers.values()];
  const allExist =
    workers.length === job.spec.workers &&
    !plan.createSecret &&
    !plan.createConfigMap &&
    !plan.createService &&
    !plan.createPodGroup &&
    (children.launcher !== undefined || !workers.every(isPodReady));
  const createBlocked = blocked?.status === 'True' && CREATE_BLOCKED_REASONS.has(blocked.reason);
  if (blocked?.status === 'True' && (!createBlocked || allExist)) {
    setCondition(status, 'Blocked', false, 'Progressing', `nothing blocks job ${job.metadata.name}`, now);
  }
  return next;
}
