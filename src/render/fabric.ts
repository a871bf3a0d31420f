// Fabric settings of the pods that run ranks: extended resources (GPUs, RDMA devices, SR-IOV pools), the Multus
// networks, NCCL/UCX environment and placement. Pure functions of the job and the cluster configuration.
import type { V1Affinity, V1PodAffinityTerm } from '@kubernetes/client-node';
import type { HPCJob } from '../api/types.js';
import type { ClusterConfig, SriovNetwork } from '../config/cluster-config.js';
import { LABEL_JOB_NAME, LABEL_ROLE, type Role } from './names.js';

/** Multus reads the pod's extra networks from this annotation. */
export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';

/** Workers always run ranks; the launcher only when asked to. Only these pods get GPUs and fabric. */
export function runsRanks(job: HPCJob, role: Role): boolean {
  return role === 'worker' || job.spec.launcher?.runsRanks === true;
}

export interface SriovAttachment {
  name: string;
  network: SriovNetwork;
  /** The interface name in the pod. */
  interface: string;
}

/** The job's SR-IOV networks in its order, with interface names; names missing from the config are skipped. */
export function sriovAttachments(job: HPCJob, config: ClusterConfig): SriovAttachment[] {
  if (job.spec.network?.mode !== 'sriov') return [];
  return (job.spec.network.networks ?? []).flatMap((name, i) => {
    const network = config.sriovNetworks[name];
    // Naming every interface ourselves (net1, net2, ... as Multus would) lets NCCL/UCX be pointed at them.
    return network ? [{ name, network, interface: network.interfaceName ?? `net${i + 1}` }] : [];
  });
}

/** The Multus annotation in its JSON form, which carries the namespace and the interface name of each network. */
export function networksAnnotation(attachments: SriovAttachment[]): string {
  return JSON.stringify(
    attachments.map(({ network, interface: iface }) => {
      const [first, second] = network.networkAttachment.split('/');
      return second === undefined
        ? { name: first, interface: iface }
        : { name: second, namespace: first, interface: iface };
    }),
  );
}

/** Extended resources of one pod: requested with limits equal to requests, as device plugins require. */
export function extendedResources(job: HPCJob, config: ClusterConfig, role: Role): Record<string, number> {
  if (!runsRanks(job, role)) return {};
  const out: Record<string, number> = {};
  const add = (name: string, count: number) => {
    if (count > 0) out[name] = (out[name] ?? 0) + count;
  };
  add(config.gpuResourceName, job.spec.resources?.gpus ?? 0);
  add(config.rdmaResourceName, job.spec.resources?.rdmaDevices ?? 0);
  // The annotation alone does not reserve a VF; each attachment asks its device pool for one.
  for (const { network } of sriovAttachments(job, config)) add(network.resourceName, 1);
  return out;
}

/** RDMA pins memory (ibv_reg_mr), which needs IPC_LOCK unless the node's runtime lifts the memlock limit. */
export function needsIpcLock(job: HPCJob, config: ClusterConfig, role: Role): boolean {
  const rdma = (job.spec.resources?.rdmaDevices ?? 0) > 0 || job.spec.network?.mode === 'sriov';
  return config.allowIpcLock && rdma && runsRanks(job, role);
}

/** host network mode puts the pods that run ranks on the node's network. */
export function usesHostNetwork(job: HPCJob, role: Role): boolean {
  return job.spec.network?.mode === 'host' && runsRanks(job, role);
}

/**
 * NCCL/UCX environment: the site's defaults, then what the fabric implies, then the job's fabricEnv. The ssh
 * bootstrap keeps using the pod network; only the collective and point-to-point traffic moves to SR-IOV.
 */
export function fabricEnv(job: HPCJob, config: ClusterConfig): Record<string, string> {
  const derived: Record<string, string> = {};
  const interfaces = sriovAttachments(job, config).map((a) => a.interface);
  if (interfaces.length > 0) {
    // '=' makes NCCL match whole names: net1 must not also select net10.
    derived.NCCL_SOCKET_IFNAME = `=${interfaces.join(',')}`;
    derived.UCX_NET_DEVICES = interfaces.join(',');
  } else if ((job.spec.resources?.rdmaDevices ?? 0) === 0) {
    // No verbs device in the pod: skip NCCL's probe for InfiniBand and go straight to sockets.
    derived.NCCL_IB_DISABLE = '1';
  }
  return { ...config.defaultFabricEnv, ...derived, ...job.spec.fabricEnv };
}

/** The pods of this job that run ranks, for affinity terms. */
function rankPodsTerm(job: HPCJob, topologyKey: string): V1PodAffinityTerm {
  const roles = job.spec.launcher?.runsRanks ? ['worker', 'launcher'] : ['worker'];
  return {
    topologyKey,
    labelSelector: {
      matchLabels: { [LABEL_JOB_NAME]: job.metadata.name },
      matchExpressions: [{ key: LABEL_ROLE, operator: 'In', values: roles }],
    },
  };
}

/**
 * Placement as required pod (anti-)affinity among the job's rank pods. sameDomain works for the first pod too:
 * a term that matches the pod itself is satisfied when no other pod of the group is placed yet.
 */
export function placementAffinity(job: HPCJob, config: ClusterConfig, role: Role): V1Affinity | undefined {
  const placement = job.spec.placement;
  if (!placement || !runsRanks(job, role)) return undefined;
  const affinity: V1Affinity = {};
  const nodeKey = config.topologyKeys.node;
  if (placement.oneWorkerPerNode && nodeKey) {
    affinity.podAntiAffinity = { requiredDuringSchedulingIgnoredDuringExecution: [rankPodsTerm(job, nodeKey)] };
  }
  const domainKey = placement.sameDomain ? config.topologyKeys[placement.sameDomain] : undefined;
  if (domainKey) {
    affinity.podAffinity = { requiredDuringSchedulingIgnoredDuringExecution: [rankPodsTerm(job, domainKey)] };
  }
  return Object.keys(affinity).length > 0 ? affinity : undefined;
}
