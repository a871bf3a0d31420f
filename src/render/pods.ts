// Worker and launcher pods. The user's role template is the base; the operator's fields are set over it: name,
// labels, owner, hostname/subdomain, the main container's image, command and environment, the ssh and config
// volumes, and the fabric (resources, networks, placement). Pure: the same inputs give the same pod.
import type {
  V1Affinity,
  V1Container,
  V1ContainerPort,
  V1EnvVar,
  V1Pod,
  V1PodSpec,
  V1ResourceRequirements,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { HPCJob, MPIImplementation } from '../api/types.js';
import type { ClusterConfig } from '../config/cluster-config.js';
import {
  extendedResources,
  fabricEnv,
  needsIpcLock,
  NETWORKS_ANNOTATION,
  networksAnnotation,
  placementAffinity,
  runsRanks,
  sriovAttachments,
  usesHostNetwork,
} from './fabric.js';
import { BATCH_PROGRAM } from './batch.js';
import { SCRIPTS_CONFIGMAP } from './entrypoints.js';
import { sshKeyAccess, withRestrictedDefaults, type PodSecurityLevel } from './pod-security.js';
import { jobIdentity, loginName } from '../policy/identity.js';
import { withIdentity, withReadOnlyHostPaths } from './site-identity.js';
import {
  ANNOTATION_ATTEMPT,
  LAUNCHER_FINALIZER,
  ANNOTATION_MAIN_CONTAINER,
  configMapName,
  CONFIG_DIR,
  launcherName,
  ownerReference,
  roleLabels,
  RUN_DIR,
  serviceName,
  SSH_DIR,
  sshSecretName,
  workerName,
  type Role,
} from './names.js';

/**
 * How long the launcher waits for every worker's sshd before it gives up: 5 minutes, and a second more per 50
 * workers (probed HPCJOB_WAIT_PARALLELISM at a time, a slow host cannot hold the others up for longer than a probe).
 */
export const waitTimeoutSeconds = (workers: number): number => 300 + Math.ceil(workers / 50);
/** Written by the entrypoints from their environment (common.sh, launcher.sh): no object grows with the job. */
const SSH_CONFIG = `${RUN_DIR}/ssh_config`;
const HOSTFILE = `${RUN_DIR}/hostfile`;

const VOLUME_SSH = 'hpcjob-ssh';
const VOLUME_CONFIG = 'hpcjob-config';
const VOLUME_RUN = 'hpcjob-run';
const VOLUME_SHM = 'hpcjob-shm';

/** Later lists win on a repeated name; an item keeps the position where its name first appeared. */
function mergeByName<T extends { name: string }>(...lists: (T[] | undefined)[]): T[] {
  const byName = new Map<string, T>();
  for (const item of lists.flatMap((l) => l ?? [])) byName.set(item.name, item);
  return [...byName.values()];
}

const envList = (vars: Record<string, string>): V1EnvVar[] =>
  Object.entries(vars).map(([name, value]) => ({ name, value }));

/** How each MPI finds the hostfile and makes its ssh use the job's ssh_config (port, key, known hosts). */
function mpiEnv(impl: MPIImplementation): Record<string, string> {
  const sshArgs = `-F ${SSH_CONFIG}`;
  switch (impl) {
    case 'OpenMPI':
      // Open MPI 5 (PRRTE) may ignore the ORTE names: both sets, or ranks silently run on the launcher alone.
      return {
        OMPI_MCA_orte_default_hostfile: HOSTFILE,
        PRTE_MCA_prte_default_hostfile: HOSTFILE,
        OMPI_MCA_plm_rsh_args: sshArgs,
        PRTE_MCA_plm_ssh_args: sshArgs,
        OMPI_MCA_orte_keep_fqdn_hostnames: 'true',
        PRTE_MCA_prte_keep_fqdn_hostnames: 'true',
      };
    case 'MPICH':
      return { HYDRA_HOST_FILE: HOSTFILE, HYDRA_LAUNCHER: 'ssh', HYDRA_LAUNCHER_EXTRA_ARGS: sshArgs };
    case 'IntelMPI':
      return {
        I_MPI_HYDRA_HOST_FILE: HOSTFILE,
        I_MPI_HYDRA_BOOTSTRAP: 'ssh',
        I_MPI_HYDRA_BOOTSTRAP_EXEC_EXTRA_ARGS: sshArgs,
      };
  }
}

/** What the entrypoint scripts read. */
function scriptEnv(job: HPCJob, sshPort: number): Record<string, string> {
  // Ranks started over ssh do not see the worker pod's environment: the launcher forwards the job's own
  // variables and the names the user lists (NCCL_* and UCX_* are forwarded by the script itself).
  const forward = [...new Set([...(job.spec.forwardEnv ?? []), ...(job.spec.env ?? []).map((e) => e.name)])];
  return {
    HPCJOB_SSH_PORT: String(sshPort),
    HPCJOB_CONFIG_DIR: CONFIG_DIR,
    HPCJOB_SSH_DIR: SSH_DIR,
    HPCJOB_RUN_DIR: RUN_DIR,
    HPCJOB_MPI_IMPLEMENTATION: job.spec.mpiImplementation ?? 'OpenMPI',
    HPCJOB_FORWARD_ENV: forward.join(','),
    // The hosts, from which the launcher writes the hostfile: <job>-worker-<i>.<domain>, i < workers.
    HPCJOB_JOB_NAME: job.metadata.name,
    HPCJOB_WORKERS: String(job.spec.workers),
    HPCJOB_SLOTS_PER_WORKER: String(job.spec.slotsPerWorker ?? 1),
    HPCJOB_HOST_DOMAIN: serviceName(job),
    HPCJOB_LAUNCHER_RUNS_RANKS: String(runsRanks(job, 'launcher')),
  };
}

/** The namespace's scripts; a batch job's own files (script, environment) projected beside them. */
function configVolume(job: HPCJob): V1Volume {
  if (!job.spec.batchScript) return { name: VOLUME_CONFIG, configMap: { name: SCRIPTS_CONFIGMAP, defaultMode: 0o444 } };
  return {
    name: VOLUME_CONFIG,
    projected: {
      defaultMode: 0o444,
      sources: [{ configMap: { name: SCRIPTS_CONFIGMAP } }, { configMap: { name: configMapName(job) } }],
    },
  };
}

function operatorVolumes(job: HPCJob, role: Role, sshMode: number): V1Volume[] {
  const volumes: V1Volume[] = [
    { name: VOLUME_SSH, secret: { secretName: sshSecretName(job), defaultMode: sshMode } },
    configVolume(job),
    // The hostfile of a 100,000-worker job is about 6 MiB.
    { name: VOLUME_RUN, emptyDir: { medium: 'Memory', sizeLimit: '32Mi' } },
  ];
  if (runsRanks(job, role)) {
    // The runtime's 64 MiB /dev/shm is too small for NCCL and MPI shared-memory transports.
    const size = job.spec.sharedMemory;
    volumes.push({
      name: VOLUME_SHM,
      emptyDir: { medium: 'Memory', ...(size === undefined ? {} : { sizeLimit: String(size) }) },
    });
  }
  return volumes;
}

function operatorMounts(job: HPCJob, role: Role): V1VolumeMount[] {
  const mounts: V1VolumeMount[] = [
    { name: VOLUME_SSH, mountPath: SSH_DIR, readOnly: true },
    { name: VOLUME_CONFIG, mountPath: CONFIG_DIR, readOnly: true },
    { name: VOLUME_RUN, mountPath: RUN_DIR },
  ];
  if (runsRanks(job, role)) mounts.push({ name: VOLUME_SHM, mountPath: '/dev/shm' });
  return mounts;
}

function mergeAffinity(base: V1Affinity | undefined, extra: V1Affinity | undefined): V1Affinity | undefined {
  if (!extra) return base;
  const out: V1Affinity = { ...base };
  for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
    const terms = extra[kind]?.requiredDuringSchedulingIgnoredDuringExecution;
    if (!terms) continue;
    const own = out[kind];
    out[kind] = {
      ...own,
      requiredDuringSchedulingIgnoredDuringExecution: [
        ...(own?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
        ...terms,
      ],
    };
  }
  return out;
}

/** The template's requests and limits with the job's quantities set in both (requests equal limits). */
function resourcesOver(
  base: V1ResourceRequirements | undefined,
  quantities: Record<string, string>,
): V1ResourceRequirements {
  const requests = { ...base?.requests, ...quantities };
  const limits = { ...base?.limits, ...quantities };
  return {
    ...base,
    ...(Object.keys(requests).length > 0 ? { requests } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
  };
}

function mainContainer(
  job: HPCJob,
  config: ClusterConfig,
  role: Role,
  base: V1Container,
  sshPort: number,
): V1Container {
  const ranks = runsRanks(job, role);
  const hostNetwork = usesHostNetwork(job, role);
  const script = ['/bin/sh', `${CONFIG_DIR}/${role}.sh`];

  const quantities: Record<string, string> = {};
  if (ranks) {
    if (job.spec.resources?.cpu !== undefined) quantities.cpu = String(job.spec.resources.cpu);
    if (job.spec.resources?.memory !== undefined) quantities.memory = String(job.spec.resources.memory);
    for (const [name, count] of Object.entries(extendedResources(job, config, role))) quantities[name] = String(count);
  }

  // sshd listens on the workers (and on a host-network launcher that runs ranks); on the host network the port
  // is also a hostPort, so the scheduler never puts two pods with the same port on one node.
  const ports: V1ContainerPort[] = (base.ports ?? []).filter((p) => p.containerPort !== sshPort);
  if (role === 'worker' || hostNetwork) {
    ports.push({ name: 'ssh', containerPort: sshPort, protocol: 'TCP', ...(hostNetwork ? { hostPort: sshPort } : {}) });
  }

  const container: V1Container = {
    ...base,
    name: base.name || role,
    image: job.spec.image,
    command: role === 'launcher' ? [...script, ...(job.spec.command ?? BATCH_PROGRAM)] : script,
    env: mergeByName(
      envList(mpiEnv(job.spec.mpiImplementation ?? 'OpenMPI')),
      envList(fabricEnv(job, config)),
      // A default the job may change: how long the launcher waits for its workers.
      envList({ HPCJOB_WAIT_TIMEOUT_SECONDS: String(waitTimeoutSeconds(job.spec.workers)) }),
      base.env,
      job.spec.env,
      envList(scriptEnv(job, sshPort)),
    ),
    volumeMounts: mergeByName<V1VolumeMount>(base.volumeMounts, job.spec.volumeMounts, operatorMounts(job, role)),
    resources: resourcesOver(base.resources, quantities),
    ports,
  };
  // The operator's command is the whole command line: arguments from the template would be appended to it.
  delete container.args;
  if (job.spec.workingDir !== undefined) container.workingDir = job.spec.workingDir;
  if (role === 'worker') {
    container.readinessProbe = { tcpSocket: { port: sshPort }, periodSeconds: 2, failureThreshold: 3 };
  }
  if (needsIpcLock(job, config, role)) {
    const caps = base.securityContext?.capabilities;
    container.securityContext = {
      ...base.securityContext,
      capabilities: { ...caps, add: [...new Set([...(caps?.add ?? []), 'IPC_LOCK'])] },
    };
  }
  if (ports.length === 0) delete container.ports;
  return container;
}

interface PodParts {
  role: Role;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function renderPod(
  job: HPCJob,
  config: ClusterConfig,
  parts: PodParts,
  sshPort: number,
  level: PodSecurityLevel,
): V1Pod {
  const { role, name } = parts;
  const template = structuredClone(role === 'worker' ? job.spec.worker?.template : job.spec.launcher?.template) ?? {};
  // The site's identity goes on the template first, so the ssh keys' group follows the identity's gid.
  const identity = jobIdentity(job, config.sitePolicy);
  const templateSpec: V1PodSpec = template.spec ?? { containers: [] };
  const base = identity.kind === 'mapped' ? withIdentity(templateSpec, identity.identity) : templateSpec;
  const containers = base.containers ?? [];
  // The main container is the one named after the role, else the first; others (sidecars) are kept as given.
  const found = containers.findIndex((c) => c.name === role);
  const mainIndex = found >= 0 ? found : 0;
  const main = containers[mainIndex] ?? { name: role };
  const access = sshKeyAccess(base, main);

  const attachments = runsRanks(job, role) ? sriovAttachments(job, config) : [];
  const newContainers = [...containers];
  newContainers[mainIndex] = mainContainer(job, config, role, main, sshPort);
  // Sidecars may sit beside the main container, and container statuses come sorted by name: the pod says which
  // container's exit code is the job's.
  const annotations: Record<string, string> = {
    ...template.metadata?.annotations,
    ...parts.annotations,
    [ANNOTATION_MAIN_CONTAINER]: newContainers[mainIndex]!.name,
  };
  if (attachments.length > 0) annotations[NETWORKS_ANNOTATION] = networksAnnotation(attachments);

  let spec: V1PodSpec = {
    ...base,
    containers: newContainers,
    restartPolicy: 'Never',
    // <name>.<service> resolves through the headless Service: the hostfile and ssh use these names.
    hostname: name,
    subdomain: serviceName(job),
    volumes: mergeByName(base.volumes, job.spec.volumes, operatorVolumes(job, role, access.mode)),
    // Hydra's proxies call the launcher back by its short hostname: search the Service's domain too.
    dnsConfig: {
      ...base.dnsConfig,
      searches: [
        ...new Set([
          ...(base.dnsConfig?.searches ?? []),
          `${serviceName(job)}.${job.metadata.namespace}.svc.${config.clusterDomain}`,
        ]),
      ],
    },
  };
  if (access.securityContext) spec.securityContext = access.securityContext;
  const affinity = mergeAffinity(base.affinity, placementAffinity(job, config, role));
  if (affinity) spec.affinity = affinity;
  if (usesHostNetwork(job, role)) {
    spec.hostNetwork = true;
    // Without it a host-network pod resolves with the node's resolv.conf and cannot find the Service.
    spec.dnsPolicy = 'ClusterFirstWithHostNet';
  } else {
    delete spec.hostNetwork;
    if (spec.dnsPolicy === 'ClusterFirstWithHostNet') delete spec.dnsPolicy;
  }
  // Again over the whole pod: a main container the template did not have is made here.
  if (identity.kind === 'mapped') spec = withIdentity(spec, identity.identity);
  if (identity.kind !== 'exempt') spec = withReadOnlyHostPaths(spec, config.sitePolicy, loginName(identity, job));
  if (level === 'restricted') spec = withRestrictedDefaults(spec);

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: job.metadata.namespace,
      labels: { ...template.metadata?.labels, ...parts.labels },
      annotations,
      ownerReferences: [ownerReference(job)],
      ...(role === 'launcher' ? { finalizers: [LAUNCHER_FINALIZER] } : {}),
    },
    spec,
  };
}

/** Worker <index> of an attempt: sshd in the foreground, ready when its port accepts connections. */
export function renderWorkerPod(
  job: HPCJob,
  config: ClusterConfig,
  index: number,
  sshPort: number,
  level: PodSecurityLevel = 'privileged',
  attempt = 1,
): V1Pod {
  return renderPod(
    job,
    config,
    {
      role: 'worker',
      name: workerName(job, index),
      labels: roleLabels(job, 'worker', index),
      annotations: { [ANNOTATION_ATTEMPT]: String(attempt) },
    },
    sshPort,
    level,
  );
}

/**
 * The launcher of an attempt: runs the job's command once (restartPolicy Never). Its finalizer keeps the pod, and
 * so its exit code, until the operator has written the result, whoever deletes or evicts it.
 */
export function renderLauncherPod(
  job: HPCJob,
  config: ClusterConfig,
  attempt: number,
  sshPort: number,
  level: PodSecurityLevel = 'privileged',
): V1Pod {
  return renderPod(
    job,
    config,
    {
      role: 'launcher',
      name: launcherName(job),
      labels: roleLabels(job, 'launcher'),
      annotations: { [ANNOTATION_ATTEMPT]: String(attempt) },
    },
    sshPort,
    level,
  );
}
