// `hpcjob submit job.sh --wait` with a Slurm-style and an LSF-style script against the real control plane: the job
// gets the workers, slots and deadline the directives ask for, and the command exits with the launcher's code.
// KWOK ends the launcher with the exit code annotated on its pod, here while the CLI is already waiting. Also list,
// status and cancel as a user types them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kubeconfigPath, kubectl, repoRoot, runClusterScript } from './support/cluster.js';
import { eventually } from './support/eventually.js';
import { hpcjob, stopCliRuns } from './support/cli.js';
import type { Jobs } from './support/jobs.js';
import { OperatorProcess } from './support/operator.js';
import { useOperatorSuite } from './support/suite.js';

const operator = new OperatorProcess('batch-cli');
let namespace = '';
let jobs: Jobs;
useOperatorSuite(operator, 'batch', (ns, j) => {
  namespace = ns;
  jobs = j;
});

afterEach(stopCliRuns);

function script(name: string, text: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'hpcjob-batch-')), name);
  writeFileSync(file, text);
  return file;
}

/** kubectl with a PATH holding kubectl-hpcjob → dist/cli/main.js, and this Node first for its #! line. */
function kubectlPlugin(args: string[]): { stdout: string; stderr: string } {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'hpcjob-plugin-'));
  symlinkSync(path.join(repoRoot, 'dist/cli/main.js'), path.join(bin, 'kubectl-hpcjob'));
  const kubectlPath = path.join(runClusterScript(['bin-dir']).stdout.trim(), 'kubectl');
  const r = spawnSync(kubectlPath, args, {
    timeout: 60_000,
    encoding: 'utf8',
    env: {
      ...process.env,
      KUBECONFIG: kubeconfigPath(),
      PATH: [bin, path.dirname(process.execPath), process.env.PATH].join(':'),
    },
  });
  return { stdout: r.stdout, stderr: r.stderr };
}

/** Waits for the job's launcher pod, then has KWOK end it with `code`. */
async function endLauncher(job: string, code: number): Promise<void> {
  await eventually(
    async () => expect((await jobs.pods(job)).map((p) => p.metadata!.name)).toContain(`${job}-launcher`),
    60_000,
  );
  const r = kubectl(['annotate', 'pod', '-n', namespace, `${job}-launcher`, `kwok.hpcjob.dev/exit-code=${code}`]);
  expect(r.stderr).toBe('');
}

test('a Slurm script: -N 2 --ntasks-per-node=2 -t 5 gives 2 workers × 2 slots and 300 s; --wait exits with the launcher’s 4', async () => {
  const file = script(
    'ring.sh',
    '#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=2 -t 5\n#SBATCH --job-name=slurm-ring\n#HPCJOB --image=registry.example/mpi:1\necho "$SLURM_JOB_NODELIST"\nsrun hostname\n',
  );
  const cli = hpcjob(['submit', file, '--wait', '-n', namespace, '--timeout', '150']);
  await endLauncher('slurm-ring', 4);
  const r = await cli;
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 4, stderr: expect.any(String) as string });
  expect(r.stdout).toContain(`hpcjob/slurm-ring created in ${namespace}`);
  expect(r.stdout).toContain('Failed, workers');
  expect(r.stdout).toContain('exit code 4');
  expect(r.stderr).toMatch(/slurm-ring: (Pending|Running), workers \d\/2 ready/);
  const job = await jobs.get('slurm-ring');
  expect(job.spec).toMatchObject({ workers: 2, slotsPerWorker: 2, runPolicy: { activeDeadlineSeconds: 300 } });
  expect(job.spec.batchScript).toMatchObject({ dialect: 'Slurm', fileName: 'ring.sh', jobName: 'slurm-ring' });
  expect(job.status?.launcher?.exitCode).toBe(4);
  // The script is stored with the job and shown by kubectl.
  expect(kubectl(['get', 'hj', '-n', namespace, 'slurm-ring', '-o', 'yaml']).stdout).toContain('srun hostname');
});

test('an LSF script: -n 4 span[ptile=2] -W 0:10 gives 2 workers × 2 slots and 600 s; --wait exits 0', async () => {
  const file = script(
    'lammps.lsf',
    '#!/bin/bash\n#BSUB -n 4\n#BSUB -R "span[ptile=2]"\n#BSUB -W 0:10\n#BSUB -J lsf-ring\n#HPCJOB --image=registry.example/mpi:1\nmpirun ./lmp\n',
  );
  const cli = hpcjob(['submit', file, '--wait', '-n', namespace, '--timeout', '150']);
  await endLauncher('lsf-ring', 0);
  const r = await cli;
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('Succeeded');
  const job = await jobs.get('lsf-ring');
  expect(job.spec).toMatchObject({ workers: 2, slotsPerWorker: 2, runPolicy: { activeDeadlineSeconds: 600 } });
  expect(job.spec.batchScript?.dialect).toBe('LSF');
  // The ConfigMap carries what the launcher runs: the script and the LSF variables with the job's hosts.
  const cm = kubectl(['get', 'configmap', '-n', namespace, 'lsf-ring-config', '-o', 'jsonpath={.data.batch-env\\.sh}']);
  expect(cm.stdout).toContain(
    "export LSB_MCPU_HOSTS='lsf-ring-worker-0.hpcjob-hosts 2 lsf-ring-worker-1.hpcjob-hosts 2'",
  );
});

test('list, status and cancel as a user types them; a missing job is a one-line API error', async () => {
  const file = script('sleepy.sh', '#!/bin/sh\n#SBATCH -N 1\n#HPCJOB --image=registry.example/mpi:1\nsleep 1000\n');
  expect((await hpcjob(['submit', file, '-n', namespace])).code).toBe(0);
  const list = await eventually(async () => {
    const r = await hpcjob(['list', '-n', namespace]);
    expect(r.stdout).toMatch(/^sleepy\s+Running\s+1\/1\s+-\s+\d+s$/m);
    return r;
  }, 60_000);
  expect(list.stdout.split('\n')[0]).toMatch(/^NAME\s+PHASE\s+WORKERS\s+EXIT\s+AGE$/);
  // The same through kubectl, as a plugin found on PATH under the name npm installs (kubectl-hpcjob).
  const plugin = kubectlPlugin(['hpcjob', 'list', '-n', namespace]);
  expect(plugin.stderr).toBe('');
  expect(plugin.stdout).toMatch(/^sleepy\s+Running\s+1\/1/m);
  const status = await hpcjob(['status', 'sleepy', '-n', namespace]);
  expect(status.stdout).toContain(`${namespace}/sleepy: Running, workers 1/1`);
  const cancel = await hpcjob(['cancel', 'sleepy', '-n', namespace]);
  expect(cancel).toMatchObject({ code: 0, stdout: 'hpcjob/sleepy cancelled: deleted with its pods\n' });
  await eventually(async () => expect(await jobs.pods('sleepy')).toEqual([]), 60_000);
  const missing = await hpcjob(['status', 'sleepy', '-n', namespace]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe('hpcjob: API error 404: hpcjobs.hpcjob.dev "sleepy" not found\n');
});
