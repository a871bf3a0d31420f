import fc from 'fast-check';
import { withDefaults } from '../../../src/api/defaults.js';
import { arbJob, makeJob } from './fixtures.js';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('withDefaults', () => {
  it.each<[string, Parameters<typeof makeJob>[0], Record<string, unknown>]>([
    ['a CPU job', {}, { slotsPerWorker: 1, mpiImplementation: 'OpenMPI', network: { mode: 'pod' } }],
    ['a GPU job: one slot per GPU', { resources: { gpus: 8 } }, { slotsPerWorker: 8 }],
    ['explicit slots win', { slotsPerWorker: 2, resources: { gpus: 8 } }, { slotsPerWorker: 2 }],
    [
      'explicit values stay',
      { mpiImplementation: 'MPICH', network: { mode: 'host' } },
      { mpiImplementation: 'MPICH', network: { mode: 'host' } },
    ],
    [
      'sriov networks stay',
      { network: { mode: 'sriov', networks: ['ib-a'] } },
      { network: { mode: 'sriov', networks: ['ib-a'] } },
    ],
    ['run policy', {}, { runPolicy: { backoffLimit: 0, cleanPodPolicy: 'Running', suspend: false } }],
    [
      'run policy keeps the rest',
      { runPolicy: { ttlSecondsAfterFinished: 9, backoffLimit: 3 } },
      { runPolicy: { ttlSecondsAfterFinished: 9, backoffLimit: 3, cleanPodPolicy: 'Running', suspend: false } },
    ],
  ])('%s', (_, spec, expected) => {
    expect(withDefaults(makeJob(spec)).spec).toMatchObject(expected);
  });

  it('never mutates its input, and is idempotent', () => {
    fc.assert(
      fc.property(arbJob, (job) => {
        const frozen = deepFreeze(structuredClone(job));
        const once = withDefaults(frozen);
        expect(frozen).toEqual(job);
        expect(withDefaults(once)).toEqual(once);
      }),
    );
  });
});
