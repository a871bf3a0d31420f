// The plan's part for gang scheduling: the job's PodGroup is created with the other shared objects, before any pod
// (pods that name a PodGroup not yet there wait silently, and so does a group with fewer pods than its minCount); a
// gang scheduler the cluster does not serve stops the job before anything is created, saying so.
import type { HPCJob } from '../api/types.js';
import type { GangResolution } from '../render/pod-groups.js';
import type { Plan } from './plan.js';
import { setCondition } from './status.js';

/** What the controller observed of the job's gang: how it is scheduled, and its PodGroup. */
export interface ObservedGang {
  resolution: GangResolution;
  hasPodGroup: boolean;
  /** The gang scheduler's own word on a group it cannot place (the PodGroup's status). */
  unschedulableMessage?: string;
}

export const NO_GANG: ObservedGang = { resolution: { kind: 'none' }, hasPodGroup: false };

/**
 * Sets the plan's gang fields; returns false when the job cannot go on (its gang scheduler is not served), with
 * the job Pending and Blocked naming the missing API.
 */
export function planGang(plan: Plan, job: HPCJob, gang: ObservedGang, now: Date): boolean {
  const { resolution } = gang;
  if (resolution.kind === 'unavailable') {
    plan.status.phase = 'Pending';
    const reason = 'GangSchedulerUnavailable';
    if (setCondition(plan.status, 'Blocked', true, reason, resolution.message, now)) {
      plan.events.push({ type: 'Warning', reason, message: resolution.message });
    }
    return false;
  }
  if (resolution.kind === 'gang') {
    plan.gang = resolution.mechanism;
    plan.createPodGroup = !gang.hasPodGroup;
  }
  return true;
}

/** The Unschedulable message of a gang that waits: the group's reason first, then the pod's own. */
export function gangUnschedulableMessage(job: HPCJob, gang: ObservedGang, podMessage: string): string {
  if (!gang.unschedulableMessage) return podMessage;
  return `pod group ${job.metadata.name}: ${gang.unschedulableMessage}; ${podMessage}`;
}

/** A gang member's scheduling message that only says it waits for the rest of its group. */
export function isGangWait(podMessage: string): boolean {
  return /^pod group is unschedulable|waiting for minCount/.test(podMessage);
}
