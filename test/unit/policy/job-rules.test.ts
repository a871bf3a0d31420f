import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { multusNetworks, policyViolations } from '../../../src/policy/job-rules.js';
import { aliceJob, siteConfig } from './fixtures.js';

const W = 'spec.worker.template';
const withWorker = (template: V1PodTemplateSpec, namespace?: string) => aliceJob({ worker: { template } }, namespace);
const container = (securityContext: object) => ({ spec: { containers: [{ name: 'worker', securityContext }] } });

describe('policyViolations', () => {
  it('accepts a plain job of a mapped user', () => {
    expect(policyViolations(aliceJob(), siteConfig)).toEqual([]);
  });

  it('names both the foreign uid and the foreign host path of the seed attack', () => {
    const job = withWorker({
      spec: {
        securityContext: { runAsUser: 1000 },
        containers: [{ name: 'worker' }],
        volumes: [{ name: 'home', hostPath: { path: '/home' } }],
      },
    });
    const v = policyViolations(job, siteConfig);
    expect(v).toHaveLength(2);
    expect(v[0]).toMatch(
      /^spec\.worker\.template\.spec\.securityContext\.runAsUser: 1000 is not allowed: the submitter alice runs as uid 1234/,
    );
    expect(v[1]).toMatch(
      /^spec\.worker\.template\.spec\.volumes\[0\]\.hostPath\.path: \/home is not under a host path/,
    );
  });

  it.each<[string, V1PodTemplateSpec, string]>([
    ['root', container({ runAsUser: 0 }), `${W}.spec.containers[0].securityContext.runAsUser: 0 is not allowed`],
    ['another gid', container({ runAsGroup: 0 }), `${W}.spec.containers[0].securityContext.runAsGroup: 0`],
    ['privileged', container({ privileged: true }), `${W}.spec.containers[0].securityContext.privileged:`],
    [
      'escalation',
      container({ allowPrivilegeEscalation: true }),
      `${W}.spec.containers[0].securityContext.allowPrivilegeEscalation`,
    ],
    [
      'a capability',
      container({ capabilities: { add: ['SYS_ADMIN'] } }),
      `${W}.spec.containers[0].securityContext.capabilities.add: SYS_ADMIN`,
    ],
    [
      'IPC_LOCK asked by the template',
      container({ capabilities: { add: ['IPC_LOCK'] } }),
      'capabilities.add: IPC_LOCK',
    ],
    ['hostPID', { spec: { hostPID: true, containers: [] } }, `${W}.spec.hostPID: not allowed`],
    ['hostIPC', { spec: { hostIPC: true, containers: [] } }, `${W}.spec.hostIPC: not allowed`],
    [
      'hostNetwork',
      { spec: { hostNetwork: true, containers: [] } },
      `${W}.spec.hostNetwork: not allowed in namespace team-a`,
    ],
    ['nodeName', { spec: { nodeName: 'n1', containers: [] } }, `${W}.spec.nodeName: not allowed`],
    [
      'a service account',
      { spec: { serviceAccountName: 'admin', containers: [] } },
      `${W}.spec.serviceAccountName: "admin" is not allowed`,
    ],
    [
      'a foreign group',
      { spec: { securityContext: { supplementalGroups: [0] }, containers: [] } },
      `${W}.spec.securityContext.supplementalGroups: [0]`,
    ],
    [
      'a foreign fsGroup',
      { spec: { securityContext: { fsGroup: 0 }, containers: [] } },
      `${W}.spec.securityContext.fsGroup: 0`,
    ],
    [
      'an nfs volume',
      { spec: { containers: [], volumes: [{ name: 'n', nfs: { server: 's', path: '/' } }] } },
      `${W}.spec.volumes[0].nfs: nfs volumes are not allowed`,
    ],
    [
      'an init container as root',
      { spec: { containers: [], initContainers: [{ name: 'i', securityContext: { runAsUser: 0 } }] } },
      `${W}.spec.initContainers[0].securityContext.runAsUser`,
    ],
    [
      'a Multus network outside the list',
      { metadata: { annotations: { 'k8s.v1.cni.cncf.io/networks': 'evil-net' } }, spec: { containers: [] } },
      `${W}.metadata.annotations[k8s.v1.cni.cncf.io/networks]: team-a/evil-net not allowed`,
    ],
    [
      'a replaced default network',
      { metadata: { annotations: { 'v1.multus-cni.io/default-network': 'x' } }, spec: { containers: [] } },
      'v1.multus-cni.io/default-network]: team-a/x not allowed',
    ],
    [
      'an unreadable network list',
      { metadata: { annotations: { 'k8s.v1.cni.cncf.io/networks': '[{' } }, spec: { containers: [] } },
      'is not a network list',
    ],
  ])('rejects %s, naming the field', (_what, template, message) => {
    const v = policyViolations(withWorker(template), siteConfig);
    expect(v).toHaveLength(1);
    expect(v[0]).toContain(message);
  });

  it.each<[string, V1PodTemplateSpec]>([
    [
      'its own uid, gid and groups',
      {
        spec: {
          securityContext: { runAsUser: 1234, runAsGroup: 1234, fsGroup: 5000, supplementalGroups: [5000] },
          containers: [],
        },
      },
    ],
    [
      'an allowed capability and service account',
      {
        spec: {
          serviceAccountName: 'mpi-runner',
          containers: [{ name: 'w', securityContext: { capabilities: { add: ['SYS_NICE'] } } }],
        },
      },
    ],
    [
      'its home and the software tree',
      {
        spec: {
          containers: [],
          volumes: [
            { name: 'h', hostPath: { path: '/home/alice/run' } },
            { name: 'a', hostPath: { path: '/apps' } },
          ],
        },
      },
    ],
    [
      'allowed networks',
      {
        metadata: { annotations: { 'k8s.v1.cni.cncf.io/networks': 'allowed-net, hpc/ib-a@net2' } },
        spec: { containers: [] },
      },
    ],
  ])('accepts %s', (_what, template) => {
    expect(policyViolations(withWorker(template), siteConfig)).toEqual([]);
  });

  it('allows the host network only in listed namespaces', () => {
    expect(policyViolations(aliceJob({ network: { mode: 'host' } }), siteConfig)).toEqual([
      'spec.network.mode: host is not allowed in namespace team-a (sitePolicy.hostNetworkNamespaces)',
    ]);
    expect(policyViolations(aliceJob({ network: { mode: 'host' } }, 'hostnet-ok'), siteConfig)).toEqual([]);
  });

  it("checks the job's own volumes and rejects another user's home", () => {
    const job = aliceJob({ volumes: [{ name: 'h', hostPath: { path: '/home/bob' } }] });
    expect(policyViolations(job, siteConfig)).toEqual([
      expect.stringMatching(/^spec\.volumes\[0\]\.hostPath\.path: \/home\/bob is not under/),
    ]);
  });

  it('checks the launcher template too', () => {
    const job = aliceJob({ launcher: { template: { spec: { hostPID: true, containers: [] } } } });
    expect(policyViolations(job, siteConfig)).toEqual([
      'spec.launcher.template.spec.hostPID: not allowed (sitePolicy.hostPID)',
    ]);
  });

  it('leaves an exempt namespace alone and reports a job with no recorded identity', () => {
    expect(policyViolations(withWorker({ spec: { hostPID: true, containers: [] } }, 'site-ops'), siteConfig)).toEqual(
      [],
    );
    const unrecorded = aliceJob();
    delete unrecorded.spec.submitter;
    expect(policyViolations(unrecorded, siteConfig)[0]).toMatch(/^spec\.submitter: no POSIX identity was recorded/);
  });

  it('reads junk where objects belong without throwing', () => {
    const junk = aliceJob({ worker: { template: { spec: 'x', metadata: 7 } as unknown as V1PodTemplateSpec } });
    expect(policyViolations(junk, siteConfig)).toEqual([]);
  });
});

describe('multusNetworks', () => {
  it('reads the short and the JSON forms', () => {
    expect(multusNetworks('a, ns/b@net2', 'x')).toEqual(['x/a', 'ns/b']);
    expect(multusNetworks('[{"name":"a"},{"name":"b","namespace":"n"}]', 'x')).toEqual(['x/a', 'n/b']);
    expect(multusNetworks('[{', 'x')).toBeUndefined();
  });
});
