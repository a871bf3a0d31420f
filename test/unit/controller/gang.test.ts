// The plan's gang step and the native PodGroup: which scheduler a job gets, the group created before any pod, the
// workers (only) joined to it, a missing API reported before anything is created, and the scheduler's word on a
// waiting group carried into the Unschedulable condition.
import type { V1Pod } from '@kubernetes/client-node';
import type { HPCJob } from '../../../src/api/types.js';
import { DEFAULT_CLUSTER_CONFIG, parseClusterConfig } from '../../../src/config/cluster-config.js';
import { planReconcile } from '../../../src/controller/plan.js';
import { observe } from './observed.js';
import {
  podGroupWaitMessage,
  renderNativePodGroup,
  resolveGang,
  type GangMechanism,
} from '../../../src/render/pod-groups.js';

const config = DEFAULT_CLUSTER_CONFIG;

function job(spec: Partial<HPCJob['spec']> = {}): HPCJob {
  return {
    apiVersion: 'hpcjob.dev/v1alpha1',
    kind: 'HPCJob',
    metadata: { name: 'j', namespace: 'ns', uid: 'u', generation: 1 },
    spec: { image: 'i', command: ['mpirun', 'x'], workers: 3, ...spec },
  };
}

describe('resolveGang', () => {
  const served = (...m: GangMechanism[]) => new Set<GangMechanism>(m);
  it.each([
    // [job's choice, site's default, served, expected]
    [undefined, 'Auto', served('Native'), 'gang:Native'],
    [undefined, 'Auto', served(), 'none'],
    [undefined, 'Auto', served('Volcano'), 'none'],
    ['None', 'Auto', served('Native'), 'none'],
    ['Volcano', 'Auto', served('Native', 'Volcano'), 'gang:Volcano'],
    ['Volcano', 'Auto', served('Native'), 'unavailable:Volcano'],
    [undefined, 'SchedulerPlugins', served('SchedulerPlugins'), 'gang:SchedulerPlugins'],
    [undefined, 'Native', served(), 'unavailable:Native'],
    [undefined, 'None', served('Native'), 'none'],
  ] as const)('job %s, site %s, served %p: %s', (asked, site, apis, expected) => {
    const cfg = { ...config, scheduling: { ...config.scheduling, gang: site } };
    const r = resolveGang(job(asked ? { scheduling: { gang: asked } } : {}), cfg, apis);
    expect(r.kind === 'none' ? 'none' : `${r.kind}:${r.mechanism}`).toBe(expected);
  });

  it('names who asked and the API that is missing', () => {
    const fromJob = resolveGang(job({ scheduling: { gang: 'Volcano' } }), config, new Set());
    expect(fromJob).toMatchObject({ kind: 'unavailable' });
    expect((fromJob as { message: string }).message).toMatch(
      /^spec\.scheduling\.gang is Volcano, but this cluster does not serve podgroups\.scheduling\.volcano\.sh\/v1beta1 \(Volcano/,
    );
    const cfg = { ...config, scheduling: { ...config.scheduling, gang: 'Native' as const } };
    const fromSite = resolveGang(job(), cfg, new Set());
    expect((fromSite as { message: string }).message).toMatch(
      /^the cluster configuration's scheduling\.gang is Native, .*podgroups\.scheduling\.k8s\.io\/v1alpha2/,
    );
  });
});

describe('the native PodGroup', () => {
  it('gathers the workers, owned by the job, with the rack as topology constraint for sameDomain', () => {
    expect(renderNativePodGroup(job(), config)).toEqual({
      apiVersion: 'scheduling.k8s.io/v1alpha2',
      kind: 'PodGroup',
      metadata: {
        name: 'j',
        namespace: 'ns',
        labels: { 'hpcjob.dev/job-name': 'j', 'app.kubernetes.io/managed-by': 'hpcjob-operator' },
        ownerReferences: [
          {
            apiVersion: 'hpcjob.dev/v1alpha1',
            kind: 'HPCJob',
            name: 'j',
            uid: 'u',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { schedulingPolicy: { gang: { minCount: 3 } } },
    });
    const racked = renderNativePodGroup(job({ placement: { sameDomain: 'rack' } }), config) as { spec: object };
    expect(racked.spec).toEqual({
      schedulingPolicy: { gang: { minCount: 3 } },
      schedulingConstraints: { topology: [{ key: 'topology.hpcjob.dev/rack' }] },
    });
  });

  it("reads the scheduler's message from a waiting group only", () => {
    const group = (type: string, status: string) => ({ status: { conditions: [{ type, status, message: 'm' }] } });
    expect(podGroupWaitMessage(group('PodGroupScheduled', 'False'))).toBe('m');
    expect(podGroupWaitMessage(group('PodGroupScheduled', 'True'))).toBeUndefined();
    expect(podGroupWaitMessage(group('Unschedulable', 'True'))).toBe('m');
    expect(podGroupWaitMessage({})).toBeUndefined();
    expect(podGroupWaitMessage(undefined)).toBeUndefined();
  });
});

describe('the plan', () => {
  const native = { resolution: { kind: 'gang', mechanism: 'Native' } as const, hasPodGroup: false };

  it('creates the PodGroup with the other shared objects and tells the executor which scheduler the pods join', () => {
    const plan = planReconcile(observe(job(), [], { gang: native }));
    expect(plan).toMatchObject({ gang: 'Native', createPodGroup: true, createWorkers: [0, 1, 2] });
    const again = planReconcile(observe(job(), [], { gang: { ...native, hasPodGroup: true } }));
    expect(again).toMatchObject({ gang: 'Native', createPodGroup: false });
  });

  it('without a gang: no PodGroup and no scheduler', () => {
    const plan = planReconcile(observe(job(), []));
    expect(plan.createPodGroup).toBe(false);
    expect(plan.gang).toBeUndefined();
  });

  it('a gang scheduler not served: Pending, Blocked naming it, one event, and nothing created', () => {
    const gang = {
      resolution: { kind: 'unavailable', mechanism: 'Volcano', message: 'no volcano here' } as const,
      hasPodGroup: false,
    };
    const missing = { hasSecret: false, hasConfigMap: false, hasService: false, hasNetworkPolicy: false };
    const plan = planReconcile(observe(job(), [], { gang, ...missing }));
    expect(plan).toMatchObject({ createSecret: false, createWorkers: [], createPodGroup: false });
    expect(plan.status.phase).toBe('Pending');
    expect(plan.status.conditions?.find((c) => c.type === 'Blocked')).toMatchObject({
      status: 'True',
      reason: 'GangSchedulerUnavailable',
      message: 'no volcano here',
    });
    expect(plan.events).toEqual([{ type: 'Warning', reason: 'GangSchedulerUnavailable', message: 'no volcano here' }]);
    const next = planReconcile(observe({ ...job(), status: plan.status }, [], { gang, ...missing }));
    expect(next.events).toEqual([]);
  });

  it("puts the group's reason before the pod's in the Unschedulable condition", () => {
    const waiting: V1Pod = {
      metadata: { name: 'j-worker-0', uid: 'w0', annotations: { 'hpcjob.dev/attempt': '1' } },
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'no room' }],
      },
    };
    const gang = { ...native, hasPodGroup: true, unschedulableMessage: '0/2 placements are available' };
    const plan = planReconcile(observe(job(), [waiting], { gang }));
    expect(plan.status.conditions?.find((c) => c.type === 'Unschedulable')?.message).toBe(
      'pod group j: 0/2 placements are available; pod j-worker-0: no room',
    );
  });
});

describe('the cluster configuration', () => {
  it('takes the scheduling defaults and names a bad key', () => {
    const cfg = parseClusterConfig({
      scheduling: { gang: 'Volcano', volcano: { queue: 'research' }, schedulerPlugins: { scheduleTimeoutSeconds: 60 } },
    });
    expect(cfg.scheduling).toEqual({
      gang: 'Volcano',
      volcano: { schedulerName: 'volcano', queue: 'research' },
      schedulerPlugins: { schedulerName: 'scheduler-plugins-scheduler', scheduleTimeoutSeconds: 60 },
    });
    expect(() => parseClusterConfig({ scheduling: { gang: 'Slurm' } })).toThrow(
      'config.scheduling.gang: must be one of Auto, Native, Volcano, SchedulerPlugins, None, got "Slurm"',
    );
    expect(() => parseClusterConfig({ scheduling: { volcano: { queues: 'x' } } })).toThrow(
      'config.scheduling.volcano.queues: unknown key',
    );
    expect(() => parseClusterConfig({ scheduling: { schedulerPlugins: { scheduleTimeoutSeconds: 0 } } })).toThrow(
      'config.scheduling.schedulerPlugins.scheduleTimeoutSeconds: must be a positive integer, got 0',
    );
  });
});

test('of the waiting pods, the one that says why is shown, not one that only waits for its gang', () => {
  const waiting = (name: string, message: string): V1Pod => ({
    metadata: { name, uid: name, annotations: { 'hpcjob.dev/attempt': '1' } },
    status: {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }],
    },
  });
  const pods = [
    waiting('j-worker-0', 'pod group is unschedulable, waiting for minCount pods from a gang to be scheduled'),
    waiting('j-worker-1', '0/4 nodes are available: 4 Insufficient nvidia.com/gpu.'),
  ];
  const gang = { resolution: { kind: 'gang', mechanism: 'Native' } as const, hasPodGroup: true };
  const plan = planReconcile(observe(job(), pods, { gang }));
  expect(plan.status.conditions?.find((c) => c.type === 'Unschedulable')?.message).toBe(
    'pod j-worker-1: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu.',
  );
});
