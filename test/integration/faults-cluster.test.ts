// Fault injection on the real control plane (issue 9), part 2: what the cluster refuses or loses. A ResourceQuota
// too small for the gang, Pod Security admission, a template the API server rejects, a foreign object holding a
// name the job needs, pods stuck terminating on a node nobody answers for, and an operator idle over finished jobs.
// Each test runs its own operator in its own namespace (support/faults.ts).
import type { V1Pod } from '@kubernetes/client-node';
import type { HPCJob } from '../../src/api/types.js';
import { clients, kubectl } from './support/cluster.js';
import { eventually } from './support/eventually.js';
import {
  createLostNode,
  deleteNode,
  eventCounts,
  forceDeletePod,
  metricSum,
  reconcileCount,
  sleep,
  useFaultSuite,
} from './support/faults.js';
import { jobManifest } from './support/jobs.js';

const { core, custom } = clients();
const ctx = useFaultSuite('flc');

/** A namespace quota on pods, waited for until the quota controller has filled in its status. */
async function podQuota(namespace: string, pods: string): Promise<void> {
  await core.createNamespacedResourceQuota({
    namespace,
    body: { metadata: { name: 'pods' }, spec: { hard: { pods } } },
  });
  await eventually(async () => {
    const quota = await core.readNamespacedResourceQuota({ name: 'pods', namespace });
    expect(quota.status?.hard?.pods).toBe(pods);
  });
}

/** Creates a 4-worker job in a namespace that holds 3 pods and waits until it reports the quota. */
async function blockedByQuota(name: string) {
  const { jobs, namespace } = ctx;
  await podQuota(namespace, '3');
  await jobs.create(jobManifest(name, { workers: 4, exitCode: 0 }));
  return jobs.waitFor(name, (s) => expect(jobs.condition(s, 'Blocked')?.reason).toBe('QuotaExceeded'));
}

test('a ResourceQuota too small for the gang: Blocked QuotaExceeded, the partial gang released; more quota runs it', async () => {
  const { jobs, namespace } = ctx;
  await ctx.startOperator();
  const blocked = await blockedByQuota('quota');
  const condition = jobs.condition(blocked, 'Blocked')!;
  expect(condition.status).toBe('True');
  expect(condition.message).toMatch(/^the gang does not fit: exceeded quota: pods, requested: pods=1, used: pods=\d+/);
  expect(condition.message).toContain('limited: pods=3');
  expect(blocked.phase).toBe('Pending');
  const warnings = (await jobs.events('quota')).filter((e) => e.reason === 'QuotaExceeded');
  expect(warnings.length).toBeGreaterThanOrEqual(1);
  expect(warnings[0]?.type).toBe('Warning');
  expect(warnings[0]?.message).toContain('exceeded quota');
  // The workers created before the refusal are let go within a few seconds.
  await eventually(async () => expect(await jobs.livePods('quota')).toHaveLength(0), 5_000, 100);

  await core.replaceNamespacedResourceQuota({
    name: 'pods',
    namespace,
    body: { metadata: { name: 'pods' }, spec: { hard: { pods: '10' } } },
  });
  const status = await jobs.waitForPhase('quota', 'Succeeded', 90_000);
  // Each release moves the attempt on (as a suspend does) without counting a restart.
  expect(status.launcher?.exitCode).toBe(0);
  expect(status.launcher?.attempt).toBeGreaterThan(1);
  expect(status.restartCount).toBe(0);
  expect(jobs.condition(status, 'Blocked')?.status).toBe('False');
  const events = await eventCounts(jobs, 'quota');
  expect(events).toMatchObject({ launchersCreated: 1 });
  console.log(`quota: events ${JSON.stringify(events)}`);
}, 150_000);

