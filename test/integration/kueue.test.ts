// Kueue end to end: the real Kueue manager (built from sigs.k8s.io/kueue by hack/build-kueue.sh, no webhook
// registered) queues HPCJobs through the Workload the operator owns per job, on the KWOK nodes (8 GPUs each; rack-1
// is kwok-node-2 and kwok-node-3). KWOK ends a launcher when its pod gets the exit-code annotation.
import type { V1Pod } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { HPCJob, HPCJobStatus } from '../../src/api/types.js';
import type { Workload } from '../../src/api/kueue.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { clients, kubectl, repoRoot } from './support/cluster.js';
import { eventually } from './support/eventually.js';
import { jobManifest, Jobs } from './support/jobs.js';
import {
  clusterQueue,
  deleteKueueObjects,
  installKueueCrds,
  KueueManager,
  localQueue,
  resourceFlavor,
  workloadPriorityClass,
} from './support/kueue.js';
import { OperatorProcess } from './support/operator.js';
import { useOperatorSuite } from './support/suite.js';

const { core, custom } = clients();
const kueue = new KueueManager();
const operator = new OperatorProcess('operator-kueue');
let namespace: string;
let jobs: Jobs;

const FLAVOR = 'hpcjob-test-rack-1';
const QUOTA_QUEUE = 'hpcjob-test-16-gpus';
const PREEMPT_QUEUE = 'hpcjob-test-8-gpus-preempting';
const CLUSTER_OBJECTS = [
  { kind: 'clusterqueues', name: QUOTA_QUEUE },
  { kind: 'clusterqueues', name: PREEMPT_QUEUE },
  { kind: 'resourceflavors', name: FLAVOR },
  { kind: 'workloadpriorityclasses', name: 'hpcjob-test-high' },
  { kind: 'workloadpriorityclasses', name: 'hpcjob-test-low' },
];

// Kueue's CRDs before the operator starts: it asks discovery once, at start.
beforeAll(async () => {
  installKueueCrds();
  await kueue.start();
  deleteKueueObjects(CLUSTER_OBJECTS);
  resourceFlavor(FLAVOR, { 'topology.hpcjob.dev/rack': 'rack-1' });
  clusterQueue(QUOTA_QUEUE, FLAVOR, { 'nvidia.com/gpu': '16' });
  clusterQueue(PREEMPT_QUEUE, FLAVOR, { 'nvidia.com/gpu': '8' }, { withinClusterQueue: 'LowerPriority' });
  workloadPriorityClass('hpcjob-test-high', 1000);
  workloadPriorityClass('hpcjob-test-low', 10);
});

useOperatorSuite(operator, 'kq', (ns, j) => {
  namespace = ns;
  jobs = j;
});

afterAll(async () => {
  try {
    deleteKueueObjects(CLUSTER_OBJECTS);
  } finally {
    await kueue.stop();
  }
});

/** One worker with all 8 GPUs of a node, queued in a LocalQueue; the launcher runs until finishLauncher. */
function gpuJob(name: string, queue: string, priorityClass?: string): HPCJob {
  const job = jobManifest(name, { workers: 1, spec: { resources: { gpus: 8 } } });
  job.metadata.labels = {
    'kueue.x-k8s.io/queue-name': queue,
    ...(priorityClass ? { 'kueue.x-k8s.io/priority-class': priorityClass } : {}),
  };
  return job;
}

