// The PodGroups of the three gang schedulers, and the pod fields that join a pod to them. Volcano's and
// scheduler-plugins' groups are checked against their own CRDs (test/unit/render/scheduler-crds.ts); the native
// one against the real API server in the integration suite, so only its shape is checked here.
import fc from 'fast-check';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { withDefaults } from '../../../src/api/defaults.js';
import type { HPCJob, HPCJobSpec } from '../../../src/api/types.js';
import { loadClusterConfig, type ClusterConfig } from '../../../src/config/cluster-config.js';
import { POD_GROUP_APIS, renderPodGroup, withGang, type GangMechanism } from '../../../src/render/pod-groups.js';
import { podRequests } from '../../../src/render/pod-requests.js';
import { renderLauncherPod, renderWorkerPod } from '../../../src/render/pods.js';
import { addQuantities, parseQuantity } from '../../../src/render/quantity.js';
import { arbJob, makeJob, testConfig } from '../api/fixtures.js';
import { crdValidator, loadCrd } from './scheduler-crds.js';

const siteConfig: ClusterConfig = {
  ...testConfig,
  scheduling: {
    gang: 'Auto',
    volcano: { schedulerName: 'vc-scheduler', queue: 'research' },
    schedulerPlugins: { schedulerName: 'coscheduler', scheduleTimeoutSeconds: 120 },
  },
};

const volcanoCrd = loadCrd('scheduling.volcano.sh_podgroups.yaml');
const pluginsCrd = loadCrd('scheduling.x-k8s.io_podgroups.yaml');
const VALIDATORS: Record<'Volcano' | 'SchedulerPlugins', (o: unknown) => string[]> = {
  Volcano: crdValidator(volcanoCrd, POD_GROUP_APIS.Volcano.version),
  SchedulerPlugins: crdValidator(pluginsCrd, POD_GROUP_APIS.SchedulerPlugins.version),
};
const MECHANISMS = Object.keys(VALIDATORS) as ('Volcano' | 'SchedulerPlugins')[];

type Spec = { minMember: number; minResources?: Record<string, string>; [key: string]: unknown };
const group = (job: HPCJob, mechanism: GangMechanism, config = siteConfig) =>
  renderPodGroup(withDefaults(job), mechanism, config) as { metadata: Record<string, unknown>; spec: Spec };

describe('the CRDs the PodGroups are checked against', () => {
  it.each(MECHANISMS)('are the ones %s serves at the API the operator uses', (mechanism) => {
    const crd = mechanism === 'Volcano' ? volcanoCrd : pluginsCrd;
    const api = POD_GROUP_APIS[mechanism];
    expect([crd.group, crd.names.plural, crd.names.kind]).toEqual([api.group, api.plural, 'PodGroup']);
    expect(crd.versions.filter((v) => v.served).map((v) => v.name)).toContain(api.version);
  });
});

