import fc from 'fast-check';
import { checkRunnable } from '../../../src/api/semantic.js';
import { parseClusterConfig } from '../../../src/config/cluster-config.js';
import { arbJob, makeJob, testConfig } from './fixtures.js';

describe('checkRunnable', () => {
  it.each<[string, Parameters<typeof makeJob>[0]]>([
    ['a plain job', {}],
    ['known SR-IOV networks', { network: { mode: 'sriov', networks: ['ib-a', 'roce'] } }],
    ['a configured topology domain', { placement: { sameDomain: 'rack', oneWorkerPerNode: true } }],
    ['own volumes and variables', { volumes: [{ name: 'scratch' }], env: [{ name: 'FOAM_RUN', value: '/scratch' }] }],
  ])('accepts %s', (_, spec) => {
    expect(checkRunnable(makeJob(spec), testConfig)).toBeUndefined();
  });

  it.each<[string, Parameters<typeof makeJob>[0], string]>([
    [
      'an unknown SR-IOV network',
      { network: { mode: 'sriov', networks: ['ib-a', 'eth-x'] } },
      'spec.network.networks[1]: unknown SR-IOV network "eth-x" (configured: ib-a, ib-b, roce)',
    ],
    [
      'an unknown topology domain',
      { placement: { sameDomain: 'pod' } },
      'spec.placement.sameDomain: unknown topology domain "pod" (configured: node, rack)',
    ],
    [
      'a volume name of the operator',
      { volumes: [{ name: 'hpcjob-ssh' }] },
      'spec.volumes[0].name: names starting with hpcjob-',
    ],
    [
      'a variable of the operator',
      { env: [{ name: 'HPCJOB_SSH_PORT', value: '22' }] },
      'spec.env[0].name: variables starting with HPCJOB_',
    ],
  ])('rejects %s, naming the field', (_, spec, message) => {
    expect(checkRunnable(makeJob(spec), testConfig)).toContain(message);
  });

  it('rejects two networks on one interface name', () => {
    const config = parseClusterConfig({
      sriovNetworks: {
        a: { networkAttachment: 'a', resourceName: 'x.io/a', interfaceName: 'net2' },
        b: { networkAttachment: 'b', resourceName: 'x.io/b' },
      },
    });
    const job = makeJob({ network: { mode: 'sriov', networks: ['a', 'b'] } });
    expect(checkRunnable(job, config)).toBe('spec.network.networks[1]: "b" and "a" both use interface net2');
  });

  it('reports every problem at once', () => {
    const job = makeJob({ network: { mode: 'sriov', networks: ['x'] }, placement: { sameDomain: 'y' } });
    expect(checkRunnable(job, testConfig)?.split('; ')).toHaveLength(2);
  });
});

describe('checkRunnable on random jobs', () => {
  it('accepts every generated job, whose names all exist in the configuration', () => {
    fc.assert(fc.property(arbJob, (job) => expect(checkRunnable(job, testConfig)).toBeUndefined()));
  });

  it('names the position of any SR-IOV network the configuration lacks', () => {
    const unknown = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((n) => !(n in testConfig.sriovNetworks));
    fc.assert(
      fc.property(fc.array(fc.constantFrom('ib-a', 'ib-b'), { maxLength: 2 }), unknown, (known, name) => {
        const networks = [...new Set(known), name];
        const message = checkRunnable(makeJob({ network: { mode: 'sriov', networks } }), testConfig);
        expect(message).toContain(`spec.network.networks[${networks.length - 1}]: unknown SR-IOV network "${name}"`);
      }),
    );
  });
});
