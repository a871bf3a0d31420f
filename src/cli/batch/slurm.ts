// #SBATCH options (sbatch's own spellings) and what each becomes in a BatchRequest. docs/cli.md has the same table
// for users; an option missing here is an error naming it.
import { ignored, memoryMiB, positive, refused, set, slurmDuration, type OptionSpec } from './options.js';
import { parseExport, textField, type BatchRequest } from './request.js';

const count =
  (field: 'nodes' | 'tasks' | 'tasksPerNode' | 'cpusPerTask') =>
  (r: BatchRequest, v: string): string | undefined => {
    // -N 2-4 (a range of nodes): the job gets the lower bound.
    const n = positive(field === 'nodes' ? v.split('-')[0]! : v);
    if (typeof n === 'string') return n;
    r[field] = n;
    return undefined;
  };

/** gpu:N, gpu:TYPE:N or gpu (one); other generic resources are refused. */
function gres(r: BatchRequest, value: string): string | undefined {
  for (const item of value.split(',')) {
    const [name, ...rest] = item.split(':');
    if (name !== 'gpu') return `only gpu resources are supported, got '${item}'`;
    const n = rest.length === 0 ? 1 : positive(rest[rest.length - 1]!);
    if (typeof n === 'string') return n;
    r.gpusPerNode = n;
  }
  return undefined;
}

/** N or TYPE:N (the type is left to the cluster's GPU resource name). */
function gpuCount(field: 'gpusPerNode' | 'gpusTotal' | 'gpusPerTask') {
  return (r: BatchRequest, value: string): string | undefined => {
    const n = positive(value.split(':').pop()!);
    if (typeof n === 'string') return n;
    r[field] = n;
    return undefined;
  };
}

function memory(field: 'memoryPerNodeMiB' | 'memoryPerCpuMiB' | 'memoryPerGpuMiB') {
  return (r: BatchRequest, value: string): string | undefined => {
    if (field === 'memoryPerNodeMiB' && /^0[KMGT]?$/i.test(value)) {
      r.memoryPerNodeMiB = undefined; // --mem=0: all of the node's memory, i.e. no request of its own
      return undefined;
    }
    const mib = memoryMiB(value);
    if (typeof mib === 'string') return mib;
    r[field] = mib;
    return undefined;
  };
}

const noEffect = 'it has no equivalent on Kubernetes';

export const SLURM_OPTIONS: OptionSpec<BatchRequest>[] = [
  { names: ['-N', '--nodes'], value: true, action: set(count('nodes')) },
  { names: ['-n', '--ntasks'], value: true, action: set(count('tasks')) },
  { names: ['--ntasks-per-node', '--tasks-per-node'], value: true, action: set(count('tasksPerNode')) },
  { names: ['-c', '--cpus-per-task'], value: true, action: set(count('cpusPerTask')) },
  { names: ['--gres'], value: true, action: set(gres) },
  { names: ['--gpus-per-node'], value: true, action: set(gpuCount('gpusPerNode')) },
  { names: ['-G', '--gpus'], value: true, action: set(gpuCount('gpusTotal')) },
  { names: ['--gpus-per-task'], value: true, action: set(gpuCount('gpusPerTask')) },
  { names: ['--mem'], value: true, action: set(memory('memoryPerNodeMiB')) },
  { names: ['--mem-per-cpu'], value: true, action: set(memory('memoryPerCpuMiB')) },
  { names: ['--mem-per-gpu'], value: true, action: set(memory('memoryPerGpuMiB')) },
  {
    names: ['-t', '--time'],
    value: true,
    action: set((r, v) => {
      const seconds = slurmDuration(v);
      if (typeof seconds === 'string') return seconds;
      r.timeLimitSeconds = seconds ?? undefined;
      return undefined;
    }),
  },
  { names: ['-J', '--job-name'], value: true, action: set(textField('jobName')) },
  { names: ['-o', '--output'], value: true, action: set(textField('output')) },
  { names: ['-e', '--error'], value: true, action: set(textField('error')) },
  { names: ['-D', '--chdir'], value: true, action: set(textField('workingDir')) },
  { names: ['-p', '--partition'], value: true, action: set(textField('queue')) },
  {
    names: ['--exclusive'],
    value: 'optional',
    action: set((r) => {
      r.exclusive = true;
      return undefined;
    }),
  },
  { names: ['--export'], value: true, action: set((r, v) => parseExport(r, v.split(','))) },
  { names: ['-A', '--account'], value: true, action: ignored('accounting is the cluster’s (namespaces, quotas)') },
  { names: ['-q', '--qos'], value: true, action: ignored('use a Kueue queue (#HPCJOB --queue) for priorities') },
  { names: ['--mail-type', '--mail-user'], value: true, action: ignored('no mail is sent; use hpcjob wait') },
  { names: ['--comment', '--wckey', '--reservation'], value: true, action: ignored(noEffect) },
  { names: ['--requeue', '--no-requeue'], value: false, action: ignored('restarts follow runPolicy.backoffLimit') },
  { names: ['--open-mode'], value: true, action: ignored('output files are always appended to') },
  { names: ['--signal'], value: true, action: ignored('pods get SIGTERM at the deadline') },
  { names: ['--hint', '--distribution', '-m', '--mem-bind', '--cpu-bind'], value: true, action: ignored(noEffect) },
  {
    names: ['-C', '--constraint'],
    value: true,
    action: ignored('node features come from placement or a pod template'),
  },
  { names: ['--get-user-env', '--parsable'], value: 'optional', action: ignored(noEffect) },
  { names: ['-W', '--wait'], value: false, action: ignored('use hpcjob submit --wait') },
  { names: ['-a', '--array'], value: true, action: refused('submit one job per array element') },
  { names: ['-d', '--dependency'], value: true, action: refused('use a workflow (docs/pipelines.md)') },
  { names: ['-w', '--nodelist'], value: true, action: refused('nodes are chosen by the Kubernetes scheduler') },
  { names: ['-x', '--exclude'], value: true, action: refused('nodes are chosen by the Kubernetes scheduler') },
  { names: ['-b', '--begin'], value: true, action: refused('a job starts when it is submitted') },
  { names: ['-H', '--hold'], value: false, action: refused('submit with runPolicy.suspend in a manifest instead') },
  { names: ['-i', '--input'], value: true, action: refused('a batch job has no standard input') },
  { names: ['--ntasks-per-gpu'], value: true, action: refused('give --gpus-per-node and --ntasks-per-node') },
];
