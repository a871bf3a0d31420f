// Pure helpers over HPCJob status: conditions that keep their transition time, terminal checks, pod facts.
import type { V1Pod } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import type { Condition, ConditionType, HPCJobStatus, JobPhase } from '../api/types.js';
import { ANNOTATION_MAIN_CONTAINER } from '../render/names.js';

export function isTerminal(phase: JobPhase | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

export function getCondition(status: HPCJobStatus, type: ConditionType): Condition | undefined {
  return status.conditions?.find((c) => c.type === type);
}

/** Sets a condition; lastTransitionTime changes only when the status flips. Returns true when anything changed. */
export function setCondition(
  status: HPCJobStatus,
  type: ConditionType,
  value: boolean,
  reason: string,
  message: string,
  now: Date,
): boolean {
  const conditions = status.conditions ?? (status.conditions = []);
  const wanted = value ? 'True' : 'False';
  const existing = conditions.find((c) => c.type === type);
  if (!existing) {
    if (!value) return false; // an absent condition already reads as not true
    conditions.push({ type, status: wanted, reason, message, lastTransitionTime: now.toISOString() });
    return true;
  }
  if (existing.status === wanted && existing.reason === reason && existing.message === message) return false;
  if (existing.status !== wanted) existing.lastTransitionTime = now.toISOString();
  existing.status = wanted;
  existing.reason = reason;
  existing.message = message;
  return true;
}

export function isConditionTrue(status: HPCJobStatus, type: ConditionType): boolean {
  return getCondition(status, type)?.status === 'True';
}

export function isPodReady(pod: V1Pod): boolean {
  return (
    pod.status?.phase === 'Running' &&
    pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true
  );
}

export function isPodFinished(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function isTerminating(pod: V1Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
}

/** The container the operator set up in the pod (its annotation); undefined for a pod without it. */
export function mainContainerName(pod: V1Pod): string | undefined {
  return pod.metadata?.annotations?.[ANNOTATION_MAIN_CONTAINER];
}

/**
 * The terminated state of the pod's main container: the one its annotation names, so that a sidecar never supplies
 * the job's exit code; in a pod without the annotation, the first container that terminated.
 */
export function terminatedState(pod: V1Pod): { exitCode: number; reason?: string; message?: string } | undefined {
  const main = mainContainerName(pod);
  const statuses = (pod.status?.containerStatuses ?? []).filter((cs) => main === undefined || cs.name === main);
  for (const cs of statuses) {
    const t = cs.state?.terminated;
    if (t) return { exitCode: t.exitCode, reason: t.reason, message: t.message };
  }
  return undefined;
}

/**
 * Whether the pod's work is over: the pod finished, or its main container did while a sidecar keeps the pod
 * running. A main container that ended alone is waited for: the pod's phase follows within a status update, and
 * a pod still Running would be cleaned up (with its log) as a running pod.
 */
export function mainContainerEnded(pod: V1Pod): boolean {
  if (isPodFinished(pod)) return true;
  if (terminatedState(pod) === undefined) return false;
  const main = mainContainerName(pod);
  return (pod.status?.containerStatuses ?? []).some((cs) => cs.name !== main && cs.state?.running !== undefined);
}

/** Why the scheduler cannot place the pod, if it said so. */
export function unschedulableMessage(pod: V1Pod): string | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
  return c?.status === 'False' && c.reason === 'Unschedulable' ? (c.message ?? 'unschedulable') : undefined;
}

/**
 * What a status decides and what someone waits on: the phase, the attempt and restart count, the ssh port pods were
 * made with, the attempt whose workers were all Ready (AtStartup), how the launcher ended, and every condition that
 * is true (Created aside). The rest is progress: worker counts, conditions that are not true, the start time, the
 * name of a launcher still running.
 */
function decisions(s: HPCJobStatus) {
  return {
    phase: s.phase ?? 'Pending',
    attempt: s.attempt ?? 1,
    restartCount: s.restartCount ?? 0,
    sshPort: s.sshPort,
    allWorkersReadyAttempt: s.allWorkersReadyAttempt,
    completionTime: s.completionTime,
    launcherEnded: [s.launcher?.exitCode, s.launcher?.reason, s.launcher?.message],
    trueConditions: (s.conditions ?? [])
      .filter((c) => c.status === 'True' && c.type !== 'Created')
      .map((c) => `${c.type}/${c.reason}/${c.message}`)
      .sort(),
  };
}

/** True when two statuses differ at most in progress (see decisions): such a write may wait for later news. */
export function onlyProgressDiffers(a: HPCJobStatus, b: HPCJobStatus): boolean {
  // A spec change is answered at once (kubectl wait and workflow engines compare observedGeneration); a new job's
  // first generation is progress like the rest of its first status.
  const specSeen = a.observedGeneration === undefined || a.observedGeneration === b.observedGeneration;
  return specSeen && isDeepStrictEqual(decisions(a), decisions(b));
}
