// The site policy against the real API server: users with client certificates and a service account with a token
// run kubectl; the operator's admission webhooks, registered by URL, record who submitted each job as which POSIX
// identity and refuse what the policy forbids; the pods KWOK runs carry that identity. Without the webhooks (a
// namespace they do not select), the controller's own check fails a forbidden job before any pod exists.
import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { HPCJob } from '../../src/api/types.js';
import { clients, kubectl } from './support/cluster.js';
import { eventually } from './support/eventually.js';
import { jobManifest, Jobs } from './support/jobs.js';
import { installCrd } from './support/operator.js';
import {
  grantEdit,
  kubectlAs,
  kubectlAsServiceAccount,
  kubectlImpersonating,
  removeTokenKubeconfigs,
  waitUntilAllowed,
  type Kubectl,
} from './support/users.js';
import { AdmissionWebhooks } from './support/webhooks.js';

const { core, custom } = clients();
const suffix = randomBytes(3).toString('hex');
const alice = kubectlAs('alice', ['hpc-users']);
const bob = kubectlAs('bob', ['hpc-users']);
const carol = kubectlAs('carol');

type Loose = Record<string, unknown>;

/** A one-worker job as a user writes it; `worker` is the worker's pod template. */
function job(name: string, extra: { worker?: Loose; spec?: Loose } = {}): Loose {
  const base = jobManifest(name, { workers: 1 });
  const worker = extra.worker ? { worker: { template: extra.worker } } : {};
  return { ...base, metadata: { name }, spec: { ...base.spec, ...extra.spec, ...worker } };
}

/** A worker template whose main container (named worker) has this securityContext. */
const workerWith = (securityContext: Loose, spec: Loose = {}) => ({
  spec: { containers: [{ name: 'worker', securityContext }], ...spec },
});

const apply = (as: Kubectl, namespace: string, manifest: Loose) =>
  as(['apply', '-n', namespace, '-f', '-'], JSON.stringify(manifest));

/** The request was refused by the operator's webhook (not RBAC, not the schema), with every part in its message. */
function expectDenied(r: { status: number; stderr: string }, ...parts: string[]): void {
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/admission webhook "\S+\.hpcjob\.dev" denied the request/);
  for (const part of parts) expect(r.stderr).toContain(part);
}

