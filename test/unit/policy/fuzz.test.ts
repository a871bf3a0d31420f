// Thousands of random templates through admission (mutate, then validate) and the renderer: nothing throws, every
// rejection names a field, and nothing the policy forbids reaches a rendered pod. The pods are judged by their own
// oracle below, written from the policy's rules, not by the code under test.
import fc from 'fast-check';
import type { V1Pod } from '@kubernetes/client-node';
import { withDefaults } from '../../../src/api/defaults.js';
import type { HPCJob } from '../../../src/api/types.js';
import type { UserInfo } from '../../../src/policy/identity.js';
import { hostPathAccess } from '../../../src/policy/mounts.js';
import { multusNetworks, MULTUS_ANNOTATIONS } from '../../../src/policy/job-rules.js';
import { renderLauncherPod, renderWorkerPod } from '../../../src/render/pods.js';
import { mutate, validate, type AdmissionRequest } from '../../../src/webhook/admission.js';
import { makeJob } from '../api/fixtures.js';
import { siteConfig } from './fixtures.js';

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });
// Each field of a template is present one time in eight: most templates then hold one or two settings, so a
// forbidden one that slips through is not hidden behind another that is rejected.
const rare = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });
const ids = fc.constantFrom(0, 1000, 1234, 1235, 2000, 4001, 5000);
const caps = fc.subarray(['SYS_ADMIN', 'SYS_NICE', 'IPC_LOCK', 'NET_RAW']);
const hostPaths = fc.constantFrom(
  '/home',
  '/home/alice',
  '/home/alice/run',
  '/home/bob',
  '/home/dana/x',
  '/apps',
  '/apps/lib',
  '/apps/scratch/r',
  '/',
  '/etc',
  '/home/alice/../bob',
  'relative',
  '/var/run/docker.sock',
);
const volumeSource = fc.oneof(
  hostPaths.map((path) => ({ hostPath: { path } })),
  fc.constant({ emptyDir: {} }),
  fc.constant({ nfs: { server: 'nfs', path: '/export' } }),
  fc.constant({ persistentVolumeClaim: { claimName: 'data' } }),
  fc.constant({ configMap: { name: 'cm' } }),
);
const volumes = fc.array(volumeSource, { maxLength: 3 }).map((vs) => vs.map((v, i) => ({ name: `v${i}`, ...v })));
const securityContext = fc.record({
  runAsUser: rare(ids),
  runAsGroup: rare(ids),
  runAsNonRoot: rare(fc.boolean()),
  privileged: rare(fc.boolean()),
  allowPrivilegeEscalation: rare(fc.boolean()),
  capabilities: rare(caps.map((add) => ({ add }))),
});
const container = fc.record(
  {
    name: fc.constantFrom('worker', 'launcher', 'side', 'mpi'),
    securityContext: rare(securityContext),
    volumeMounts: fc.array(
      fc.record(
        { name: fc.constantFrom('v0', 'v1', 'v2'), mountPath: fc.constant('/m'), readOnly: fc.boolean() },
        { requiredKeys: ['name', 'mountPath'] },
      ),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: ['name'] },
);
const podSpec = fc.record({
  securityContext: rare(
    fc.record({
      runAsUser: rare(ids),
      runAsGroup: rare(ids),
      fsGroup: rare(ids),
      supplementalGroups: rare(fc.array(ids, { minLength: 1, maxLength: 2 })),
    }),
  ),
  hostPID: rare(fc.boolean()),
  hostIPC: rare(fc.boolean()),
  hostNetwork: rare(fc.boolean()),
  nodeName: rare(fc.constant('n1')),
  serviceAccountName: rare(fc.constantFrom('default', 'mpi-runner', 'admin')),
  initContainers: rare(fc.array(container, { minLength: 1, maxLength: 1 })),
  volumes: rare(volumes),
  containers: fc.array(container, { maxLength: 2 }),
});
const annotations = fc.dictionary(
  fc.constantFrom(...MULTUS_ANNOTATIONS),
  fc.constantFrom(
    'allowed-net',
    'evil-net',
    'hpc/ib-a',
    'kube-system/x',
    '[{"name":"allowed-net"}]',
    '[{',
    'a,evil-net',
  ),
);
// Now and then a value of the wrong shape where an object belongs: templates are free-form in the schema.
const template = fc.oneof(
  { weight: 9, arbitrary: fc.record({ metadata: fc.record({ annotations }), spec: podSpec }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.anything() },
);
const users: fc.Arbitrary<UserInfo> = fc.oneof(
  fc.constantFrom('alice', 'bob', 'carol', 'system:serviceaccount:pipelines:runner').map((username) => ({ username })),
  fc.record({
    username: fc.constant('oidc:dana'),
    extra: fc.record({
      'hpcjob.dev/uid': fc.constantFrom('4001', 'x', '').map((v) => (v ? [v] : [])),
      'hpcjob.dev/login': fc.constant('dana').map((v) => [v]),
    }),
  }),
);
const arbCase = fc.record({
  user: users,
  namespace: fc.constantFrom('team-a', 'hostnet-ok', 'pipelines', 'site-ops'),
  mode: fc.oneof(
    { weight: 7, arbitrary: fc.constant('pod' as const) },
    { weight: 1, arbitrary: fc.constant('host' as const) },
  ),
  claimed: rare(fc.record({ user: fc.constant('bob'), uid: fc.constant(0) })),
  jobVolumes: rare(volumes),
  jobMounts: opt(
    fc.array(fc.record({ name: fc.constantFrom('v0', 'v1'), mountPath: fc.constant('/j'), readOnly: fc.boolean() }), {
      maxLength: 2,
    }),
  ),
  worker: opt(template),
  launcher: opt(template),
});

type Case = typeof arbCase extends fc.Arbitrary<infer T> ? T : never;

function jobOf(c: Case): HPCJob {
  const job = makeJob({ network: { mode: c.mode } });
  job.metadata.namespace = c.namespace;
  const spec = job.spec as unknown as Record<string, unknown>;
  if (c.claimed) spec.submitter = c.claimed;
  if (c.jobVolumes) spec.volumes = c.jobVolumes;
  if (c.jobMounts) spec.volumeMounts = c.jobMounts;
  if (c.worker !== undefined) spec.worker = { template: c.worker };
  if (c.launcher !== undefined) spec.launcher = { template: c.launcher };
  return JSON.parse(JSON.stringify(job)) as HPCJob;
}

/** What the policy forbids, read off a rendered pod. */
function forbiddenInPod(pod: V1Pod, job: HPCJob): string[] {
  const policy = siteConfig.sitePolicy;
  const spec = pod.spec!;
  const ns = job.metadata.namespace;
  const record = job.spec.submitter!;
  const out: string[] = [];
  const own = new Set([record.gid, ...(record.groups ?? [])]);
  const sc = spec.securityContext ?? {};
  if (sc.runAsUser !== record.uid || sc.runAsGroup !== record.gid) out.push('pod identity');
  if ((sc.supplementalGroups ?? []).some((g) => !own.has(g))) out.push('supplementalGroups');
  if (sc.fsGroup !== undefined && !own.has(sc.fsGroup)) out.push('fsGroup');
  if (spec.hostPID || spec.hostIPC) out.push('host namespaces');
  if (spec.hostNetwork && !policy.hostNetworkNamespaces.includes(ns)) out.push('hostNetwork');
  if (spec.nodeName) out.push('nodeName');
  if (spec.serviceAccountName && !policy.serviceAccounts.includes(spec.serviceAccountName)) out.push('serviceAccount');
  const readOnly = new Set<string>();
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== 'name')!;
    if (type === 'hostPath') {
      const access = hostPathAccess(v.hostPath!.path, policy.hostPaths, record.name ?? record.user);
      if (!access) out.push(`hostPath ${v.hostPath!.path}`);
      if (access?.access === 'ReadOnly') readOnly.add(v.name);
    } else if (!policy.volumeTypes.includes(type)) out.push(`volume type ${type}`);
  }
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
    const csc = c.securityContext ?? {};
    if ((csc.runAsUser ?? record.uid) !== record.uid || (csc.runAsGroup ?? record.gid) !== record.gid)
      out.push('container identity');
    if (csc.privileged) out.push('privileged');
    if (csc.allowPrivilegeEscalation !== false) out.push('escalation');
    const extra = (csc.capabilities?.add ?? []).filter(
      (cap) => !policy.capabilities.includes(cap) && cap !== 'IPC_LOCK',
    );
    if (extra.length > 0) out.push(`capabilities ${extra.join(',')}`);
    if ((c.volumeMounts ?? []).some((m) => readOnly.has(m.name) && m.readOnly !== true)) out.push('read-write mount');
  }
  const allowed = new Set(policy.multusNetworks.map((n) => (n.includes('/') ? n : `${ns}/${n}`)));
  for (const key of MULTUS_ANNOTATIONS) {
    const value = pod.metadata?.annotations?.[key];
    if (value !== undefined && (multusNetworks(value, ns) ?? ['unreadable']).some((n) => !allowed.has(n)))
      out.push(key);
  }
  return out;
}

