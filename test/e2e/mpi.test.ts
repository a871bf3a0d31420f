// Real MPI on the real node: for Open MPI 4, Open MPI 5 and MPICH, mpirun's own exit code reaches the HPCJob's
// status, and the launcher's log shows ranks ran on both workers (never all on the launcher).
// A launcher created at startup (launcher.creationPolicy AtStartup) waits for its workers itself.
import { useOperatorSuite } from '../integration/support/suite.js';
import type { Jobs } from '../integration/support/jobs.js';
import { OperatorProcess } from '../integration/support/operator.js';
import { launcherLog, MPI_IMAGES, rankHosts, realJob } from './support/real-jobs.js';

const operator = new OperatorProcess('e2e-mpi');
let namespace = '';
let jobs: Jobs;
useOperatorSuite(operator, 'e2e-mpi', (ns, j) => {
  namespace = ns;
  jobs = j;
});

describe.each(MPI_IMAGES)('$name', ({ image, mpi }) => {
  it('exit 0: Succeeded with exit code 0, ranks on both workers', async () => {
    await jobs.create(realJob('ring', { image, mpi }));
    const status = await jobs.waitForPhase('ring', 'Succeeded', 150_000);
    expect(status.launcher?.exitCode).toBe(0);
    const log = launcherLog(namespace, 'ring');
    const hosts = rankHosts(log);
    expect([...hosts.keys()].sort()).toEqual([0, 1, 2, 3]);
    expect(new Set(hosts.values())).toEqual(new Set(['ring-worker-0', 'ring-worker-1']));
    expect(log).toMatch(/^hpcjob-ring: token passed 4 ranks, sum 6$/m);
  });

  it('a rank exiting 3: Failed with status.launcher.exitCode 3', async () => {
    await jobs.create(realJob('fail', { image, mpi, ringArgs: ['--fail-rank', '2', '--exit-code', '3'] }));
    const status = await jobs.waitForPhase('fail', 'Failed', 150_000);
    expect(status.launcher?.exitCode).toBe(3);
    expect(jobs.condition(status, 'Failed')).toMatchObject({ reason: 'LauncherFailed' });
    expect(launcherLog(namespace, 'fail')).toMatch(/rank 2 on fail-worker-\d exiting with code 3/);
  });
});

it('launcher.creationPolicy AtStartup: the launcher is created first and its wait holds mpirun until the workers answer', async () => {
  const job = realJob('early');
  job.spec.launcher!.creationPolicy = 'AtStartup';
  // Every pod stays, for the creation times.
  job.spec.runPolicy = { cleanPodPolicy: 'None' };
  await jobs.create(job);
  const status = await jobs.waitForPhase('early', 'Succeeded', 150_000);
  expect(status.launcher?.exitCode).toBe(0);
  const created = new Map((await jobs.pods('early')).map((p) => [p.metadata!.name!, p.metadata!.creationTimestamp!]));
  const launcherAt = new Date(created.get('early-launcher')!).getTime();
  for (const worker of ['early-worker-0', 'early-worker-1'])
    expect(new Date(created.get(worker)!).getTime()).toBeGreaterThanOrEqual(launcherAt);
  const log = launcherLog(namespace, 'early');
  expect(log).toMatch(/2\/2 workers reachable after \d+s/);
  expect(new Set(rankHosts(log).values())).toEqual(new Set(['early-worker-0', 'early-worker-1']));
});
