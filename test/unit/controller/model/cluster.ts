// Everything in the model cluster that is not the operator: the scheduler and kubelets (pods start, containers exit,
// evictions, deleted pods confirmed stopped), nodes that are lost, come back or are declared dead, users who delete
// pods and jobs or edit a job, and the garbage collector. Each action says whether it applies (a command whose action
// does not apply is skipped) and writes through the store as those components would.
import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { LABEL_ROLE } from '../../../../src/render/names.js';
import { mainContainerName } from '../../../../src/controller/status.js';
import { NAMESPACE, type StoredObject } from './store.js';
import { attemptOf, podOf, type World } from './world.js';

const keyFor = (name: string) => `${NAMESPACE}/${name}`;
const isTerminating = (pod: V1Pod) => pod.metadata?.deletionTimestamp !== undefined;
const isLauncher = (pod: V1Pod) => pod.metadata?.labels?.[LABEL_ROLE] === 'launcher';
const nodeUp = (w: World, pod: V1Pod) => pod.spec?.nodeName !== undefined && w.nodes.get(pod.spec.nodeName) === 'up';
const mainStatus = (pod: V1Pod): V1ContainerStatus | undefined =>
  pod.status?.containerStatuses?.find((c) => c.name === mainContainerName(pod));
const mainRunning = (pod: V1Pod) => mainStatus(pod)?.state?.running !== undefined;

function container(pod: V1Pod, state: V1ContainerStatus['state'], ready: boolean): V1ContainerStatus {
  return {
    name: mainContainerName(pod) ?? 'main',
    image: 'registry.example/solver:1',
    imageID: '',
    ready,
    restartCount: 0,
    state,
  };
}

/** A time as the API sends it, a string (client-node's types say Date). */
const wireTime = (ms: number): Date => new Date(ms).toISOString() as unknown as Date;

function condition(
  type: string,
  status: 'True' | 'False',
  at: Date,
  reason?: string,
  message?: string,
): V1PodCondition {
  return { type, status, lastTransitionTime: at, ...(reason ? { reason, message } : {}) };
}

/** Writes a pod's change through the store, as its kubelet (or the scheduler) would. */
function updatePod(w: World, name: string, change: (pod: V1Pod) => void): void {
  w.store.update('pods', keyFor(name), (obj: StoredObject) => change(podOf(obj)!));
}