const request = (c: Case, object: HPCJob): AdmissionRequest => ({
  uid: 'u',
  operation: 'CREATE',
  namespace: c.namespace,
  userInfo: c.user,
  object,
});

describe('admission and rendering of random templates', () => {
  it('never throws, names a field in every rejection, and renders nothing the policy forbids', () => {
    const seen = { rejectedUser: 0, rejectedSpec: 0, rendered: 0 };
    fc.assert(
      fc.property(arbCase, (c) => {
        const submitted = jobOf(c);
        const mutated = mutate(request(c, submitted), siteConfig);
        if (!mutated.allowed) {
          expect(mutated.status!.message).toMatch(/^user "[^"]*"/);
          seen.rejectedUser++;
          return;
        }
        const ops = JSON.parse(Buffer.from(mutated.patch!, 'base64').toString()) as {
          value: HPCJob['spec']['submitter'];
        }[];
        const job = { ...submitted, spec: { ...submitted.spec, submitter: ops[0]!.value } };
        const verdict = validate(request(c, job), siteConfig);
        if (!verdict.allowed) {
          const [, list] = verdict.status!.message.split(' is not allowed by the site policy: ');
          for (const part of list!.split('; ')) expect(part).toMatch(/^spec\.[A-Za-z0-9.[\]/-]+: /);
          seen.rejectedSpec++;
          return;
        }
        if (c.namespace === 'site-ops') return;
        const defaulted = withDefaults(job);
        for (const pod of [
          renderWorkerPod(defaulted, siteConfig, 0, 2222),
          renderLauncherPod(defaulted, siteConfig, 1, 2222),
        ]) {
          expect(forbiddenInPod(pod, job)).toEqual([]);
        }
        seen.rendered++;
      }),
      { numRuns: 3000 },
    );
    // The generator reaches all three outcomes often enough to mean something.
    expect(seen.rejectedUser).toBeGreaterThan(100);
    expect(seen.rejectedSpec).toBeGreaterThan(300);
    expect(seen.rendered).toBeGreaterThan(300);
  });
});
