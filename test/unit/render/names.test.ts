import fc from 'fast-check';
import { MAX_NAME_LENGTH } from '../../../src/api/validate.js';
import {
  configMapName,
  jobSelector,
  launcherName,
  networkPolicyName,
  roleLabels,
  serviceName,
  sshSecretName,
  workerFqdn,
  workerHostname,
  workerName,
} from '../../../src/render/names.js';
import { makeJob } from '../api/fixtures.js';

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

describe('names', () => {
  const job = makeJob();

  it('derives every name from the job name', () => {
    expect([
      launcherName(job),
      workerName(job, 3),
      serviceName(job),
      sshSecretName(job),
      configMapName(job),
      networkPolicyName(job),
    ]).toEqual(['cfd-launcher', 'cfd-worker-3', 'hpcjob-hosts', 'cfd-ssh', 'cfd-config', 'cfd']);
    expect(workerHostname(job, 1)).toBe('cfd-worker-1.hpcjob-hosts');
    expect(workerFqdn(job, 1)).toBe('cfd-worker-1.hpcjob-hosts.team-a.svc');
  });

  it('labels pods by job, role and index', () => {
    expect(roleLabels(job, 'worker', 0)).toEqual({
      'hpcjob.dev/job-name': 'cfd',
      'hpcjob.dev/role': 'worker',
      'hpcjob.dev/worker-index': '0',
      'app.kubernetes.io/managed-by': 'hpcjob-operator',
    });
    expect(roleLabels(job, 'launcher')).not.toHaveProperty(['hpcjob.dev/worker-index']);
    expect(jobSelector(job)).toBe('hpcjob.dev/job-name=cfd,app.kubernetes.io/managed-by=hpcjob-operator');
  });

  it('keeps every pod name and hostname a DNS label for any name the CRD allows', () => {
    const name = fc
      .tuple(
        fc.constantFrom('a', 'z'),
        fc.string({ unit: fc.constantFrom('a', '0', '-'), maxLength: MAX_NAME_LENGTH - 2 }),
      )
      .map(([first, rest]) => `${first}${rest}x`);
    fc.assert(
      fc.property(name, fc.integer({ min: 0, max: 99999 }), (n, index) => {
        const j = makeJob({}, n);
        for (const generated of [workerName(j, index), launcherName(j), serviceName(j)]) {
          expect(generated.length).toBeLessThanOrEqual(63);
          expect(generated).toMatch(DNS_LABEL);
        }
      }),
    );
    expect(workerName(makeJob({}, 'a'.repeat(MAX_NAME_LENGTH)), 99999)).toHaveLength(63);
  });
});
