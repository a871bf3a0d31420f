// batch.sh and srun as the launcher runs them, with a stand-in mpirun/mpiexec that prints what it was given:
// the script sees its scheduler's variables and srun on its PATH, srun picks hosts and counts as srun does,
// output files get what the log gets, and the script's exit code is the launcher's. Real mpirun runs are in test/mpi.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HPCJob, MPIImplementation } from '../../../src/api/types.js';
import { renderBatchFiles } from '../../../src/render/batch.js';
import { BATCH_SCRIPT_FILES, ENTRYPOINT_FILES } from '../../../src/render/entrypoints.js';
import { serviceName } from '../../../src/render/names.js';
import { hostfileHosts } from '../../../src/render/objects.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hpcjob-batch-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function job(mpi: MPIImplementation, script: string, batch: Partial<NonNullable<HPCJob['spec']['batchScript']>> = {}) {
  return {
    apiVersion: 'hpcjob.dev/v1alpha1',
    kind: 'HPCJob',
    metadata: { name: 'j', namespace: 'ns', uid: 'ffff0000-0000-0000-0000-000000000000' },
    spec: {
      image: 'img',
      workers: 3,
      slotsPerWorker: 2,
      mpiImplementation: mpi,
      batchScript: { dialect: 'Slurm', text: script, ...batch },
    },
  } as HPCJob;
}

/** The pods' subdomain: worker i is j-worker-<i>.<domain>. */
const domain = (j: HPCJob) => serviceName(j);
const D = domain(job('OpenMPI', ''));

/**
 * Writes the scripts and the job's batch files into a config directory, puts a stand-in MPI on PATH, and runs
 * batch.sh there with the environment the operator gives the launcher (its hostfile is written from that).
 */
function runBatch(j: HPCJob, env: Record<string, string> = {}) {
  const own = mkdtempSync(join(dir, 'pod-'));
  const config = join(own, 'config');
  const run = join(own, 'run');
  const fake = join(own, 'bin');
  for (const d of [config, run, fake]) mkdirSync(d);
  const files = { ...ENTRYPOINT_FILES, ...BATCH_SCRIPT_FILES, ...renderBatchFiles(j, hostfileHosts(j)) };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(config, name), text);
  // The stand-in prints its name, its arguments and the hostfile it was given, one per line.
  const standIn = `#!/bin/sh\necho "$(basename "$0")"; for a in "$@"; do echo "arg:$a"; done\nwhile [ $# -gt 0 ]; do case $1 in --hostfile|-f) sed 's/^/host:/' "$2";; esac; shift; done\necho "env:OMPI_MCA_plm=$OMPI_MCA_plm default=\${OMPI_MCA_orte_default_hostfile:-}\${HYDRA_HOST_FILE:-}"\n`;
  for (const name of ['mpirun', 'mpiexec']) {
    writeFileSync(join(fake, name), standIn);
    chmodSync(join(fake, name), 0o755);
  }
  const r = spawnSync('sh', [join(config, 'batch.sh')], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      PATH: `${fake}:/usr/bin:/bin`,
      HPCJOB_CONFIG_DIR: config,
      HPCJOB_RUN_DIR: run,
      HPCJOB_MPI_IMPLEMENTATION: j.spec.mpiImplementation!,
      HPCJOB_JOB_NAME: j.metadata.name,
      HPCJOB_HOST_DOMAIN: domain(j),
      HPCJOB_WORKERS: String(j.spec.workers),
      HPCJOB_SLOTS_PER_WORKER: String(j.spec.slotsPerWorker),
      HPCJOB_LAUNCHER_RUNS_RANKS: 'false',
      OMPI_MCA_orte_default_hostfile: `${run}/hostfile`,
      ...env,
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('batch.sh', () => {
  it('runs the script unchanged with its #! shell, the Slurm variables and srun first on PATH', () => {
    const script = '#!/bin/sh\necho "nodes=$SLURM_JOB_NODELIST tasks=$SLURM_NTASKS"\ncommand -v srun\nexit 7\n';
    const r = runBatch(job('OpenMPI', script));
    expect(r.status).toBe(7);
    expect(r.stdout).toContain(`nodes=j-worker-0.${D},j-worker-1.${D},j-worker-2.${D} tasks=6\n`);
    expect(r.stdout).toMatch(/\/pod-\w+\/run\/bin\/srun\n/);
  });

  it('runs a script without a #! line with sh', () => {
    const r = runBatch(job('OpenMPI', 'echo "no shebang $SLURM_NNODES"\n'));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('no shebang 3\n');
  });

  it('keeps Open MPI on ssh and the hostfile although SLURM_JOB_ID is set', () => {
    const r = runBatch(job('OpenMPI', '#!/bin/sh\nmpirun ./a.out\n'));
    expect(r.stdout).toContain('env:OMPI_MCA_plm=rsh default=');
  });

  it('writes the output file as the scheduler would, and the log still gets everything', () => {
    const script = '#!/bin/sh\necho to-out\necho to-err >&2\nexit 3\n';
    const r = runBatch(job('OpenMPI', script, { output: 'slurm-%j.out' }));
    expect(r.status).toBe(3);
    const id = String(parseInt('ffff000', 16));
    expect(readFileSync(join(dir, `slurm-${id}.out`), 'utf8')).toBe('to-out\nto-err\n');
    expect(r.stdout).toContain('to-out\n');
    expect(r.stdout + r.stderr).toContain('to-err\n');
  });

  it('keeps standard error apart when the script names an error file', () => {
    const script = '#!/bin/sh\necho to-out\necho to-err >&2\n';
    const r = runBatch(job('OpenMPI', script, { output: 'o.txt', error: 'e.txt' }));
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'o.txt'), 'utf8')).toBe('to-out\n');
    expect(readFileSync(join(dir, 'e.txt'), 'utf8')).toBe('to-err\n');
    expect(r.stderr).toContain('to-err\n');
  });
});

