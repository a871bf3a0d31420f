import {
  extendedResources,
  fabricEnv,
  needsIpcLock,
  networksAnnotation,
  placementAffinity,
  sriovAttachments,
} from '../../../src/render/fabric.js';
import { parseClusterConfig } from '../../../src/config/cluster-config.js';
import { makeJob, testConfig } from '../api/fixtures.js';

describe('extendedResources', () => {
  it.each<[string, Parameters<typeof makeJob>[0], 'worker' | 'launcher', Record<string, number>]>([
    ['a CPU worker', {}, 'worker', {}],
    [
      'GPUs and RDMA on a worker',
      { resources: { gpus: 8, rdmaDevices: 1 } },
      'worker',
      { 'nvidia.com/gpu': 8, 'rdma/hca': 1 },
    ],
    ['no GPUs on a launcher', { resources: { gpus: 8 } }, 'launcher', {}],
    [
      'GPUs on a launcher that runs ranks',
      { resources: { gpus: 4 }, launcher: { runsRanks: true } },
      'launcher',
      { 'nvidia.com/gpu': 4 },
    ],
    [
      'one VF per SR-IOV network',
      { network: { mode: 'sriov', networks: ['ib-a', 'ib-b', 'roce'] } },
      'worker',
      { 'nvidia.com/hostdev': 2, 'intel.com/sriov_roce': 1 },
    ],
  ])('%s', (_, spec, role, expected) => {
    expect(extendedResources(makeJob(spec), testConfig, role)).toEqual(expected);
  });

  it('uses the configured resource names', () => {
    const config = parseClusterConfig({ gpuResourceName: 'amd.com/gpu', rdmaResourceName: 'rdma/shared_a' });
    expect(extendedResources(makeJob({ resources: { gpus: 1, rdmaDevices: 2 } }), config, 'worker')).toEqual({
      'amd.com/gpu': 1,
      'rdma/shared_a': 2,
    });
  });
});

describe('SR-IOV networks', () => {
  const job = makeJob({ network: { mode: 'sriov', networks: ['ib-a', 'roce', 'ib-b'] } });

  it('names interfaces by position unless the config names them', () => {
    expect(sriovAttachments(job, testConfig).map((a) => a.interface)).toEqual(['net1', 'roce0', 'net3']);
  });

  it('writes the Multus annotation with namespaces and interfaces', () => {
    expect(JSON.parse(networksAnnotation(sriovAttachments(job, testConfig)))).toEqual([
      { name: 'ib-a', namespace: 'hpc', interface: 'net1' },
      { name: 'roce', interface: 'roce0' },
      { name: 'ib-b', interface: 'net3' },
    ]);
  });

  it('points NCCL and UCX at the SR-IOV interfaces only', () => {
    expect(fabricEnv(job, testConfig)).toMatchObject({
      NCCL_SOCKET_IFNAME: '=net1,roce0,net3',
      UCX_NET_DEVICES: 'net1,roce0,net3',
    });
  });
});

describe('fabricEnv', () => {
  it('disables the InfiniBand probe without RDMA devices', () => {
    expect(fabricEnv(makeJob(), testConfig)).toEqual({
      NCCL_DEBUG: 'WARN',
      UCX_WARN_UNUSED_ENV_VARS: 'n',
      NCCL_IB_DISABLE: '1',
    });
    expect(fabricEnv(makeJob({ resources: { rdmaDevices: 1 } }), testConfig)).not.toHaveProperty('NCCL_IB_DISABLE');
  });

  it("lets the job's fabricEnv override everything", () => {
    const job = makeJob({ fabricEnv: { NCCL_IB_DISABLE: '0', NCCL_DEBUG: 'INFO' } });
    expect(fabricEnv(job, testConfig)).toMatchObject({ NCCL_IB_DISABLE: '0', NCCL_DEBUG: 'INFO' });
  });
});

describe('needsIpcLock', () => {
  it.each<[string, Parameters<typeof makeJob>[0], boolean, boolean]>([
    ['RDMA', { resources: { rdmaDevices: 1 } }, true, true],
    ['RDMA, not allowed by the site', { resources: { rdmaDevices: 1 } }, false, false],
    ['SR-IOV', { network: { mode: 'sriov', networks: ['ib-a'] } }, true, true],
    ['TCP only', {}, true, false],
  ])('%s', (_, spec, allowed, expected) => {
    const config = { ...testConfig, allowIpcLock: allowed };
    expect(needsIpcLock(makeJob(spec), config, 'worker')).toBe(expected);
    expect(needsIpcLock(makeJob(spec), config, 'launcher')).toBe(false);
  });
});

describe('placementAffinity', () => {
  it('keeps workers apart on the node key', () => {
    const affinity = placementAffinity(makeJob({ placement: { oneWorkerPerNode: true } }), testConfig, 'worker');
    expect(affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        topologyKey: 'kubernetes.io/hostname',
        labelSelector: {
          matchLabels: { 'hpcjob.dev/job-name': 'cfd' },
          matchExpressions: [{ key: 'hpcjob.dev/role', operator: 'In', values: ['worker'] }],
        },
      },
    ]);
    expect(affinity?.podAffinity).toBeUndefined();
  });

  it('keeps rank pods together in one domain, the launcher too when it runs ranks', () => {
    const job = makeJob({ placement: { sameDomain: 'rack' }, launcher: { runsRanks: true } });
    const term = placementAffinity(job, testConfig, 'launcher')?.podAffinity
      ?.requiredDuringSchedulingIgnoredDuringExecution?.[0];
    expect(term?.topologyKey).toBe('topology.hpcjob.dev/rack');
    expect(term?.labelSelector?.matchExpressions?.[0]?.values).toEqual(['worker', 'launcher']);
  });

  it('leaves a launcher that runs no ranks free', () => {
    expect(
      placementAffinity(makeJob({ placement: { oneWorkerPerNode: true } }), testConfig, 'launcher'),
    ).toBeUndefined();
  });
});
