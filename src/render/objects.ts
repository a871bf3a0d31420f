// The job's shared objects: the headless Service that gives every pod a DNS name, the Secret with the job's ssh
// keys, and the ConfigMap with the hostfile, ssh_config and entrypoint scripts. Pure builders; the controller
// creates each once and never rewrites it.
import type { V1ConfigMap, V1Secret, V1Service } from '@kubernetes/client-node';
import type { HPCJob } from '../api/types.js';
import type { ClusterConfig } from '../config/cluster-config.js';
import { renderBatchFiles } from './batch.js';
import { ENTRYPOINT_FILES } from './entrypoints.js';
import { runsRanks } from './fabric.js';
import { renderHostfile } from './hostfile.js';
import {
  configMapName,
  IDENTITY_FILE,
  LABEL_JOB_NAME,
  LABEL_ROLE,
  launcherHostname,
  launcherName,
  ownedMetadata,
  serviceName,
  SSH_DIR,
  sshSecretName,
  workerHostname,
} from './names.js';
import { renderKnownHosts, renderSshConfig } from './ssh.js';

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

/** ssh_config and known_hosts patterns covering every pod of the job (renderKnownHosts adds the port forms). */
function hostPatterns(job: HPCJob): string[] {
  return [`${job.metadata.name}-worker-*`, `${launcherName(job)}*`];
}

/**
 * The launcher is in the Service when other pods must reach it by name: it runs ranks, or the MPI is Hydra-based
 * (MPICH, Intel MPI), whose proxies connect back to mpiexec on the launcher's hostname.
 */
export function serviceSelectsLauncher(job: HPCJob): boolean {
  return runsRanks(job, 'launcher') || (job.spec.mpiImplementation ?? 'OpenMPI') !== 'OpenMPI';
}

/** Headless, and publishing pods before they are ready: a worker must resolve while sshd is still starting. */
export function renderService(job: HPCJob): V1Service {
  const selector: Record<string, string> = { [LABEL_JOB_NAME]: job.metadata.name };
  if (!serviceSelectsLauncher(job)) selector[LABEL_ROLE] = 'worker';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: ownedMetadata(job, serviceName(job)),
    spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector },
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

export function renderConfigMap(job: HPCJob, _config: ClusterConfig, sshPort: number): V1ConfigMap {
  const hosts = hostfileHosts(job);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: ownedMetadata(job, configMapName(job)),
    data: {
      hostfile: renderHostfile(job.spec.mpiImplementation ?? 'OpenMPI', hosts),
      ssh_config: renderSshConfig({
        port: sshPort,
        identityFile: IDENTITY_FILE,
        knownHostsFile: `${SSH_DIR}/known_hosts`,
        hostPatterns: hostPatterns(job),
      }),
      ...ENTRYPOINT_FILES,
      ...renderBatchFiles(job, hosts),
    },
  };
}
