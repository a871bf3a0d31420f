// HPCJobs that really run: on the real node (its taint tolerated, its label selected), with the project's MPI
// images and their ring program, and what their launcher's log says about where each rank ran.
import type { V1PodSpec } from '@kubernetes/client-node';
import type { HPCJob, HPCJobSpec, MPIImplementation } from '../../../src/api/types.js';
import { kubectl } from '../../integration/support/cluster.js';

export const MPI_IMAGES: { name: string; image: string; mpi: MPIImplementation }[] = [
  { name: 'Open MPI 4', image: 'localhost/hpcjob/openmpi:4', mpi: 'OpenMPI' },
  { name: 'Open MPI 5', image: 'localhost/hpcjob/openmpi:5', mpi: 'OpenMPI' },
  { name: 'MPICH', image: 'localhost/hpcjob/mpich:4', mpi: 'MPICH' },
];
export const OPENMPI4 = MPI_IMAGES[0]!;

const REAL_NODE = 'hpcjob.dev/node-kind';

/** A pod spec placed on the real node; containers and securityContext are the template's, if any. */
export function onRealNode(spec: Partial<V1PodSpec> = {}): V1PodSpec {
  return {
    containers: [],
    ...spec,
    nodeSelector: { [REAL_NODE]: 'real' },
    tolerations: [{ key: REAL_NODE, operator: 'Equal', value: 'real', effect: 'NoSchedule' }],
  };
}

export interface RealJobOptions {
  image?: string;
  mpi?: MPIImplementation;
  /** Arguments of the ring program after mpirun -np <workers × slots>. */
  ringArgs?: string[];
  workers?: number;
  launcher?: Partial<V1PodSpec>;
  worker?: Partial<V1PodSpec>;
  spec?: Partial<HPCJobSpec>;
}

/** 2 workers × 2 slots running `mpirun -np 4 hpcjob-ring ...`; the launcher's pod is kept for its log. */
export function realJob(name: string, o: RealJobOptions = {}): HPCJob {
  const workers = o.workers ?? 2;
  return {
    apiVersion: 'hpcjob.dev/v1alpha1',
    kind: 'HPCJob',
    metadata: { name, namespace: '' },
    spec: {
      image: o.image ?? OPENMPI4.image,
      mpiImplementation: o.mpi ?? 'OpenMPI',
      command: ['mpirun', '-np', String(workers * 2), 'hpcjob-ring', ...(o.ringArgs ?? [])],
      workers,
      slotsPerWorker: 2,
      launcher: { template: { spec: onRealNode(o.launcher) } },
      worker: { template: { spec: onRealNode(o.worker) } },
      ...o.spec,
    },
  };
}

/** The launcher's log, from kubectl as a user would read it. */
export function launcherLog(namespace: string, job: string): string {
  const r = kubectl(['logs', '-n', namespace, `${job}-launcher`]);
  if (r.status !== 0) throw new Error(`kubectl logs: ${r.stderr}`);
  return r.stdout;
}

/** rank → host, from the ring program's `hpcjob-ring: rank R of N on HOST` lines. */
export function rankHosts(log: string): Map<number, string> {
  const hosts = new Map<number, string>();
  for (const m of log.matchAll(/^hpcjob-ring: rank (\d+) of \d+ on (\S+)$/gm)) hosts.set(Number(m[1]), m[2]!);
  return hosts;
}

/** NAME → the values every rank saw, from `hpcjob-ring: rank R on HOST env NAME=VALUE` lines. */
export function rankEnv(log: string): Map<string, Map<number, string>> {
  const out = new Map<string, Map<number, string>>();
  for (const m of log.matchAll(/^hpcjob-ring: rank (\d+) on \S+ env (\w+)=(.*)$/gm)) {
    const byRank = out.get(m[2]!) ?? new Map<number, string>();
    byRank.set(Number(m[1]), m[3]!);
    out.set(m[2]!, byRank);
  }
  return out;
}
