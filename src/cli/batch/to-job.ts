// A BatchRequest (nodes, tasks, memory per CPU, ...) as an HPCJob: workers, slots, per-worker resources, deadline.
// Pure; every request that cannot be met is a message naming the directive's terms.
import type { BatchDialect, HPCJob, HPCJobSpec, ObjectMeta } from '../../api/types.js';
import { API_VERSION, KIND } from '../../api/types.js';
import { MAX_NAME_LENGTH } from '../../api/validate.js';
import { mibQuantity } from './options.js';
import type { BatchRequest } from './request.js';

/** What the script was submitted with, besides its directives. */
export interface SubmitContext {
  dialect: BatchDialect;
  fileName: string;
  text: string;
  submitDir?: string;
  submitHost?: string;
  /** The submitting shell's environment, for --export=NAME without a value. */
  env: Record<string, string | undefined>;
  /** Used when the script names no image (HPCJOB_IMAGE). */
  defaultImage?: string;
}

export interface Conversion {
  job?: HPCJob;
  errors: string[];
  warnings: string[];
}

/** A DNS label from a job name: lower case, other characters as '-', starting with a letter, at most 50. */
export function kubernetesName(name: string): string {
  const label = name
    .toLowerCase()
    .replace(/\.[a-z0-9]+$/, '') // job.sh → job
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, MAX_NAME_LENGTH)
    .replace(/-+$/, '');
  return label || 'batch-job';
}

interface Shape {
  workers: number;
  slots: number;
  tasks: number;
}

/** Workers and slots from nodes, tasks and tasks per node, as the scheduler would lay them out. */
function shape(r: BatchRequest, errors: string[], warnings: string[]): Shape | undefined {
  const { nodes, tasks, tasksPerNode } = r;
  const workers = nodes ?? (tasks !== undefined && tasksPerNode !== undefined ? Math.ceil(tasks / tasksPerNode) : 1);
  if (nodes === undefined && tasksPerNode === undefined && tasks !== undefined && tasks > 1) {
    warnings.push(
      `${tasks} tasks and no node count: they all run in one worker; give the number of nodes to spread them`,
    );
  }
  // Without a task count, one task per GPU (the HPCJob default), else one per node.
  const gpuSlots = r.gpusPerNode ?? (r.gpusTotal !== undefined ? Math.max(1, Math.floor(r.gpusTotal / workers)) : 1);
  const slots = tasksPerNode ?? (tasks !== undefined ? Math.ceil(tasks / workers) : gpuSlots);
  const total = tasks ?? workers * slots;
  if (total > workers * slots) {
    errors.push(`${total} tasks do not fit ${workers} nodes × ${slots} tasks per node`);
    return undefined;
  }
  if (total < workers) {
    errors.push(`${total} tasks cannot use ${workers} nodes: each node needs at least one task`);
    return undefined;
  }
  return { workers, slots, tasks: total };
}

function gpusPerWorker(r: BatchRequest, s: Shape, errors: string[]): number | undefined {
  if (r.gpusPerNode !== undefined) return r.gpusPerNode;
  if (r.gpusPerTask !== undefined) return r.gpusPerTask * s.slots;
  if (r.gpusTotal === undefined) return undefined;
  if (r.gpusTotal % s.workers !== 0) {
    errors.push(`${r.gpusTotal} GPUs cannot be shared evenly by ${s.workers} nodes: give GPUs per node`);
    return undefined;
  }
  return r.gpusTotal / s.workers;
}

function memoryPerWorkerMiB(r: BatchRequest, s: Shape, cpus: number, gpus: number): number | undefined {
  if (r.memoryPerNodeMiB !== undefined) return r.memoryPerNodeMiB;
  if (r.memoryPerCpuMiB !== undefined) return r.memoryPerCpuMiB * cpus;
  if (r.memoryPerGpuMiB !== undefined && gpus > 0) return r.memoryPerGpuMiB * gpus;
  if (r.memoryPerTaskMiB !== undefined) return r.memoryPerTaskMiB * s.slots;
  return undefined;
}

/** Variables for the pods: given values, or the submitting shell's for bare names (a warning when unset there). */
function jobEnv(r: BatchRequest, ctx: SubmitContext, warnings: string[]): { name: string; value: string }[] {
  return r.env.flatMap(({ name, value }) => {
    if (value !== undefined) return [{ name, value }];
    const local = ctx.env[name];
    if (local === undefined) {
      warnings.push(`${name} is exported but not set in this shell: not passed to the job`);
      return [];
    }
    return [{ name, value: local }];
  });
}

/**
 * --node-selector and --toleration: the same pod template for the launcher and the workers; --launcher-creation:
 * the launcher's creation policy.
 */
