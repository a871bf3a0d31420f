// The Workload that stands for a queued job: its name, owner, labels and the pod sets Kueue counts quota for.
import fc from 'fast-check';
import type { HPCJob } from '../../../src/api/types.js';
import { loadClusterConfig } from '../../../src/config/cluster-config.js';
import { renderLauncherPod, renderWorkerPod } from '../../../src/render/pods.js';
import { podSetTemplate, renderWorkload, workloadName } from '../../../src/render/kueue-workload.js';

const config = loadClusterConfig();

function job(spec: Partial<HPCJob['spec']> = {}, uid = 'uid-1'): HPCJob {
  return {
    apiVersion: 'hpcjob.dev/v1alpha1',
    kind: 'HPCJob',
    metadata: { name: 'train', namespace: 'team-a', uid },
    spec: { image: 'mpi:1', command: ['mpirun', 'x'], workers: 3, resources: { gpus: 8, cpu: 16 }, ...spec },
  };
}

const podsOf = (j: HPCJob) => ({
  launcher: renderLauncherPod(j, config, 1, 2222),
  worker: renderWorkerPod(j, config, 0, 2222),
});

test('one Workload per job: named after the job and its uid, controlled by it, labelled for the caches and Kueue', () => {
  const j = job();
  const wl = renderWorkload(j, podsOf(j), { queueName: 'user-queue', active: true });
  expect(wl.apiVersion).toBe('kueue.x-k8s.io/v1beta2');
  expect(wl.kind).toBe('Workload');
  expect(wl.metadata?.name).toMatch(/^hpcjob-train-[0-9a-f]{5}$/);
  expect(wl.metadata?.namespace).toBe('team-a');
  expect(wl.metadata?.ownerReferences).toEqual([
    expect.objectContaining({ kind: 'HPCJob', name: 'train', uid: 'uid-1', controller: true }),
  ]);
  expect(wl.metadata?.labels).toMatchObject({
    'kueue.x-k8s.io/job-uid': 'uid-1',
    'app.kubernetes.io/managed-by': 'hpcjob-operator',
    'hpcjob.dev/job-name': 'train',
  });
  expect(wl.spec).toMatchObject({ queueName: 'user-queue', active: true });
  expect(wl.spec.priorityClassRef).toBeUndefined();
  // Stable for the job, different for a later job of the same name.
  expect(workloadName(j)).toBe(wl.metadata?.name);
  expect(workloadName(job({}, 'uid-2'))).not.toBe(wl.metadata?.name);
});

test('pod sets: launcher x1 and worker xN with the requests of the pods the operator creates', () => {
  const j = job();
  const wl = renderWorkload(j, podsOf(j), { queueName: 'q', active: true });
  expect(wl.spec.podSets.map((p) => [p.name, p.count])).toEqual([
    ['launcher', 1],
    ['worker', 3],
  ]);
  const [launcher, worker] = wl.spec.podSets;
  expect(worker!.template.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '16', 'nvidia.com/gpu': '8' });
  // The launcher runs no ranks: it asks for nothing Kueue would count.
  expect(launcher!.template.spec?.containers[0]?.resources).toBeUndefined();
  // With runsRanks the launcher gets a worker's share.
  const ranks = job({ launcher: { runsRanks: true } });
  const launcherSet = renderWorkload(ranks, podsOf(ranks), { queueName: 'q', active: true }).spec.podSets[0]!;
  expect(launcherSet.template.spec?.containers[0]?.resources?.requests).toMatchObject({ 'nvidia.com/gpu': '8' });
});

test('the template keeps what decides quota and flavors and drops the per-pod fields', () => {
  const j = job({
    worker: {
      template: {
        spec: {
          containers: [{ name: 'worker', resources: { limits: { 'example.com/fpga': '1' } } }],
          initContainers: [{ name: 'stage', image: 'busybox', resources: { requests: { cpu: '1' } } }],
          nodeSelector: { pool: 'gpu' },
          tolerations: [{ key: 'gpu', operator: 'Exists' }],
          priorityClassName: 'batch',
        },
      },
    },
  });
  const template = podSetTemplate(podsOf(j).worker);
  const spec = template.spec!;
  for (const perPod of ['hostname', 'subdomain', 'volumes', 'dnsConfig', 'securityContext'] as const) {
    expect(spec).not.toHaveProperty(perPod);
  }
  // A limit with no request is the request, as the API server defaults it for the pod.
  expect(spec.containers[0]?.resources?.requests).toMatchObject({ 'example.com/fpga': '1', 'nvidia.com/gpu': '8' });
  expect(spec.containers[0]).not.toHaveProperty('env');
  expect(spec.containers[0]).not.toHaveProperty('command');
  expect(spec.initContainers).toEqual([{ name: 'stage', image: 'busybox', resources: { requests: { cpu: '1' } } }]);
  expect(spec).toMatchObject({ nodeSelector: { pool: 'gpu' }, priorityClassName: 'batch' });
  expect(template.metadata).toBeUndefined();
});

test('a priority class label becomes the class reference and its value; suspended jobs start inactive', () => {
  const j = job();
  const wl = renderWorkload(j, podsOf(j), {
    queueName: 'q',
    active: false,
    priority: { className: 'high', value: 1000 },
  });
  expect(wl.spec).toMatchObject({
    active: false,
    priority: 1000,
    priorityClassRef: { group: 'kueue.x-k8s.io', kind: 'WorkloadPriorityClass', name: 'high' },
  });
});

test('any worker count and GPU count: the worker pod set counts every worker and each one GPU request', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 16 }), (workers, gpus) => {
      const j = job({ workers, resources: { gpus } });
      const worker = renderWorkload(j, podsOf(j), { queueName: 'q', active: true }).spec.podSets[1]!;
      expect(worker.count).toBe(workers);
      const requested = worker.template.spec?.containers[0]?.resources?.requests?.['nvidia.com/gpu'];
      expect(requested).toBe(gpus > 0 ? String(gpus) : undefined);
    }),
  );
});