describe('srun', () => {
  const srun = (mpi: MPIImplementation, args: string, env: Record<string, string> = {}) =>
    runBatch(job(mpi, `#!/bin/sh\nsrun ${args}\n`), env);

  it('runs the allocation’s tasks over every worker with its own hostfile (Open MPI)', () => {
    const r = srun('OpenMPI', 'hostname');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('mpirun\narg:--hostfile\n');
    expect(r.stdout).toContain('arg:-np\narg:6\narg:hostname\n');
    expect(r.stdout).toContain(
      `host:j-worker-0.${D} slots=2\nhost:j-worker-1.${D} slots=2\nhost:j-worker-2.${D} slots=2\n`,
    );
    // Its own hostfile, not the job's default one.
    expect(r.stdout).toMatch(/env:OMPI_MCA_plm=rsh default=\n/);
  });

  it('spreads -n over -N nodes evenly and labels output (MPICH)', () => {
    const r = srun('MPICH', '-N 2 -n 3 -l ./a.out x');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('mpiexec\narg:-f\n');
    expect(r.stdout).toContain('arg:-n\narg:3\narg:-l\narg:./a.out\narg:x\n');
    expect(r.stdout).toContain(`host:j-worker-0.${D}:2\nhost:j-worker-1.${D}:1\n`);
  });

  it('takes --ntasks-per-node and --nodes=N, and forwards --export names', () => {
    const r = srun('OpenMPI', '--nodes=3 --ntasks-per-node=1 --export=ALL,MY_VAR ./a', { MY_VAR: 'v' });
    expect(r.stdout).toContain('arg:-np\narg:3\narg:-x\narg:MY_VAR\narg:./a\n');
    expect(r.stdout).toContain(
      `host:j-worker-0.${D} slots=1\nhost:j-worker-1.${D} slots=1\nhost:j-worker-2.${D} slots=1\n`,
    );
  });

  it('reads the hostfile launcher.sh wrote, named by HPCJOB_HOSTFILE', () => {
    const hostfile = join(dir, 'launcher-hostfile');
    writeFileSync(hostfile, 'a.x slots=1\nb.x slots=1\n');
    const r = srun('OpenMPI', '-n 2 hostname', { HPCJOB_HOSTFILE: hostfile });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('arg:-np\narg:2\narg:hostname\n');
    expect(r.stdout).toContain('host:a.x slots=1\nhost:b.x slots=1\n');
  });

  it('picks its nodes from a hostfile of 100,000 workers', () => {
    const r = srun('MPICH', '-N 2 -n 3 ./a', { HPCJOB_WORKERS: '100000' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`host:j-worker-0.${D}:2\nhost:j-worker-1.${D}:1\n`);
  });

  it('refuses what it does not support, and more nodes than the job has, with exit code 2', () => {
    const unsupported = srun('OpenMPI', '--pty bash');
    expect(unsupported.status).toBe(2);
    expect(unsupported.stderr).toContain('srun: unsupported option --pty');
    const tooMany = srun('OpenMPI', '-N 4 hostname');
    expect(tooMany.status).toBe(2);
    expect(tooMany.stderr).toContain("srun: -N 4 asks for more nodes than the job's 3");
    const noFit = srun('OpenMPI', '-N 1 -n 4 --ntasks-per-node=2 hostname');
    expect(noFit.status).toBe(2);
    expect(noFit.stderr).toContain('4 tasks do not fit 1 nodes at --ntasks-per-node=2');
  });
});
