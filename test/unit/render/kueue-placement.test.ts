// Where Kueue's admission puts the pods: flavors' node labels and tolerations, admission checks' pod set updates.
import type { V1Pod } from '@kubernetes/client-node';
import type { ResourceFlavor, Workload } from '../../../src/api/kueue.js';
import { admittedPlacement, withPlacement } from '../../../src/render/kueue-placement.js';

const flavor = (name: string, nodeLabels: Record<string, string>, tolerations = [] as object[]): ResourceFlavor => ({
  metadata: { name },
  spec: { nodeLabels, tolerations },
});

const flavors = new Map<string, ResourceFlavor>([
  ['a100', flavor('a100', { 'gpu.example/model': 'a100' }, [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }])],
  ['cpu', flavor('cpu', { pool: 'cpu' })],
  ['rack-1', flavor('rack-1', { 'topology.hpcjob.dev/rack': 'rack-1' })],
]);

function workload(flavorsByPodSet: Record<string, Record<string, string>>, extra: Partial<Workload> = {}): Workload {
  return {
    spec: {
      queueName: 'q',
      podSets: [
        { name: 'launcher', count: 1, template: { spec: { containers: [{ name: 'launcher' }] } } },
        {
          name: 'worker',
          count: 2,
          template: { spec: { containers: [{ name: 'worker' }], nodeSelector: { 'gpu.example/model': 'a100' } } },
        },
      ],
    },
    status: {
      admission: {
        clusterQueue: 'cq',
        podSetAssignments: Object.entries(flavorsByPodSet).map(([name, f]) => ({ name, flavors: f, count: 1 })),
      },
    },
    ...extra,
  };
}

test('each pod set gets the node labels and tolerations of the flavors assigned to it, once per flavor', () => {
  const result = admittedPlacement(
    workload({ launcher: { cpu: 'cpu' }, worker: { 'nvidia.com/gpu': 'a100', 'rdma/hca': 'a100', cpu: 'rack-1' } }),
    flavors,
  );
  expect(result).toEqual({
    placements: {
      launcher: { nodeSelector: { pool: 'cpu' }, tolerations: [], labels: {}, annotations: {} },
      worker: {
        nodeSelector: { 'gpu.example/model': 'a100', 'topology.hpcjob.dev/rack': 'rack-1' },
        tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }],
        labels: {},
        annotations: {},
      },
    },
  });
});

test('a pod set that asks for nothing the ClusterQueue covers has no flavor and no placement', () => {
  const result = admittedPlacement(workload({ launcher: {}, worker: { 'nvidia.com/gpu': 'rack-1' } }), flavors);
  expect(result).toMatchObject({ placements: { launcher: { nodeSelector: {}, tolerations: [] } } });
});

test('a flavor the cache does not hold yet is named; a flavor contradicting the pod set is a conflict', () => {
  expect(admittedPlacement(workload({ worker: { 'nvidia.com/gpu': 'h100' } }), flavors)).toEqual({
    missingFlavor: 'h100',
  });
  const clash = new Map(flavors).set('h100', flavor('h100', { 'gpu.example/model': 'h100' }));
  const result = admittedPlacement(workload({ worker: { 'nvidia.com/gpu': 'h100' } }), clash);
  expect(result).toEqual({
    conflict: 'pod set worker: nodeSelector of flavor h100: gpu.example/model: a100 vs h100',
  });
});

test("admission checks' pod set updates are merged in; a contradicting update is a conflict", () => {
  const checks = (nodeSelector: Record<string, string>) => ({
    status: {
      admission: { clusterQueue: 'cq', podSetAssignments: [{ name: 'worker', flavors: { cpu: 'rack-1' } }] },
      admissionChecks: [
        {
          name: 'provision',
          state: 'Ready',
          podSetUpdates: [
            {
              name: 'worker',
              nodeSelector,
              labels: { 'provisioned-by': 'check' },
              annotations: { 'cluster-autoscaler.kubernetes.io/consume-provisioning-request': 'pr-1' },
              tolerations: [{ key: 'spot', operator: 'Exists' }],
            },
          ],
        },
      ],
    },
  });
  const ok = admittedPlacement(workload({}, checks({ 'node-pool': 'p1' })), flavors);
  expect(ok).toMatchObject({
    placements: {
      worker: {
        nodeSelector: { 'topology.hpcjob.dev/rack': 'rack-1', 'node-pool': 'p1' },
        labels: { 'provisioned-by': 'check' },
        annotations: { 'cluster-autoscaler.kubernetes.io/consume-provisioning-request': 'pr-1' },
        tolerations: [{ key: 'spot', operator: 'Exists' }],
      },
    },
  });
  const bad = admittedPlacement(workload({}, checks({ 'topology.hpcjob.dev/rack': 'rack-0' })), flavors);
  expect(bad).toEqual({
    conflict: 'pod set worker: update of admission check provision: topology.hpcjob.dev/rack: rack-1 vs rack-0',
  });
});

test('withPlacement adds to a copy of the pod; the operator labels stay as rendered', () => {
  const pod: V1Pod = {
    metadata: { name: 'j-worker-0', labels: { 'hpcjob.dev/role': 'worker' } },
    spec: {
      containers: [{ name: 'worker' }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'spot', operator: 'Exists' }],
    },
  };
  const before = JSON.stringify(pod);
  const placed = withPlacement(pod, {
    nodeSelector: { pool: 'gpu' },
    tolerations: [
      { key: 'spot', operator: 'Exists' },
      { key: 'gpu', operator: 'Exists' },
    ],
    labels: { 'hpcjob.dev/role': 'other', team: 'a' },
    annotations: { note: 'x' },
  });
  expect(JSON.stringify(pod)).toBe(before);
  expect(placed.spec?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', pool: 'gpu' });
  expect(placed.spec?.tolerations).toEqual([
    { key: 'spot', operator: 'Exists' },
    { key: 'gpu', operator: 'Exists' },
  ]);
  expect(placed.metadata?.labels).toEqual({ 'hpcjob.dev/role': 'worker', team: 'a' });
  expect(placed.metadata?.annotations).toEqual({ note: 'x' });
  expect(withPlacement(pod, undefined)).toBe(pod);
});
