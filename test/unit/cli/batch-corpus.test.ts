// Real-world-style sbatch and bsub scripts → the HPCJob `hpcjob submit job.sh` makes of them. Each row covers some
// directive forms: long and short options, = and space, -N2, quotes, comments after directives, directives after the
// first command (ignored, as sbatch and bsub ignore them).
import { batchScriptToJob } from '../../../src/cli/batch/script.js';
import type { HPCJob, HPCJobSpec } from '../../../src/api/types.js';

const IMAGE = '#HPCJOB --image=registry.example.org/hpc/app:1\n';

function convert(text: string, flags: string[] = [], env: Record<string, string> = {}) {
  return batchScriptToJob(text, { fileName: 'job.sh', flags, env, submitDir: '/home/alice/run', submitHost: 'login1' });
}

function jobOf(text: string, flags: string[] = [], env: Record<string, string> = {}): HPCJob {
  const r = convert(text, flags, env);
  expect(r.errors).toEqual([]);
  return r.job!;
}

type Expected = Partial<HPCJobSpec> & { name?: string };

const corpus: [string, string, Expected][] = [
  [
    'Slurm: long options with =',
    `#!/bin/bash\n#SBATCH --nodes=4\n#SBATCH --ntasks-per-node=8\n#SBATCH --time=02:00:00\n${IMAGE}srun ./app\n`,
    { workers: 4, slotsPerWorker: 8, runPolicy: { activeDeadlineSeconds: 7200 } },
  ],
  [
    'Slurm: short options with a space, and combined -N2',
    `#!/bin/bash\n#SBATCH -N2\n#SBATCH -n 6\n#SBATCH -t 30\n${IMAGE}mpirun ./app\n`,
    { workers: 2, slotsPerWorker: 3, runPolicy: { activeDeadlineSeconds: 1800 } },
  ],
  [
    'Slurm: several options on one line, a comment after them',
    `#!/bin/sh\n#SBATCH -N 4 --ntasks-per-node=8 --gres=gpu:8 -t 2:00:00   # the whole rack\n${IMAGE}srun ./train\n`,
    { workers: 4, slotsPerWorker: 8, resources: { gpus: 8 }, runPolicy: { activeDeadlineSeconds: 7200 } },
  ],
  [
    'Slurm: long options with a space before the value',
    `#!/bin/bash\n#SBATCH --nodes 3\n#SBATCH --ntasks-per-node 2\n#SBATCH --time 1-00:00:00\n${IMAGE}srun a\n`,
    { workers: 3, slotsPerWorker: 2, runPolicy: { activeDeadlineSeconds: 86400 } },
  ],
  [
    'Slurm: a quoted job name becomes a DNS label; the script keeps its own',
    `#!/bin/bash\n#SBATCH --job-name="My Big_Run" -N 1\n${IMAGE}./a.out\n`,
    { name: 'my-big-run', workers: 1, batchScript: { jobName: 'My Big_Run' } as HPCJobSpec['batchScript'] },
  ],
  [
    'Slurm: -J short with single quotes',
    `#!/bin/bash\n#SBATCH -J 'cfd-42'\n${IMAGE}./a.out\n`,
    { name: 'cfd-42', workers: 1, slotsPerWorker: 1 },
  ],
  [
    'Slurm: cpus per task and memory per node',
    `#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=4 -c 2 --mem=16G\n${IMAGE}srun ./hybrid\n`,
    { workers: 2, slotsPerWorker: 4, resources: { cpu: 8, memory: '16Gi' } },
  ],
  [
    'Slurm: memory per CPU in MB without a unit',
    `#!/bin/bash\n#SBATCH -N 1 --ntasks-per-node=4 --cpus-per-task=1 --mem-per-cpu=2000\n${IMAGE}srun ./a\n`,
    { workers: 1, slotsPerWorker: 4, resources: { cpu: 4, memory: '8000Mi' } },
  ],
  [
    'Slurm: --gpus-per-node with a type',
    `#!/bin/bash\n#SBATCH --nodes=2 --gpus-per-node=a100:4\n${IMAGE}srun ./a\n`,
    { workers: 2, slotsPerWorker: 4, resources: { gpus: 4 } },
  ],
  [
    'Slurm: total GPUs shared by the nodes',
    `#!/bin/bash\n#SBATCH -N 2 -G 8 --ntasks-per-node=4\n${IMAGE}srun ./a\n`,
    { workers: 2, slotsPerWorker: 4, resources: { gpus: 4 } },
  ],
  [
    'Slurm: GPUs per task',
    `#!/bin/bash\n#SBATCH -N 1 --ntasks-per-node=2 --gpus-per-task=1\n${IMAGE}srun ./a\n`,
    { workers: 1, slotsPerWorker: 2, resources: { gpus: 2 } },
  ],
  [
    'Slurm: --exclusive, output and error files, working directory, partition',
    `#!/bin/bash\n#SBATCH -N 2 --exclusive\n#SBATCH -o out-%j.log -e err-%j.log\n#SBATCH -D /scratch/alice -p gpu\n${IMAGE}srun ./a\n`,
    {
      workers: 2,
      placement: { oneWorkerPerNode: true },
      workingDir: '/scratch/alice',
      batchScript: { output: 'out-%j.log', error: 'err-%j.log', queue: 'gpu' } as HPCJobSpec['batchScript'],
    },
  ],
  [
    'Slurm: minutes:seconds and days-hours time limits',
    `#!/bin/bash\n#SBATCH -t 10:30\n${IMAGE}./a\n`,
    { runPolicy: { activeDeadlineSeconds: 630 } },
  ],
  [
    'Slurm: days-hours',
    `#!/bin/bash\n#SBATCH --time=2-12\n${IMAGE}./a\n`,
    { runPolicy: { activeDeadlineSeconds: 216000 } },
  ],
  [
    'Slurm: --export of values and of the submitting shell’s variables',
    `#!/bin/bash\n#SBATCH --export=ALL,OMP_NUM_THREADS=4,CASE\n${IMAGE}./a\n`,
    {
      env: [
        { name: 'OMP_NUM_THREADS', value: '4' },
        { name: 'CASE', value: 'pitzDaily' },
      ],
    },
  ],
  [
    'Slurm: tasks fewer than nodes × tasks per node are recorded',
    `#!/bin/bash\n#SBATCH -N 2 -n 3\n${IMAGE}srun ./a\n`,
    { workers: 2, slotsPerWorker: 2, batchScript: { tasks: 3 } as HPCJobSpec['batchScript'] },
  ],
  [
    'Slurm: #HPCJOB choices (MPI, network, queue, shared memory) and blank lines between directives',
    `#!/bin/bash\n\n#SBATCH -N 2\n\n#HPCJOB --image img:2 --mpi=MPICH --network host\n#HPCJOB --shared-memory=8Gi --queue=team-a\n\nmpirun ./a\n`,
    { image: 'img:2', mpiImplementation: 'MPICH', network: { mode: 'host' }, sharedMemory: '8Gi' },
  ],
  [
    'Slurm: a directive after the first command is ignored, as sbatch ignores it',
    `#!/bin/bash\n#SBATCH -N 2\n${IMAGE}module load openmpi\n#SBATCH -N 8\nsrun ./a\n`,
    { workers: 2 },
  ],
  [
    'Slurm: --mem=0 asks for no memory of its own',
    `#!/bin/bash\n#SBATCH -N 1 --mem=0\n${IMAGE}./a\n`,
    { workers: 1, resources: undefined },
  ],
  [
    'LSF: -n with span[ptile], -W hours:minutes, -J, -o/-e',
    `#!/bin/bash\n#BSUB -n 8\n#BSUB -R "span[ptile=4]"\n#BSUB -W 1:30\n#BSUB -J lammps\n#BSUB -o out.%J -e err.%J\n${IMAGE}mpirun lmp -in in.lj\n`,
    {
      name: 'lammps',
      workers: 2,
      slotsPerWorker: 4,
      runPolicy: { activeDeadlineSeconds: 5400 },
      batchScript: { dialect: 'LSF', output: 'out.%J', error: 'err.%J' } as HPCJobSpec['batchScript'],
    },
  ],
  [
    'LSF: rusage memory per task, -gpu num=, -x, -q, -cwd, a comment after a directive',
    `#!/bin/bash\n#BSUB -n 4 -R "span[ptile=2] rusage[mem=2048]"\n#BSUB -gpu "num=2:mode=exclusive_process"  # two per host\n#BSUB -x -q gpu -cwd /scratch/bob\n${IMAGE}mpirun ./a\n`,
    {
      workers: 2,
      slotsPerWorker: 2,
      resources: { memory: '4Gi', gpus: 2 },
      placement: { oneWorkerPerNode: true },
      workingDir: '/scratch/bob',
    },
  ],
  [
    'LSF: span[hosts=1] keeps every task on one host; -W minutes; -M with a unit',
    `#!/bin/bash\n#BSUB -n 16 -R span[hosts=1]\n#BSUB -W 45 -M 64GB\n${IMAGE}mpirun ./a\n`,
    { workers: 1, slotsPerWorker: 16, resources: { memory: '64Gi' }, runPolicy: { activeDeadlineSeconds: 2700 } },
  ],
  [
    'LSF: -env with values and -n min,max',
    `#!/bin/bash\n#BSUB -n 2,4 -R "span[ptile=1]"\n#BSUB -env "all, OMP_NUM_THREADS=2"\n${IMAGE}mpirun ./a\n`,
    { workers: 2, slotsPerWorker: 1, env: [{ name: 'OMP_NUM_THREADS', value: '2' }] },
  ],
  [
    'LSF: -gpu - (one per host)',
    `#!/bin/bash\n#BSUB -n 2 -R "span[ptile=1]" -gpu -\n${IMAGE}mpirun ./a\n`,
    { workers: 2, slotsPerWorker: 1, resources: { gpus: 1 } },
  ],
];

