// An unchanged Slurm batch script on the real node, submitted as a user would: `hpcjob submit job.sh --wait`.
// The script echoes its node list, runs `srun hostname` and `mpirun hpcjob-ring` in the worker pods, and the
// CLI exits with the script's exit code (mpirun's).
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hpcjob, stopCliRuns } from '../integration/support/cli.js';
import type { Jobs } from '../integration/support/jobs.js';
import { OperatorProcess } from '../integration/support/operator.js';
import { useOperatorSuite } from '../integration/support/suite.js';
import { launcherLog, OPENMPI4, rankHosts } from './support/real-jobs.js';

const operator = new OperatorProcess('e2e-batch');
let namespace = '';
let jobs: Jobs;
useOperatorSuite(operator, 'e2e-batch', (ns, j) => {
  namespace = ns;
  jobs = j;
});

afterEach(stopCliRuns);

// What a user's script looks like; only the #HPCJOB line is Kubernetes'.
const SCRIPT = `#!/bin/bash
#SBATCH --job-name=sbatch-ring
#SBATCH -N 2 --ntasks-per-node=2
#SBATCH -t 5
#HPCJOB --image=${OPENMPI4.image}
echo "nodelist=$SLURM_JOB_NODELIST ntasks=$SLURM_NTASKS"
srun hostname | sed 's/^/srun: /'
mpirun hpcjob-ring --fail-rank 0 --exit-code 5
`;

it('runs an unchanged sbatch script: its node list, srun and mpirun on both workers, and its exit code', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'hpcjob-sbatch-')), 'ring.sh');
  writeFileSync(file, SCRIPT);
  // The real node is tainted and labelled: the job's pods go there as a site's dedicated pool would.
  const placement = [
    '--node-selector',
    'hpcjob.dev/node-kind=real',
    '--toleration',
    'hpcjob.dev/node-kind=real:NoSchedule',
  ];
  const r = await hpcjob(['submit', file, '--wait', '-n', namespace, '--timeout', '170', ...placement]);
  const why = `${r.stdout}\n${r.stderr}`;
  expect({ code: r.code, why }).toEqual({ code: 5, why });

  const log = launcherLog(namespace, 'sbatch-ring');
  expect(log).toContain('nodelist=sbatch-ring-worker-0.hpcjob-hosts,sbatch-ring-worker-1.hpcjob-hosts ntasks=4\n');
  const srunHosts = [...log.matchAll(/^srun: (\S+)$/gm)].map((m) => m[1]).sort();
  expect(srunHosts).toEqual([
    'sbatch-ring-worker-0',
    'sbatch-ring-worker-0',
    'sbatch-ring-worker-1',
    'sbatch-ring-worker-1',
  ]);
  const ranks = rankHosts(log);
  expect(ranks.size).toBe(4);
  expect(new Set(ranks.values())).toEqual(new Set(['sbatch-ring-worker-0', 'sbatch-ring-worker-1']));
  expect(r.stdout).toContain('----- sbatch-ring-launcher log -----');
  expect((await jobs.get('sbatch-ring')).status?.launcher?.exitCode).toBe(5);

  // hpcjob logs, plain and followed, read the same launcher log.
  const logs = await hpcjob(['logs', 'sbatch-ring', '-n', namespace]);
  expect(logs.stdout).toContain('nodelist=sbatch-ring-worker-0');
  const followed = await hpcjob(['logs', '-f', 'sbatch-ring', '-n', namespace]);
  expect(followed.code).toBe(0);
  expect(followed.stdout).toBe(logs.stdout);
});
