import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import {
  DEFAULT_CLUSTER_CONFIG,
  hostPortForJob,
  loadClusterConfig,
  parseClusterConfig,
} from '../../../src/config/cluster-config.js';

describe('parseClusterConfig', () => {
  it('gives the defaults for an empty file', () => {
    expect(parseClusterConfig(undefined)).toEqual(DEFAULT_CLUSTER_CONFIG);
    expect(parseClusterConfig({})).toEqual(DEFAULT_CLUSTER_CONFIG);
  });

  it('merges a partial configuration over the defaults', () => {
    const config = parseClusterConfig({
      rdmaResourceName: 'rdma/rdma_shared_device_a',
      topologyKeys: { block: 'network.topology.nvidia.com/block' },
      hostNetworkPortRange: { max: 39999 },
      sriovNetworks: {
        ib: { networkAttachment: 'hpc/ib-sriov', resourceName: 'nvidia.com/hostdev', interfaceName: 'ib0' },
      },
    });
    expect(config.rdmaResourceName).toBe('rdma/rdma_shared_device_a');
    expect(config.gpuResourceName).toBe('nvidia.com/gpu');
    expect(config.topologyKeys).toEqual({
      node: 'kubernetes.io/hostname',
      rack: 'topology.hpcjob.dev/rack',
      block: 'network.topology.nvidia.com/block',
    });
    expect(config.hostNetworkPortRange).toEqual({ min: 20000, max: 39999 });
  });

  it.each<[string, unknown, string]>([
    [
      'a port range upside down',
      { hostNetworkPortRange: { min: 3000, max: 2000 } },
      'config.hostNetworkPortRange.min: must be <= max',
    ],
    ['a port out of range', { sshPort: 70000 }, 'config.sshPort: must be a port number'],
    [
      'a port that is not a number',
      { hostNetworkPortRange: { max: '30000' } },
      'config.hostNetworkPortRange.max: must be a port',
    ],
    ['an unknown key', { gpuResource: 'nvidia.com/gpu' }, 'config.gpuResource: unknown key'],
    [
      'an unknown key of a network',
      { sriovNetworks: { ib: { networkAttachment: 'a', resourceName: 'x.io/y', vlan: 3 } } },
      'config.sriovNetworks.ib.vlan: unknown key',
    ],
    [
      'a network without a resource',
      { sriovNetworks: { ib: { networkAttachment: 'a' } } },
      'config.sriovNetworks.ib.resourceName: must be an extended resource name',
    ],
    [
      'a bad attachment',
      { sriovNetworks: { ib: { networkAttachment: 'a/b/c', resourceName: 'x.io/y' } } },
      'config.sriovNetworks.ib.networkAttachment',
    ],
    [
      'a long interface name',
      { sriovNetworks: { ib: { networkAttachment: 'a', resourceName: 'x.io/y', interfaceName: 'infiniband-port-0' } } },
      'config.sriovNetworks.ib.interfaceName',
    ],
    [
      'a resource name without a domain',
      { gpuResourceName: 'gpu' },
      'config.gpuResourceName: must be an extended resource name',
    ],
    ['a bad label key', { topologyKeys: { rack: 'has space' } }, 'config.topologyKeys.rack: must be a node label key'],
    ['a boolean as a string', { allowIpcLock: 'yes' }, 'config.allowIpcLock: must be true or false'],
    ['a switch given as a number', { networkPolicy: 0 }, 'config.networkPolicy: must be true or false'],
    ['a switch left empty in YAML', { networkPolicy: null }, 'config.networkPolicy: must be true or false'],
    [
      'a numeric fabric value',
      { defaultFabricEnv: { NCCL_IB_GID_INDEX: 3 } },
      'config.defaultFabricEnv.NCCL_IB_GID_INDEX: must be a string',
    ],
    ['a list instead of a mapping', ['a'], 'config: must be a mapping'],
  ])('rejects %s, naming the key', (_, raw, message) => {
    expect(() => parseClusterConfig(raw)).toThrow(message);
  });

  it('gives every job a NetworkPolicy unless the switch is off', () => {
    expect(parseClusterConfig({}).networkPolicy).toBe(true);
    expect(parseClusterConfig({ networkPolicy: false }).networkPolicy).toBe(false);
    expect(parseClusterConfig({ networkPolicy: true, allowIpcLock: false })).toMatchObject({
      networkPolicy: true,
      allowIpcLock: false,
    });
  });

  it('replaces the default fabric environment as a whole', () => {
    expect(parseClusterConfig({ defaultFabricEnv: { NCCL_IB_GID_INDEX: '3' } }).defaultFabricEnv).toEqual({
      NCCL_IB_GID_INDEX: '3',
    });
  });
});

describe('loadClusterConfig', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hpcjob-config-'));

  it('gives the defaults without a path or without a file', () => {
    expect(loadClusterConfig(undefined)).toEqual(DEFAULT_CLUSTER_CONFIG);
    expect(loadClusterConfig(path.join(dir, 'absent.yaml'))).toEqual(DEFAULT_CLUSTER_CONFIG);
  });

  it('reads YAML and JSON', () => {
    writeFileSync(path.join(dir, 'c.yaml'), 'sshPort: 2022\nallowIpcLock: false\n');
    writeFileSync(path.join(dir, 'c.json'), '{"gpuResourceName": "amd.com/gpu"}');
    expect(loadClusterConfig(path.join(dir, 'c.yaml'))).toMatchObject({ sshPort: 2022, allowIpcLock: false });
    expect(loadClusterConfig(path.join(dir, 'c.json')).gpuResourceName).toBe('amd.com/gpu');
  });

  it('names the file and the key when the file is wrong', () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'hostNetworkPortRange: { min: 9, max: 1 }\n');
    expect(() => loadClusterConfig(file)).toThrow(`${file}: config.hostNetworkPortRange.min: must be <= max`);
  });
});

describe('hostPortForJob', () => {
  it('is deterministic and inside the range', () => {
    fc.assert(
      fc.property(
        fc.uuid(),
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 0, max: 2000 }),
        (uid, min, width) => {
          const range = { min, max: Math.min(65535, min + width) };
          const port = hostPortForJob(uid, range);
          expect(port).toBe(hostPortForJob(uid, range));
          expect(port).toBeGreaterThanOrEqual(range.min);
          expect(port).toBeLessThanOrEqual(range.max);
        },
      ),
    );
  });

  it('spreads jobs over the range', () => {
    const range = DEFAULT_CLUSTER_CONFIG.hostNetworkPortRange;
    const ports = new Set(Array.from({ length: 200 }, (_, i) => hostPortForJob(`uid-${i}`, range)));
    expect(ports.size).toBeGreaterThan(190);
  });
});
