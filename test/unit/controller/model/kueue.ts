// Kueue in the model cluster: what the real manager does to the operator's Workloads (admit with a flavor, evict by
// preemption or a readiness timeout, evict on deactivation, admit the next one once quota is free), and the
// invariants about the operator's side: a queued job's pods exist only under an admission, and an evicted Workload's
// quota is released only once no pod of the job runs.
import type { KueueCondition, Workload } from '../../../../src/api/kueue.js';
import { LABEL_ROLE } from '../../../../src/render/names.js';
import { NAMESPACE, type StoredObject } from './store.js';
import { podOf, type World } from './world.js';

export const FLAVOR = 'rack-1';
export const FLAVOR_LABELS = { 'topology.hpcjob.dev/rack': 'rack-1' };
/** Workloads that may hold quota at once: two jobs then take turns. */
const CAPACITY = 1;

const workloadOf = (obj: StoredObject | undefined) => obj as unknown as Workload | undefined;
const isTrue = (wl: Workload | undefined, type: string) =>
  wl?.status?.conditions?.some((c) => c.type === type && c.status === 'True') === true;

/** The stored Workload a job controls. */
export function storedWorkload(w: World, job: string): StoredObject | undefined {
  const uid = w.jobs.get(job)?.uid;
  return w.store
    .list('workloads.kueue.x-k8s.io')
    .find((o) => o.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller));
}

function setCondition(
  wl: Workload,
  type: string,
  status: 'True' | 'False',
  reason: string,
  message: string,
  at: string,
) {
  const conditions = ((wl.status ??= {}).conditions ??= []);
  const existing = conditions.find((c) => c.type === type);
  const next: KueueCondition = { type, status, reason, message, lastTransitionTime: at };
  if (!existing) conditions.push(next);
  else
    Object.assign(existing, next, {
      lastTransitionTime: existing.status === status ? existing.lastTransitionTime : at,
    });
}

function updateWorkload(w: World, obj: StoredObject, change: (wl: Workload) => void): void {
  w.store.update('workloads.kueue.x-k8s.io', `${NAMESPACE}/${obj.metadata.name}`, (o) => change(workloadOf(o)!));
}

const holdsQuota = (wl: Workload | undefined) => isTrue(wl, 'QuotaReserved') && !isTrue(wl, 'Finished');

export function installKueue(w: World): void {
  w.store.create('resourceflavors.kueue.x-k8s.io', { metadata: { name: FLAVOR }, spec: { nodeLabels: FLAVOR_LABELS } });
}

export const canAdmit = (w: World, job: string): boolean => {
  const wl = workloadOf(storedWorkload(w, job));
  return !!wl && wl.spec.active !== false && !isTrue(wl, 'QuotaReserved') && !isTrue(wl, 'Finished');
};

/** Quota reserved and admitted: the worker pod set gets the GPU flavor, the launcher none. */
export function admit(w: World, job: string): void {
  const at = new Date(w.clock).toISOString();
  updateWorkload(w, storedWorkload(w, job)!, (wl) => {
    setCondition(wl, 'QuotaReserved', 'True', 'QuotaReserved', 'Quota reserved in ClusterQueue cq', at);
    setCondition(wl, 'Admitted', 'True', 'Admitted', 'The workload is admitted', at);
    for (const type of ['Evicted', 'Preempted'] as const) {
      const was = wl.status?.conditions?.find((c) => c.type === type);
      if (was?.status === 'True') setCondition(wl, type, 'False', 'QuotaReserved', `Previously: ${was.message}`, at);
    }
    wl.status!.admission = {
      clusterQueue: 'cq',
      podSetAssignments: [
        { name: 'launcher', count: 1 },
        { name: 'worker', count: 1, flavors: { 'nvidia.com/gpu': FLAVOR } },
      ],
    };
  });
}

export const canEvict = (w: World, job: string): boolean => {
  const wl = workloadOf(storedWorkload(w, job));
  return holdsQuota(wl) && !isTrue(wl, 'Evicted');
};

