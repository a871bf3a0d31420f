// What the scheduler reserves for a pod, and so what a gang of workers needs before it can start (a PodGroup's
// minResources). Computed from the rendered pod, in the order Kubernetes applies its rules:
// - a container's requests, with its limits standing in where it gives only a limit (the API server's defaulting);
// - the containers summed; sidecars (init containers with restartPolicy Always) added too, and each init container
//   needs itself plus the sidecars started before it; the pod needs the larger of the two, per resource;
// - pod-level resources (spec.resources) replace the sum for the resources they name (cpu, memory, hugepages-*),
//   a pod-level limit standing in for a missing request (for cpu and memory only where no container asks for them).
// Pod overhead is left out: a RuntimeClass adds it at admission, after the operator has rendered the pod.
import type { V1Container, V1Pod, V1PodSpec, V1ResourceRequirements } from '@kubernetes/client-node';
import type { HPCJob } from '../api/types.js';
import type { ClusterConfig } from '../config/cluster-config.js';
import { renderWorkerPod } from './pods.js';
import { addQuantities, formatQuantity, maxQuantity, parseQuantity, scaleQuantity, type Quantity } from './quantity.js';

export type Requests = Map<string, Quantity>;

function parseAll(list: Record<string, string | number> | undefined, where: string): Requests {
  const out: Requests = new Map();
  for (const [name, value] of Object.entries(list ?? {})) {
    try {
      out.set(name, parseQuantity(value));
    } catch (err) {
      throw new Error(`${where}.${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}

/** Requests, with each limit standing in for a request the container does not give. */
function effectiveRequests(resources: V1ResourceRequirements | undefined, where: string): Requests {
  const requests = parseAll(resources?.requests, `${where}.requests`);
  for (const [name, limit] of parseAll(resources?.limits, `${where}.limits`)) {
    if (!requests.has(name)) requests.set(name, limit);
  }
  return requests;
}

function addInto(total: Requests, more: Requests): void {
  for (const [name, q] of more) {
    const have = total.get(name);
    total.set(name, have ? addQuantities(have, q) : q);
  }
}

function maxInto(total: Requests, more: Requests): void {
  for (const [name, q] of more) {
    const have = total.get(name);
    total.set(name, have ? maxQuantity(have, q) : q);
  }
}

const isSidecar = (c: V1Container) => c.restartPolicy === 'Always';
const OVERCOMMITTABLE = (name: string) => name === 'cpu' || name === 'memory';
const POD_LEVEL = (name: string) => OVERCOMMITTABLE(name) || name.startsWith('hugepages-');

/** The requests the scheduler counts for one pod (overhead excluded). */
export function podRequests(spec: V1PodSpec): Requests {
  const total: Requests = new Map();
  for (const c of spec.containers ?? []) addInto(total, effectiveRequests(c.resources, `containers[${c.name}]`));
  const sidecars: Requests = new Map();
  const initPeak: Requests = new Map();
  for (const c of spec.initContainers ?? []) {
    const own = effectiveRequests(c.resources, `initContainers[${c.name}]`);
    if (isSidecar(c)) {
      // A sidecar keeps running beside the containers and the init containers after it.
      addInto(total, own);
      addInto(sidecars, own);
      maxInto(initPeak, sidecars);
    } else {
      const whileRunning: Requests = new Map(own);
      addInto(whileRunning, sidecars);
      maxInto(initPeak, whileRunning);
    }
  }
  maxInto(total, initPeak);

  const podLevel = spec.resources;
  if (podLevel) {
    const requests = parseAll(podLevel.requests, 'resources.requests');
    for (const [name, q] of requests) if (POD_LEVEL(name)) total.set(name, q);
    for (const [name, q] of parseAll(podLevel.limits, 'resources.limits')) {
      // Defaulting keeps the containers' sum of cpu or memory; hugepages take the pod's limit whatever they ask.
      if (POD_LEVEL(name) && !requests.has(name) && !(OVERCOMMITTABLE(name) && total.has(name))) total.set(name, q);
    }
  }
  return total;
}

/** `count` pods like `pod`: what a PodGroup's minResources holds, in canonical notation and sorted by name. */
export function gangRequests(pod: V1Pod, count: number): Record<string, string> {
  const requests = podRequests(pod.spec ?? { containers: [] });
  return Object.fromEntries(
    [...requests.keys()].sort().map((name) => [name, formatQuantity(scaleQuantity(requests.get(name)!, count))]),
  );
}

/**
 * What the job's workers need together: the rendered worker's requests times the number of workers (workers differ
 * only in name and index, never in resources). The launcher is outside the gang (see pod-groups.ts).
 */
export function workersMinResources(job: HPCJob, config: ClusterConfig): Record<string, string> {
  return gangRequests(renderWorkerPod(job, config, 0, config.sshPort), job.spec.workers);
}
