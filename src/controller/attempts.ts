// Pods sorted by attempt, and what a pod of the current attempt says about the job. Every pod carries the attempt it
// was created for (status.attempt). Once a restart or a suspend is written to the status, the attempt moves on and
// the earlier attempt's pods are stale: deleted and never counted again, so one failure uses one restart only and a
// suspend's deletions are no failure at all.
import type { V1Pod } from '@kubernetes/client-node';
import type { HPCJob, HPCJobStatus } from '../api/types.js';
import { ANNOTATION_ATTEMPT, LAUNCHER_FINALIZER, launcherName, workerName } from '../render/names.js';
import { isPodFinished, isTerminating, mainContainerEnded, terminatedState } from './status.js';

/** A terminating pod whose node has said nothing this long after its deletion deadline is taken as lost. */
export const LOST_AFTER_MS = 30_000;

export function currentAttempt(status: HPCJobStatus): number {
  return status.attempt ?? (status.restartCount ?? 0) + 1;
}

/** The attempt a pod was created for; a pod from before attempts were recorded counts as the current one. */
export function podAttempt(pod: V1Pod, current: number): number {
  const value = Number(pod.metadata?.annotations?.[ANNOTATION_ATTEMPT]);
  return Number.isInteger(value) && value > 0 ? value : current;
}

export function hasLauncherFinalizer(pod: V1Pod): boolean {
  return pod.metadata?.finalizers?.includes(LAUNCHER_FINALIZER) === true;
}

export interface Children {
  /** The current attempt's launcher, terminating or not. */
  launcher?: V1Pod;
  /** The current attempt's workers that are not terminating, by index. */
  workers: Map<number, V1Pod>;
  /** The current attempt's workers being deleted, by index. */
  terminatingWorkers: Map<number, V1Pod>;
  /** Pods of earlier attempts, terminating or not. */
  stale: V1Pod[];
  /** Every pod name the API still holds: a name in use cannot be created again. */
  namesInUse: Set<string>;
}

export function classify(job: HPCJob, pods: V1Pod[], attempt: number): Children {
  const launcher = launcherName(job);
  const workerIndex = new Map<string, number>();
  for (let i = 0; i < job.spec.workers; i++) workerIndex.set(workerName(job, i), i);
  const children: Children = { workers: new Map(), terminatingWorkers: new Map(), stale: [], namesInUse: new Set() };
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    children.namesInUse.add(name);
    if (podAttempt(pod, attempt) < attempt) {
      children.stale.push(pod);
      continue;
    }
    if (name === launcher) {
      children.launcher = pod;
      continue;
    }
    const index = workerIndex.get(name);
    if (index === undefined) continue;
    if (isTerminating(pod)) children.terminatingWorkers.set(index, pod);
    else children.workers.set(index, pod);
  }
  return children;
}

/** When a terminating pod counts as lost: its deletion deadline (set from its grace period) plus a margin. */
export function lostAt(pod: V1Pod): number | undefined {
  const deadline = pod.metadata?.deletionTimestamp;
  return deadline ? new Date(deadline).getTime() + LOST_AFTER_MS : undefined;
}

export interface LauncherOutcome {
  exitCode?: number;
  /** The container's reason, or the pod's (Evicted, Deleted, Lost). */
  reason?: string;
  message?: string;
  /** How the attempt ended, as a clause for events and conditions: "exited with code 3", "was evicted (...)". */
  summary: string;
}

/**
 * How the launcher of the current attempt ended, or undefined while it has not: its main container's exit code,
 * with the pod-level cause when the pod was evicted or deleted. A deleted launcher whose node never reports (a lost
 * node) ends LOST_AFTER_MS after its deletion deadline, with no exit code.
 */
export function launcherOutcome(pod: V1Pod, now: Date): LauncherOutcome | undefined {
  const t = terminatedState(pod);
  const podReason = pod.status?.reason;
  const podMessage = pod.status?.message;
  if (mainContainerEnded(pod) || (isTerminating(pod) && t !== undefined)) {
    const exitCode = t?.exitCode ?? (pod.status?.phase === 'Succeeded' ? 0 : undefined);
    const code = exitCode === undefined ? 'no exit code' : `exit code ${exitCode}`;
    if (podReason) {
      const detail = podMessage ? `: ${podMessage}` : '';
      return { exitCode, reason: podReason, message: podMessage, summary: `ended ${podReason} (${code})${detail}` };
    }
    if (isTerminating(pod) && exitCode !== 0) {
      return { exitCode, reason: 'Deleted', message: t?.message, summary: `was deleted while running (${code})` };
    }
    const summary =
      exitCode === undefined ? `ended ${pod.status?.phase} (no exit code)` : `exited with code ${exitCode}`;
    return { exitCode, reason: t?.reason, message: t?.message, summary };
  }
  if (isTerminating(pod) && !pod.spec?.nodeName) {
    return { reason: 'Deleted', message: podMessage, summary: 'was deleted before it was scheduled' };
  }
  const lost = lostAt(pod);
  if (lost !== undefined && now.getTime() >= lost) {
    const node = pod.spec?.nodeName ? `node ${pod.spec.nodeName}` : 'no node';
    return {
      reason: 'Lost',
      message: `deleted, and ${node} never reported how it ended`,
      summary: `was deleted and ${node} never reported how it ended`,
    };
  }
  return undefined;
}

/**
 * Why a worker of the current attempt counts as lost, if one does. `workersWereReady`: every worker of the attempt
 * has been seen Ready at once (status.allWorkersReadyAttempt), so mpirun may be using any of them.
 */
export function lostWorker(
  job: HPCJob,
  children: Children,
  workersWereReady: boolean,
): { name: string; why: string } | undefined {
  for (const [index, pod] of children.workers) {
    if (!mainContainerEnded(pod)) continue;
    const t = terminatedState(pod);
    const detail = t
      ? `exit code ${t.exitCode}${t.reason ? `, ${t.reason}` : ''}`
      : (pod.status?.reason ?? 'no detail');
    const how = isPodFinished(pod) ? `ended ${pod.status?.phase}` : 'main container ended';
    return { name: workerName(job, index), why: `${how} (${detail})` };
  }
  // Before mpirun may use the workers a missing one is only created again: before the launcher exists, or, with a
  // launcher created at startup, before its wait can have seen them all. Once mpirun may use it, its loss breaks
  // the attempt. A launcher that is itself going ends the attempt on its own account.
  if (!children.launcher || isTerminating(children.launcher) || !workersWereReady) return undefined;
  for (let i = 0; i < job.spec.workers; i++) {
    if (children.terminatingWorkers.has(i)) return { name: workerName(job, i), why: 'was deleted or evicted' };
    if (!children.workers.has(i)) return { name: workerName(job, i), why: 'is gone' };
  }
  return undefined;
}
