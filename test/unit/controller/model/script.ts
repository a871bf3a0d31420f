// Helpers for the example-based scenarios: a world with named jobs, and the steps that take a job to where a
// scenario starts (its launcher running, as the operator has seen it).
import { canConfirm, canStart, confirmStopped, startPod } from './cluster.js';
import { checkStep } from './invariants.js';
import { World, type JobSetup } from './world.js';

export const DEFAULT_JOB: JobSetup = {
  name: 'a',
  workers: 2,
  backoffLimit: 0,
  cleanPodPolicy: 'Running',
  fairExitCode: 0,
};

/** Runs a test body over a world and disposes of it whatever happens. */
export async function withWorld(world: Promise<World>, body: (w: World) => Promise<void>): Promise<void> {
  const w = await world;
  try {
    await body(w);
  } finally {
    await w.dispose();
  }
}

export async function worldWith(...jobs: Partial<JobSetup>[]): Promise<World> {
  const w = new World({ jobs: jobs.map((j) => ({ ...DEFAULT_JOB, ...j })), lostNodesRecover: true });
  await w.startOperator();
  return w;
}

export function startPending(w: World): void {
  for (const obj of w.store.list('pods')) {
    if (canStart(w, obj.metadata.name, 'node-1')) startPod(w, obj.metadata.name, 'node-1');
  }
}

/** The kubelets: pending pods start on node-1, deleted pods are confirmed stopped. */
export function kubelet(w: World): void {
  startPending(w);
  for (const obj of w.store.list('pods')) {
    if (canConfirm(w, obj.metadata.name)) confirmStopped(w, obj.metadata.name);
  }
}

/** Every event delivered, then one pass; the per-step invariants after it. Returns the pass's requeue. */
export async function pass(w: World, name = 'a'): Promise<number | undefined> {
  w.deliverAll();
  const requeue = await w.reconcile(name);
  checkStep(w);
  return requeue;
}

/** Passes (and the kubelet starting what is pending) until the job's stored phase is this one. */
export async function until(w: World, phase: string, name = 'a', maxPasses = 20): Promise<void> {
  for (let i = 0; i < maxPasses; i++) {
    if (w.job(name)?.status?.phase === phase) return;
    await pass(w, name);
    kubelet(w);
  }
  throw new Error(`job ${name} did not reach ${phase}: ${JSON.stringify(w.job(name)?.status)}`);
}

/** Passes until one writes nothing (everything the stored status asks for is done). */
export async function settle(w: World, name = 'a', maxPasses = 20): Promise<void> {
  for (let i = 0; i < maxPasses; i++) {
    const before = w.writes.length;
    await pass(w, name);
    if (w.writes.length === before && w.pending().length === 0) return;
  }
  throw new Error(`job ${name} kept writing: ${JSON.stringify(w.writes.slice(-5))}`);
}

/** The writes made since a mark, as "verb what" lines. */
export const writesSince = (w: World, mark: number): string[] => w.writes.slice(mark).map((x) => `${x.verb} ${x.what}`);

export const condition = (w: World, name: string, type: string) =>
  w.job(name)?.status?.conditions?.find((c) => c.type === type);
