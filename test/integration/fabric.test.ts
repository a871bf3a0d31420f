// GPUs, RDMA, host network, SR-IOV and placement, placed by the real kube-scheduler on KWOK nodes
// (4 nodes x 8 GPUs, racks of 2 nodes).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { HPCJobSpec } from '../../src/api/types.js';
import { clients, kubeconfigPath, repoRoot } from './support/cluster.js';
import { eventually } from './support/eventually.js';
import { jobManifest, Jobs } from './support/jobs.js';
import { OperatorProcess } from './support/operator.js';
import { useOperatorSuite } from './support/suite.js';

const configDir = mkdtempSync(path.join(os.tmpdir(), 'hpcjob-config-'));
const configFile = path.join(configDir, 'cluster.yaml');
writeFileSync(
  configFile,
  [
    'sriovNetworks:',
    '  fast-net:',
    '    networkAttachment: sriov-rdma',
    '    resourceName: nvidia.com/sriov_rdma_vf',
    '    interfaceName: net1',
    // Host-network jobs are part of this suite; the site policy allows them nowhere by default.
    'sitePolicy:',
    '  hostNetworkNamespaces: ["*"]',
    '',
  ].join('\n'),
);

const { core } = clients();
const operator = new OperatorProcess('operator-fabric', ['--config', configFile]);
let jobs: Jobs;

const gpuJob = (name: string, workers: number, extra: Partial<HPCJobSpec> = {}) =>
  jobManifest(name, {
    workers,
    exitCode: 0,
    runDuration: '2s',
    spec: { resources: { gpus: 8, cpu: '4', memory: '8Gi' }, ...extra },
  });

const nodesOf = (pods: V1Pod[]) => pods.map((p) => p.spec?.nodeName);
const rackOf = (node: string | undefined) => `rack-${Math.floor(Number(node?.split('-').pop()) / 2)}`;
const workersOf = (pods: V1Pod[]) => pods.filter((p) => p.metadata?.labels?.['hpcjob.dev/role'] === 'worker');

useOperatorSuite(
  operator,
  'fab',
  (_ns, j) => {
    jobs = j;
  },
  // GPU capacity must be free again before the next test places pods.
  async (ns) => {
    await eventually(async () => {
      const left = await core.listNamespacedPod({ namespace: ns });
      expect(left.items).toHaveLength(0);
    }, 60_000);
  },
);

test('4 workers x 8 GPUs on 4 nodes: one per node, scheduled for real, and the job succeeds', async () => {
  await jobs.create(gpuJob('gpu4', 4));
  await eventually(async () => {
    const workers = workersOf(await jobs.livePods('gpu4'));
    expect(workers).toHaveLength(4);
    expect(new Set(nodesOf(workers)).size).toBe(4);
    for (const w of workers) {
      const limits = w.spec?.containers[0]?.resources?.limits ?? {};
      expect(limits['nvidia.com/gpu']).toBe('8');
      expect(w.spec?.containers[0]?.resources?.requests?.['nvidia.com/gpu']).toBe('8');
    }
  });
  const status = await jobs.waitForPhase('gpu4', 'Succeeded');
  expect(status.launcher?.exitCode).toBe(0);
  const launcher = (await jobs.pods('gpu4')).find((p) => p.metadata?.labels?.['hpcjob.dev/role'] === 'launcher');
  expect(launcher?.spec?.containers[0]?.resources?.limits?.['nvidia.com/gpu']).toBeUndefined();
});

test('5 workers x 8 GPUs on 4 nodes: the job reports Unschedulable with the scheduler reason', async () => {
  await jobs.create(gpuJob('gpu5', 5));
  const status = await jobs.waitFor('gpu5', (s) => {
    expect(s.conditions?.find((c) => c.type === 'Unschedulable')?.status).toBe('True');
  });
  const condition = status.conditions?.find((c) => c.type === 'Unschedulable');
  expect(condition?.reason).toBe('Unschedulable');
  expect(condition?.message).toContain('Insufficient nvidia.com/gpu');
  expect(status.phase).toBe('Pending');
});

