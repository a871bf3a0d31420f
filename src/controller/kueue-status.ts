// Reading a Kueue Workload's conditions, and the status changes the operator makes to its own Workloads, as Kueue's
// generic job reconciler (jobframework/reconciler.go) makes them for the job kinds built into Kueue:
//   - once an evicted job has no active pod: the admission cleared (QuotaReserved=False/Pending, Admitted=False,
//     Requeued), so the quota is free and Kueue queues the Workload again;
//   - once the job ended: Finished=True, so Kueue releases the quota;
//   - once the job runs: PodsReady=True, for clusters whose Kueue waits for it (waitForPodsReady).
// Pure: each builder returns the whole new status (conditions kept in order), or undefined when nothing changes.
import type { KueueCondition, Workload, WorkloadStatus } from '../api/kueue.js';

/** Condition types Kueue sets on a Workload. */
export type WorkloadConditionType =
  'QuotaReserved' | 'Admitted' | 'Evicted' | 'Preempted' | 'Requeued' | 'PodsReady' | 'Finished';

/** Eviction reasons after which Kueue's own reconciler marks the Workload Requeued=True. */
const REQUEUED_REASONS = new Set(['Preempted', 'NodeFailures']);

export function workloadCondition(wl: Workload | undefined, type: WorkloadConditionType): KueueCondition | undefined {
  return wl?.status?.conditions?.find((c) => c.type === type);
}

export const workloadConditionTrue = (wl: Workload | undefined, type: WorkloadConditionType): boolean =>
  workloadCondition(wl, type)?.status === 'True';

/** Sets a condition as apimeta.SetStatusCondition does: the transition time moves only when the status flips. */
function setWorkloadCondition(
  conditions: KueueCondition[],
  wanted: Omit<KueueCondition, 'lastTransitionTime' | 'observedGeneration'>,
  generation: number | undefined,
  now: Date,
): void {
  const existing = conditions.find((c) => c.type === wanted.type);
  const stamp = generation === undefined ? {} : { observedGeneration: generation };
  if (!existing) {
    conditions.push({ ...wanted, lastTransitionTime: now.toISOString(), ...stamp });
    return;
  }
  if (existing.status !== wanted.status) existing.lastTransitionTime = now.toISOString();
  Object.assign(existing, wanted, stamp);
}

function changed(before: WorkloadStatus | undefined, after: WorkloadStatus): boolean {
  return JSON.stringify(before ?? {}) !== JSON.stringify(after);
}

/**
 * The admission of an evicted Workload cleared, once the job's pods are gone: what frees the quota for a preemptor
 * and lets Kueue queue the Workload again. Undefined when the Workload holds no quota or is not evicted.
 */
export function clearedAdmissionStatus(wl: Workload, now: Date): WorkloadStatus | undefined {
  const evicted = workloadCondition(wl, 'Evicted');
  if (evicted?.status !== 'True' || !workloadConditionTrue(wl, 'QuotaReserved')) return undefined;
  const status: WorkloadStatus = structuredClone(wl.status ?? {});
  const conditions = (status.conditions ??= []);
  const set = (wanted: Parameters<typeof setWorkloadCondition>[1]) =>
    setWorkloadCondition(conditions, wanted, wl.metadata?.generation, now);
  const requeued = REQUEUED_REASONS.has(evicted.reason);
  set({ type: 'Requeued', status: requeued ? 'True' : 'False', reason: evicted.reason, message: evicted.message });
  set({ type: 'QuotaReserved', status: 'False', reason: 'Pending', message: evicted.message });
  if (workloadConditionTrue(wl, 'Admitted')) {
    set({ type: 'Admitted', status: 'False', reason: 'NoReservation', message: 'The workload has no reservation' });
  }
  // Readiness speaks of the pods of this admission; the next one starts unready (Kueue's WaitForStart).
  if (workloadCondition(wl, 'PodsReady')) {
    set({ type: 'PodsReady', status: 'False', reason: 'WaitForStart', message: 'Not all pods are ready or succeeded' });
  }
  status.admission = null;
  return status;
}

/** Finished=True with the job's outcome; undefined when the Workload is finished already. */
export function finishedStatus(
  wl: Workload,
  succeeded: boolean,
  message: string,
  now: Date,
): WorkloadStatus | undefined {
  if (workloadConditionTrue(wl, 'Finished')) return undefined;
  const status: WorkloadStatus = structuredClone(wl.status ?? {});
  setWorkloadCondition(
    (status.conditions ??= []),
    { type: 'Finished', status: 'True', reason: succeeded ? 'Succeeded' : 'Failed', message },
    wl.metadata?.generation,
    now,
  );
  return changed(wl.status, status) ? status : undefined;
}

/** PodsReady=True once the job runs; undefined when it says so already. */
export function podsReadyStatus(wl: Workload, message: string, now: Date): WorkloadStatus | undefined {
  if (workloadConditionTrue(wl, 'PodsReady')) return undefined;
  const status: WorkloadStatus = structuredClone(wl.status ?? {});
  setWorkloadCondition(
    (status.conditions ??= []),
    { type: 'PodsReady', status: 'True', reason: 'Started', message },
    wl.metadata?.generation,
    now,
  );
  return status;
}
