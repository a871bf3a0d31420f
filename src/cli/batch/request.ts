// What a batch script asks for, in the scheduler's terms (nodes, tasks, memory per CPU, ...), gathered from its
// directives and the command line, before it becomes an HPCJob (to-job.ts).
import type { V1Toleration } from '@kubernetes/client-node';
import type { LauncherCreationPolicy, MPIImplementation, NetworkMode } from '../../api/types.js';
import { positive, set, type OptionSpec } from './options.js';

export interface BatchRequest {
  nodes?: number;
  tasks?: number;
  tasksPerNode?: number;
  cpusPerTask?: number;
  gpusPerNode?: number;
  gpusTotal?: number;
  gpusPerTask?: number;
  memoryPerNodeMiB?: number;
  memoryPerCpuMiB?: number;
  memoryPerGpuMiB?: number;
  memoryPerTaskMiB?: number;
  timeLimitSeconds?: number;
  exclusive?: boolean;
  jobName?: string;
  output?: string;
  error?: string;
  workingDir?: string;
  /** Slurm partition or LSF queue: recorded for the script's environment. */
  queue?: string;
  /** Variables for the job: a value, or undefined to take the submitting shell's (as sbatch --export=NAME does). */
  env: { name: string; value?: string }[];
  /** Warnings raised while reading an option's value. */
  notes: string[];
  // #HPCJOB directives and the submit command's own flags: what only Kubernetes needs.
  name?: string;
  namespace?: string;
  image?: string;
  mpi?: MPIImplementation;
  network?: NetworkMode;
  sharedMemory?: string;
  kueueQueue?: string;
  rdmaDevices?: number;
  backoffLimit?: number;
  launcherCreation?: LauncherCreationPolicy;
  forwardEnv: string[];
  /** Where the pods may run: a dedicated pool's label and taint. */
  nodeSelector: Record<string, string>;
  tolerations: V1Toleration[];
}

export const emptyRequest = (): BatchRequest => ({
  env: [],
  notes: [],
  forwardEnv: [],
  nodeSelector: {},
  tolerations: [],
});

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** KEY[=VALUE]:EFFECT, as kubectl taint writes a taint. */
function toleration(r: BatchRequest, v: string): string | undefined {
  const m = /^([^=:]+)(?:=([^:]*))?:(\w+)$/.exec(v);
  if (!m || !EFFECTS.includes(m[3]!))
    return `must be KEY[=VALUE]:EFFECT with EFFECT one of ${EFFECTS.join(', ')}, got '${v}'`;
  const [, key, value, effect] = m;
  r.tolerations.push(
    value === undefined ? { key, operator: 'Exists', effect } : { key, operator: 'Equal', value, effect },
  );
  return undefined;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** --export / -env items: ALL and NONE (the pods have their own environment either way), NAME or NAME=value. */
export function parseExport(r: BatchRequest, items: string[]): string | undefined {
  for (const raw of items.map((i) => i.trim()).filter((i) => i !== '')) {
    if (/^(all|none)$/i.test(raw)) continue;
    const eq = raw.indexOf('=');
    const name = eq < 0 ? raw : raw.slice(0, eq);
    if (!ENV_NAME.test(name)) return `'${name}' is not a variable name`;
    r.env = r.env.filter((e) => e.name !== name);
    r.env.push(eq < 0 ? { name } : { name, value: raw.slice(eq + 1) });
  }
  return undefined;
}

const MPI_NAMES: Record<string, MPIImplementation> = { openmpi: 'OpenMPI', mpich: 'MPICH', intelmpi: 'IntelMPI' };

type TextField =
  | 'name'
  | 'namespace'
  | 'image'
  | 'sharedMemory'
  | 'kueueQueue'
  | 'workingDir'
  | 'jobName'
  | 'output'
  | 'error'
  | 'queue';

/** An option whose value is kept as it is, but never empty. */
export const textField =
  (field: TextField) =>
  (r: BatchRequest, v: string): string | undefined => {
    if (v === '') return 'must not be empty';
    r[field] = v;
    return undefined;
  };

const whole =
  (field: 'rdmaDevices' | 'backoffLimit') =>
  (r: BatchRequest, v: string): string | undefined => {
    const n = v === '0' ? 0 : positive(v);
    if (typeof n === 'string') return n;
    r[field] = n;
    return undefined;
  };

const LAUNCHER_CREATION: LauncherCreationPolicy[] = ['WaitForWorkersReady', 'AtStartup'];

/** #HPCJOB directives, and the same flags on `hpcjob submit job.sh` (which win). */
export const HPCJOB_OPTIONS: OptionSpec<BatchRequest>[] = [
  { names: ['--image'], value: true, action: set(textField('image')) },
  {
    names: ['--mpi'],
    value: true,
    action: set((r, v) => {
      const mpi = MPI_NAMES[v.toLowerCase().replace(/[-_ ]/g, '')];
      if (!mpi) return `must be OpenMPI, MPICH or IntelMPI, got '${v}'`;
      r.mpi = mpi;
      return undefined;
    }),
  },
  {
    names: ['--network'],
    value: true,
    action: set((r, v) => {
      if (v !== 'pod' && v !== 'host') return `must be pod or host, got '${v}'`;
      r.network = v;
      return undefined;
    }),
  },
  { names: ['--name'], value: true, action: set(textField('name')) },
  { names: ['--namespace'], value: true, action: set(textField('namespace')) },
  { names: ['--shared-memory'], value: true, action: set(textField('sharedMemory')) },
  { names: ['--queue'], value: true, action: set(textField('kueueQueue')) },
  { names: ['--working-dir'], value: true, action: set(textField('workingDir')) },
  { names: ['--rdma-devices'], value: true, action: set(whole('rdmaDevices')) },
  { names: ['--backoff-limit'], value: true, action: set(whole('backoffLimit')) },
  {
    names: ['--launcher-creation'],
    value: true,
    action: set((r, v) => {
      const policy = LAUNCHER_CREATION.find((p) => p.toLowerCase() === v.toLowerCase());
      if (!policy) return `must be WaitForWorkersReady or AtStartup, got '${v}'`;
      r.launcherCreation = policy;
      return undefined;
    }),
  },
  { names: ['--env'], value: true, action: set((r, v) => parseExport(r, [v])) },
  {
    names: ['--node-selector'],
    value: true,
    action: set((r, v) => {
      const eq = v.indexOf('=');
      if (eq <= 0) return `must be KEY=VALUE, got '${v}'`;
      r.nodeSelector[v.slice(0, eq)] = v.slice(eq + 1);
      return undefined;
    }),
  },
  { names: ['--toleration'], value: true, action: set(toleration) },
  {
    names: ['--forward-env'],
    value: true,
    action: set((r, v) => {
      const names = v.split(',').filter((n) => n !== '');
      const bad = names.find((n) => !ENV_NAME.test(n));
      if (bad !== undefined) return `'${bad}' is not a variable name`;
      r.forwardEnv.push(...names);
      return undefined;
    }),
  },
];
