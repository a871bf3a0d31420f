import fc from 'fast-check';
import { celRules, CRD_PATH, hpcJobSchema, loadSchema, type SchemaNode } from '../../../src/api/schema.js';
import {
  IMMUTABLE_FIELDS,
  immutableFieldChanges,
  MAX_NAME_LENGTH,
  OBJECT_RULES,
  validateJob,
} from '../../../src/api/validate.js';
import { arbJob, makeJob } from './fixtures.js';

/** A valid job with one field replaced (dotted path; created along the way). */
function withField(path: string, value: unknown): unknown {
  const job = JSON.parse(JSON.stringify(makeJob())) as Record<string, unknown>;
  const keys = path.split('.');
  let at = job;
  for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return job;
}

describe('validateJob', () => {
  it('accepts a minimal job', () => {
    expect(validateJob(makeJob())).toEqual([]);
  });

  it('accepts a job using every field', () => {
    const job = makeJob({
      slotsPerWorker: 8,
      mpiImplementation: 'IntelMPI',
      resources: { cpu: 32, memory: '128Gi', gpus: 8, rdmaDevices: 1 },
      env: [
        { name: 'A', value: '1' },
        { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      ],
      forwardEnv: ['LD_LIBRARY_PATH'],
      volumes: [{ name: 'scratch', hostPath: { path: '/scratch/lustre' } }],
      volumeMounts: [{ name: 'scratch', mountPath: '/scratch/lustre' }],
      workingDir: '/scratch/lustre/run',
      network: { mode: 'sriov', networks: ['ib-a'] },
      sharedMemory: '16Gi',
      fabricEnv: { NCCL_IB_HCA: 'mlx5' },
      placement: { oneWorkerPerNode: true, sameDomain: 'rack' },
      launcher: { runsRanks: true, template: { spec: { containers: [{ name: 'launcher', image: 'x' }] } } },
      worker: { template: { metadata: { labels: { a: 'b' } }, spec: { containers: [] } } },
      runPolicy: {
        backoffLimit: 2,
        activeDeadlineSeconds: 3600,
        ttlSecondsAfterFinished: 60,
        cleanPodPolicy: 'All',
        suspend: true,
      },
    });
    expect(validateJob(job)).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['spec.workers', 0, 'spec.workers: must be >= 1'],
    ['spec.workers', 10001, 'spec.workers: must be <= 10000'],
    ['spec.workers', '2', 'spec.workers: must be integer'],
    ['spec.image', undefined, 'spec.image: is required'],
    ['spec.image', '', 'spec.image: must NOT have fewer than 1 characters'],
    ['spec.command', [], 'spec.command: must NOT have fewer than 1 items'],
    ['spec.slotsPerWorker', 0, 'spec.slotsPerWorker: must be >= 1'],
    ['spec.mpiImplementation', 'LAM', 'spec.mpiImplementation: must be one of OpenMPI, MPICH, IntelMPI'],
    ['spec.resources.gpus', -1, 'spec.resources.gpus: must be >= 0'],
    ['spec.resources.rdmaDevices', 1.5, 'spec.resources.rdmaDevices: must be integer'],
    ['spec.resources.cpu', 'lots', 'spec.resources.cpu: must match'],
    ['spec.resources.memory', { gi: 1 }, 'spec.resources.memory: must be an integer or a string'],
    ['spec.sharedMemory', '8 GB', 'spec.sharedMemory: must match'],
    ['spec.network.mode', 'infiniband', 'spec.network.mode: must be one of pod, host, sriov'],
    ['spec.network', { mode: 'sriov' }, 'spec.network.networks: must name at least one network when mode is sriov'],
    ['spec.network', { mode: 'pod', networks: ['ib-a'] }, 'spec.network.networks: is only used when mode is sriov'],
    ['spec.network', { mode: 'sriov', networks: ['a', 'a'] }, 'spec.network.networks: has a duplicate entry ("a")'],
    ['spec.env', [{ name: 'A' }, { name: 'A' }], 'spec.env: has a duplicate entry'],
    ['spec.env', [{ value: '1' }], 'spec.env[0].name: is required'],
    ['spec.forwardEnv', ['NOT-A-NAME'], 'spec.forwardEnv[0]: must match'],
    ['spec.volumes', [{ emptyDir: {} }], 'spec.volumes[0].name: is required'],
    ['spec.volumeMounts', [{ name: 'x' }], 'spec.volumeMounts[0].mountPath: is required'],
    ['spec.fabricEnv', { NCCL_IB_HCA: 3 }, 'spec.fabricEnv.NCCL_IB_HCA: must be string'],
    ['spec.placement.oneWorkerPerNode', 'yes', 'spec.placement.oneWorkerPerNode: must be boolean'],
    ['spec.runPolicy.backoffLimit', -1, 'spec.runPolicy.backoffLimit: must be >= 0'],
    ['spec.runPolicy.activeDeadlineSeconds', 0, 'spec.runPolicy.activeDeadlineSeconds: must be >= 1'],
    ['spec.runPolicy.cleanPodPolicy', 'Some', 'spec.runPolicy.cleanPodPolicy: must be one of None, Running, All'],
    ['spec.runPolicy.suspend', 'true', 'spec.runPolicy.suspend: must be boolean'],
    ['spec.wrokers', 2, 'spec.wrokers: unknown field'],
    ['spec.launcher.runsRank', true, 'spec.launcher.runsRank: unknown field'],
    ['spec', undefined, 'spec: is required'],
    ['metadata.name', 'x'.repeat(MAX_NAME_LENGTH + 1), 'metadata.name: must be at most 50 characters'],
    ['metadata.name', 'Cfd', 'metadata.name: must be a DNS label that starts with a letter'],
    ['metadata.name', 'cfd.run', 'metadata.name: must be a DNS label that starts with a letter'],
    ['metadata.name', '1cfd', 'metadata.name: must be a DNS label that starts with a letter'],
  ])('%s = %j → %s', (path, value, message) => {
    const errors = validateJob(withField(path, value));
    expect(errors.some((e) => e.startsWith(message))).toBe(true);
  });

  it('allows the longest name', () => {
    expect(validateJob(makeJob({}, 'a'.repeat(MAX_NAME_LENGTH)))).toEqual([]);
  });

  it('lets unknown fields through where the schema keeps them (pod templates)', () => {
    const job = makeJob({ worker: { template: { spec: { containers: [], futureField: true } as never } } });
    expect(validateJob(job)).toEqual([]);
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(Array.isArray(validateJob(value))).toBe(true);
      }),
    );
  });

  it('accepts every generated valid job', () => {
    fc.assert(fc.property(arbJob, (job) => expect(validateJob(job)).toEqual([])));
  });

  it('names the field of every invalid value', () => {
    const bad: [string, unknown][] = [
      ['spec.workers', -3],
      ['spec.slotsPerWorker', 'four'],
      ['spec.resources.gpus', -2],
      ['spec.network.mode', 'ib'],
      ['spec.runPolicy.backoffLimit', 1.5],
      ['spec.runPolicy.cleanPodPolicy', 'Never'],
      ['spec.image', 42],
      ['spec.placement.sameDomain', 7],
      ['spec.launcher.runsRanks', 'yes'],
    ];
    fc.assert(
      fc.property(arbJob, fc.constantFrom(...bad), (job, [path, value]) => {
        const copy = JSON.parse(JSON.stringify(job)) as Record<string, Record<string, unknown>>;
        const keys = path.split('.');
        let at: Record<string, unknown> = copy;
        for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
        at[keys[keys.length - 1]!] = value;
        expect(validateJob(copy).some((e) => e.startsWith(`${path}: `))).toBe(true);
      }),
    );
  });
});