// Hand-computed per-worker requests times the workers; the same for both schedulers.
const sidecarTemplate: V1PodTemplateSpec = {
  spec: {
    containers: [
      { name: 'worker', image: 'ignored' },
      { name: 'metrics', image: 'exporter', resources: { limits: { cpu: '250m', memory: '256Mi' } } },
    ],
    initContainers: [
      { name: 'stage-data', image: 'x', resources: { requests: { cpu: '3', memory: '1Gi' } } },
      {
        name: 'log-shipper',
        image: 'x',
        restartPolicy: 'Always',
        resources: { requests: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '1Gi' } },
      },
      { name: 'warm-cache', image: 'x', resources: { requests: { cpu: '1', memory: '8Gi' } } },
    ],
  },
};
const CASES: [string, Partial<HPCJobSpec>, Record<string, string> | undefined][] = [
  ['cpu and memory', { workers: 3, resources: { cpu: 4, memory: '16Gi' } }, { cpu: '12', memory: '48Gi' }],
  [
    'GPUs and RDMA devices',
    { workers: 4, resources: { cpu: 64, memory: '512Gi', gpus: 8, rdmaDevices: 1 } },
    { cpu: '256', memory: '2Ti', 'nvidia.com/gpu': '32', 'rdma/hca': '4' },
  ],
  [
    'one SR-IOV device per network',
    { workers: 2, resources: { gpus: 1 }, network: { mode: 'sriov', networks: ['ib-a', 'roce'] } },
    { 'intel.com/sriov_roce': '2', 'nvidia.com/gpu': '2', 'nvidia.com/hostdev': '2' },
  ],
  [
    'a launcher that runs ranks (outside the gang)',
    { workers: 2, resources: { gpus: 4 }, launcher: { runsRanks: true } },
    { 'nvidia.com/gpu': '8' },
  ],
  [
    // Per worker: cpu max(2 + 0.25 + 0.1 sidecar, init peak 3) = 3; memory max(4352Mi + 128Mi, 8Gi + 128Mi) =
    // 8320Mi; ephemeral-storage 1Gi from the sidecar alone.
    'a sidecar, a limits-only container and init containers',
    { workers: 3, resources: { cpu: '2', memory: '4Gi' }, worker: { template: sidecarTemplate } },
    { cpu: '9', 'ephemeral-storage': '3Gi', memory: '24960Mi' },
  ],
  ['no requests at all', { workers: 2 }, undefined],
];