/** KWOK ends a running pod that carries its exit-code annotation (hack/kwok/stages.yaml). */
async function finishLauncher(job: string): Promise<void> {
  await core.patchNamespacedPod(
    {
      name: `${job}-launcher`,
      namespace,
      body: {
        metadata: { annotations: { 'kwok.hpcjob.dev/exit-code': '0', 'kwok.hpcjob.dev/run-duration': '100ms' } },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
}

async function workloadOf(job: string): Promise<Workload | undefined> {
  const list = (await custom.listNamespacedCustomObject({
    group: 'kueue.x-k8s.io',
    version: 'v1beta2',
    plural: 'workloads',
    namespace,
    labelSelector: `hpcjob.dev/job-name=${job}`,
  })) as { items: Workload[] };
  return list.items[0];
}

/** The jobs with a native PodGroup (hack/cluster serves the Workload API, so jobs are gang-scheduled by default). */
async function podGroups(): Promise<string[]> {
  const list = (await custom.listNamespacedCustomObject({
    group: 'scheduling.k8s.io',
    version: 'v1alpha2',
    plural: 'podgroups',
    namespace,
  })) as { items: { metadata: { name: string } }[] };
  return list.items.map((g) => g.metadata.name).sort();
}

const condition = (status: HPCJobStatus, type: string) => status.conditions?.find((c) => c.type === type);
const at = (iso: string | undefined) => new Date(iso ?? NaN).getTime();
const names = (pods: V1Pod[]) => pods.map((p) => p.metadata?.name).sort();

test('three 8-GPU jobs on a 16-GPU ClusterQueue: two run on the flavor nodes, the third waits with no pod, then runs', async () => {
  localQueue(namespace, 'gpus', QUOTA_QUEUE);
  await jobs.create(gpuJob('a', 'gpus'));
  await jobs.create(gpuJob('b', 'gpus'));
  await jobs.waitForPhase('a', 'Running', 90_000);
  await jobs.waitForPhase('b', 'Running', 90_000);
  await jobs.create(gpuJob('c', 'gpus'));

  // c waits: no pod, Pending, and a condition with the LocalQueue and Kueue's own message.
  const waiting = await jobs.waitFor('c', (s) => {
    expect(condition(s, 'Queued')).toMatchObject({ status: 'True', reason: 'Pending' });
    expect(condition(s, 'Queued')?.message).toContain('insufficient unused quota for nvidia.com/gpu');
  });
  expect(waiting.phase).toBe('Pending');
  expect(condition(waiting, 'Queued')?.message).toContain(`LocalQueue ${namespace}/gpus`);
  expect(await jobs.pods('c')).toEqual([]);
  // Nor a PodGroup: the gang scheduler sees the job only once Kueue has admitted it.
  expect(await podGroups()).toEqual(['a', 'b']);
  expect((await workloadOf('c'))?.spec.podSets.map((p) => [p.name, p.count])).toEqual([
    ['launcher', 1],
    ['worker', 1],
  ]);

  // The admitted workers carry the flavor's node labels and landed on its nodes only. The launchers ask for no
  // resource the ClusterQueue covers, so Kueue assigns their pod set no flavor and they may go anywhere.
  const running = [...(await jobs.livePods('a')), ...(await jobs.livePods('b'))];
  expect(names(running)).toEqual(['a-launcher', 'a-worker-0', 'b-launcher', 'b-worker-0']);
  const workers = running.filter((p) => p.metadata?.labels?.['hpcjob.dev/role'] === 'worker');
  expect(workers.map((p) => p.spec?.nodeName).sort()).toEqual(['kwok-node-2', 'kwok-node-3']);
  for (const pod of workers) expect(pod.spec?.nodeSelector).toEqual({ 'topology.hpcjob.dev/rack': 'rack-1' });
  expect(condition((await jobs.get('a')).status ?? {}, 'Queued')).toMatchObject({
    status: 'False',
    reason: 'Admitted',
  });

  // a finishes: its Workload is Finished, Kueue admits c, and c runs to the end.
  await finishLauncher('a');
  const done = await jobs.waitForPhase('a', 'Succeeded', 60_000);
  await eventually(async () => {
    expect((await workloadOf('a'))?.status?.conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Finished', status: 'True', reason: 'Succeeded' })]),
    );
  });
  const admitted = await jobs.waitFor('c', (s) => expect(condition(s, 'Queued')?.status).toBe('False'), 60_000);
  const started = await jobs.waitForPhase('c', 'Running', 60_000);
  expect(await podGroups()).toContain('c');
  const cWorker = (await jobs.livePods('c')).find((p) => p.metadata?.name === 'c-worker-0');
  expect(cWorker?.spec?.nodeSelector).toEqual({ 'topology.hpcjob.dev/rack': 'rack-1' });
  const reasons = (await jobs.events('c')).map((e) => e.reason);
  expect(reasons).toEqual(expect.arrayContaining(['Queued', 'Admitted']));
  expect(jobs.launcherCreations('c')).toBe(1);
  console.log(
    `kueue timing: a Succeeded -> c admitted and its pods created ${
      at(condition(admitted, 'Queued')?.lastTransitionTime) - at(condition(done, 'Succeeded')?.lastTransitionTime)
    } ms; -> c Running ${at(condition(started, 'Running')?.lastTransitionTime) - at(condition(done, 'Succeeded')?.lastTransitionTime)} ms`,
  );
  await finishLauncher('c');
  await jobs.waitForPhase('c', 'Succeeded', 60_000);
});

test('a higher-priority job preempts a running one: its pods go, its status says why, and it runs again later', async () => {
  localQueue(namespace, 'prio', PREEMPT_QUEUE);
  await jobs.create(gpuJob('low', 'prio', 'hpcjob-test-low'));
  await jobs.waitForPhase('low', 'Running', 90_000);
  expect((await workloadOf('low'))?.spec).toMatchObject({ priority: 10 });
  const firstPods = (await jobs.livePods('low')).map((p) => p.metadata?.uid);

  await jobs.create(gpuJob('high', 'prio', 'hpcjob-test-high'));
  const preempted = await jobs.waitFor('low', (s) => {
    expect(condition(s, 'Queued')).toMatchObject({ status: 'True', reason: 'Preempted' });
  });
  expect(condition(preempted, 'Queued')?.message).toContain('Preempted to accommodate a workload');
  expect(preempted.restartCount).toBe(0);
  await eventually(async () => expect(await jobs.livePods('low')).toEqual([]), 60_000);
  const events = await jobs.events('low');
  expect(events).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Warning', reason: 'Preempted' })]));

  // The preemptor runs once the victim's admission is cleared; the victim waits meanwhile.
  await jobs.waitForPhase('high', 'Running', 90_000);
  expect((await jobs.get('low')).status?.phase).toBe('Pending');
  await finishLauncher('high');
  await jobs.waitForPhase('high', 'Succeeded', 60_000);

  // Admitted again, the victim runs from the start with new pods, and finishes with no failure counted.
  await jobs.waitForPhase('low', 'Running', 90_000);
  const secondPods = (await jobs.livePods('low')).map((p) => p.metadata?.uid);
  expect(secondPods.filter((uid) => firstPods.includes(uid))).toEqual([]);
  await finishLauncher('low');
  const final = await jobs.waitForPhase('low', 'Succeeded', 60_000);
  expect(final).toMatchObject({ restartCount: 0, attempt: 2, launcher: { exitCode: 0 } });
});

test('suspending a queued job deactivates its Workload: the quota goes to a waiting job, and the resumed job queues again', async () => {
  localQueue(namespace, 'one', PREEMPT_QUEUE);
  await jobs.create(gpuJob('first', 'one'));
  await jobs.waitForPhase('first', 'Running', 90_000);
  await jobs.create(gpuJob('second', 'one'));
  await jobs.waitFor('second', (s) =>
    expect(condition(s, 'Queued')).toMatchObject({ status: 'True', reason: 'Pending' }),
  );

  await jobs.patchSpec('first', { runPolicy: { suspend: true } });
  await jobs.waitForPhase('first', 'Suspended', 60_000);
  await eventually(async () => expect(await jobs.livePods('first')).toEqual([]), 60_000);
  expect((await workloadOf('first'))?.spec.active).toBe(false);
  await jobs.waitForPhase('second', 'Running', 90_000);

  // Resumed, the first job is queued again behind the second, and runs once the second has finished.
  await jobs.patchSpec('first', { runPolicy: { suspend: false } });
  await jobs.waitFor('first', (s) => {
    expect(s.phase).toBe('Pending');
    expect(condition(s, 'Queued')).toMatchObject({ status: 'True', reason: 'Pending' });
  });
  await eventually(async () => expect((await workloadOf('first'))?.spec.active).toBe(true));
  expect(await jobs.livePods('first')).toEqual([]);
  await finishLauncher('second');
  await jobs.waitForPhase('first', 'Running', 90_000);
  await finishLauncher('first');
  expect(await jobs.waitForPhase('first', 'Succeeded', 60_000)).toMatchObject({ restartCount: 0 });
});

test("examples/kueue is accepted by the API server with Kueue's CRDs (a server-side dry run)", () => {
  const objects = ['queues.yaml', 'hpcjob.yaml'].flatMap((file) =>
    parseAllDocuments(readFileSync(path.join(repoRoot, 'examples/kueue', file), 'utf8')).map(
      (d) => d.toJS() as { kind: string; metadata: { namespace?: string } },
    ),
  );
  // The example's namespace is the test's.
  for (const obj of objects) if (obj.metadata.namespace) obj.metadata.namespace = namespace;
  const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
  const applied = kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], list);
  expect(applied.stderr).toBe('');
  expect(applied.stdout.trim().split('\n')).toHaveLength(objects.length);
});

test('a job naming a LocalQueue that does not exist waits with no pod and says so', async () => {
  await jobs.create(gpuJob('lost', 'no-such-queue'));
  // Kueue's own words, with the LocalQueue the label names.
  await jobs.waitFor('lost', (s) =>
    expect(condition(s, 'Queued')).toMatchObject({
      status: 'True',
      reason: 'Inadmissible',
      message: `LocalQueue ${namespace}/no-such-queue: LocalQueue no-such-queue doesn't exist`,
    }),
  );
  expect(await jobs.pods('lost')).toEqual([]);
});
