// Batch scripts run unchanged by the launcher, with real sshd and real mpirun across network namespaces: the
// script sees its scheduler's variables naming the real hosts, `srun` and `mpirun` inside it start tasks on both
// workers, and the script's exit code is the launcher's.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MPIImplementation } from '../../src/api/types.js';
import { Job, missingTools, SLOTS } from './pods.js';

const WORKERS = 2;

/** "label host" pairs from lines such as `srun-task host=NAME`. */
function hostsOf(stdout: string, label: string): string[] {
  return [...stdout.matchAll(new RegExp(`^${label} host=(\\S+)$`, 'gm'))].map((m) => m[1]!).sort();
}

describe('batch scripts across network namespaces', () => {
  let job: Job;
  let mpichBin: string;

  beforeAll(() => {
    const missing = missingTools();
    if (missing.length > 0) throw new Error(`missing tools: ${missing.join(', ')} (run hack/mpi-deps.sh)`);
    job = new Job(WORKERS);
    try {
      job.create();
      // Both MPIs are installed here; a pod's image has one. MPICH's commands first on PATH for its tests.
      mpichBin = join(job.dir, 'mpich-bin');
      mkdirSync(mpichBin);
      chmodSync(mpichBin, 0o755);
      // Wrappers, not links: Hydra looks for its proxy beside the path it was started as.
      for (const name of ['mpirun', 'mpiexec']) {
        writeFileSync(join(mpichBin, name), '#!/bin/sh\nexec /usr/bin/mpiexec.hydra "$@"\n', { mode: 0o755 });
      }
    } catch (e) {
      job.destroy();
      throw e;
    }
  });
  afterEach(() => job?.stopProcesses());
  afterAll(() => job?.destroy());

  const expectedHosts = () => job.workers.flatMap((w) => Array<string>(SLOTS).fill(w.hostname)).sort();

  for (const impl of ['OpenMPI', 'MPICH'] as MPIImplementation[]) {
    test(`${impl}: a Slurm script's srun and mpirun run on both workers and its exit code comes back`, async () => {
      const path = impl === 'MPICH' ? `export PATH=${mpichBin}:$PATH\n` : '';
      const text = [
        '#!/bin/sh',
        '#SBATCH -N 2 --ntasks-per-node=2',
        path,
        'echo "nodelist=$SLURM_JOB_NODELIST ntasks=$SLURM_NTASKS per-node=$SLURM_TASKS_PER_NODE"',
        `srun sh -c 'echo "srun-task host=$(hostname)"'`,
        `srun -N 1 -n 1 sh -c 'echo "one-task host=$(hostname)"'`,
        `mpirun sh -c 'echo "mpirun-rank host=$(hostname)"'`,
        'exit 3',
        '',
      ].join('\n');
      job.writeConfig();
      job.writeBatchConfig(impl, { dialect: 'Slurm', text });
      const workers = job.workers.map((_, i) => job.startWorker(i, impl));
      const r = await job.runLauncher(impl, ['/bin/sh', join(job.configDir, 'batch.sh')]);
      const why = `${r.stdout}\n${r.stderr}\n${workers.map((w) => w.log()).join('\n')}`;
      expect({ code: r.code, why }).toEqual({ code: 3, why });
      const nodes = job.workers.map((w) => w.dnsName).join(',');
      expect(r.stdout).toContain(`nodelist=${nodes} ntasks=4 per-node=2(x2)\n`);
      expect(hostsOf(r.stdout, 'srun-task')).toEqual(expectedHosts());
      expect(hostsOf(r.stdout, 'one-task')).toEqual([job.workers[0]!.hostname]);
      expect(hostsOf(r.stdout, 'mpirun-rank')).toEqual(expectedHosts());
    });
  }

  test('OpenMPI: an LSF script runs mpirun over LSB_DJOB_HOSTFILE and writes its output file', async () => {
    const text = [
      '#!/bin/sh',
      '#BSUB -n 4 -R "span[ptile=2]"',
      'echo "mcpu=$LSB_MCPU_HOSTS numproc=$LSB_DJOB_NUMPROC"',
      `mpirun -np "$LSB_DJOB_NUMPROC" -machinefile "$LSB_DJOB_HOSTFILE" sh -c 'echo "lsf-rank host=$(hostname)"'`,
      '',
    ].join('\n');
    job.writeConfig();
    job.writeBatchConfig('OpenMPI', { dialect: 'LSF', text, output: join(job.runPath, 'out.txt') });
    const workers = job.workers.map((_, i) => job.startWorker(i, 'OpenMPI'));
    const r = await job.runLauncher('OpenMPI', ['/bin/sh', join(job.configDir, 'batch.sh')]);
    const why = `${r.stdout}\n${r.stderr}\n${workers.map((w) => w.log()).join('\n')}`;
    expect({ code: r.code, why }).toEqual({ code: 0, why });
    const [w0, w1] = job.workers.map((w) => w.dnsName);
    expect(r.stdout).toContain(`mcpu=${w0} 2 ${w1} 2 numproc=4\n`);
    expect(hostsOf(r.stdout, 'lsf-rank')).toEqual(expectedHosts());
    // The launcher's run directory is its own (bind-mounted at runPath inside).
    expect(hostsOf(readFileSync(join(job.launcher.runDir, 'out.txt'), 'utf8'), 'lsf-rank')).toEqual(expectedHosts());
  });
});