function roleSpecs(r: BatchRequest): Pick<HPCJobSpec, 'launcher' | 'worker'> {
  const selector = Object.keys(r.nodeSelector).length > 0 ? { nodeSelector: r.nodeSelector } : {};
  const tolerations = r.tolerations.length > 0 ? { tolerations: r.tolerations } : {};
  const creation = r.launcherCreation ? { creationPolicy: r.launcherCreation } : {};
  if (!selector.nodeSelector && !tolerations.tolerations) return r.launcherCreation ? { launcher: creation } : {};
  const template = () => ({ template: { spec: { containers: [], ...selector, ...tolerations } } });
  return { launcher: { ...template(), ...creation }, worker: template() };
}

function spec(r: BatchRequest, s: Shape, ctx: SubmitContext, errors: string[], warnings: string[]): HPCJobSpec {
  const gpus = gpusPerWorker(r, s, errors) ?? 0;
  const cpus = r.cpusPerTask !== undefined ? r.cpusPerTask * s.slots : undefined;
  const memory = memoryPerWorkerMiB(r, s, cpus ?? s.slots, gpus);
  const resources = {
    ...(cpus !== undefined ? { cpu: cpus } : {}),
    ...(memory !== undefined ? { memory: mibQuantity(memory) } : {}),
    ...(gpus > 0 ? { gpus } : {}),
    ...(r.rdmaDevices !== undefined ? { rdmaDevices: r.rdmaDevices } : {}),
  };
  const env = jobEnv(r, ctx, warnings);
  const runPolicy = {
    ...(r.timeLimitSeconds !== undefined ? { activeDeadlineSeconds: r.timeLimitSeconds } : {}),
    ...(r.backoffLimit !== undefined ? { backoffLimit: r.backoffLimit } : {}),
  };
  return {
    image: r.image ?? ctx.defaultImage ?? '',
    workers: s.workers,
    slotsPerWorker: s.slots,
    ...(r.mpi ? { mpiImplementation: r.mpi } : {}),
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(r.forwardEnv.length > 0 ? { forwardEnv: [...new Set(r.forwardEnv)] } : {}),
    ...(r.workingDir ? { workingDir: r.workingDir } : {}),
    ...(r.network ? { network: { mode: r.network } } : {}),
    ...(r.sharedMemory ? { sharedMemory: r.sharedMemory } : {}),
    ...(r.exclusive ? { placement: { oneWorkerPerNode: true } } : {}),
    ...(Object.keys(runPolicy).length > 0 ? { runPolicy } : {}),
    ...roleSpecs(r),
    batchScript: {
      dialect: ctx.dialect,
      fileName: ctx.fileName,
      text: ctx.text,
      ...(s.tasks !== s.workers * s.slots ? { tasks: s.tasks } : {}),
      ...(r.cpusPerTask !== undefined ? { cpusPerTask: r.cpusPerTask } : {}),
      ...(r.jobName ? { jobName: r.jobName } : {}),
      ...(r.queue ? { queue: r.queue } : {}),
      ...(ctx.submitDir ? { submitDir: ctx.submitDir } : {}),
      ...(ctx.submitHost ? { submitHost: ctx.submitHost } : {}),
      ...(r.output ? { output: r.output } : {}),
      ...(r.error ? { error: r.error } : {}),
    },
  };
}

/** The HPCJob a request describes, or why it cannot be one. */
export function requestToJob(r: BatchRequest, ctx: SubmitContext): Conversion {
  const errors: string[] = [];
  const warnings = [...r.notes];
  const s = shape(r, errors, warnings);
  if (!r.image && !ctx.defaultImage) {
    errors.push('no image: add "#HPCJOB --image=IMAGE" to the script, pass --image, or set HPCJOB_IMAGE');
  }
  if (!s) return { errors, warnings };
  const jobSpec = spec(r, s, ctx, errors, warnings);
  const wanted = r.name ?? r.jobName ?? ctx.fileName;
  const name = kubernetesName(wanted);
  if (r.name !== undefined && name !== r.name) errors.push(`--name ${r.name}: ${name} would be a valid name`);
  else if (r.name === undefined && r.jobName !== undefined && name !== r.jobName) {
    warnings.push(`job name '${r.jobName}' is '${name}' on Kubernetes (the script still sees '${r.jobName}')`);
  }
  const labels = r.kueueQueue ? { 'kueue.x-k8s.io/queue-name': r.kueueQueue } : undefined;
  const job: HPCJob = {
    apiVersion: API_VERSION,
    kind: KIND,
    // No namespace unless the script names one: the submit command fills in -n or the context's.
    metadata: { name, ...(r.namespace ? { namespace: r.namespace } : {}), ...(labels ? { labels } : {}) } as ObjectMeta,
    spec: jobSpec,
  };
  return { ...(errors.length === 0 ? { job } : {}), errors, warnings };
}