test('two host-network jobs on the same nodes get different sshd ports and both run', async () => {
  const hostJob = (name: string) =>
    jobManifest(name, {
      workers: 4,
      exitCode: 0,
      runDuration: '3s',
      spec: {
        network: { mode: 'host' },
        placement: { oneWorkerPerNode: true },
        // Keep the finished pods so their placement and ports can be checked.
        runPolicy: { cleanPodPolicy: 'None' },
      },
    });
  await jobs.create(hostJob('hosta'));
  await jobs.create(hostJob('hostb'));
  const [a, b] = await Promise.all([jobs.waitForPhase('hosta', 'Succeeded'), jobs.waitForPhase('hostb', 'Succeeded')]);
  expect(a.sshPort).toBeDefined();
  expect(b.sshPort).toBeDefined();
  expect(a.sshPort).not.toBe(b.sshPort);
  for (const [name, port] of [
    ['hosta', a.sshPort],
    ['hostb', b.sshPort],
  ] as const) {
    const workers = workersOf(await jobs.pods(name));
    // The entrypoints write ssh_config with this port (common.sh).
    for (const pod of workers)
      expect(pod.spec?.containers[0]?.env).toContainEqual({ name: 'HPCJOB_SSH_PORT', value: String(port) });
    expect(new Set(nodesOf(workers)).size).toBe(4);
    for (const w of workers) {
      expect(w.spec?.hostNetwork).toBe(true);
      expect(w.spec?.dnsPolicy).toBe('ClusterFirstWithHostNet');
      expect(w.spec?.containers[0]?.ports?.some((p) => p.hostPort === port && p.containerPort === port)).toBe(true);
    }
  }
});

test('an SR-IOV job: each worker carries the Multus annotation and the device-pool request', async () => {
  await jobs.create(jobManifest('sriov', { workers: 2, spec: { network: { mode: 'sriov', networks: ['fast-net'] } } }));
  const workers = await eventually(async () => {
    const list = workersOf(await jobs.pods('sriov'));
    expect(list).toHaveLength(2);
    return list;
  });
  for (const w of workers) {
    expect(w.metadata?.annotations?.['k8s.v1.cni.cncf.io/networks']).toContain('sriov-rdma');
    const main = w.spec?.containers[0];
    expect(main?.resources?.requests?.['nvidia.com/sriov_rdma_vf']).toBe('1');
    expect(main?.resources?.limits?.['nvidia.com/sriov_rdma_vf']).toBe('1');
    const env = Object.fromEntries((main?.env ?? []).map((e) => [e.name, e.value]));
    expect(env.NCCL_SOCKET_IFNAME).toContain('net1');
  }
  // No KWOK node offers the pool, so the scheduler says so through the job.
  const status = await jobs.waitFor('sriov', (s) =>
    expect(s.conditions?.find((c) => c.type === 'Unschedulable')?.status).toBe('True'),
  );
  expect(status.conditions?.find((c) => c.type === 'Unschedulable')?.message).toContain('nvidia.com/sriov_rdma_vf');
});

test('all workers in one rack: 2 workers land in one rack; 3 workers (racks of 2) are Unschedulable', async () => {
  await jobs.create(gpuJob('rack2', 2, { placement: { sameDomain: 'rack' } }));
  const workers = await eventually(async () => {
    const list = workersOf(await jobs.livePods('rack2'));
    expect(list).toHaveLength(2);
    expect(list.every((p) => p.spec?.nodeName)).toBe(true);
    return list;
  });
  expect(new Set(nodesOf(workers).map(rackOf)).size).toBe(1);
  await jobs.waitForPhase('rack2', 'Succeeded');

  await jobs.create(gpuJob('rack3', 3, { placement: { sameDomain: 'rack' } }));
  const status = await jobs.waitFor('rack3', (s) =>
    expect(s.conditions?.find((c) => c.type === 'Unschedulable')?.status).toBe('True'),
  );
  expect(status.phase).toBe('Pending');
});

test('a bad cluster configuration stops the operator at start with the key named', () => {
  const bad = path.join(configDir, 'bad.yaml');
  writeFileSync(
    bad,
    'hostNetworkPortRange: { min: 30000, max: 20000 }\nsriovNetworks: { fast: { resourceName: x/y } }\n',
  );
  const started = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'dist/main.js'), '--config', bad, '--kubeconfig', kubeconfigPath()],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  expect(started.status).toBe(1);
  expect(started.stdout).toMatch(/config\.(hostNetworkPortRange\.min|sriovNetworks\.fast)/);
  expect(started.stdout).toContain('operator failed to start');
});