describe.each(MECHANISMS)('the %s PodGroup', (mechanism) => {
  const validate = VALIDATORS[mechanism];

  it.each(CASES)('%s: minMember is the workers, minResources their requests', (_, spec, minResources) => {
    const pg = group(makeJob(spec), mechanism);
    expect(validate(pg)).toEqual([]);
    expect(pg.spec.minMember).toBe(spec.workers);
    expect(pg.spec.minResources).toEqual(minResources);
  });

  it('is named after the job, labelled and owned by it', () => {
    expect(group(makeJob(), mechanism).metadata).toEqual({
      name: 'cfd',
      namespace: 'team-a',
      labels: { 'hpcjob.dev/job-name': 'cfd', 'app.kubernetes.io/managed-by': 'hpcjob-operator' },
      ownerReferences: [
        {
          apiVersion: 'hpcjob.dev/v1alpha1',
          kind: 'HPCJob',
          name: 'cfd',
          uid: '5f0c6a2e-1111-4a4a-9b9b-000000000001',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
  });

  it('can fail: an unknown field and a bad quantity are caught', () => {
    const pg = group(makeJob({ resources: { cpu: 1 } }), mechanism);
    expect(validate({ ...pg, spec: { ...pg.spec, minMembers: 2 } })).toEqual(['/spec/minMembers: unknown field']);
    const bad = { ...pg, spec: { ...pg.spec, minResources: { cpu: 'lots' } } };
    expect(validate(bad).join('\n')).toContain('/spec/minResources/cpu: must match pattern');
    expect(validate({ ...pg, metadata: { ...pg.metadata, name: 'Not_A_Name' } })).toEqual([
      '/metadata/name: "Not_A_Name" is not a DNS subdomain',
    ]);
  });
});

describe('the Volcano PodGroup', () => {
  it("takes the job's queue, else the site's", () => {
    const job = makeJob({ scheduling: { gang: 'Volcano', queue: 'gpu-team' } });
    expect(group(job, 'Volcano').spec.queue).toBe('gpu-team');
    expect(group(makeJob(), 'Volcano').spec.queue).toBe('research');
    expect(group(makeJob(), 'Volcano', testConfig).spec.queue).toBe('default');
  });

  it("carries the workers' priority class, by which Volcano orders groups", () => {
    const template = { spec: { priorityClassName: 'hpc-high', containers: [{ name: 'worker', image: 'x' }] } };
    const pg = group(makeJob({ worker: { template } }), 'Volcano');
    expect(VALIDATORS.Volcano(pg)).toEqual([]);
    expect(pg.spec.priorityClassName).toBe('hpc-high');
    expect(group(makeJob(), 'Volcano').spec).not.toHaveProperty('priorityClassName');
  });

  it('refuses a queue name Volcano refuses', () => {
    const pg = group(makeJob({ scheduling: { queue: 'GPU_Team' } }), 'Volcano');
    expect(VALIDATORS.Volcano(pg).join('\n')).toContain('/spec/queue: must match pattern');
  });
});

describe('the scheduler-plugins PodGroup', () => {
  it("waits the site's scheduleTimeoutSeconds for its quorum, and has no queue", () => {
    const pg = group(makeJob({ scheduling: { queue: 'ignored' } }), 'SchedulerPlugins');
    expect(pg.spec.scheduleTimeoutSeconds).toBe(120);
    expect(pg.spec).not.toHaveProperty('queue');
    // The schema has no queue: putting one there would be refused.
    expect(VALIDATORS.SchedulerPlugins({ ...pg, spec: { ...pg.spec, queue: 'q' } })).toEqual([
      '/spec/queue: unknown field',
    ]);
  });
});

describe('the native PodGroup', () => {
  it('gathers the workers with a gang policy of minCount', () => {
    const pg = group(makeJob({ workers: 5 }), 'Native');
    expect(pg).toMatchObject({ apiVersion: 'scheduling.k8s.io/v1alpha2', kind: 'PodGroup' });
    expect(pg.spec).toEqual({ schedulingPolicy: { gang: { minCount: 5 } } });
  });

  it("constrains the group to one domain of placement.sameDomain's topology key", () => {
    const pg = group(makeJob({ placement: { sameDomain: 'rack', oneWorkerPerNode: true } }), 'Native');
    expect(pg.spec.schedulingConstraints).toEqual({ topology: [{ key: 'topology.hpcjob.dev/rack' }] });
    const spread = group(makeJob({ placement: { oneWorkerPerNode: true } }), 'Native');
    expect(spread.spec).not.toHaveProperty('schedulingConstraints');
  });
});

const SSH_PORT = 2222;
const pods = (job: HPCJob, mechanism: GangMechanism, config = siteConfig) => {
  const defaulted = withDefaults(job);
  return {
    worker: withGang(renderWorkerPod(defaulted, config, 0, SSH_PORT), defaulted, mechanism, 'worker', config),
    launcher: withGang(renderLauncherPod(defaulted, config, 1, SSH_PORT), defaulted, mechanism, 'launcher', config),
  };
};

describe('the pods', () => {
  const template = { metadata: { labels: { team: 'cfd' }, annotations: { note: 'kept' } }, spec: { containers: [] } };
  const job = makeJob({ scheduling: { queue: 'gpu-team' }, worker: { template }, launcher: { template } });

  it('Volcano: workers name the group; the launcher gets a group of its own in the same queue', () => {
    const { worker, launcher } = pods(job, 'Volcano');
    expect(worker.spec!.schedulerName).toBe('vc-scheduler');
    expect(worker.metadata!.annotations).toMatchObject({ 'scheduling.k8s.io/group-name': 'cfd', note: 'kept' });
    expect(worker.metadata!.annotations).not.toHaveProperty('scheduling.volcano.sh/queue-name');
    expect(launcher.spec!.schedulerName).toBe('vc-scheduler');
    expect(launcher.metadata!.annotations).toMatchObject({ 'scheduling.volcano.sh/queue-name': 'gpu-team' });
    expect(launcher.metadata!.annotations).not.toHaveProperty('scheduling.k8s.io/group-name');
  });

  it('scheduler-plugins: workers carry the group label; the launcher only the same scheduler', () => {
    const { worker, launcher } = pods(job, 'SchedulerPlugins');
    expect(worker.spec!.schedulerName).toBe('coscheduler');
    expect(worker.metadata!.labels).toMatchObject({ 'scheduling.x-k8s.io/pod-group': 'cfd', team: 'cfd' });
    expect(launcher.spec!.schedulerName).toBe('coscheduler');
    expect(launcher.metadata!.labels).not.toHaveProperty('scheduling.x-k8s.io/pod-group');
  });

  it('native: workers reference the group; the launcher is left to the default scheduler', () => {
    const { worker, launcher } = pods(job, 'Native');
    expect((worker.spec as { schedulingGroup?: unknown }).schedulingGroup).toEqual({ podGroupName: 'cfd' });
    expect(launcher).toEqual(renderLauncherPod(withDefaults(job), siteConfig, 1, SSH_PORT));
  });
});

const dnsSubdomain = fc
  .array(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?$/), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join('.'));
const quantity = fc
  .tuple(fc.integer({ min: 0, max: 5000 }), fc.constantFrom('', 'm', 'k', 'Mi', 'Gi', 'G', 'e2'))
  .map(([n, suffix]) => `${n}${suffix}`);
const resourceList = fc.dictionary(
  fc.constantFrom('cpu', 'memory', 'ephemeral-storage', 'example.com/fpga'),
  quantity,
  {
    maxKeys: 3,
  },
);
// Extra containers in the worker's template, with requests and limits, some of them sidecars.
const extraContainers = fc.array(
  fc.record({
    init: fc.boolean(),
    sidecar: fc.boolean(),
    resources: fc.record({ requests: resourceList, limits: resourceList }, { requiredKeys: [] }),
  }),
  { maxLength: 4 },
);

describe('any valid job', () => {
  it('gets a PodGroup its scheduler accepts, with minMember and minResources of all its workers', () => {
    const arb = fc.tuple(
      arbJob,
      fc.constantFrom(...MECHANISMS),
      fc.option(dnsSubdomain, { nil: undefined }),
      extraContainers,
    );
    fc.assert(
      fc.property(arb, ([job, mechanism, queue, extras]) => {
        if (queue !== undefined) job.spec.scheduling = { gang: mechanism, queue };
        const spec = job.spec.worker!.template!.spec!;
        for (const [i, extra] of extras.entries()) {
          const container = { name: `extra-${i}`, image: 'x', resources: extra.resources };
          if (!extra.init) spec.containers.push(container);
          else (spec.initContainers ??= []).push(extra.sidecar ? { ...container, restartPolicy: 'Always' } : container);
        }
        const defaulted = withDefaults(job);
        const pg = renderPodGroup(defaulted, mechanism, siteConfig) as { spec: Spec };
        expect(VALIDATORS[mechanism](pg)).toEqual([]);
        expect(pg.spec.minMember).toBe(job.spec.workers);
        // Summed over every worker rendered on its own, exactly.
        const sum = new Map<string, bigint>();
        for (let i = 0; i < job.spec.workers; i++) {
          const pod = renderWorkerPod(defaulted, siteConfig, i, SSH_PORT);
          for (const [name, q] of podRequests(pod.spec!)) {
            sum.set(name, addQuantities({ nanos: sum.get(name) ?? 0n, binary: false }, q).nanos);
          }
        }
        const got = Object.entries(pg.spec.minResources ?? {}).map(([k, v]) => [k, parseQuantity(v).nanos]);
        expect(Object.fromEntries(got)).toEqual(Object.fromEntries(sum));
      }),
      { numRuns: 150 },
    );
  });
});

describe('the scheduling examples', () => {
  const dir = fileURLToPath(new URL('../../../examples/scheduling', import.meta.url));
  const config = loadClusterConfig(fileURLToPath(new URL('../../../examples/cluster-config.yaml', import.meta.url)));
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it('cover both schedulers', () => {
    const gangs = files.map((f) => (parse(readFileSync(`${dir}/${f}`, 'utf8')) as HPCJob).spec.scheduling?.gang);
    expect(gangs.sort()).toEqual(['SchedulerPlugins', 'Volcano']);
  });

  it.each(files)('%s renders a PodGroup its scheduler accepts', (file) => {
    const doc = parse(readFileSync(`${dir}/${file}`, 'utf8')) as HPCJob;
    const job = withDefaults({ ...doc, metadata: { ...doc.metadata, namespace: 'default', uid: 'u' } });
    const mechanism = job.spec.scheduling!.gang as 'Volcano' | 'SchedulerPlugins';
    expect(VALIDATORS[mechanism](renderPodGroup(job, mechanism, config))).toEqual([]);
  });
});
