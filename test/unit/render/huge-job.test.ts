// A job of the CRD's largest size: nothing the operator writes grows with the number of workers, so every object
// stays far below the API server's 1 MiB limit (the hostfile is written by the launcher, launcher.sh).
import { withDefaults } from '../../../src/api/defaults.js';
import { renderHostsService, renderScriptsConfigMap, renderSshSecret } from '../../../src/render/objects.js';
import { renderLauncherPod, renderWorkerPod } from '../../../src/render/pods.js';
import { makeJob, testConfig } from '../api/fixtures.js';

const MAX_WORKERS = 100_000;
const keys = {
  user: { privateKey: 'user-private', publicKey: 'ssh-ed25519 AAAAuser hpcjob' },
  host: { privateKey: 'host-private', publicKey: 'ssh-ed25519 AAAAhost hpcjob-host' },
};
const size = (o: unknown): number => Buffer.byteLength(JSON.stringify(o));

describe(`a job of ${MAX_WORKERS} workers`, () => {
  const name = 'a'.repeat(50);
  const small = withDefaults(makeJob({ workers: 2, slotsPerWorker: 8 }, name));
  const huge = withDefaults(makeJob({ workers: MAX_WORKERS, slotsPerWorker: 8 }, name));

  it('has objects no larger than those of a 2-worker job', () => {
    const objects = (job: typeof huge) => [
      renderSshSecret(job, keys),
      renderLauncherPod(job, testConfig, 1, 2222, 'privileged'),
      renderWorkerPod(job, testConfig, job.spec.workers - 1, 2222, 'privileged', 1),
    ];
    const sizes = objects(huge).map(size);
    objects(small).forEach((o, i) => expect(sizes[i]).toBeLessThanOrEqual(size(o) + 64));
    expect(Math.max(...sizes, size(renderHostsService('ns')), size(renderScriptsConfigMap('ns')))).toBeLessThan(64_000);
  });

  it('tells the launcher its hosts as a count, and waits longer for them', () => {
    const env = Object.fromEntries(
      (renderLauncherPod(huge, testConfig, 1, 2222, 'privileged').spec?.containers[0]?.env ?? []).map((e) => [
        e.name,
        e.value,
      ]),
    );
    expect(env).toMatchObject({
      HPCJOB_JOB_NAME: name,
      HPCJOB_WORKERS: String(MAX_WORKERS),
      HPCJOB_SLOTS_PER_WORKER: '8',
      HPCJOB_HOST_DOMAIN: 'hpcjob-hosts',
      HPCJOB_LAUNCHER_RUNS_RANKS: 'false',
      HPCJOB_WAIT_TIMEOUT_SECONDS: String(300 + MAX_WORKERS / 50),
    });
  });

  it('names its last worker within a DNS label', () => {
    const pod = renderWorkerPod(huge, testConfig, MAX_WORKERS - 1, 2222, 'privileged', 1);
    expect(pod.spec?.hostname).toBe(`${name}-worker-99999`);
    expect(pod.spec?.hostname?.length).toBeLessThanOrEqual(63);
  });
});

describe('the launcher wait', () => {
  it('may be given more time in the launcher template', () => {
    const job = withDefaults(
      makeJob({
        launcher: {
          template: {
            spec: { containers: [{ name: 'launcher', env: [{ name: 'HPCJOB_WAIT_TIMEOUT_SECONDS', value: '7200' }] }] },
          },
        },
      }),
    );
    const env = renderLauncherPod(job, testConfig, 1, 2222, 'privileged').spec?.containers[0]?.env ?? [];
    expect(env.filter((e) => e.name === 'HPCJOB_WAIT_TIMEOUT_SECONDS')).toEqual([
      { name: 'HPCJOB_WAIT_TIMEOUT_SECONDS', value: '7200' },
    ]);
  });
});
