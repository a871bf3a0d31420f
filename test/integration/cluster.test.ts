// The local control plane itself: real scheduler placement, KWOK pod lifecycles, garbage collection, restarts.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { clients, kubectl, runClusterScript } from './support/cluster.js';
import { eventually } from './support/eventually.js';
import { createTestNamespace, deleteTestNamespace } from './support/namespace.js';

const { core } = clients();
let namespace: string;

beforeEach(async () => {
  namespace = await createTestNamespace(core, 'cluster');
});
afterEach(async () => {
  await deleteTestNamespace(core, namespace);
});

function gpuPod(name: string, gpus: number, annotations: Record<string, string> = {}): V1Pod {
  return {
    metadata: { name, annotations },
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'main',
          image: 'busybox',
          resources: { limits: { 'nvidia.com/gpu': String(gpus) }, requests: { 'nvidia.com/gpu': String(gpus) } },
        },
      ],
    },
  };
}

async function readPod(api: CoreV1Api, name: string): Promise<V1Pod> {
  return api.readNamespacedPod({ name, namespace });
}

test('kubectl get nodes lists the fake nodes with 8 GPUs and RDMA devices each', () => {
  const result = kubectl(['get', 'nodes', '-l', 'type=kwok', '-o', 'json']);
  expect(result.status).toBe(0);
  type Node = {
    metadata: { name: string; labels: Record<string, string> };
    status: { allocatable: Record<string, string> };
  };
  // Only the nodes hack/cluster registers (a benchmark may add roomier ones of its own).
  const nodes = (JSON.parse(result.stdout).items as Node[]).filter((n) => /^kwok-node-\d+$/.test(n.metadata.name));
  expect(nodes.length).toBeGreaterThanOrEqual(4);
  for (const node of nodes) {
    expect(node.status.allocatable['nvidia.com/gpu']).toBe('8');
    expect(node.status.allocatable['rdma/hca']).toBe('1k');
  }
  const racks = new Set(nodes.map((n) => n.metadata.labels['topology.hpcjob.dev/rack']));
  expect(racks.size).toBe(2);
});

test('a pod asking for 8 GPUs is scheduled on a fake node and becomes Running and Ready', async () => {
  await core.createNamespacedPod({ namespace, body: gpuPod('eight-gpus', 8) });
  const pod = await eventually(async () => {
    const p = await readPod(core, 'eight-gpus');
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    return p;
  });
  expect(pod.spec?.nodeName).toMatch(/^kwok-node-\d+$/);
});

test('a pod asking for 9 GPUs stays Pending with a FailedScheduling event', async () => {
  await core.createNamespacedPod({ namespace, body: gpuPod('nine-gpus', 9) });
  const event = await eventually(async () => {
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=nine-gpus' });
    const failed = events.items.find((e) => e.reason === 'FailedScheduling');
    expect(failed).toBeDefined();
    return failed!;
  });
  expect(event.message).toContain('nvidia.com/gpu');
  const pod = await readPod(core, 'nine-gpus');
  expect(pod.status?.phase).toBe('Pending');
  expect(pod.spec?.nodeName).toBeUndefined();
});

test.each([
  ['3', 'Failed', 3],
  ['0', 'Succeeded', 0],
])('a pod annotated to exit %s ends %s with that exit code', async (code, phase, exitCode) => {
  const name = `exit-${code}`;
  await core.createNamespacedPod({
    namespace,
    body: gpuPod(name, 1, { 'kwok.hpcjob.dev/exit-code': code, 'kwok.hpcjob.dev/run-duration': '500ms' }),
  });
  const pod = await eventually(async () => {
    const p = await readPod(core, name);
    expect(p.status?.phase).toBe(phase);
    return p;
  });
  expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(exitCode);
});

test('deleting an owner makes the garbage collector delete its dependents', async () => {
  const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'owner' }, data: {} } });
  const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! }];
  await core.createNamespacedPod({
    namespace,
    body: { ...gpuPod('dependent', 0), metadata: { name: 'dependent', ownerReferences } },
  });
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'dependent', ownerReferences } } });
  await core.deleteNamespacedConfigMap({ name: 'owner', namespace });
  await eventually(async () => {
    const pods = await core.listNamespacedPod({ namespace });
    const secrets = await core.listNamespacedSecret({ namespace, fieldSelector: 'metadata.name=dependent' });
    expect(pods.items).toHaveLength(0);
    expect(secrets.items).toHaveLength(0);
  }, 60_000);
});

test('restarting kube-apiserver leaves the cluster usable', async () => {
  const before = await core.createNamespacedPod({ namespace, body: gpuPod('before-restart', 1) });
  runClusterScript(['restart', 'kube-apiserver']);
  const { core: fresh } = clients();
  const survivor = await eventually(() => readPod(fresh, 'before-restart'), 60_000);
  expect(survivor.metadata?.uid).toBe(before.metadata?.uid);
  await fresh.createNamespacedPod({ namespace, body: gpuPod('after-restart', 1) });
  await eventually(async () => {
    const p = await readPod(fresh, 'after-restart');
    expect(p.status?.phase).toBe('Running');
  }, 60_000);
});
