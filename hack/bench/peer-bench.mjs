// The peer, Kubeflow MPI Operator (v0.8.2, built by hack/build-mpi-operator.sh), as a subject of the benchmark: its
// MPIJob, how its pods and jobs read, and its process with given flags, as its own client identity with its own
// ClusterRole (manifests/base/cluster-role.yaml), one configuration at a time.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { portInUse, startProcess, waitReady } from './operator-process.mjs';
import { kwokExit } from './subject-hpcjob.mjs';

/** Its defaults, as its flags document them (cmd/mpi-operator/app/options/options.go). */
export const MPI_DEFAULT_FLAGS = [];
/**
 * Fully tuned: every client and queue limit raised. Every event of every job passes one work queue limited to 10 per
 * second (burst 100) by default, and the client to 5 QPS (burst 10); threadiness is its reconcile workers (2).
 */
export const MPI_TUNED_FLAGS = [
  '--kube-api-qps=1000',
  '--kube-api-burst=2000',
  '--controller-queue-rate-limit=1000',
  '--controller-queue-burst=2000',
  '--threadiness=16',
];
// Its health endpoint's port is fixed in its code (cmd/mpi-operator/app/server.go).
const HEALTH_PORT = 8080;
// Its leader election's Lease (always on; not released on exit, so a restart would wait out the 15 s lease).
const LEASE = { namespace: 'mpi-operator', name: 'mpi-operator' };

/**
 * An MPIJob of `workers` workers as KWOK can run it: the exit code on the launcher's template (its launcher is a
 * batch Job, whose pod KWOK would otherwise complete after 1 s), the launcher created once the workers are Ready as
 * hpcjob-operator does, and no retries of a failed launcher.
 */
export function mpiJob(name, namespace, workers, runFor) {
  const container = (role, extra) => ({ name: role, image: 'bench/mpi', ...extra });
  return {
    apiVersion: 'kubeflow.org/v2beta1',
    kind: 'MPIJob',
    metadata: { name, namespace },
    spec: {
      slotsPerWorker: 1,
      launcherCreationPolicy: 'WaitForWorkersReady',
      runPolicy: { cleanPodPolicy: 'None', backoffLimit: 0 },
      mpiReplicaSpecs: {
        Launcher: {
          replicas: 1,
          template: {
            metadata: { annotations: kwokExit(runFor) },
            spec: { containers: [container('launcher', { command: ['mpirun', 'true'] })] },
          },
        },
        Worker: { replicas: workers, template: { spec: { containers: [container('worker')] } } },
      },
    },
  };
}

const condition = (job, type) => job.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

/**
 * @param key the configuration's name in the report (mpi-default, mpi-tuned)
 * @param binary the mpi-operator binary
 * @param flags its flags beyond the kubeconfig
 * @param kubeconfig its own identity; user: that identity's user name
 * @param admin clients of the cluster's admin (the Lease is deleted before each start)
 */
export function mpiOperatorSubject({ key, binary, flags, kubeconfig, user, runDir, admin }) {
  return {
    key,
    name: 'Kubeflow MPI Operator v0.8.2',
    user,
    settings: { flags: flags.length ? flags : ['(defaults)'] },
    api: { group: 'kubeflow.org', version: 'v2beta1', plural: 'mpijobs' },
    roleLabel: 'training.kubeflow.org/job-role',
    job: mpiJob,
    succeeded: (job) => condition(job, 'Succeeded'),
    failed: (job) => condition(job, 'Failed'),

    async start(scenario) {
      if (await portInUse(HEALTH_PORT)) throw new Error(`bench: port ${HEALTH_PORT} (MPI Operator's health) is taken`);
      await admin.coordination.deleteNamespacedLease(LEASE).catch(() => undefined);
      const logFile = path.join(runDir, `${key}-${scenario}.log`);
      // Go flag style: -kubeConfig; a KUBECONFIG variable would override it, so both name the same file.
      const proc = startProcess(binary, ['-kubeConfig', kubeconfig, ...flags], {
        logFile,
        env: { KUBECONFIG: kubeconfig },
      });
      // Ready once it leads and its informers have synced.
      const ready = async () => readFileSync(logFile, 'utf8').includes('Started workers');
      await waitReady(proc, ready, 120_000, key);
      return proc;
    },
  };
}