describe('the CRD and its TypeScript twins', () => {
  const rules = celRules();

  it('mirrors every single-object CEL rule, with the same message', () => {
    const objectRules = rules.filter((r) => !r.rule.includes('oldSelf')).map((r) => r.message);
    expect(objectRules.sort()).toEqual(Object.keys(OBJECT_RULES).sort());
  });

  it('mirrors every immutability rule', () => {
    const transition = rules.filter((r) => r.rule.includes('oldSelf')).map((r) => r.message);
    expect(transition.sort()).toEqual(
      Object.keys(IMMUTABLE_FIELDS)
        .map((f) => `${f}: is immutable`)
        .sort(),
    );
  });

  it('limits the name to the computed length', () => {
    expect(MAX_NAME_LENGTH).toBe(50);
    expect(rules.some((r) => r.rule === `self.metadata.name.size() <= ${MAX_NAME_LENGTH}`)).toBe(true);
  });

  it('describes every field, so kubectl explain documents it', () => {
    const missing: string[] = [];
    const walk = (node: SchemaNode, at: string) => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        const path = at ? `${at}.${key}` : key;
        if (path !== 'metadata' && !child.description) missing.push(path);
        walk(child, path);
        if (child.items) walk(child.items, `${path}[]`);
      }
    };
    walk(hpcJobSchema(), '');
    expect(missing).toEqual([]);
  });
});

describe('immutableFieldChanges', () => {
  it.each<[string, Parameters<typeof makeJob>[0], string[]]>([
    ['workers', { workers: 3 }, ['spec.workers: is immutable']],
    ['network', { network: { mode: 'host' } }, ['spec.network: is immutable']],
    ['runsRanks', { launcher: { runsRanks: true } }, ['spec.launcher.runsRanks: is immutable']],
    ['suspend', { runPolicy: { suspend: true } }, []],
    ['ttl', { runPolicy: { ttlSecondsAfterFinished: 5 } }, []],
    ['explicit default', { mpiImplementation: 'OpenMPI', network: { mode: 'pod' } }, []],
  ])('%s', (_, change, expected) => {
    expect(immutableFieldChanges(makeJob(), makeJob(change))).toEqual(expected);
  });
});

describe('status', () => {
  it('is not held to the closed schema (the server prunes it)', () => {
    const job = { ...makeJob(), status: { phase: 'Running', somethingNewer: 1 } };
    expect(validateJob(job)).toEqual([]);
  });

  it('still checks the types of known fields', () => {
    expect(validateJob({ ...makeJob(), status: { phase: 'Dancing' } })[0]).toMatch(/^status\.phase: must be one of/);
  });
});

describe('loadSchema', () => {
  it('names the missing CRD file, which the operator reads at start (an image without crds/ stops at once)', () => {
    expect(() => loadSchema('/nonexistent/crds/hpcjob.yaml')).toThrow(
      /cannot read the HPCJob CRD at \/nonexistent\/crds\/hpcjob.yaml.*ship crds\/ beside dist\//,
    );
  });
  it('reads the served version of the project CRD', () => {
    expect(loadSchema(CRD_PATH).properties?.spec).toBeDefined();
  });
});
