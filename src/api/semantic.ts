// What the schema lets through but this cluster cannot run: names that must exist in the operator's cluster
// configuration, and names the operator keeps for itself. The controller marks such a job Failed (InvalidSpec).
import type { ClusterConfig } from '../config/cluster-config.js';
import type { HPCJob } from './types.js';

/** Volumes the operator adds to every pod (ssh keys, config, run dir, /dev/shm) are named with this prefix. */
export const RESERVED_VOLUME_PREFIX = 'hpcjob-';
/** Variables the operator sets for its entrypoint scripts. */
export const RESERVED_ENV_PREFIX = 'HPCJOB_';

const known = (names: string[]) => (names.length > 0 ? names.join(', ') : 'none');

function networkProblems(job: HPCJob, config: ClusterConfig): string[] {
  if (job.spec.network?.mode !== 'sriov') return [];
  const problems: string[] = [];
  const interfaces = new Map<string, string>();
  (job.spec.network.networks ?? []).forEach((name, i) => {
    const network = config.sriovNetworks[name];
    if (!network) {
      problems.push(
        `spec.network.networks[${i}]: unknown SR-IOV network "${name}" (configured: ${known(Object.keys(config.sriovNetworks))})`,
      );
      return;
    }
    // Same default as the renderer: net1, net2, ... by position.
    const iface = network.interfaceName ?? `net${i + 1}`;
    const other = interfaces.get(iface);
    if (other) problems.push(`spec.network.networks[${i}]: "${name}" and "${other}" both use interface ${iface}`);
    interfaces.set(iface, name);
  });
  return problems;
}

function placementProblems(job: HPCJob, config: ClusterConfig): string[] {
  const domain = job.spec.placement?.sameDomain;
  if (domain === undefined || config.topologyKeys[domain]) return [];
  return [
    `spec.placement.sameDomain: unknown topology domain "${domain}" (configured: ${known(Object.keys(config.topologyKeys))})`,
  ];
}

function reservedNameProblems(job: HPCJob): string[] {
  const problems: string[] = [];
  (job.spec.volumes ?? []).forEach((v, i) => {
    if (v.name.startsWith(RESERVED_VOLUME_PREFIX)) {
      problems.push(`spec.volumes[${i}].name: names starting with ${RESERVED_VOLUME_PREFIX} are the operator's`);
    }
  });
  (job.spec.env ?? []).forEach((e, i) => {
    if (e.name.startsWith(RESERVED_ENV_PREFIX)) {
      problems.push(`spec.env[${i}].name: variables starting with ${RESERVED_ENV_PREFIX} are set by the operator`);
    }
  });
  return problems;
}

/** Why this (schema-valid) job cannot run on this cluster, naming the field; undefined when it can. */
export function checkRunnable(job: HPCJob, config: ClusterConfig): string | undefined {
  const problems = [...networkProblems(job, config), ...placementProblems(job, config), ...reservedNameProblems(job)];
  return problems.length > 0 ? problems.join('; ') : undefined;
}
