// The CLI's calls to the API server: jobs, the launcher's log. Errors become one readable line.
import { PassThrough } from 'node:stream';
import { CoreV1Api, CustomObjectsApi, KubeConfig, Log } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type HPCJob } from '../api/types.js';
import { mainContainerName } from '../controller/status.js';
import { reuseConnections } from '../kube/client-node-pool.js';

export interface Clients {
  kc: KubeConfig;
  api: CustomObjectsApi;
  core: CoreV1Api;
  /** The current context's namespace, else default. */
  namespace: string;
}

export function connect(): Clients {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  reuseConnections(kc);
  const context = kc.getContextObject(kc.getCurrentContext());
  return {
    kc,
    api: kc.makeApiClient(CustomObjectsApi),
    core: kc.makeApiClient(CoreV1Api),
    namespace: context?.namespace ?? 'default',
  };
}

/** An API error as the server explained it: "hpcjobs.hpcjob.dev "x" not found" rather than a dump of the body. */
export function apiErrorMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  if (!e.code) return e.message ?? String(err);
  let body = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      // a plain-text body is the message itself
    }
  }
  const message = (body as { message?: string } | undefined)?.message ?? (typeof body === 'string' ? body : '');
  return `API error ${e.code}${message ? `: ${message}` : ''}`;
}

const jobPath = { group: GROUP, version: VERSION, plural: PLURAL };

export async function getJob(c: Clients, namespace: string, name: string): Promise<HPCJob> {
  return (await c.api.getNamespacedCustomObject({ ...jobPath, namespace, name })) as HPCJob;
}

export async function createJob(c: Clients, job: HPCJob): Promise<HPCJob> {
  const namespace = job.metadata.namespace;
  return (await c.api.createNamespacedCustomObject({ ...jobPath, namespace, body: job })) as HPCJob;
}

export async function listJobs(c: Clients, namespace: string | undefined): Promise<HPCJob[]> {
  const list = (
    namespace === undefined
      ? await c.api.listClusterCustomObject(jobPath)
      : await c.api.listNamespacedCustomObject({ ...jobPath, namespace })
  ) as { items: HPCJob[] };
  return list.items;
}

export async function deleteJob(c: Clients, namespace: string, name: string): Promise<void> {
  await c.api.deleteNamespacedCustomObject({ ...jobPath, namespace, name, propagationPolicy: 'Background' });
}

/** The launcher's own container (mpirun's output) of a pod, or why it cannot be read: the pod may be cleaned up. */
async function launcherContainer(c: Clients, namespace: string, podName: string): Promise<string | undefined> {
  const pod = await c.core.readNamespacedPod({ name: podName, namespace });
  return mainContainerName(pod);
}

export async function launcherLog(c: Clients, namespace: string, podName: string): Promise<string> {
  try {
    const container = await launcherContainer(c, namespace, podName);
    return await c.core.readNamespacedPodLog({ name: podName, namespace, ...(container ? { container } : {}) });
  } catch (err) {
    throw new Error(`cannot read the log of ${podName}: ${apiErrorMessage(err)}`);
  }
}

/** Streams the launcher's log to `out` until the container ends (or the stream is cut). */
export async function followLauncherLog(
  c: Clients,
  namespace: string,
  podName: string,
  out: NodeJS.WritableStream,
): Promise<void> {
  const container = await launcherContainer(c, namespace, podName).catch((err: unknown) => {
    throw new Error(`cannot read the log of ${podName}: ${apiErrorMessage(err)}`);
  });
  // A log cannot be read before the container starts: wait for it to run (or to have ended already).
  for (;;) {
    const pod = await c.core.readNamespacedPod({ name: podName, namespace });
    const state = pod.status?.containerStatuses?.find((s) => s.name === container)?.state;
    if (state?.running || state?.terminated || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed')
      break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const stream = new PassThrough();
  const ended = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  stream.pipe(out, { end: false });
  await new Log(c.kc).log(namespace, podName, container ?? '', stream, { follow: true });
  await ended;
}
