// Jobs and cluster configurations for the unit tests, and fast-check arbitraries of valid jobs.
import fc from 'fast-check';
import type { HPCJob, HPCJobSpec } from '../../../src/api/types.js';
import { parseClusterConfig, type ClusterConfig } from '../../../src/config/cluster-config.js';

export function makeJob(spec: Partial<HPCJobSpec> = {}, name = 'cfd'): HPCJob {
  return {
    apiVersion: 'hpcjob.dev/v1alpha1',
    kind: 'HPCJob',
    metadata: { name, namespace: 'team-a', uid: '5f0c6a2e-1111-4a4a-9b9b-000000000001' },
    spec: {
      image: 'registry.example/openfoam:2.3.0',
      command: ['mpirun', 'simpleFoam', '-parallel'],
      workers: 2,
      ...spec,
    },
  };
}

export const testConfig: ClusterConfig = parseClusterConfig({
  sriovNetworks: {
    'ib-a': { networkAttachment: 'hpc/ib-a', resourceName: 'nvidia.com/hostdev' },
    'ib-b': { networkAttachment: 'ib-b', resourceName: 'nvidia.com/hostdev' },
    roce: { networkAttachment: 'roce', resourceName: 'intel.com/sriov_roce', interfaceName: 'roce0' },
  },
});

const dnsLabel = fc
  .tuple(
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'),
    fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'), maxLength: 48 }),
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'),
  )
  .map(([a, b, c]) => `${a}${b}${c}`);

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** Every field of a spec the schema accepts, in random combinations (templates included). */
export const arbJob: fc.Arbitrary<HPCJob> = fc
  .record({
    name: dnsLabel,
    workers: fc.integer({ min: 1, max: 6 }),
    slotsPerWorker: optional(fc.integer({ min: 1, max: 64 })),
    mpiImplementation: optional(fc.constantFrom('OpenMPI' as const, 'MPICH' as const, 'IntelMPI' as const)),
    cpu: optional(fc.oneof(fc.constantFrom('500m', '4', '1.5'), fc.integer({ min: 1, max: 128 }))),
    memory: optional(fc.constantFrom('1Gi', '64Gi', '512M')),
    gpus: optional(fc.integer({ min: 0, max: 8 })),
    rdmaDevices: optional(fc.integer({ min: 0, max: 2 })),
    mode: optional(fc.constantFrom('pod' as const, 'host' as const, 'sriov' as const)),
    networks: fc.subarray(['ib-a', 'ib-b', 'roce'], { minLength: 1 }),
    oneWorkerPerNode: optional(fc.boolean()),
    sameDomain: optional(fc.constantFrom('node', 'rack')),
    runsRanks: optional(fc.boolean()),
    launcherCreation: optional(fc.constantFrom('WaitForWorkersReady' as const, 'AtStartup' as const)),
    sharedMemory: optional(fc.constantFrom('8Gi', '512Mi')),
    fabricEnv: optional(
      fc.dictionary(fc.constantFrom('NCCL_IB_HCA', 'UCX_TLS', 'NCCL_DEBUG'), fc.string({ maxLength: 8 })),
    ),
    env: optional(fc.uniqueArray(fc.constantFrom('OMP_NUM_THREADS', 'FOAM_RUN', 'NCCL_DEBUG'), { maxLength: 3 })),
    runAsUser: optional(fc.integer({ min: 0, max: 5000 })),
    sidecar: fc.boolean(),
  })
  .map((r) => {
    const job = makeJob({ workers: r.workers }, r.name);
    const spec = job.spec;
    if (r.slotsPerWorker !== undefined) spec.slotsPerWorker = r.slotsPerWorker;
    if (r.mpiImplementation) spec.mpiImplementation = r.mpiImplementation;
    const resources = { cpu: r.cpu, memory: r.memory, gpus: r.gpus, rdmaDevices: r.rdmaDevices };
    if (Object.values(resources).some((v) => v !== undefined)) {
      spec.resources = Object.fromEntries(Object.entries(resources).filter(([, v]) => v !== undefined));
    }
    if (r.mode) spec.network = r.mode === 'sriov' ? { mode: r.mode, networks: r.networks } : { mode: r.mode };
    if (r.oneWorkerPerNode !== undefined || r.sameDomain) {
      spec.placement = { oneWorkerPerNode: r.oneWorkerPerNode, sameDomain: r.sameDomain };
    }
    if (r.sharedMemory) spec.sharedMemory = r.sharedMemory;
    if (r.fabricEnv) spec.fabricEnv = r.fabricEnv;
    if (r.env) spec.env = r.env.map((name) => ({ name, value: '1' }));
    const template = {
      metadata: { labels: { team: 'cfd' } },
      spec: {
        ...(r.runAsUser === undefined ? {} : { securityContext: { runAsUser: r.runAsUser } }),
        containers: [
          { name: 'main', image: 'ignored' },
          ...(r.sidecar ? [{ name: 'metrics', image: 'registry.example/exporter:1' }] : []),
        ],
      },
    };
    spec.worker = { template };
    spec.launcher = {
      template,
      ...(r.runsRanks === undefined ? {} : { runsRanks: r.runsRanks }),
      ...(r.launcherCreation === undefined ? {} : { creationPolicy: r.launcherCreation }),
    };
    return JSON.parse(JSON.stringify(job)) as HPCJob;
  });
