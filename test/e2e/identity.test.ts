// Who the containers run as, for real: the image's own non-root USER with no securityContext in the HPCJob, and an
// arbitrary uid with no passwd entry, whose ranks still get every forwarded variable (sshd keeps one SetEnv line).
import { useOperatorSuite } from '../integration/support/suite.js';
import type { Jobs } from '../integration/support/jobs.js';
import { OperatorProcess } from '../integration/support/operator.js';
import { launcherLog, rankEnv, rankHosts, realJob } from './support/real-jobs.js';

const operator = new OperatorProcess('e2e-identity');
let namespace = '';
let jobs: Jobs;
useOperatorSuite(operator, 'e2e-id', (ns, j) => {
  namespace = ns;
  jobs = j;
});

it("the image's non-root USER and no securityContext anywhere: the workers read the key and the job succeeds", async () => {
  const job = realJob('plain');
  expect(JSON.stringify(job.spec)).not.toContain('securityContext');
  await jobs.create(job);
  const status = await jobs.waitForPhase('plain', 'Succeeded', 150_000);
  expect(status.launcher?.exitCode).toBe(0);
  // The launcher pod stays for its log: it ran as the image's user, with no uid given by anyone.
  const launcher = (await jobs.pods('plain')).find((p) => p.metadata?.name === 'plain-launcher');
  expect(launcher).toBeDefined();
  expect(launcher?.spec?.securityContext?.runAsUser).toBeUndefined();
  expect(launcher?.spec?.containers.every((c) => c.securityContext?.runAsUser === undefined)).toBe(true);
});

it('an arbitrary uid with no passwd entry runs, and LD_LIBRARY_PATH, a forwardEnv name and NCCL_* reach every rank', async () => {
  const uid = { runAsUser: 40123, runAsGroup: 40123 };
  const printed = ['LD_LIBRARY_PATH', 'SITE_SETTING', 'NCCL_SOCKET_IFNAME', 'NSS_WRAPPER_PASSWD'];
  const job = realJob('anyuid', {
    ringArgs: ['--print-env', printed.join(',')],
    // LD_LIBRARY_PATH is set on the workers only: it reaches ranks through sshd's SetEnv, not through mpirun.
    worker: {
      securityContext: uid,
      containers: [{ name: 'worker', env: [{ name: 'LD_LIBRARY_PATH', value: '/opt/site/lib' }] }],
    },
    // SITE_SETTING is named in forwardEnv; NCCL_* is forwarded by the launcher on its own.
    launcher: {
      securityContext: uid,
      containers: [
        {
          name: 'launcher',
          env: [
            { name: 'SITE_SETTING', value: 'from-launcher' },
            { name: 'NCCL_SOCKET_IFNAME', value: 'eth0' },
          ],
        },
      ],
    },
    spec: { forwardEnv: ['SITE_SETTING'] },
  });
  await jobs.create(job);
  const status = await jobs.waitForPhase('anyuid', 'Succeeded', 150_000);
  expect(status.launcher?.exitCode).toBe(0);
  const log = launcherLog(namespace, 'anyuid');
  expect(new Set(rankHosts(log).values())).toEqual(new Set(['anyuid-worker-0', 'anyuid-worker-1']));
  const env = rankEnv(log);
  const everyRank = (name: string) => [0, 1, 2, 3].map((r) => env.get(name)?.get(r));
  expect(everyRank('LD_LIBRARY_PATH')).toEqual(Array(4).fill('/opt/site/lib'));
  expect(everyRank('SITE_SETTING')).toEqual(Array(4).fill('from-launcher'));
  expect(everyRank('NCCL_SOCKET_IFNAME')).toEqual(Array(4).fill('eth0'));
  // The passwd entry nss_wrapper gives the uid reaches the ranks too.
  expect(everyRank('NSS_WRAPPER_PASSWD')).toEqual(Array(4).fill('/run/hpcjob/passwd'));
});
