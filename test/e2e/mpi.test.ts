// Real MPI on the real node: for Open MPI 4, Open MPI 5 and MPICH, mpirun's own exit code reaches the HPCJob's
// status, and the launcher's log shows ranks ran on both workers (never all on the launcher).
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
