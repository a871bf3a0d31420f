// A site policy for the policy tests: two mapped users, a claim, a pipeline namespace bound to one identity, an
// exempt namespace, home directories per user and a read-only software tree.
import { parseClusterConfig, type ClusterConfig } from '../../../src/config/cluster-config.js';
import type { HPCJob } from '../../../src/api/types.js';
import { makeJob } from '../api/fixtures.js';

export const ALICE = { user: 'alice', uid: 1234, gid: 1234, groups: [5000] };

export const siteConfig: ClusterConfig = parseClusterConfig({
  sriovNetworks: { 'ib-a': { networkAttachment: 'hpc/ib-a', resourceName: 'nvidia.com/hostdev' } },
  sitePolicy: {
    identity: {
      enabled: true,
      users: { alice: { uid: 1234, gid: 1234, groups: [5000] }, bob: { uid: 1235 } },
      claims: { uid: 'hpcjob.dev/uid', gid: 'hpcjob.dev/gid', groups: 'hpcjob.dev/groups', name: 'hpcjob.dev/login' },
      namespaces: { pipelines: { uid: 2000, gid: 2000 } },
      exemptNamespaces: ['site-ops'],
    },
    hostPaths: [
      { path: '/home/{user}', access: 'ReadWrite' },
      { path: '/apps', access: 'ReadOnly' },
      { path: '/apps/scratch', access: 'ReadWrite' },
    ],
    capabilities: ['SYS_NICE'],
    serviceAccounts: ['default', 'mpi-runner'],
    hostNetworkNamespaces: ['hostnet-ok'],
    multusNetworks: ['allowed-net', 'hpc/ib-a'],
  },
});

/** A job recorded as alice's, with these fields over the defaults. */
export function aliceJob(spec: Partial<HPCJob['spec']> = {}, namespace = 'team-a'): HPCJob {
  const job = makeJob({ ...spec, submitter: { ...ALICE } });
  job.metadata.namespace = namespace;
  return job;
}
