// A batch script job (spec.batchScript): the files its launcher needs besides the usual ones. The script runs
// unchanged through batch.sh, which first reads batch-env.sh: the variables a Slurm or LSF script expects
// (SLURM_JOB_NODELIST, LSB_MCPU_HOSTS, ...) describing this job's real hosts. Pure: everything is known from the
// spec, because the hosts' names are regular (<job>-worker-<i>.hpcjob-hosts).
import type { BatchScript, HPCJob } from '../api/types.js';
import type { HostfileHost } from './hostfile.js';
import { CONFIG_DIR } from './names.js';

/** The launcher's program for a batch job (launcher.sh runs it once the workers answer). */
export const BATCH_PROGRAM = ['/bin/sh', `${CONFIG_DIR}/batch.sh`];

/** Hosts with the number of tasks each runs. */
export interface TaskHost {
  name: string;
  tasks: number;
}

/**
 * A numeric job id, as scripts use it in file names (slurm-%j.out) and sometimes in arithmetic: the first 28 bits
 * of the job's uid, stable for the job's life. Without a uid (a dry run), 0.
 */
export function batchJobId(job: HPCJob): string {
  const hex = (job.metadata.uid ?? '').replace(/[^0-9a-f]/gi, '').slice(0, 7);
  return hex ? String(parseInt(hex, 16)) : '0';
}

export function batchTasks(job: HPCJob, hosts: HostfileHost[]): number {
  const slots = hosts.reduce((sum, h) => sum + h.slots, 0);
  return Math.min(job.spec.batchScript?.tasks ?? slots, slots);
}

/**
 * Where the tasks go. Slurm spreads them evenly over the nodes (-N 2 -n 3 gives 2,1); LSF fills each host up to
 * its slots in order (-n 5 with ptile=2 gives 2,2,1). Hosts left without a task are not part of the allocation.
 */
export function taskLayout(dialect: BatchScript['dialect'], hosts: HostfileHost[], tasks: number): TaskHost[] {
  const layout: TaskHost[] = [];
  let left = tasks;
  hosts.forEach((host, i) => {
    const even = Math.ceil(left / (hosts.length - i));
    const count = Math.min(host.slots, dialect === 'Slurm' ? even : left);
    left -= count;
    if (count > 0) layout.push({ name: host.name, tasks: count });
  });
  return layout;
}

/** Slurm's compact per-node counts: "4(x2),3". */
export function slurmTasksPerNode(layout: TaskHost[]): string {
  const runs: { tasks: number; times: number }[] = [];
  for (const { tasks } of layout) {
    const last = runs[runs.length - 1];
    if (last && last.tasks === tasks) last.times++;
    else runs.push({ tasks, times: 1 });
  }
  return runs.map((r) => (r.times > 1 ? `${r.tasks}(x${r.times})` : String(r.tasks))).join(',');
}

/** An output file pattern with %j/%J (job id), %x (job name), %u (user), %I (array index: 0) and %% replaced. */
export function expandOutputPattern(pattern: string, vars: { id: string; name: string; user: string }): string {
  return pattern.replace(/%([jJxuI%])/g, (_, c: string) => {
    switch (c) {
      case 'j':
      case 'J':
        return vars.id;
      case 'x':
        return vars.name;
      case 'u':
        return vars.user;
      case 'I':
        return '0';
      default:
        return '%';
    }
  });
}

const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

