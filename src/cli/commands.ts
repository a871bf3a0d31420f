// The commands of the hpcjob CLI and their options: one table, read by the argument parser, --help and shell
// completion, so the three never disagree.

export interface OptionDoc {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown after the option in help: --timeout SECONDS. */
  arg?: string;
  help: string;
}

export interface CommandDoc {
  synopsis: string;
  summary: string;
  /** Longer help, after the synopsis. */
  details?: string;
  options: Record<string, OptionDoc>;
  /** What positional words complete to. */
  completes?: 'jobs' | 'files' | 'shells' | 'commands';
}

const namespace: OptionDoc = {
  type: 'string',
  short: 'n',
  arg: 'NAMESPACE',
  help: 'the namespace (default: the context’s)',
};
const timeout: OptionDoc = {
  type: 'string',
  arg: 'SECONDS',
  help: 'give up after this long, exiting 124 (default: a week)',
};
const help: OptionDoc = { type: 'boolean', short: 'h', help: 'show this help' };

/** Flags that set what a batch script's #HPCJOB directives set, and win over them. */
export const BATCH_FLAGS: Record<string, OptionDoc> = {
  image: { type: 'string', arg: 'IMAGE', help: 'container image (or #HPCJOB --image, or HPCJOB_IMAGE)' },
  mpi: { type: 'string', arg: 'MPI', help: 'OpenMPI (default), MPICH or IntelMPI' },
  network: { type: 'string', arg: 'MODE', help: 'pod (default) or host' },
  name: { type: 'string', arg: 'NAME', help: 'the HPCJob’s name (default: the job name, else the file’s)' },
  queue: { type: 'string', arg: 'QUEUE', help: 'Kueue LocalQueue to submit to' },
  env: { type: 'string', multiple: true, arg: 'NAME=VALUE', help: 'a variable for the job (repeatable)' },
  'forward-env': { type: 'string', multiple: true, arg: 'NAMES', help: 'variables passed on to remote ranks' },
  'shared-memory': { type: 'string', arg: 'SIZE', help: 'size of /dev/shm, e.g. 8Gi' },
  'working-dir': { type: 'string', arg: 'DIR', help: 'working directory of the script and the ranks' },
  'node-selector': { type: 'string', multiple: true, arg: 'KEY=VALUE', help: 'run the pods on nodes with this label' },
  toleration: {
    type: 'string',
    multiple: true,
    arg: 'KEY[=VALUE]:EFFECT',
    help: 'let the pods run on nodes so tainted',
  },
  'rdma-devices': { type: 'string', arg: 'N', help: 'RDMA devices per worker' },
  'backoff-limit': { type: 'string', arg: 'N', help: 'restarts allowed before the job fails' },
  'launcher-creation': {
    type: 'string',
    arg: 'POLICY',
    help: 'WaitForWorkersReady (default) or AtStartup (the launcher waits itself)',
  },
};

export const COMMANDS: Record<string, CommandDoc> = {
  submit: {
    synopsis: 'hpcjob submit FILE [--wait] [--dry-run -o yaml|json] [-n NAMESPACE] [flags]',
    summary: 'create HPCJobs from a manifest, or from a Slurm or LSF batch script',
    details:
      'FILE is an HPCJob manifest (YAML) or a batch script with #SBATCH or #BSUB directives (docs/cli.md). The script\n' +
      'runs unchanged as the launcher’s program, with SLURM_* or LSB_* variables describing the job’s hosts.\n' +
      'With --wait, follows the job and exits with the launcher’s exit code (like bsub -K).',
    options: {
      wait: { type: 'boolean', help: 'follow the job to its end and exit with its exit code' },
      timeout,
      'dry-run': { type: 'boolean', help: 'print the HPCJob instead of creating it' },
      output: { type: 'string', short: 'o', arg: 'FORMAT', help: 'with --dry-run: yaml (default) or json' },
      'no-warnings': { type: 'boolean', help: 'do not print warnings about ignored directives' },
      namespace,
      ...BATCH_FLAGS,
      help,
    },
    completes: 'files',
  },
  status: {
    synopsis: 'hpcjob status NAME [-n NAMESPACE]',
    summary: 'phase, workers, exit code and conditions of a job',
    options: { namespace, help },
    completes: 'jobs',
  },
  list: {
    synopsis: 'hpcjob list [-n NAMESPACE | -A]',
    summary: 'jobs with their phase, ready workers, exit code and age (like squeue or bjobs)',
    options: {
      namespace,
      'all-namespaces': { type: 'boolean', short: 'A', help: 'jobs of every namespace' },
      help,
    },
  },
  logs: {
    synopsis: 'hpcjob logs NAME [-f] [-n NAMESPACE]',
    summary: 'the launcher’s log (mpirun’s output)',
    options: {
      follow: { type: 'boolean', short: 'f', help: 'keep printing until the launcher ends' },
      namespace,
      help,
    },
    completes: 'jobs',
  },
  cancel: {
    synopsis: 'hpcjob cancel NAME... [-n NAMESPACE]',
    summary: 'stop jobs and remove them with their pods (like scancel or bkill)',
    options: { namespace, help },
    completes: 'jobs',
  },
  wait: {
    synopsis: 'hpcjob wait NAME [-n NAMESPACE] [--timeout SECONDS]',
    summary: 'wait for a job’s end; exit with the launcher’s exit code',
    options: { namespace, timeout, help },
    completes: 'jobs',
  },
  validate: {
    synopsis: 'hpcjob validate FILE...',
    summary: 'check manifests or batch scripts offline, against the CRD’s schema',
    options: { help },
    completes: 'files',
  },
  completion: {
    synopsis: 'hpcjob completion bash|zsh',
    summary: 'print a shell completion script (source <(hpcjob completion bash))',
    options: { help },
    completes: 'shells',
  },
  help: {
    synopsis: 'hpcjob help [COMMAND]',
    summary: 'show help for a command',
    options: { help },
    completes: 'commands',
  },
};

const optionLine = (name: string, o: OptionDoc): string => {
  const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.arg ? ` ${o.arg}` : ''}`;
  return `  ${flag.padEnd(34)} ${o.help}`;
};

/** hpcjob --help: every command with its summary. */
export function overview(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(11)} ${c.summary}`);
  return [
    'usage: hpcjob COMMAND [options]   (also: kubectl hpcjob COMMAND)',
    '',
    ...lines,
    '',
    'hpcjob COMMAND --help shows a command’s options.',
  ].join('\n');
}

/** hpcjob COMMAND --help. */
export function commandHelp(name: string): string {
  const c = COMMANDS[name]!;
  const options = Object.entries(c.options).map(([n, o]) => optionLine(n, o));
  return [
    `usage: ${c.synopsis}`,
    '',
    c.summary,
    ...(c.details ? ['', c.details] : []),
    '',
    'options:',
    ...options,
  ].join('\n');
}
