// A batch job's launcher files: the Slurm and LSF variables describing the job's hosts, the task layout, output
// file patterns, and what the ConfigMap and the launcher's command carry for a batch job and for a plain one.
import { spawnSync } from 'node:child_process';
import type { HPCJob } from '../../../src/api/types.js';
import {
  BATCH_PROGRAM,
  batchEnv,
  batchJobId,
  expandOutputPattern,
  renderBatchFiles,
  slurmTasksPerNode,
  taskLayout,
} from '../../../src/render/batch.js';
import { BATCH_SCRIPT_FILES, SCRIPTS_CONFIGMAP } from '../../../src/render/entrypoints.js';
import { hostfileHosts, renderBatchConfigMap } from '../../../src/render/objects.js';
import { renderLauncherPod } from '../../../src/render/pods.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../../src/config/cluster-config.js';

const UID = '0a1b2c3d-4e5f-6789-abcd-ef0123456789';

function batchJob(dialect: 'Slurm' | 'LSF', extra: Partial<NonNullable<HPCJob['spec']['batchScript']>> = {}): HPCJob {
  return {
    apiVersion: 'hpcjob.dev/v1alpha1',
    kind: 'HPCJob',
    metadata: { name: 'ring', namespace: 'lab', uid: UID },
    spec: {
      image: 'img',
      workers: 2,
      slotsPerWorker: 2,
      resources: { cpu: 4, gpus: 2 },
      submitter: { user: 'alice@example.org', name: 'alice', uid: 1000 },
      batchScript: {
        dialect,
        text: '#!/bin/sh\nsrun hostname\n',
        submitDir: '/home/alice',
        submitHost: 'login1',
        ...extra,
      },
    },
  };
}

describe('batch environment', () => {
  it('gives a Slurm script the job’s real hosts, tasks and id', () => {
    const job = batchJob('Slurm', { queue: 'gpu', cpusPerTask: 2 });
    const id = String(parseInt('0a1b2c3', 16));
    expect(batchJobId(job)).toBe(id);
    expect(batchEnv(job, hostfileHosts(job))).toEqual({
      SLURM_JOB_ID: id,
      SLURM_JOBID: id,
      SLURM_JOB_NAME: 'ring',
      SLURM_JOB_USER: 'alice',
      SLURM_JOB_NODELIST: 'ring-worker-0.hpcjob-hosts,ring-worker-1.hpcjob-hosts',
      SLURM_NODELIST: 'ring-worker-0.hpcjob-hosts,ring-worker-1.hpcjob-hosts',
      SLURM_NNODES: '2',
      SLURM_JOB_NUM_NODES: '2',
      SLURM_NTASKS: '4',
      SLURM_NPROCS: '4',
      SLURM_NTASKS_PER_NODE: '2',
      SLURM_TASKS_PER_NODE: '2(x2)',
      SLURM_CPUS_PER_TASK: '2',
      SLURM_JOB_CPUS_PER_NODE: '4',
      SLURM_GPUS_ON_NODE: '2',
      SLURM_GPUS_PER_NODE: '2',
      SLURM_JOB_PARTITION: 'gpu',
      SLURM_SUBMIT_DIR: '/home/alice',
      SLURM_SUBMIT_HOST: 'login1',
      HPCJOB_BATCH_DIALECT: 'Slurm',
    });
  });

  it('gives an LSF script one LSB_HOSTS entry per task and the hostfile of tasks', () => {
    const job = batchJob('LSF', { tasks: 3, jobName: 'My run', output: 'out.%J', error: '%x-%u.err' });
    const env = batchEnv(job, hostfileHosts(job));
    expect(env).toMatchObject({
      LSB_JOBID: batchJobId(job),
      LSB_JOBNAME: 'My run',
      LSB_HOSTS: 'ring-worker-0.hpcjob-hosts ring-worker-0.hpcjob-hosts ring-worker-1.hpcjob-hosts',
      LSB_MCPU_HOSTS: 'ring-worker-0.hpcjob-hosts 2 ring-worker-1.hpcjob-hosts 1',
      LSB_DJOB_NUMPROC: '3',
      LSB_SUBCWD: '/home/alice',
      HPCJOB_BATCH_OUTPUT: `out.${batchJobId(job)}`,
      HPCJOB_BATCH_ERROR: 'My run-alice.err',
    });
    expect(Object.keys(env).some((k) => k.startsWith('SLURM_'))).toBe(false);
    expect(renderBatchFiles(job, hostfileHosts(job))['batch-hosts']).toBe(
      'ring-worker-0.hpcjob-hosts\nring-worker-0.hpcjob-hosts\nring-worker-1.hpcjob-hosts\n',
    );
  });

  it('lays tasks out as each scheduler does: Slurm evenly, LSF filling hosts in order', () => {
    const hosts = [3, 3, 3].map((slots, i) => ({ name: `h${i}`, slots }));
    expect(taskLayout('Slurm', hosts, 7)).toEqual([
      { name: 'h0', tasks: 3 },
      { name: 'h1', tasks: 2 },
      { name: 'h2', tasks: 2 },
    ]);
    expect(taskLayout('LSF', hosts, 7)).toEqual([
      { name: 'h0', tasks: 3 },
      { name: 'h1', tasks: 3 },
      { name: 'h2', tasks: 1 },
    ]);
    expect(taskLayout('LSF', hosts, 2)).toEqual([{ name: 'h0', tasks: 2 }]);
    expect(slurmTasksPerNode(taskLayout('Slurm', hosts, 7))).toBe('3,2(x2)');
  });

  it('expands output patterns and leaves unknown ones alone', () => {
    const vars = { id: '42', name: 'cfd', user: 'bob' };
    expect(expandOutputPattern('slurm-%j.out', vars)).toBe('slurm-42.out');
    expect(expandOutputPattern('%x.%J.%I.%u.100%%.%N', vars)).toBe('cfd.42.0.bob.100%.%N');
  });

  it('quotes values so the script reads them back exactly', () => {
    const job = batchJob('Slurm', { jobName: `it's "quoted" $HOME`, submitDir: '/a b/c' });
    const file = renderBatchFiles(job, hostfileHosts(job))['batch-env.sh']!;
    const r = spawnSync('sh', ['-c', `${file}\nprintf '%s|%s' "$SLURM_JOB_NAME" "$SLURM_SUBMIT_DIR"`], {
      encoding: 'utf8',
    });
    expect(r.stdout).toBe(`it's "quoted" $HOME|/a b/c`);
  });
});