test('a job blocked by quota waits with backoff: it does not recreate its gang on every pod event', async () => {
  const { jobs } = ctx;
  const op = await ctx.startOperator();
  await blockedByQuota('spin');
  const podCreates = () => metricSum(op, 'hpcjob_api_write_requests_total', { verb: 'create', kind: 'Pod' });
  const createsBefore = await podCreates();
  const passesBefore = (await reconcileCount(op)).total;
  await sleep(10_000);
  const creates = (await podCreates()) - createsBefore;
  const passes = (await reconcileCount(op)).total - passesBefore;
  const warnings = (await jobs.events('spin')).filter((e) => e.reason === 'QuotaExceeded').length;
  console.log(`quota: over 10 s blocked, ${creates} pod creates, ${passes} passes, ${warnings} QuotaExceeded events`);
  expect((await jobs.get('spin')).status?.phase).toBe('Pending');
  // Retries 2 s, 4 s, 8 s apart (create-errors backoff): at most 3 retries of at most 4 creates each.
  expect(creates).toBeLessThanOrEqual(12);
  // Pod events (a released gang's deletions) still wake the job; those passes create nothing.
  expect(passes).toBeLessThanOrEqual(60);
}, 90_000);

test('a namespace enforcing Pod Security restricted: jobs that cannot meet it fail naming the rule, with no pod', async () => {
  const { jobs, namespace } = ctx;
  expect(kubectl(['label', 'ns', namespace, 'pod-security.kubernetes.io/enforce=restricted']).status).toBe(0);
  await ctx.startOperator();
  await jobs.create(jobManifest('hostnet', { workers: 1, exitCode: 0, spec: { network: { mode: 'host' } } }));
  const priv = jobManifest('priv', { workers: 1, exitCode: 0 });
  priv.spec.worker = {
    template: { spec: { containers: [{ name: 'worker', securityContext: { privileged: true } }] } },
  };
  await jobs.create(priv);
  // The operator's restricted defaults make a plain job pass.
  await jobs.create(jobManifest('plain', { workers: 1, exitCode: 0 }));

  const host = await jobs.waitForPhase('hostnet', 'Failed');
  const hostFailed = jobs.condition(host, 'Failed')!;
  expect(hostFailed.reason).toBe('PodSecurityViolation');
  expect(hostFailed.message).toContain('hostNetwork');
  const privileged = await jobs.waitForPhase('priv', 'Failed');
  const privFailed = jobs.condition(privileged, 'Failed')!;
  expect(privFailed.reason).toBe('PodSecurityViolation');
  expect(privFailed.message).toMatch(/worker containers\[0\] \(worker\)\.securityContext\.privileged/);
  for (const name of ['hostnet', 'priv']) {
    expect(await jobs.pods(name)).toHaveLength(0);
    expect(await eventCounts(jobs, name)).toMatchObject({ PodSecurityViolation: 1 });
    expect((await eventCounts(jobs, name)).launchersCreated).toBeUndefined();
  }
  const plain = await jobs.waitForPhase('plain', 'Succeeded', 60_000);
  expect(plain.launcher?.exitCode).toBe(0);
}, 120_000);

test("a user volume at /dev/shm beside the operator's own: Failed CreateRejected with the API message", async () => {
  const { jobs } = ctx;
  await ctx.startOperator();
  await jobs.create(
    jobManifest('shm', {
      workers: 2,
      exitCode: 0,
      spec: {
        volumes: [{ name: 'my-shm', emptyDir: { medium: 'Memory' } }],
        volumeMounts: [{ name: 'my-shm', mountPath: '/dev/shm' }],
      },
    }),
  );
  const status = await jobs.waitForPhase('shm', 'Failed');
  const failed = jobs.condition(status, 'Failed')!;
  // The operator keeps both mounts (they differ by name); the API server refuses the worker pod.
  expect(failed.reason).toBe('CreateRejected');
  expect(failed.message).toContain('creating Pod shm-worker-0');
  expect(failed.message).toMatch(/volumeMounts\[\d+\]\.mountPath: Invalid value: "\/dev\/shm": must be unique/);
  expect(await jobs.pods('shm')).toHaveLength(0);
  const events = await jobs.events('shm');
  expect(events.filter((e) => e.reason === 'CreateRejected').map((e) => e.type)).toEqual(['Warning']);
}, 120_000);

