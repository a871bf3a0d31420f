// The job's NetworkPolicy: its pods accept connections only from pods of the same job. MPI needs every port between
// the job's pods (sshd on the workers, then the ports Open MPI's daemons, Hydra's proxies and the ranks open to each
// other and back to mpirun on the launcher), so the rule names no port; what it keeps out is everything else: other
// jobs and any other pod of the cluster. Egress is left open (DNS, the API server, storage).
//
// What it does not cover, by Kubernetes' own rules:
// - host-network pods: a policy does not apply to them, and many network plugins see traffic from them as the
//   node's, which matches no podSelector. A host-network job gets no policy: its launcher (on the pod network unless
//   it runs ranks) would otherwise refuse the host-network workers' connections back to mpirun.
// - SR-IOV / Multus secondary interfaces: NetworkPolicy governs the pod's primary (cluster) network only.
// - enforcement: the object is inert unless the cluster's network plugin enforces NetworkPolicy.
import type { V1LabelSelector, V1NetworkPolicy } from '@kubernetes/client-node';
import type { HPCJob } from '../api/types.js';
import type { ClusterConfig } from '../config/cluster-config.js';
import { jobLabels, networkPolicyName, ownedMetadata } from './names.js';

/** Whether this job gets a NetworkPolicy: the site's switch is on and the job is not on the host network. */
export function wantsNetworkPolicy(job: HPCJob, config: ClusterConfig): boolean {
  return config.networkPolicy && job.spec.network?.mode !== 'host';
}

/**
 * A NetworkPolicy as the API takes it. client-node's model names the ingress rule's `from` `_from` (its serializer
 * renamed it on the way out); the operator sends JSON as it is, so the wire name is the one to write: a `_from`
 * would be dropped as an unknown field, leaving a rule that admits everything.
 */
export type NetworkPolicyBody = Omit<V1NetworkPolicy, 'spec'> & {
  spec: {
    podSelector: V1LabelSelector;
    policyTypes: string[];
    ingress: { from: { podSelector: V1LabelSelector }[] }[];
  };
};

/** The policy, or undefined when the job gets none (see wantsNetworkPolicy). */
export function renderNetworkPolicy(job: HPCJob, config: ClusterConfig): NetworkPolicyBody | undefined {
  if (!wantsNetworkPolicy(job, config)) return undefined;
  // Every pod of this job, launcher and workers, and no other job's: the job-name label is set by the operator over
  // whatever the pod template says. A policy without namespaceSelector only matches pods of its own namespace.
  const thisJob = { matchLabels: jobLabels(job) };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: ownedMetadata(job, networkPolicyName(job)),
    spec: {
      podSelector: thisJob,
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: thisJob }] }],
    },
  };
}