describe('batch scripts → HPCJobs', () => {
  it.each(corpus)('%s', (_, text, expected) => {
    const { name, ...spec } = expected;
    const job = jobOf(text, [], { CASE: 'pitzDaily' });
    if (name !== undefined) expect(job.metadata.name).toBe(name);
    expect(job.spec).toMatchObject(
      Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) as Partial<HPCJobSpec>,
    );
    if ('resources' in spec && spec.resources === undefined) expect(job.spec.resources).toBeUndefined();
    // The script itself is stored unchanged: kubectl get -o yaml shows what ran.
    expect(job.spec.batchScript?.text).toBe(text);
    expect(job.spec.command).toBeUndefined();
  });

  it('has 20 or more scripts', () => expect(corpus.length).toBeGreaterThanOrEqual(20));

  it('records the dialect, the file, where it was submitted from and what the scheduler would have given it', () => {
    const job = jobOf(`#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=2 -c 3 -p debug\n${IMAGE}srun a\n`);
    expect(job.spec.batchScript).toEqual({
      dialect: 'Slurm',
      fileName: 'job.sh',
      text: expect.any(String) as string,
      cpusPerTask: 3,
      queue: 'debug',
      submitDir: '/home/alice/run',
      submitHost: 'login1',
    });
    expect(job.metadata.name).toBe('job');
  });

  it('lets the command line win over #HPCJOB directives', () => {
    const job = jobOf(`#!/bin/bash\n#SBATCH -N 1\n${IMAGE}a\n`, [
      '--image',
      'other:9',
      '--mpi',
      'mpich',
      '--name',
      'x1',
    ]);
    expect(job.spec.image).toBe('other:9');
    expect(job.spec.mpiImplementation).toBe('MPICH');
    expect(job.metadata.name).toBe('x1');
  });

  it('puts a Kueue queue from #HPCJOB --queue on the job’s label', () => {
    const job = jobOf(`#!/bin/bash\n${IMAGE}#HPCJOB --queue team-a\na\n`);
    expect(job.metadata.labels).toEqual({ 'kueue.x-k8s.io/queue-name': 'team-a' });
  });

  it('takes the image from HPCJOB_IMAGE when the script names none', () => {
    const r = batchScriptToJob('#!/bin/bash\n#SBATCH -N 1\na\n', {
      fileName: 'j.sh',
      flags: [],
      env: {},
      defaultImage: 'site/default:1',
    });
    expect(r.job?.spec.image).toBe('site/default:1');
  });
});