/** The main container ends with this code: the pod's phase follows (restartPolicy Never), readiness goes. */
function endMain(w: World, name: string, exitCode: number, podReason?: { reason: string; message: string }): void {
  const pod = w.pod(name)!;
  const at = wireTime(w.clock);
  if (isLauncher(pod)) {
    const record = w.recordOfPod(pod);
    const latest = record?.launcherExit.get(attemptOf(pod));
    if (latest && latest.uid === pod.metadata?.uid && latest.code === undefined) latest.code = exitCode;
  }
  w.running.delete(pod.metadata!.uid!);
  updatePod(w, name, (p) => {
    const terminated = { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', finishedAt: at };
    p.status = {
      ...p.status,
      phase: exitCode === 0 && !podReason ? 'Succeeded' : 'Failed',
      conditions: [condition('PodScheduled', 'True', at), condition('Ready', 'False', at)],
      containerStatuses: [container(p, { terminated }, false)],
      ...(podReason ?? {}),
    };
  });
}

// ---- scheduler and kubelet ----
export const canStart = (w: World, name: string, node: string): boolean => {
  const pod = w.pod(name);
  return !!pod && pod.status?.phase === 'Pending' && !isTerminating(pod) && w.nodes.get(node) === 'up';
};

export function startPod(w: World, name: string, node: string): void {
  const at = wireTime(w.clock);
  updatePod(w, name, (p) => {
    p.spec = { ...p.spec!, nodeName: node };
    p.status = {
      phase: 'Running',
      conditions: [condition('PodScheduled', 'True', at), condition('Ready', 'True', at)],
      containerStatuses: [container(p, { running: { startedAt: at } }, true)],
    };
  });
  const pod = w.pod(name)!;
  w.running.set(pod.metadata!.uid!, { job: w.recordOfPod(pod)?.setup.name ?? '?', pod: name, node });
}

export const canMarkUnschedulable = (w: World, name: string): boolean => {
  const pod = w.pod(name);
  return !!pod && pod.status?.phase === 'Pending' && !isTerminating(pod) && !pod.status.conditions?.length;
};

export function markUnschedulable(w: World, name: string): void {
  const at = wireTime(w.clock);
  const message = '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.';
  updatePod(w, name, (p) => {
    p.status = { ...p.status, conditions: [condition('PodScheduled', 'False', at, 'Unschedulable', message)] };
  });
}

/** The main container can end: it runs on a node that reports. */
export const canExit = (w: World, name: string): boolean => {
  const pod = w.pod(name);
  return !!pod && mainRunning(pod) && nodeUp(w, pod);
};

export function exitMain(w: World, name: string, code: number): void {
  const pod = w.pod(name)!;
  if (!isLauncher(pod) || code !== 0) w.injure(pod);
  endMain(w, name, code);
}

/** The kubelet evicts the pod for node pressure: phase Failed, reason Evicted; the object stays. */
export function kubeletEvict(w: World, name: string): void {
  w.injure(w.pod(name)!);
  endMain(w, name, 137, { reason: 'Evicted', message: 'The node was low on resource: memory.' });
}

/** A deleted pod's node can confirm it stopped (its grace period is not over yet as far as the API knows). */
export const canConfirm = (w: World, name: string): boolean => {
  const pod = w.pod(name);
  return !!pod && isTerminating(pod) && (pod.metadata?.deletionGracePeriodSeconds ?? 0) > 0 && nodeUp(w, pod);
};

/** The kubelet stops a deleted pod: running containers end with 143, the pod Failed; then its final delete. */
export function confirmStopped(w: World, name: string): void {
  if (mainRunning(w.pod(name)!)) endMain(w, name, 143);
  w.store.delete('pods', keyFor(name), { graceSeconds: 0 });
}

// ---- users ----
export const canDeletePod = (w: World, name: string): boolean => {
  const pod = w.pod(name);
  return !!pod && !isTerminating(pod);
};

/** kubectl delete pod, or an API-initiated eviction: a graceful delete. */
export function deletePod(w: World, name: string): void {
  w.injure(w.pod(name)!);
  w.store.delete('pods', keyFor(name));
}

export const jobExists = (w: World, name: string): boolean => w.job(name) !== undefined;

export function deleteJob(w: World, name: string): void {
  w.jobs.get(name)!.deletedByUser = true;
  w.store.delete('hpcjobs', keyFor(name));
}

/** kubectl edit: spec.runPolicy.suspend, which bumps the generation. */
export function setSuspend(w: World, name: string, suspend: boolean): void {
  w.store.update('hpcjobs', keyFor(name), (obj) => {
    const spec = obj.spec as { runPolicy: { suspend?: boolean } };
    spec.runPolicy = { ...spec.runPolicy, suspend };
    obj.metadata.generation = (obj.metadata.generation ?? 1) + 1;
  });
}

export const isSuspended = (w: World, name: string): boolean => w.job(name)?.spec.runPolicy?.suspend === true;

/** kubectl label: only the resourceVersion moves, so the operator's next status write from its cache gets a 409. */
export function labelJob(w: World, name: string): void {
  w.store.update('hpcjobs', keyFor(name), (obj) => {
    const n = Number(obj.metadata.labels?.touched ?? 0) + 1;
    obj.metadata.labels = { ...obj.metadata.labels, touched: String(n) };
  });
}

// ---- nodes ----
const podsOn = (w: World, node: string): V1Pod[] =>
  w.store
    .list('pods')
    .map((o) => podOf(o)!)
    .filter((p) => p.spec?.nodeName === node);

/** The node stops reporting: its pods never change again, nor confirm a deletion, until it comes back. */
export function loseNode(w: World, node: string): void {
  w.nodes.set(node, 'lost');
  for (const pod of podsOn(w, node)) w.injure(pod);
}

export function recoverNode(w: World, node: string): void {
  w.nodes.set(node, 'up');
}

/**
 * An admin knows the node is down for good: its containers are gone and its pods are force-deleted (a finalizer
 * still holds the launcher until the operator releases it). A fresh node takes its name.
 */
export function declareNodeDead(w: World, node: string): void {
  for (const pod of podsOn(w, node)) {
    w.running.delete(pod.metadata!.uid!);
    w.store.delete('pods', keyFor(pod.metadata!.name!), { graceSeconds: 0 });
  }
  w.nodes.set(node, 'up');
}

// ---- garbage collector ----
/** Deletes children whose controlling owner is gone (pods gracefully); returns how many it deleted. */
export function collectGarbage(w: World): number {
  const live = new Set(w.store.list('hpcjobs').map((j) => j.metadata.uid));
  let n = 0;
  for (const resource of [
    'pods',
    'secrets',
    'configmaps',
    'services',
    'networkpolicies',
    'workloads.kueue.x-k8s.io',
  ] as const) {
    for (const obj of w.store.list(resource)) {
      const owner = obj.metadata.ownerReferences?.find((r) => r.controller)?.uid;
      if (owner === undefined || live.has(owner) || obj.metadata.deletionTimestamp !== undefined) continue;
      w.store.delete(resource, `${NAMESPACE}/${obj.metadata.name}`);
      n += 1;
    }
  }
  return n;
}