/** Kueue evicts: Evicted=True (and Preempted=True for a preemption); the admission stays until the owner clears it. */
export function evict(w: World, job: string, reason: 'Preempted' | 'PodsReadyTimeout' | 'Deactivated'): void {
  const at = new Date(w.clock).toISOString();
  const message = {
    Preempted: 'Preempted to accommodate a workload (UID: p, JobUID: q) due to prioritization in the ClusterQueue',
    PodsReadyTimeout: 'Exceeded the PodsReady timeout',
    Deactivated: 'The workload is deactivated',
  }[reason];
  updateWorkload(w, storedWorkload(w, job)!, (wl) => {
    setCondition(wl, 'Evicted', 'True', reason, message, at);
    if (reason === 'Preempted') setCondition(wl, 'Preempted', 'True', 'InClusterQueue', message, at);
  });
}

/** One round of the Kueue manager: deactivated Workloads evicted, then pending ones admitted while quota lasts. */
export function kueueRound(w: World): number {
  let acted = 0;
  const all = w.store.list('workloads.kueue.x-k8s.io');
  for (const obj of all) {
    const wl = workloadOf(obj)!;
    if (wl.spec.active === false && holdsQuota(wl) && !isTrue(wl, 'Evicted')) {
      evict(w, jobOfWorkload(w, obj)!, 'Deactivated');
      acted += 1;
    }
  }
  let held = w.store.list('workloads.kueue.x-k8s.io').filter((o) => holdsQuota(workloadOf(o))).length;
  for (const obj of w.store.list('workloads.kueue.x-k8s.io')) {
    const job = jobOfWorkload(w, obj);
    if (held >= CAPACITY || !job || !canAdmit(w, job)) continue;
    admit(w, job);
    held += 1;
    acted += 1;
  }
  return acted;
}

function jobOfWorkload(w: World, obj: StoredObject): string | undefined {
  const uid = obj.metadata.ownerReferences?.find((r) => r.controller)?.uid;
  return [...w.jobs.values()].find((r) => r.uid === uid)?.setup.name;
}

const liveJobPods = (w: World, job: string) =>
  w.store
    .list('pods')
    .map((o) => podOf(o)!)
    .filter((p) => w.recordOfPod(p)?.setup.name === job && p.metadata?.deletionTimestamp === undefined);

/**
 * (K1) A queued job's pod is created only under an admission: its stored Workload is admitted, or Kueue took the
 * admission back (evicted, deactivated) after the operator read it, which the operator then carries out.
 */
export function checkQueuedPodCreate(w: World, obj: StoredObject): void {
  const pod = podOf(obj)!;
  const job = w.recordOfPod(pod)?.setup.name;
  // A job the user deleted may still get pods from a cache that has not seen it go; the garbage collector takes them.
  if (!job || w.jobs.get(job)?.deletedByUser) return;
  const wl = workloadOf(storedWorkload(w, job));
  if (isTrue(wl, 'Admitted') || isTrue(wl, 'Evicted') || wl?.spec.active === false) return;
  w.violations.push(
    `invariant K1 (no pod before admission): pod ${pod.metadata?.name} (${pod.metadata?.labels?.[LABEL_ROLE]}) of ` +
      `job ${job} was created while its Workload is ${wl ? JSON.stringify(wl.status?.conditions ?? []) : 'missing'}`,
  );
}

/** The eviction reasons after which the operator has cleared an admission, in any run so far (for coverage). */
export const clearedAfter = new Set<string>();

/** (K2) The operator releases an evicted Workload's quota only once no pod of the job runs. */
export function checkQuotaRelease(w: World, before: StoredObject, after: StoredObject): void {
  if (!holdsQuota(workloadOf(before)) || isTrue(workloadOf(after), 'QuotaReserved')) return;
  const evicted = workloadOf(before)?.status?.conditions?.find((c) => c.type === 'Evicted');
  clearedAfter.add(evicted?.reason ?? 'no eviction');
  const job = jobOfWorkload(w, after);
  const live = job ? liveJobPods(w, job) : [];
  if (live.length > 0) {
    w.violations.push(
      `invariant K2 (quota released under running pods): the admission of job ${job} was cleared while ` +
        `${live.map((p) => p.metadata?.name).join(', ')} still run`,
    );
  }
}

/** (K3) At the end: the Workload of every finished job says Finished, so Kueue has its quota back. */
export function checkWorkloadsFinished(w: World): void {
  for (const name of w.jobs.keys()) {
    const phase = w.job(name)?.status?.phase;
    const wl = workloadOf(storedWorkload(w, name));
    if ((phase === 'Succeeded' || phase === 'Failed') && wl && !isTrue(wl, 'Finished')) {
      throw new Error(`invariant K3 (quota returned): job ${name} is ${phase} but its Workload is not Finished`);
    }
  }
}