test('a foreign Secret holding <job>-ssh: Blocked NameConflict naming it; once deleted the job runs', async () => {
  const { jobs, namespace } = ctx;
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'nc-ssh' }, stringData: { mine: 'yes' } } });
  await ctx.startOperator();
  await jobs.create(jobManifest('nc', { workers: 1, exitCode: 0 }));
  const blocked = await jobs.waitFor('nc', (s) => expect(jobs.condition(s, 'Blocked')?.reason).toBe('NameConflict'));
  const condition = jobs.condition(blocked, 'Blocked')!;
  expect(condition.status).toBe('True');
  expect(condition.message).toContain(`Secret ${namespace}/nc-ssh already exists and has no owner`);
  expect(blocked.phase).toBe('Pending');
  expect(await jobs.pods('nc')).toHaveLength(0);
  const warning = (await jobs.events('nc')).find((e) => e.reason === 'NameConflict');
  expect(warning?.type).toBe('Warning');
  expect(warning?.message).toContain('nc-ssh');

  await core.deleteNamespacedSecret({ name: 'nc-ssh', namespace });
  const status = await jobs.waitForPhase('nc', 'Succeeded', 90_000);
  expect(status.launcher?.exitCode).toBe(0);
  expect(jobs.condition(status, 'Blocked')?.status).toBe('False');
  const job = await jobs.get('nc');
  const secret = await core.readNamespacedSecret({ name: 'nc-ssh', namespace });
  expect(secret.data?.mine).toBeUndefined();
  expect(secret.metadata?.ownerReferences?.find((r) => r.controller)?.uid).toBe(job.metadata.uid);
  expect(await eventCounts(jobs, 'nc')).toMatchObject({ NameConflict: 1, launchersCreated: 1 });
}, 150_000);

describe('pods on a lost node', () => {
  let node = '';
  beforeEach(async () => {
    node = `lost-${ctx.namespace}`;
    await createLostNode(core, node);
  });
  afterEach(async () => {
    // Nothing will confirm these pods stopped: they go by force, as an administrator would once the node is down.
    // The jobs go first, or their operator would create the forced-out pods again.
    kubectl(['delete', 'hpcjobs', '--all', '-n', ctx.namespace, '--wait=true', '--timeout=30s']);
    await eventually(async () => {
      const left = (await core.listNamespacedPod({ namespace: ctx.namespace })).items.filter(
        (p) => p.spec?.nodeName === node,
      );
      for (const pod of left) await forceDeletePod(core, pod);
      expect(left).toHaveLength(0);
    }, 30_000);
    await deleteNode(node);
  });

  test('a worker deleted there stays terminating: Blocked PodStuckTerminating naming the node; no spinning', async () => {
    const { jobs, namespace } = ctx;
    const op = await ctx.startOperator();
    const job = jobManifest('lostw', { workers: 2, exitCode: 0 });
    job.spec.worker = { template: { spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [] } } };
    await jobs.create(job);
    // Bound to the node, never run.
    await eventually(async () => {
      const pods = await jobs.pods('lostw');
      expect(pods).toHaveLength(2);
      for (const pod of pods) expect(pod.spec?.nodeName).toBe(node);
    });
    await core.deleteNamespacedPod({ name: 'lostw-worker-1', namespace });
    const deleted = await core.readNamespacedPod({ name: 'lostw-worker-1', namespace });
    const due = new Date(deleted.metadata!.deletionTimestamp!).getTime();
    const status = await jobs.waitFor(
      'lostw',
      (s) => expect(jobs.condition(s, 'Blocked')?.reason).toBe('PodStuckTerminating'),
      60_000,
    );
    const seenAfterMs = Date.now() - due;
    const condition = jobs.condition(status, 'Blocked')!;
    expect(condition.status).toBe('True');
    expect(condition.message).toContain(`pod lostw-worker-1 on node ${node} is still terminating`);
    expect(seenAfterMs).toBeGreaterThanOrEqual(29_000);
    expect(status.phase).toBe('Pending');
    // No new worker of that name, no launcher, and the job is not reconciled in a loop.
    const before = (await reconcileCount(op)).total;
    await sleep(10_000);
    const passes = (await reconcileCount(op)).total - before;
    console.log(`lost worker: condition ${seenAfterMs} ms after the deletion deadline; ${passes} passes in 10 s`);
    expect(passes).toBeLessThanOrEqual(3);
    const pods = await jobs.pods('lostw');
    expect(pods.map((p: V1Pod) => p.metadata?.name).sort()).toEqual(['lostw-worker-0', 'lostw-worker-1']);
    expect(await eventCounts(jobs, 'lostw')).toMatchObject({ PodStuckTerminating: 1 });
    expect((await eventCounts(jobs, 'lostw')).launchersCreated).toBeUndefined();
  }, 90_000);

  test('a launcher deleted there is taken as lost: Failed LauncherFailed, reason Lost, no exit code', async () => {
    const { jobs, namespace } = ctx;
    await ctx.startOperator();
    const job = jobManifest('lostl', { workers: 1, exitCode: 0 });
    job.spec.launcher = {
      template: { spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [] } },
    };
    await jobs.create(job);
    await eventually(async () => {
      const launcher = await core.readNamespacedPod({ name: 'lostl-launcher', namespace });
      expect(launcher.spec?.nodeName).toBe(node);
    }, 60_000);
    await core.deleteNamespacedPod({ name: 'lostl-launcher', namespace });
    const status = await jobs.waitForPhase('lostl', 'Failed', 60_000);
    expect(jobs.condition(status, 'Failed')?.reason).toBe('LauncherFailed');
    expect(status.launcher).toMatchObject({ podName: 'lostl-launcher', attempt: 1, reason: 'Lost' });
    expect(status.launcher?.exitCode).toBeUndefined();
    expect(status.launcher?.message).toContain(`node ${node} never reported`);
    // The result is stored: the finalizer comes off, though nothing on the node will let the pod go.
    await eventually(async () => {
      const launcher = await core.readNamespacedPod({ name: 'lostl-launcher', namespace });
      expect(launcher.metadata?.finalizers ?? []).not.toContain('hpcjob.dev/launcher-result');
    });
    expect(await eventCounts(jobs, 'lostl')).toMatchObject({ launchersCreated: 1, LauncherFailed: 1 });
  }, 90_000);
});