describe('#HPCJOB placement', () => {
  it('puts --node-selector and --toleration on the launcher’s and the workers’ templates', () => {
    const job = jobOf(
      `#!/bin/bash\n#SBATCH -N 2\n${IMAGE}#HPCJOB --node-selector pool=hpc\n#HPCJOB --toleration dedicated=hpc:NoSchedule --toleration gpu:NoExecute\na\n`,
    );
    const spec = {
      containers: [],
      nodeSelector: { pool: 'hpc' },
      tolerations: [
        { key: 'dedicated', operator: 'Equal', value: 'hpc', effect: 'NoSchedule' },
        { key: 'gpu', operator: 'Exists', effect: 'NoExecute' },
      ],
    };
    expect(job.spec.launcher).toEqual({ template: { spec } });
    expect(job.spec.worker).toEqual({ template: { spec } });
  });

  it('sets the launcher’s creation policy from --launcher-creation, in any case, beside its template', () => {
    const alone = jobOf(`#!/bin/bash\n#SBATCH -N 2\n${IMAGE}#HPCJOB --launcher-creation atstartup\na\n`);
    expect(alone.spec.launcher).toEqual({ creationPolicy: 'AtStartup' });
    expect(alone.spec.worker).toBeUndefined();
    const placed = jobOf(
      `#!/bin/bash\n#SBATCH -N 2\n${IMAGE}#HPCJOB --launcher-creation=AtStartup --node-selector pool=hpc\na\n`,
    );
    expect(placed.spec.launcher).toEqual({
      creationPolicy: 'AtStartup',
      template: { spec: { containers: [], nodeSelector: { pool: 'hpc' } } },
    });
    const none = jobOf(`#!/bin/bash\n#SBATCH -N 2\n${IMAGE}a\n`);
    expect(none.spec.launcher).toBeUndefined();
  });

  it('refuses a launcher creation policy it does not know, naming both', () => {
    const r = convert(`#!/bin/bash\n${IMAGE}#HPCJOB --launcher-creation early\na\n`);
    expect(r.errors.join()).toContain("--launcher-creation: must be WaitForWorkersReady or AtStartup, got 'early'");
  });

  it('refuses a toleration without an effect', () => {
    const r = convert(`#!/bin/bash\n${IMAGE}#HPCJOB --toleration dedicated=hpc\na\n`);
    expect(r.errors.join()).toContain(
      "--toleration: must be KEY[=VALUE]:EFFECT with EFFECT one of NoSchedule, PreferNoSchedule, NoExecute, got 'dedicated=hpc'",
    );
  });
});
