// The HPCJob resource (group hpcjob.dev, version v1alpha1) as TypeScript types.
// The CRD schema in crds/ is the source of truth for validation; these types mirror it.
import type { V1Container, V1EnvVar, V1PodTemplateSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';

export const GROUP = 'hpcjob.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'HPCJob';
export const PLURAL = 'hpcjobs';

export type MPIImplementation = 'OpenMPI' | 'MPICH' | 'IntelMPI';
export type NetworkMode = 'pod' | 'host' | 'sriov';
export type CleanPodPolicy = 'None' | 'Running' | 'All';
export type JobPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Suspended';
export type ConditionType =
  | 'Created'
  | 'Running'
  | 'Succeeded'
  | 'Failed'
  | 'Suspended'
  | 'Restarting'
  | 'Unschedulable'
  | 'Blocked'
  // Kueue: True while the job waits for its Workload's admission (controller/queueing.ts).
  | 'Queued';

/** Per-worker compute request. GPUs and RDMA devices are requested with limits equal to requests. */
export interface WorkerResources {
  /** A Kubernetes quantity; YAML may give a plain number. */
  cpu?: string | number;
  memory?: string | number;
  gpus?: number;
  rdmaDevices?: number;
}

export interface NetworkSpec {
  /** pod (default): the pod network; host: hostNetwork with a per-job sshd port; sriov: Multus networks. */
  mode?: NetworkMode;
  /** sriov mode: names of SR-IOV networks from the cluster configuration. */
  networks?: string[];
}

export interface PlacementSpec {
  /** At most one worker per node (pod anti-affinity on the configured node label). */
  oneWorkerPerNode?: boolean;
  /** All workers within one topology domain (e.g. 'rack'), a key of the cluster configuration's topology keys. */
  sameDomain?: string;
}

/** Who makes the workers' placement all-or-nothing (docs/scheduling.md). */
export type GangScheduler = 'Native' | 'Volcano' | 'SchedulerPlugins' | 'None';

export interface SchedulingSpec {
  /** Default: the cluster configuration's `scheduling.gang` (Native where the cluster serves the Workload API). */
  gang?: GangScheduler;
  /** Volcano: the queue of the job's PodGroup (default: the cluster configuration's). */
  queue?: string;
}

export interface RoleSpec {
  /** A full pod template for advanced use; the fields the operator owns are set over it. */
  template?: V1PodTemplateSpec;
}

/**
 * When the launcher pod is created: once every worker is Ready (the default), or with the workers, its own wait
 * (wait.sh) then holding mpirun back until each worker's sshd answers.
 */
export type LauncherCreationPolicy = 'WaitForWorkersReady' | 'AtStartup';

export interface LauncherSpec extends RoleSpec {
  /** The launcher also runs ranks (gets the worker's GPUs and a hostfile entry). Default false. */
  runsRanks?: boolean;
  /** Default WaitForWorkersReady. */
  creationPolicy?: LauncherCreationPolicy;
}

export interface RunPolicy {
  /** Launcher or gang restarts allowed before the job fails. Default 0. */
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  /** Deletes the whole HPCJob (and so its children) this long after it finished. */
  ttlSecondsAfterFinished?: number;
  /** Pods removed when the job ends. Default Running: a failed launcher's pod stays for its log. */
  cleanPodPolicy?: CleanPodPolicy;
  suspend?: boolean;
}

/** Who submitted the job and the POSIX identity its pods run as: written at admission, never changed after. */
export interface Submitter {
  /** The Kubernetes username of the request that created the job. */
  user: string;
  uid?: number;
  gid?: number;
  groups?: number[];
  /** The POSIX login name, for `{user}` in the site's host paths. */
  name?: string;
}

export type BatchDialect = 'Slurm' | 'LSF';

/** A batch script submitted with `hpcjob submit job.sh`, and the allocation facts it reads from its environment. */
export interface BatchScript {
  dialect: BatchDialect;
  fileName?: string;
  /** The script as submitted, unchanged. */
  text: string;
  /** Tasks of the allocation; default workers × slotsPerWorker. */
  tasks?: number;
  cpusPerTask?: number;
  jobName?: string;
  queue?: string;
  submitDir?: string;
  submitHost?: string;
  /** Files that also get the script's stdout / stderr (patterns %j %x %u %%). */
  output?: string;
  error?: string;
}

export interface HPCJobSpec {
  image: string;
  /** The launcher's command, e.g. ["mpirun", "simpleFoam", "-parallel"]. Exactly one of command and batchScript. */
  command?: string[];
  /** A Slurm or LSF batch script run unchanged as the launcher's program (docs/cli.md). */
  batchScript?: BatchScript;
  workers: number;
  /** Default: the worker's GPU count when it asks for GPUs, else 1. */
  slotsPerWorker?: number;
  mpiImplementation?: MPIImplementation;
  resources?: WorkerResources;
  env?: V1EnvVar[];
  /** Names of environment variables forwarded to remote ranks besides NCCL_* and UCX_*. */
  forwardEnv?: string[];
  volumes?: V1Volume[];
  volumeMounts?: V1VolumeMount[];
  workingDir?: string;
  network?: NetworkSpec;
  /** Size of the memory-backed /dev/shm, e.g. "8Gi". */
  sharedMemory?: string | number;
  /** Fabric environment (NCCL_*, UCX_*) over the operator's defaults. */
  fabricEnv?: Record<string, string>;
  placement?: PlacementSpec;
  scheduling?: SchedulingSpec;
  launcher?: LauncherSpec;
  worker?: RoleSpec;
  runPolicy?: RunPolicy;
  /** Set by the admission webhook; a value given by the user is replaced. */
  submitter?: Submitter;
}

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface LauncherStatus {
  podName?: string;
  /** The attempt this launcher ran for (1 + restarts before it). */
  attempt?: number;
  exitCode?: number;
  reason?: string;
  message?: string;
}

export interface WorkerCounts {
  total: number;
  ready: number;
  failed: number;
}

export interface HPCJobStatus {
  phase?: JobPhase;
  conditions?: Condition[];
  launcher?: LauncherStatus;
  workers?: WorkerCounts;
  /** "ready/total" for the printer column. */
  workersReady?: string;
  startTime?: string;
  completionTime?: string;
  observedGeneration?: number;
  /** Gang restarts so far (launcher failures and worker losses), counted against backoffLimit. */
  restartCount?: number;
  /** The attempt the job's pods are created for: one more after each restart and each suspend. */
  attempt?: number;
  /** host network mode: the sshd port chosen for this job. */
  sshPort?: number;
  /**
   * The attempt whose workers the operator has seen all Ready at once: from then on mpirun may use any of them, so
   * one that goes missing breaks the attempt (before, it is only created again).
   */
  allWorkersReadyAttempt?: number;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface HPCJob {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: HPCJobSpec;
  status?: HPCJobStatus;
}

export type { V1Container };
