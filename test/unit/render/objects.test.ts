import fc from 'fast-check';
import { withDefaults } from '../../../src/api/defaults.js';
import { SCRIPTS_CONFIGMAP } from '../../../src/render/entrypoints.js';
import {
  hostfileHosts,
  renderBatchConfigMap,
  renderHostsService,
  renderScriptsConfigMap,
  renderSshSecret,
} from '../../../src/render/objects.js';
import { arbJob, makeJob } from '../api/fixtures.js';

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

describe('renderHostsService', () => {
  it("is one per namespace, owned by no job, and selects every pod of the operator's there", () => {
    const service = renderHostsService('team-a');
    expect(service.metadata).toEqual({
      name: 'hpcjob-hosts',
      namespace: 'team-a',
      labels: { 'app.kubernetes.io/managed-by': 'hpcjob-operator' },
    });
    expect(service.spec).toEqual({
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: { 'app.kubernetes.io/managed-by': 'hpcjob-operator' },
    });
  });
});

describe('renderScriptsConfigMap', () => {
  it('holds every entrypoint, is immutable and named after its content', () => {
    const config = renderScriptsConfigMap('team-a');
    expect(config.immutable).toBe(true);
    expect(config.metadata?.ownerReferences).toBeUndefined();
    expect(config.metadata?.name).toMatch(/^hpcjob-scripts-[0-9a-f]{10}$/);
    expect(config.metadata?.name).toBe(SCRIPTS_CONFIGMAP);
    expect(Object.keys(config.data ?? {})).toEqual(
      expect.arrayContaining(['common.sh', 'worker.sh', 'launcher.sh', 'batch.sh', 'srun']),
    );
    expect(Object.keys(config.data ?? {})).not.toContain('hostfile');
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

describe('renderBatchConfigMap', () => {
  it("holds a batch job's script and environment, owned by the job", () => {
    const job = withDefaults(
      makeJob({ command: undefined, batchScript: { dialect: 'Slurm', text: '#!/bin/sh\nsrun hostname\n' } }),
    );
    const config = renderBatchConfigMap(job);
    expect(config.metadata).toMatchObject({ name: 'cfd-config', ownerReferences: [owner] });
    expect(Object.keys(config.data ?? {}).sort()).toEqual(['batch-env.sh', 'batch-hosts', 'batch-script']);
    expect(config.data?.['batch-script']).toBe('#!/bin/sh\nsrun hostname\n');
  });
});

describe('hostfileHosts', () => {
  it('lists the workers with their slots, the launcher first when it runs ranks', () => {
    expect(hostfileHosts(withDefaults(makeJob({ workers: 2, resources: { gpus: 4 } })))).toEqual([
      { name: 'cfd-worker-0.hpcjob-hosts', slots: 4 },
      { name: 'cfd-worker-1.hpcjob-hosts', slots: 4 },
    ]);
    expect(hostfileHosts(withDefaults(makeJob({ workers: 1, launcher: { runsRanks: true } })))).toEqual([
      { name: 'cfd-launcher.hpcjob-hosts', slots: 1 },
      { name: 'cfd-worker-0.hpcjob-hosts', slots: 1 },
    ]);
  });
});

describe('shared objects of random jobs', () => {
  it('render, owned by the job, with one hostfile line per host', () => {
    fc.assert(
      fc.property(arbJob, (generated) => {
        const job = withDefaults(generated);
        expect(renderSshSecret(job, keys).metadata?.ownerReferences).toHaveLength(1);
        const hosts = job.spec.workers + (job.spec.launcher?.runsRanks ? 1 : 0);
        expect(hostfileHosts(job)).toHaveLength(hosts);
      }),
    );
  });
});