test('an idle operator over many finished jobs does next to nothing', async () => {
  const { jobs } = ctx;
  const count = 200;
  const op = await ctx.startOperator();
  const started = Date.now();
  const names = Array.from({ length: count }, (_, i) => `idle-${i}`);
  for (let i = 0; i < names.length; i += 20) {
    await Promise.all(
      names.slice(i, i + 20).map((name) =>
        jobs.create(
          jobManifest(name, {
            workers: 1,
            exitCode: 0,
            runDuration: '100ms',
            spec: { runPolicy: { cleanPodPolicy: 'All' } },
          }),
        ),
      ),
    );
  }
  await eventually(
    async () => {
      const pods = (await core.listNamespacedPod({ namespace: ctx.namespace })).items.length;
      const list = (await custom.listNamespacedCustomObject({
        group: 'hpcjob.dev',
        version: 'v1alpha1',
        plural: 'hpcjobs',
        namespace: ctx.namespace,
      })) as { items: HPCJob[] };
      const done = list.items.filter((j) => j.status?.phase === 'Succeeded').length;
      expect({ done, pods }).toEqual({ done: count, pods: 0 });
    },
    150_000,
    2_000,
  );
  const finishedMs = Date.now() - started;
  await eventually(async () => expect(await metricSum(op, 'hpcjob_workqueue_length')).toBe(0));
  await sleep(2_000);
  const before = await reconcileCount(op);
  await sleep(30_000);
  const after = await reconcileCount(op);
  const idlePasses = after.total - before.total;
  console.log(
    `idle: ${count} jobs Succeeded in ${finishedMs} ms (${before.total} passes); ${idlePasses} passes over 30 s idle`,
  );
  expect(idlePasses).toBeLessThanOrEqual(5);
}, 300_000);
