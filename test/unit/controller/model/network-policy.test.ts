// The job's NetworkPolicy through the real Controller over the in-memory cluster: created with the other shared
// objects before any pod, once; a foreign object of its name blocks the job like any other name conflict; the site
// switch and host-network jobs make none; the garbage collector takes it with the job.
import { DEFAULT_CLUSTER_CONFIG } from '../../../../src/config/cluster-config.js';
import { collectGarbage, deleteJob } from './cluster.js';
import { finishRun } from './fair.js';
import { condition, pass, until, withWorld, worldWith, writesSince } from './script.js';
import { NAMESPACE } from './store.js';
import { World, type JobSetup } from './world.js';

const JOB: JobSetup = { name: 'a', workers: 2, backoffLimit: 0, cleanPodPolicy: 'Running', fairExitCode: 0 };

async function worldWithConfig(config: typeof DEFAULT_CLUSTER_CONFIG): Promise<World> {
  const w = new World({ jobs: [JOB], lostNodesRecover: true, config });
  await w.startOperator();
  return w;
}

const policy = (w: World) => w.store.get('networkpolicies', `${NAMESPACE}/a`);
const creates = (w: World, mark = 0) => writesSince(w, mark).filter((x) => x.startsWith('create '));

test('a new job gets its NetworkPolicy with its other shared objects, before any pod, and only once', () =>
  withWorld(worldWith(JOB), async (w) => {
    expect(w.api.caches.map((c) => c.spec.resource)).toContain('networkpolicies');
    await pass(w);
    const made = creates(w);
    expect(made).toContain('create NetworkPolicy a');
    expect(made.indexOf('create NetworkPolicy a')).toBeLessThan(made.findIndex((x) => x.startsWith('create Pod')));
    expect(policy(w)?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'HPCJob', name: 'a', uid: w.jobs.get('a')!.uid, controller: true }),
    ]);

    await until(w, 'Running');
    // A restarted operator lists the policy it made: nothing is created twice.
    await w.restartOperator();
    const mark = w.writes.length;
    for (let i = 0; i < 3; i++) await pass(w);
    expect(creates(w, mark)).toEqual([]);
    await finishRun(w);
    expect(w.job('a')?.status?.phase).toBe('Succeeded');
    expect(creates(w).filter((x) => x === 'create NetworkPolicy a')).toHaveLength(1);
  }));

test('a policy deleted under a running job is made again, and the job runs on', () =>
  withWorld(worldWith(JOB), async (w) => {
    await until(w, 'Running');
    w.store.delete('networkpolicies', `${NAMESPACE}/a`);
    const mark = w.writes.length;
    await pass(w);
    expect(creates(w, mark)).toEqual(['create NetworkPolicy a']);
    expect(w.job('a')?.status?.phase).toBe('Running');
  }));

test('a foreign NetworkPolicy holding the name blocks the job as NameConflict, creates no pod, and clears once gone', () =>
  withWorld(worldWith(JOB), async (w) => {
    // Not labelled for the operator's cache: found only by the create's 409 and the owner check after it.
    w.store.create('networkpolicies', { metadata: { name: 'a', namespace: NAMESPACE } });
    await pass(w);
    const blocked = condition(w, 'a', 'Blocked');
    expect(blocked).toMatchObject({ status: 'True', reason: 'NameConflict' });
    expect(blocked?.message).toContain(`NetworkPolicy ${NAMESPACE}/a already exists and has no owner`);
    expect(creates(w).filter((x) => x.startsWith('create Pod'))).toEqual([]);

    w.store.delete('networkpolicies', `${NAMESPACE}/a`);
    w.clock += 60_000;
    await finishRun(w);
    expect(w.job('a')?.status?.phase).toBe('Succeeded');
    expect(policy(w)?.metadata.ownerReferences?.[0]?.uid).toBe(w.jobs.get('a')!.uid);
  }));

test('with the switch off no NetworkPolicy is made or even watched, and the job runs', () =>
  withWorld(worldWithConfig({ ...DEFAULT_CLUSTER_CONFIG, networkPolicy: false }), async (w) => {
    // No list or watch either: a site that turns it off need not grant the operator access to NetworkPolicies.
    expect(w.api.caches.map((c) => c.spec.resource)).not.toContain('networkpolicies');
    await finishRun(w);
    expect(w.job('a')?.status?.phase).toBe('Succeeded');
    expect(creates(w).filter((x) => x.startsWith('create NetworkPolicy'))).toEqual([]);
    expect(w.store.list('networkpolicies')).toEqual([]);
  }));

// The site policy allows the host network nowhere by default.
const hostNetworkAllowed = {
  ...DEFAULT_CLUSTER_CONFIG,
  sitePolicy: { ...DEFAULT_CLUSTER_CONFIG.sitePolicy, hostNetworkNamespaces: ['*'] },
};

test('a host-network job gets no NetworkPolicy (policies do not apply to host-network pods)', () =>
  withWorld(worldWithConfig(hostNetworkAllowed), async (w) => {
    w.store.update('hpcjobs', `${NAMESPACE}/a`, (obj) => {
      (obj.spec as { network?: { mode: string } }).network = { mode: 'host' };
    });
    await finishRun(w);
    expect(w.job('a')?.status?.phase).toBe('Succeeded');
    expect(w.store.list('networkpolicies')).toEqual([]);
  }));

test('the garbage collector deletes the policy with its job', () =>
  withWorld(worldWith(JOB), async (w) => {
    await pass(w);
    expect(policy(w)).toBeDefined();
    deleteJob(w, 'a');
    collectGarbage(w);
    expect(policy(w)).toBeUndefined();
  }));
