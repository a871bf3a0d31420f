// Native gang scheduling against the real kube-scheduler (Kubernetes 1.36's Workload API, alpha gates on in
// hack/cluster): on 4 KWOK nodes × 8 GPUs, two 3 × 8-GPU jobs created together get all or nothing; without the
// gang the same two jobs split the nodes between them. sameDomain is the PodGroup's topology constraint. A job that
// names a gang scheduler the cluster does not serve says so and creates nothing.
import type { V1Pod } from '@kubernetes/client-node';
import type { HPCJobSpec } from '../../src/api/types.js';
import { clients } from './support/cluster.js';
import { eventually } from './support/eventually.js';
import { jobManifest, Jobs } from './support/jobs.js';
import { OperatorProcess } from './support/operator.js';
import { useOperatorSuite } from './support/suite.js';

const { core, custom } = clients();
let namespace: string;
let jobs: Jobs;

const isWorker = (p: V1Pod) => p.metadata?.labels?.['hpcjob.dev/role'] === 'worker';
const boundWorkers = async (name: string) => (await jobs.livePods(name)).filter((p) => isWorker(p) && p.spec?.nodeName);

/** The job's native PodGroup, as the API server stores it. */
const readPodGroup = (name: string) =>
  custom.getNamespacedCustomObject({
    group: 'scheduling.k8s.io',
    version: 'v1alpha2',
    plural: 'podgroups',
    namespace,
    name,
  });

/** GPUs held by live pods on the KWOK nodes: the tests start from free nodes (an earlier file's pods may linger). */
async function gpusInUse(): Promise<number> {
  const pods = await core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' });
  return pods.items
    .filter((p) => p.spec?.nodeName?.startsWith('kwok-node-'))
    .flatMap((p) => p.spec?.containers ?? [])
    .reduce((sum, c) => sum + Number(c.resources?.requests?.['nvidia.com/gpu'] ?? 0), 0);
}

const gpuJob = (name: string, spec: Partial<HPCJobSpec>, runDuration = '15s') =>
  jobManifest(name, { workers: 3, exitCode: 0, runDuration, spec: { resources: { gpus: 8 }, ...spec } });

/** Bound workers of each job, sampled until `ms` pass: a gang must never be seen partly bound. */
async function sampleBindings(names: string[], ms: number): Promise<number[][]> {
  const samples: number[][] = [];
  for (const end = Date.now() + ms; Date.now() < end;) {
    samples.push(await Promise.all(names.map(async (n) => (await boundWorkers(n)).length)));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return samples;
}

/** An 8-GPU pod pinned to one node, standing for another tenant's work. */
async function occupy(node: string): Promise<void> {
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: `blocker-${node}` },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': node },
        containers: [{ name: 'c', image: 'busybox', resources: { limits: { 'nvidia.com/gpu': '8' } } }],
      },
    },
  });
  await eventually(async () => {
    const pod = await core.readNamespacedPod({ name: `blocker-${node}`, namespace });
    if (!pod.spec?.nodeName) throw new Error(`blocker on ${node} not bound`);
  });
}

useOperatorSuite(new OperatorProcess('operator-gang'), 'gang', (ns, j) => {
  namespace = ns;
  jobs = j;
});

beforeEach(async () => {
  await eventually(async () => {
    const used = await gpusInUse();
    if (used > 0) throw new Error(`${used} GPUs still held on the KWOK nodes`);
  }, 60_000);
});

test('two 3 × 8-GPU jobs on room for 4 workers: one is bound whole, the other not at all and says why; it runs after', async () => {
  await Promise.all([jobs.create(gpuJob('alpha', {})), jobs.create(gpuJob('beta', {}))]);
  // Each job's PodGroup: the workers, all or nothing; the pods name it.
  for (const name of ['alpha', 'beta']) {
    const group = (await eventually(() => readPodGroup(name))) as {
      spec: { schedulingPolicy: unknown };
      metadata: { ownerReferences: { name: string }[] };
    };
    expect(group.spec.schedulingPolicy).toEqual({ gang: { minCount: 3 } });
    expect(group.metadata.ownerReferences.map((r) => r.name)).toEqual([name]);
  }
  const first = await eventually(async () => {
    const counts = await Promise.all(['alpha', 'beta'].map(async (n) => (await boundWorkers(n)).length));
    const whole = counts.indexOf(3);
    if (whole < 0) throw new Error(`no job bound whole yet: ${counts.join(', ')}`);
    return whole === 0 ? 'alpha' : 'beta';
  });
  const second = first === 'alpha' ? 'beta' : 'alpha';
  for (const pod of (await jobs.livePods(second)).filter(isWorker)) {
    expect((pod.spec as { schedulingGroup?: unknown }).schedulingGroup).toEqual({ podGroupName: second });
  }
  // While the first runs, the second holds no GPU: never partly bound.
  const samples = await sampleBindings([first, second], 4000);
  expect(samples.every(([, waiting]) => waiting === 0)).toBe(true);
  const waiting = await jobs.waitFor(second, (s) => {
    const c = jobs.condition(s, 'Unschedulable');
    if (c?.status !== 'True') throw new Error(`Unschedulable is ${JSON.stringify(c)}`);
  });
  const message = jobs.condition(waiting, 'Unschedulable')!.message;
  expect(message).toMatch(/Insufficient nvidia.com\/gpu|pod group is unschedulable|waiting for minCount/);
  expect(waiting.phase).toBe('Pending');

  await jobs.waitForPhase(first, 'Succeeded', 90_000);
  await jobs.waitForPhase(second, 'Succeeded', 90_000);
  const ran = await jobs.waitFor(second, (s) => {
    if (jobs.condition(s, 'Unschedulable')?.status !== 'False') throw new Error('still unschedulable');
  });
  expect(ran.launcher?.exitCode).toBe(0);
}, 240_000);

