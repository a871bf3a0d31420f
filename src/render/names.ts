// Names and labels of everything an HPCJob owns. Names are derived from the job's name only, so a create that
// is repeated after a crash finds the object it made the first time. The CRD limits metadata.name to 50
// characters so that the longest of these, <name>-worker-99999, is still a 63-character DNS label.
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, KIND, type HPCJob } from '../api/types.js';

export const LABEL_JOB_NAME = 'hpcjob.dev/job-name';
export const LABEL_ROLE = 'hpcjob.dev/role';
export const LABEL_WORKER_INDEX = 'hpcjob.dev/worker-index';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'hpcjob-operator';
/** The attempt (1 + restarts counted when the pod was created), on every pod: earlier attempts' pods are stale. */
export const ANNOTATION_ATTEMPT = 'hpcjob.dev/attempt';
/** Keeps the launcher pod in the API until the operator has recorded how it ended (its exit code). */
export const LAUNCHER_FINALIZER = 'hpcjob.dev/launcher-result';
/** The name of the pod's main container (the launcher's or the worker's own, beside any sidecar). */
export const ANNOTATION_MAIN_CONTAINER = 'hpcjob.dev/main-container';
/** The operator's caches list and watch only objects carrying this label. */
export const MANAGED_BY_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;

export type Role = 'launcher' | 'worker';

export const launcherName = (job: HPCJob): string => `${job.metadata.name}-launcher`;
export const workerName = (job: HPCJob, index: number): string => `${job.metadata.name}-worker-${index}`;
/**
 * The headless Service that gives pods their DNS names, one per namespace and shared by its jobs (a job's pod names
 * already carry the job's name): every pod's subdomain.
 */
export const HOSTS_SERVICE = 'hpcjob-hosts';
export const serviceName = (_job: HPCJob): string => HOSTS_SERVICE;
export const sshSecretName = (job: HPCJob): string => `${job.metadata.name}-ssh`;
/** Only a batch job has a ConfigMap of its own: its script and the environment it expects. */
export const configMapName = (job: HPCJob): string => `${job.metadata.name}-config`;
/** The NetworkPolicy that admits only the job's own pods (a different kind from the Service: the names may match). */
export const networkPolicyName = (job: HPCJob): string => job.metadata.name;
/** The job's PodGroup: one per job, named after it (a different kind from its Service: the names may match). */
export const podGroupName = (job: HPCJob): string => job.metadata.name;

/** <worker>.<service>: resolves from any pod of the namespace through its DNS search path. */
export const workerHostname = (job: HPCJob, index: number): string => `${workerName(job, index)}.${serviceName(job)}`;
export const launcherHostname = (job: HPCJob): string => `${launcherName(job)}.${serviceName(job)}`;
/** <worker>.<service>.<namespace>.svc: resolves from any namespace. */
export const workerFqdn = (job: HPCJob, index: number): string =>
  `${workerHostname(job, index)}.${job.metadata.namespace}.svc`;

export function jobLabels(job: HPCJob): Record<string, string> {
  return { [LABEL_JOB_NAME]: job.metadata.name, [LABEL_MANAGED_BY]: MANAGED_BY };
}

export function roleLabels(job: HPCJob, role: Role, index?: number): Record<string, string> {
  return {
    ...jobLabels(job),
    [LABEL_ROLE]: role,
    ...(index === undefined ? {} : { [LABEL_WORKER_INDEX]: String(index) }),
  };
}

/** A label selector string for one job's children, e.g. for `kubectl get pods -l`. */
export const jobSelector = (job: HPCJob): string => `${LABEL_JOB_NAME}=${job.metadata.name},${MANAGED_BY_SELECTOR}`;

/** Metadata of an object its namespace's jobs share: no owner (it outlives every job), the operator's label. */
export function sharedMetadata(namespace: string, name: string): V1ObjectMeta {
  return { name, namespace, labels: { [LABEL_MANAGED_BY]: MANAGED_BY } };
}

/** Metadata of an object the job owns: its name, the job's namespace and labels (the caches select on them), the job as owner. */
export function ownedMetadata(job: HPCJob, name: string): V1ObjectMeta {
  return { name, namespace: job.metadata.namespace, labels: jobLabels(job), ownerReferences: [ownerReference(job)] };
}

/** The HPCJob as the controlling owner: the garbage collector deletes children with it, foreground-aware. */
export function ownerReference(job: HPCJob): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: job.metadata.name,
    uid: job.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

// Paths inside the pods, shared by the pod, ConfigMap and Secret renderers and read by the entrypoint scripts.
/** The namespace's scripts ConfigMap, with a batch job's own ConfigMap projected beside it. */
export const CONFIG_DIR = '/etc/hpcjob/config';
/** The Secret: id_key, id_key.pub, authorized_keys, host_key, host_key.pub, known_hosts. */
export const SSH_DIR = '/etc/hpcjob/ssh';
/** A small memory-backed directory for the private copy (0600) of the key and sshd's runtime files. */
export const RUN_DIR = '/run/hpcjob';
/** Where the entrypoint copies id_key for ssh, which refuses a key readable by others (as with fsGroup). */
export const IDENTITY_FILE = `${RUN_DIR}/id_key`;
