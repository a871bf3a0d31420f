import fc from 'fast-check';
import { withDefaults } from '../../../src/api/defaults.js';
import { renderConfigMap, renderService, renderSshSecret, hostfileHosts } from '../../../src/render/objects.js';
import { arbJob, makeJob, testConfig } from '../api/fixtures.js';

const keys = {
  user: { privateKey: '-----BEGIN USER KEY-----\n', publicKey: 'ecdsa-sha2-nistp521 AAAAuser hpcjob-cfd' },
  host: { privateKey: '-----BEGIN HOST KEY-----\n', publicKey: 'ecdsa-sha2-nistp521 AAAAhost hpcjob-cfd-host' },
};
const owner = {
  apiVersion: 'hpcjob.dev/v1alpha1',
  kind: 'HPCJob',
  name: 'cfd',
  controller: true,
  blockOwnerDeletion: true,
};

describe('renderService', () => {
  it.each<[string, Parameters<typeof makeJob>[0], Record<string, string>]>([
    ['Open MPI: the workers', {}, { 'hpcjob.dev/job-name': 'cfd', 'hpcjob.dev/role': 'worker' }],
    ['a launcher that runs ranks is in it', { launcher: { runsRanks: true } }, { 'hpcjob.dev/job-name': 'cfd' }],
    ['Hydra calls the launcher back by name', { mpiImplementation: 'IntelMPI' }, { 'hpcjob.dev/job-name': 'cfd' }],
  ])('%s', (_, spec, selector) => {
    const service = renderService(withDefaults(makeJob(spec)));
    expect(service.metadata).toMatchObject({ name: 'cfd', namespace: 'team-a', ownerReferences: [owner] });
    expect(service.spec).toEqual({ clusterIP: 'None', publishNotReadyAddresses: true, selector });
  });
});

describe('renderSshSecret', () => {
  const secret = renderSshSecret(withDefaults(makeJob()), keys);

  it('is immutable, owned and labelled', () => {
    expect(secret.immutable).toBe(true);
    expect(secret.metadata).toMatchObject({
      name: 'cfd-ssh',
      labels: { 'hpcjob.dev/job-name': 'cfd', 'app.kubernetes.io/managed-by': 'hpcjob-operator' },
      ownerReferences: [owner],
    });
  });

  it('holds both key pairs, the authorized key and the known hosts', () => {
    expect(secret.stringData).toMatchObject({
      id_key: keys.user.privateKey,
      'id_key.pub': keys.user.publicKey,
      authorized_keys: keys.user.publicKey,
      host_key: keys.host.privateKey,
      'host_key.pub': keys.host.publicKey,
    });
    expect(secret.stringData?.known_hosts).toContain('AAAAhost');
    expect(secret.stringData?.known_hosts).not.toContain('AAAAuser');
  });
});

describe('renderConfigMap', () => {
  it('holds the hostfile, ssh_config and the entrypoints', () => {
    const config = renderConfigMap(withDefaults(makeJob({ slotsPerWorker: 4 })), testConfig, 2345);
    expect(config.metadata).toMatchObject({ name: 'cfd-config', ownerReferences: [owner] });
    const data = config.data ?? {};
    expect(Object.keys(data)).toEqual(expect.arrayContaining(['hostfile', 'ssh_config', 'worker.sh', 'launcher.sh']));
    expect(data.hostfile).toContain('cfd-worker-0.cfd');
    expect(data.hostfile).toContain('cfd-worker-1.cfd');
    expect(data.ssh_config).toContain('2345');
    expect(data.ssh_config).toContain('/etc/hpcjob/ssh/known_hosts');
    expect(data.ssh_config).toContain('/run/hpcjob/id_key');
  });
});

describe('hostfileHosts', () => {
  it('lists the workers with their slots, the launcher first when it runs ranks', () => {
    expect(hostfileHosts(withDefaults(makeJob({ workers: 2, resources: { gpus: 4 } })))).toEqual([
      { name: 'cfd-worker-0.cfd', slots: 4 },
      { name: 'cfd-worker-1.cfd', slots: 4 },
    ]);
    expect(hostfileHosts(withDefaults(makeJob({ workers: 1, launcher: { runsRanks: true } })))).toEqual([
      { name: 'cfd-launcher.cfd', slots: 1 },
      { name: 'cfd-worker-0.cfd', slots: 1 },
    ]);
  });
});

describe('shared objects of random jobs', () => {
  it('render, owned by the job, with one hostfile line per host', () => {
    fc.assert(
      fc.property(arbJob, (generated) => {
        const job = withDefaults(generated);
        const objects = [renderService(job), renderSshSecret(job, keys), renderConfigMap(job, testConfig, 2222)];
        for (const o of objects) expect(o.metadata?.ownerReferences).toHaveLength(1);
        const hosts = job.spec.workers + (job.spec.launcher?.runsRanks ? 1 : 0);
        expect(hostfileHosts(job)).toHaveLength(hosts);
      }),
    );
  });
});