function slurmEnv(job: HPCJob, batch: BatchScript, layout: TaskHost[], tasks: number): Record<string, string> {
  const nodes = layout.map((h) => h.name).join(',');
  const gpus = job.spec.resources?.gpus ?? 0;
  const cpu = job.spec.resources?.cpu;
  return {
    SLURM_JOB_NODELIST: nodes,
    SLURM_NODELIST: nodes,
    SLURM_NNODES: String(layout.length),
    SLURM_JOB_NUM_NODES: String(layout.length),
    SLURM_NTASKS: String(tasks),
    SLURM_NPROCS: String(tasks),
    SLURM_NTASKS_PER_NODE: String(job.spec.slotsPerWorker ?? 1),
    SLURM_TASKS_PER_NODE: slurmTasksPerNode(layout),
    ...(batch.cpusPerTask !== undefined ? { SLURM_CPUS_PER_TASK: String(batch.cpusPerTask) } : {}),
    ...(typeof cpu === 'number' || /^\d+$/.test(String(cpu ?? '')) ? { SLURM_JOB_CPUS_PER_NODE: String(cpu) } : {}),
    ...(gpus > 0 ? { SLURM_GPUS_ON_NODE: String(gpus), SLURM_GPUS_PER_NODE: String(gpus) } : {}),
    ...(batch.queue ? { SLURM_JOB_PARTITION: batch.queue } : {}),
    ...(batch.submitDir ? { SLURM_SUBMIT_DIR: batch.submitDir } : {}),
    ...(batch.submitHost ? { SLURM_SUBMIT_HOST: batch.submitHost } : {}),
  };
}

function lsfEnv(batch: BatchScript, layout: TaskHost[], tasks: number): Record<string, string> {
  return {
    LSB_HOSTS: layout.flatMap((h) => Array<string>(h.tasks).fill(h.name)).join(' '),
    LSB_MCPU_HOSTS: layout.map((h) => `${h.name} ${h.tasks}`).join(' '),
    LSB_DJOB_NUMPROC: String(tasks),
    LSB_MAX_NUM_PROCESSORS: String(tasks),
    LSB_JOBINDEX: '0',
    ...(batch.queue ? { LSB_QUEUE: batch.queue } : {}),
    ...(batch.submitDir ? { LSB_SUBCWD: batch.submitDir } : {}),
    ...(batch.submitHost ? { LSB_SUB_HOST: batch.submitHost } : {}),
  };
}

/** The variables of batch-env.sh, in the order written. */
export function batchEnv(job: HPCJob, hosts: HostfileHost[]): Record<string, string> {
  const batch = job.spec.batchScript;
  if (!batch) return {};
  const id = batchJobId(job);
  const name = batch.jobName ?? job.metadata.name;
  const user = job.spec.submitter?.name ?? job.spec.submitter?.user ?? '';
  const tasks = batchTasks(job, hosts);
  const layout = taskLayout(batch.dialect, hosts, tasks);
  const vars = { id, name, user };
  const common: Record<string, string> =
    batch.dialect === 'Slurm'
      ? { SLURM_JOB_ID: id, SLURM_JOBID: id, SLURM_JOB_NAME: name, ...(user ? { SLURM_JOB_USER: user } : {}) }
      : { LSB_JOBID: id, LSB_JOBNAME: name };
  return {
    ...common,
    ...(batch.dialect === 'Slurm' ? slurmEnv(job, batch, layout, tasks) : lsfEnv(batch, layout, tasks)),
    HPCJOB_BATCH_DIALECT: batch.dialect,
    ...(batch.output ? { HPCJOB_BATCH_OUTPUT: expandOutputPattern(batch.output, vars) } : {}),
    ...(batch.error ? { HPCJOB_BATCH_ERROR: expandOutputPattern(batch.error, vars) } : {}),
  };
}

/** A batch job's ConfigMap: its script, the environment it expects and its task list; none for a job with a command. */
export function renderBatchFiles(job: HPCJob, hosts: HostfileHost[]): Record<string, string> {
  const batch = job.spec.batchScript;
  if (!batch) return {};
  const env = Object.entries(batchEnv(job, hosts))
    .map(([name, value]) => `export ${name}=${shellQuote(value)}\n`)
    .join('');
  const layout = taskLayout(batch.dialect, hosts, batchTasks(job, hosts));
  return {
    'batch-script': batch.text,
    'batch-env.sh': env,
    // LSB_DJOB_HOSTFILE (batch.sh points it here): one line per task.
    'batch-hosts': layout.map((h) => `${h.name}\n`.repeat(h.tasks)).join(''),
  };
}