test('without the gang (scheduling.gang None) the same two jobs split the nodes: a partial gang holds GPUs', async () => {
  const none = { scheduling: { gang: 'None' as const } };
  await Promise.all([jobs.create(gpuJob('gamma', none, '600s')), jobs.create(gpuJob('delta', none, '600s'))]);
  const counts = await eventually(async () => {
    const bound = await Promise.all(['gamma', 'delta'].map(async (n) => (await boundWorkers(n)).length));
    if (bound[0]! + bound[1]! < 4) throw new Error(`bound so far: ${bound.join(', ')}`);
    return bound;
  });
  // Four workers bound out of six: at least one job is partly placed, its GPUs idle until the other finishes.
  expect(counts.some((n) => n > 0 && n < 3)).toBe(true);
  const pods = await jobs.livePods('gamma');
  expect(pods.every((p) => (p.spec as { schedulingGroup?: unknown }).schedulingGroup === undefined)).toBe(true);
  await expect(readPodGroup('gamma')).rejects.toThrow();
}, 120_000);

test('sameDomain rack: the group waits while no rack has room for all, saying so, then lands in one rack', async () => {
  // One node busy in each rack: two free nodes, but in different racks.
  await occupy('kwok-node-0');
  await occupy('kwok-node-2');
  await jobs.create(
    jobManifest('racked', {
      workers: 2,
      exitCode: 0,
      runDuration: '2s',
      spec: { resources: { gpus: 8 }, placement: { sameDomain: 'rack' } },
    }),
  );
  const group = (await eventually(() => readPodGroup('racked'))) as { spec: { schedulingConstraints?: unknown } };
  expect(group.spec.schedulingConstraints).toEqual({ topology: [{ key: 'topology.hpcjob.dev/rack' }] });
  const waiting = await jobs.waitFor('racked', (s) => {
    const c = jobs.condition(s, 'Unschedulable');
    if (c?.status !== 'True' || !/placement/.test(c.message)) throw new Error(`Unschedulable: ${JSON.stringify(c)}`);
  });
  expect(jobs.condition(waiting, 'Unschedulable')!.message).toMatch(
    /^pod group racked: .*placements? .*; pod racked-worker-/,
  );
  expect(await boundWorkers('racked')).toEqual([]);

  await core.deleteNamespacedPod({ name: 'blocker-kwok-node-2', namespace, gracePeriodSeconds: 0 });
  const nodes = await eventually(async () => {
    const bound = (await boundWorkers('racked')).map((p) => p.spec!.nodeName!).sort();
    if (bound.length < 2) throw new Error(`bound: ${bound.join(', ')}`);
    return bound;
  }, 60_000);
  expect(nodes).toEqual(['kwok-node-2', 'kwok-node-3']);
  await jobs.waitForPhase('racked', 'Succeeded', 60_000);
}, 180_000);

test('a job naming a gang scheduler the cluster does not serve is Blocked, naming the API, and creates nothing', async () => {
  await jobs.create(jobManifest('volcanic', { workers: 2, spec: { scheduling: { gang: 'Volcano', queue: 'q1' } } }));
  const status = await jobs.waitFor('volcanic', (s) => {
    if (jobs.condition(s, 'Blocked')?.status !== 'True') throw new Error('not blocked yet');
  });
  expect(status.phase).toBe('Pending');
  const blocked = jobs.condition(status, 'Blocked')!;
  expect(blocked.reason).toBe('GangSchedulerUnavailable');
  expect(blocked.message).toContain('spec.scheduling.gang is Volcano');
  expect(blocked.message).toContain('podgroups.scheduling.volcano.sh/v1beta1');
  expect(await jobs.pods('volcanic')).toEqual([]);
  const events = await eventually(async () => {
    const list = await jobs.events('volcanic');
    if (!list.some((e) => e.reason === 'GangSchedulerUnavailable')) throw new Error('no event yet');
    return list;
  });
  expect(events.filter((e) => e.reason === 'GangSchedulerUnavailable')).toHaveLength(1);
}, 60_000);