function expectAccepted(r: { status: number; stderr: string }): void {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

async function createNamespace(name: string, labels: Record<string, string>): Promise<void> {
  await core.createNamespace({ body: { metadata: { name, labels: { 'hpcjob.dev/test': 'true', ...labels } } } });
}

/** Deletes the namespaces and waits until they are gone, while an operator still runs to release its finalizers. */
/** Unregisters the webhooks first (a Fail webhook left behind refuses HPCJobs), then the namespaces, then the operator. */
async function tearDown(webhooks: AdmissionWebhooks, namespaces: string[]): Promise<void> {
  try {
    webhooks.unregister();
  } finally {
    try {
      await deleteNamespaces(namespaces);
    } finally {
      await webhooks.stop();
    }
  }
}

async function deleteNamespaces(names: string[]): Promise<void> {
  for (const name of names) await core.deleteNamespace({ name }).catch(() => undefined);
  await eventually(
    async () => {
      for (const name of names) {
        const gone = await core.readNamespace({ name }).then(
          () => false,
          (err: { code?: number }) => err.code === 404,
        );
        if (!gone) throw new Error(`namespace ${name} still exists`);
      }
    },
    90_000,
    500,
  );
}

const podIdentity = (pod: V1Pod) => {
  const sc = pod.spec?.securityContext ?? {};
  return { runAsUser: sc.runAsUser, runAsGroup: sc.runAsGroup, supplementalGroups: sc.supplementalGroups };
};

/** The job's worker and launcher pods, once the operator has created both. */
async function podsOf(jobs: Jobs, name: string): Promise<V1Pod[]> {
  return eventually(async () => {
    const pods = await jobs.livePods(name);
    const roles = pods.map((p) => p.metadata?.labels?.['hpcjob.dev/role']).sort();
    expect(roles).toEqual(['launcher', 'worker']);
    return pods;
  }, 60_000);
}

describe('a site policy with mapped users, host paths, networks and a pipeline namespace', () => {
  const ns = {
    alice: `sp-alice-${suffix}`,
    hostnet: `sp-hostnet-${suffix}`,
    pipeline: `sp-pipeline-${suffix}`,
    // Not selected by the webhooks: what the controller does with a job admission never saw.
    guard: `sp-guard-${suffix}`,
  };
  const webhooks = new AdmissionWebhooks(`site-policy-${suffix}`, {
    identity: {
      enabled: true,
      users: { alice: { uid: 1234, gid: 1234, groups: [5000] }, bob: { uid: 1235, gid: 1235 } },
      unmapped: 'reject',
      namespaces: { [ns.pipeline]: { uid: 2000, gid: 2000 } },
    },
    hostPaths: [
      { path: '/home/{user}', access: 'ReadWrite' },
      { path: '/apps', access: 'ReadOnly' },
    ],
    multusNetworks: ['allowed-net'],
    hostNetworkNamespaces: [ns.hostnet],
  });
  const jobs = (namespace: string) => new Jobs(custom, core, namespace);
  let pipeline: Kubectl;

  beforeAll(async () => {
    installCrd();
    for (const name of [ns.alice, ns.hostnet, ns.pipeline]) await createNamespace(name, webhooks.namespaceLabels);
    await createNamespace(ns.guard, {});
    for (const user of ['alice', 'bob', 'carol']) grantEdit(ns.alice, { user });
    grantEdit(ns.hostnet, { user: 'alice' });
    expect(kubectl(['create', 'serviceaccount', 'pipeline', '-n', ns.pipeline]).status).toBe(0);
    grantEdit(ns.pipeline, { serviceAccount: 'pipeline' });
    pipeline = kubectlAsServiceAccount(ns.pipeline, 'pipeline');
    await waitUntilAllowed(alice, 'create', 'hpcjobs.hpcjob.dev', ns.hostnet);
    for (const as of [alice, bob, carol]) await waitUntilAllowed(as, 'create', 'hpcjobs.hpcjob.dev', ns.alice);
    await waitUntilAllowed(pipeline, 'create', 'hpcjobs.hpcjob.dev', ns.pipeline);
    await webhooks.start();
    await webhooks.waitUntilActive(
      alice,
      ns.alice,
      job('probe'),
      job('probe', { worker: workerWith({}, { hostPID: true }) }),
    );
  }, 120_000);

  afterAll(async () => {
    try {
      await tearDown(webhooks, Object.values(ns));
    } finally {
      removeTokenKubeconfigs();
    }
  }, 150_000);

  test('a template asking for another uid and a host directory above the user’s is refused, naming both fields', () => {
    const manifest = job('wide', {
      worker: workerWith(
        {},
        {
          securityContext: { runAsUser: 1000 },
          volumes: [{ name: 'home', hostPath: { path: '/home' } }],
        },
      ),
    });
    const r = apply(alice, ns.alice, manifest);
    expectDenied(
      r,
      'spec.worker.template.spec.securityContext.runAsUser: 1000 is not allowed',
      'the submitter alice runs as uid 1234, gid 1234, groups 5000',
      'spec.worker.template.spec.volumes[0].hostPath.path: /home is not under a host path',
    );
    expect(kubectl(['get', 'hpcjob', 'wide', '-n', ns.alice]).stderr).toContain('NotFound');
  });

  test.each([
    ['root', workerWith({ runAsUser: 0 }), 'spec.worker.template.spec.containers[0].securityContext.runAsUser: 0'],
    [
      'privileged',
      workerWith({ privileged: true }),
      'spec.worker.template.spec.containers[0].securityContext.privileged: privileged containers are not allowed',
    ],
    [
      'hostpid',
      workerWith({}, { hostPID: true }),
      'spec.worker.template.spec.hostPID: not allowed (sitePolicy.hostPID)',
    ],
    [
      'sysadmin',
      workerWith({ capabilities: { add: ['SYS_ADMIN'] } }),
      'spec.worker.template.spec.containers[0].securityContext.capabilities.add: SYS_ADMIN not allowed',
    ],
    [
      'other-sa',
      workerWith({}, { serviceAccountName: 'other' }),
      'spec.worker.template.spec.serviceAccountName: "other" is not allowed (sitePolicy.serviceAccounts: default)',
    ],
    [
      'evil-net',
      { metadata: { annotations: { 'k8s.v1.cni.cncf.io/networks': 'evil-net' } } },
      `spec.worker.template.metadata.annotations[k8s.v1.cni.cncf.io/networks]: sp-alice-${suffix}/evil-net not allowed`,
    ],
  ])('alice’s job with a forbidden template (%s) is refused, naming the field and the rule', (name, worker, field) => {
    expectDenied(apply(alice, ns.alice, job(name, { worker })), field);
  });

  test('an allowed Multus network and the user’s own uid pass', () => {
    const worker = {
      metadata: { annotations: { 'k8s.v1.cni.cncf.io/networks': 'allowed-net' } },
      spec: { containers: [{ name: 'worker', securityContext: { runAsUser: 1234 } }] },
    };
    expectAccepted(apply(alice, ns.alice, job('good-net', { worker })));
  });

  test('the host network is refused outside the namespaces the site lists, and accepted in one it lists', () => {
    const manifest = job('hostnet', { spec: { network: { mode: 'host' } } });
    expectDenied(
      apply(alice, ns.alice, manifest),
      `spec.network.mode: host is not allowed in namespace ${ns.alice} (sitePolicy.hostNetworkNamespaces)`,
    );
    expectAccepted(apply(alice, ns.hostnet, manifest));
  });

  test('the record is the submitter’s whatever the YAML claims, and her pods run as her identity', async () => {
    const manifest = job('plain', { spec: { submitter: { user: 'bob', uid: 0 } } });
    expectAccepted(apply(alice, ns.alice, manifest));
    const stored = await jobs(ns.alice).get('plain');
    expect(stored.spec.submitter).toEqual({ user: 'alice', uid: 1234, gid: 1234, groups: [5000] });
    const pods = await podsOf(jobs(ns.alice), 'plain');
    for (const pod of pods) {
      expect(podIdentity(pod)).toEqual({ runAsUser: 1234, runAsGroup: 1234, supplementalGroups: [5000] });
    }
  });

  test('another user may suspend the job but not rewrite its record or its templates; a replace keeps the record', async () => {
    expectAccepted(apply(alice, ns.alice, job('shared')));
    const record = { user: 'alice', uid: 1234, gid: 1234, groups: [5000] };
    const patch = (as: Kubectl, body: Loose) =>
      as(['patch', 'hpcjob', 'shared', '-n', ns.alice, '--type=merge', '-p', JSON.stringify(body)]);

    const forged = patch(bob, { spec: { submitter: { user: 'bob', uid: 1235 } } });
    expect(forged.status).not.toBe(0);
    // The CRD's own rule refuses it before the validating webhook would.
    expect(forged.stderr).toMatch(/spec\.submitter: (is immutable|is recorded at admission and cannot change)/);
    const worker = { template: { metadata: { annotations: { 'example.com/stage': 'two' } } } };
    expectDenied(
      patch(bob, { spec: { worker } }),
      'spec: only the submitter (alice) may change what this job runs; bob may change spec.runPolicy',
    );
    expectAccepted(patch(bob, { spec: { runPolicy: { suspend: true } } }));
    // The submitter herself may change her templates.
    expectAccepted(patch(alice, { spec: { worker } }));

    const current = JSON.parse(alice(['get', 'hpcjob', 'shared', '-n', ns.alice, '-o', 'json']).stdout) as HPCJob;
    delete current.spec.submitter;
    expectAccepted(alice(['replace', '-f', '-'], JSON.stringify(current)));
    const stored = await jobs(ns.alice).get('shared');
    expect(stored.spec.submitter).toEqual(record);
    expect(stored.spec.runPolicy?.suspend).toBe(true);
    expect(stored.spec.worker?.template?.metadata?.annotations).toEqual({ 'example.com/stage': 'two' });
  });

  test('re-applying a manifest without the record, client-side or server-side, keeps it (GitOps re-applies)', async () => {
    const record = { user: 'alice', uid: 1234, gid: 1234, groups: [5000] };
    for (const [name, mode] of [
      ['reapply-csa', []],
      ['reapply-ssa', ['--server-side', '--field-manager=pipeline-sync']],
    ] as const) {
      const manifest = job(name);
      expectAccepted(alice(['apply', ...mode, '-n', ns.alice, '-f', '-'], JSON.stringify(manifest)));
      // The same manifest again, then one that changes a template: whether the patch leaves the record alone
      // (client-side) or removes it (server-side, whose manager may own the field the webhook wrote), it stays.
      expectAccepted(alice(['apply', ...mode, '-n', ns.alice, '-f', '-'], JSON.stringify(manifest)));
      const changed = job(name, { worker: { metadata: { annotations: { 'example.com/stage': 'two' } } } });
      expectAccepted(alice(['apply', ...mode, '-n', ns.alice, '-f', '-'], JSON.stringify(changed)));
      const stored = await jobs(ns.alice).get(name);
      expect({ name, submitter: stored.spec.submitter }).toEqual({ name, submitter: record });
      expect(stored.spec.worker?.template?.metadata?.annotations).toEqual({ 'example.com/stage': 'two' });
    }
  });

  test('a user with no POSIX identity is refused, naming the rule', () => {
    expectDenied(
      apply(carol, ns.alice, job('carols')),
      'user "carol" has no POSIX identity in the site policy (sitePolicy.identity.users) and unmapped users are rejected',
    );
  });

  test('{user} in a host path is the submitter: /home/alice is alice’s and not bob’s', () => {
    const worker = (name: string) =>
      workerWith({}, { volumes: [{ name: 'home', hostPath: { path: `/home/${name}` } }] });
    expectAccepted(apply(alice, ns.alice, job('alice-home', { worker: worker('alice') })));
    expectDenied(
      apply(bob, ns.alice, job('bob-in-alice-home', { worker: worker('alice') })),
      'spec.worker.template.spec.volumes[0].hostPath.path: /home/alice is not under a host path the site allows',
    );
    expectAccepted(apply(bob, ns.alice, job('bob-home', { worker: worker('bob') })));
  });

  test('a read-only site directory is mounted read-only even where the job asks for a writable mount', async () => {
    const manifest = job('apps', {
      spec: {
        volumes: [{ name: 'apps', hostPath: { path: '/apps/x' } }],
        volumeMounts: [{ name: 'apps', mountPath: '/opt/apps', readOnly: false }],
      },
    });
    expectAccepted(apply(alice, ns.alice, manifest));
    const pods = await podsOf(jobs(ns.alice), 'apps');
    for (const pod of pods) {
      const main = pod.spec?.containers.find((c) => c.name === pod.metadata?.labels?.['hpcjob.dev/role']);
      const mount = main?.volumeMounts?.find((m) => m.name === 'apps');
      expect({ pod: pod.metadata?.name, mount }).toEqual({
        pod: pod.metadata?.name,
        mount: { name: 'apps', mountPath: '/opt/apps', readOnly: true },
      });
    }
  });

  test('a job a service account submits in the bound pipeline namespace runs as the namespace’s uid', async () => {
    expectAccepted(apply(pipeline, ns.pipeline, job('step')));
    const stored = await jobs(ns.pipeline).get('step');
    expect(stored.spec.submitter).toEqual({
      user: `system:serviceaccount:${ns.pipeline}:pipeline`,
      uid: 2000,
      gid: 2000,
      groups: [],
    });
    for (const pod of await podsOf(jobs(ns.pipeline), 'step')) {
      expect(podIdentity(pod)).toEqual({ runAsUser: 2000, runAsGroup: 2000, supplementalGroups: undefined });
    }
  });

  test('without the webhooks, the controller fails a forbidden job as PolicyViolation and creates no pod', async () => {
    const guarded = jobs(ns.guard);
    const manifest = job('unadmitted', { worker: workerWith({}, { hostPID: true }) });
    await guarded.create({ ...manifest, metadata: { name: 'unadmitted', namespace: ns.guard } } as unknown as HPCJob);
    const status = await guarded.waitForPhase('unadmitted', 'Failed');
    const failed = guarded.condition(status, 'Failed');
    expect(failed?.reason).toBe('PolicyViolation');
    expect(failed?.message).toContain('spec.worker.template.spec.hostPID: not allowed (sitePolicy.hostPID)');
    expect(failed?.message).toContain('spec.submitter: no POSIX identity was recorded at admission');
    expect(await guarded.pods('unadmitted')).toEqual([]);
  });
});

describe('a site policy that reads identities from user attributes and gives the others a default', () => {
  const namespace = `sp-default-${suffix}`;
  const claim = (key: string) => `hpc.example.com/${key}`;
  const webhooks = new AdmissionWebhooks(`site-policy-default-${suffix}`, {
    identity: {
      enabled: true,
      claims: { uid: claim('uid'), gid: claim('gid'), groups: claim('groups'), name: claim('login') },
      unmapped: 'default',
      default: { uid: 3000, gid: 3000, groups: [3001] },
    },
  });
  const dave = (extra: Record<string, string[]>) => kubectlImpersonating('dave', extra);

  beforeAll(async () => {
    installCrd();
    await createNamespace(namespace, webhooks.namespaceLabels);
    for (const user of ['carol', 'dave']) grantEdit(namespace, { user });
    await waitUntilAllowed(carol, 'create', 'hpcjobs.hpcjob.dev', namespace);
    await waitUntilAllowed(dave({}), 'create', 'hpcjobs.hpcjob.dev', namespace);
    await webhooks.start();
    const forbidden = job('probe', { worker: workerWith({}, { hostPID: true }) });
    await webhooks.waitUntilActive(carol, namespace, job('probe'), forbidden);
  }, 120_000);

  afterAll(() => tearDown(webhooks, [namespace]), 150_000);

  test('an unmapped user gets the default identity, and her pods run as it', async () => {
    expectAccepted(apply(carol, namespace, job('carols')));
    const jobs = new Jobs(custom, core, namespace);
    expect((await jobs.get('carols')).spec.submitter).toEqual({ user: 'carol', uid: 3000, gid: 3000, groups: [3001] });
    for (const pod of await podsOf(jobs, 'carols')) {
      expect(podIdentity(pod)).toEqual({ runAsUser: 3000, runAsGroup: 3000, supplementalGroups: [3001] });
    }
  });

  test('a user whose attributes carry a uid runs as it; unreadable attributes are refused, naming the claim', async () => {
    const attributes = {
      [claim('uid')]: ['4321'],
      [claim('gid')]: ['4300'],
      [claim('groups')]: ['6000,6001'],
      [claim('login')]: ['dsmith'],
    };
    expectAccepted(apply(dave(attributes), namespace, job('daves')));
    const jobs = new Jobs(custom, core, namespace);
    expect((await jobs.get('daves')).spec.submitter).toEqual({
      user: 'dave',
      uid: 4321,
      gid: 4300,
      groups: [6000, 6001],
      name: 'dsmith',
    });
    for (const pod of await podsOf(jobs, 'daves')) {
      expect(podIdentity(pod)).toEqual({ runAsUser: 4321, runAsGroup: 4300, supplementalGroups: [6000, 6001] });
    }
    expectDenied(
      apply(dave({ ...attributes, [claim('uid')]: ['root'] }), namespace, job('bad-uid')),
      `user "dave": claim ${claim('uid')}: "root" is not a POSIX id`,
    );
    // More groups than spec.submitter can hold: the webhook names the claim, rather than the schema the record.
    const many = Array.from({ length: 65 }, (_, i) => String(7000 + i)).join(',');
    expectDenied(
      apply(dave({ ...attributes, [claim('groups')]: [many] }), namespace, job('many-groups')),
      `claim ${claim('groups')}: more than 64 groups`,
    );
  });
});
