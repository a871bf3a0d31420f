// What a user reads: `kubectl logs` of the launcher shows mpirun's output, and `hpcjob submit --wait` prints it too
// and exits with mpirun's own exit code, like bsub -K.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { hpcjob, stopCliRuns } from '../integration/support/cli.js';
import type { Jobs } from '../integration/support/jobs.js';
import { useOperatorSuite } from '../integration/support/suite.js';
import { OperatorProcess } from '../integration/support/operator.js';
import { launcherLog, rankHosts, realJob } from './support/real-jobs.js';

const operator = new OperatorProcess('e2e-cli');
let namespace = '';
let jobs: Jobs;
useOperatorSuite(operator, 'e2e-cli', (ns, j) => {
  namespace = ns;
  jobs = j;
});

afterEach(stopCliRuns);

it('kubectl logs shows mpirun output; hpcjob submit --wait prints it and exits with mpirun’s code', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hpcjob-cli-'));
  const file = path.join(dir, 'job.yaml');
  writeFileSync(file, stringify(realJob('bsub', { ringArgs: ['--fail-rank', '0', '--exit-code', '5'] })));
  const r = await hpcjob(['submit', file, '--wait', '-n', namespace, '--timeout', '170']);
  expect(r.code).toBe(5);
  expect(r.stdout).toContain('----- bsub-launcher log -----');
  expect(r.stdout).toMatch(/hpcjob-ring: rank 0 on bsub-worker-\d exiting with code 5/);
  expect(r.stdout).toContain('Failed, workers');
  const log = launcherLog(namespace, 'bsub');
  expect(log).toContain('hpcjob: running: mpirun');
  expect(rankHosts(log).size).toBe(4);
  expect((await jobs.get('bsub')).status?.launcher?.exitCode).toBe(5);
});
