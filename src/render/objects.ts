// The objects beside the pods. A job's own: the Secret with its ssh keys and, for a batch job, a ConfigMap with its
// script. Its namespace's, shared by every job there: the headless Service that gives pods DNS names and the
// ConfigMap of entrypoint scripts. The hostfile and ssh_config are written by the launcher from its environment,
// so no object grows with the job. Pure builders; the controller creates each once and never rewrites it.
import type { V1ConfigMap, V1Secret, V1Service } from '@kubernetes/client-node';
import type { HPCJob } from '../api/types.js';
import { renderBatchFiles } from './batch.js';
import { SCRIPT_FILES, SCRIPTS_CONFIGMAP } from './entrypoints.js';
import { runsRanks } from './fabric.js';
import {
  configMapName,
  HOSTS_SERVICE,
  LABEL_MANAGED_BY,
  launcherHostname,
  launcherName,
  MANAGED_BY,
  ownedMetadata,
  sharedMetadata,
  sshSecretName,
  workerHostname,
} from './names.js';
import { renderKnownHosts } from './ssh.js';

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

/** known_hosts patterns covering every pod of the job (renderKnownHosts adds the port forms). */
function hostPatterns(job: HPCJob): string[] {
  return [`${job.metadata.name}-worker-*`, `${launcherName(job)}*`];
}

/**
 * Headless, and publishing pods before they are ready: a worker must resolve while sshd is still starting. One per
 * namespace, selecting every pod of the operator's there: a pod's name carries its job's, so names never clash.
 */
export function renderHostsService(namespace: string): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: sharedMetadata(namespace, HOSTS_SERVICE),
    spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { [LABEL_MANAGED_BY]: MANAGED_BY } },
  };
}

/** The entrypoint scripts, once per namespace; immutable, since running pods read them. */
export function renderScriptsConfigMap(namespace: string): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: sharedMetadata(namespace, SCRIPTS_CONFIGMAP),
    immutable: true,
    data: SCRIPT_FILES,
  };
}

/**
 * The job's ssh identity (user key) and the workers' sshd host key, made once per job. Immutable: a key that
 * changed under running pods would break the job. known_hosts lives here, beside the host key it is made of, so
 * ssh can check hosts strictly.
 */
export function renderSshSecret(job: HPCJob, keys: { user: KeyPair; host: KeyPair }): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: ownedMetadata(job, sshSecretName(job)),
    type: 'Opaque',
    immutable: true,
    stringData: {
      id_key: keys.user.privateKey,
      'id_key.pub': keys.user.publicKey,
      authorized_keys: keys.user.publicKey,
      host_key: keys.host.privateKey,
      'host_key.pub': keys.host.publicKey,
      known_hosts: renderKnownHosts(hostPatterns(job), keys.host.publicKey),
    },
  };
}

/** Hosts in rank order: the launcher first when it runs ranks (rank 0 then sits beside mpirun), then workers. */
export function hostfileHosts(job: HPCJob): { name: string; slots: number }[] {
  const slots = job.spec.slotsPerWorker ?? 1;
  const hosts = Array.from({ length: job.spec.workers }, (_, i) => ({ name: workerHostname(job, i), slots }));
  return runsRanks(job, 'launcher') ? [{ name: launcherHostname(job), slots }, ...hosts] : hosts;
}

/** A batch job's own files: its script, the environment it expects and its task list (render/batch.ts). */
export function renderBatchConfigMap(job: HPCJob): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: ownedMetadata(job, configMapName(job)),
    immutable: true,
    data: renderBatchFiles(job, hostfileHosts(job)),
  };
}