describe('a batch job’s objects', () => {
  const config = DEFAULT_CLUSTER_CONFIG;

  it('has the script, its environment and its hosts in its ConfigMap, projected beside the scripts', () => {
    const job = batchJob('Slurm');
    const data = renderBatchConfigMap(job).data!;
    expect(data['batch-script']).toBe(job.spec.batchScript!.text);
    expect(data['batch-env.sh']).toContain(
      "export SLURM_JOB_NODELIST='ring-worker-0.hpcjob-hosts,ring-worker-1.hpcjob-hosts'\n",
    );
    const volume = renderLauncherPod(job, config, 1, 2222).spec!.volumes!.find((v) => v.name === 'hpcjob-config');
    expect(volume?.projected?.sources?.map((s) => s.configMap?.name)).toEqual([SCRIPTS_CONFIGMAP, 'ring-config']);
  });

  it('runs batch.sh as the launcher’s program', () => {
    const pod = renderLauncherPod(batchJob('Slurm'), config, 1, 2222);
    expect(pod.spec!.containers[0]!.command).toEqual(['/bin/sh', '/etc/hpcjob/config/launcher.sh', ...BATCH_PROGRAM]);
  });

  it('leaves a job with a command without any batch file', () => {
    const job = batchJob('Slurm');
    delete job.spec.batchScript;
    job.spec.command = ['mpirun', 'a'];
    const volume = renderLauncherPod(job, config, 1, 2222).spec!.volumes!.find((v) => v.name === 'hpcjob-config');
    expect(volume?.configMap?.name).toBe(SCRIPTS_CONFIGMAP);
    expect(renderLauncherPod(job, config, 1, 2222).spec!.containers[0]!.command).toEqual([
      '/bin/sh',
      '/etc/hpcjob/config/launcher.sh',
      'mpirun',
      'a',
    ]);
  });

  it.each(['batch.sh', 'srun'])('%s parses as POSIX sh (dash)', (name) => {
    const r = spawnSync('sh', ['-n'], { input: BATCH_SCRIPT_FILES[name], encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
