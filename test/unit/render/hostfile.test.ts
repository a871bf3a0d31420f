import fc from 'fast-check';
import type { MPIImplementation } from '../../../src/api/types.js';
import { renderHostfile } from '../../../src/render/hostfile.js';

describe('renderHostfile', () => {
  const hosts = [
    { name: 'cfd-worker-0.cfd', slots: 4 },
    { name: 'cfd-worker-1.cfd', slots: 1 },
  ];

  it.each<[MPIImplementation, string]>([
    ['OpenMPI', 'cfd-worker-0.cfd slots=4\ncfd-worker-1.cfd slots=1\n'],
    ['MPICH', 'cfd-worker-0.cfd:4\ncfd-worker-1.cfd:1\n'],
    ['IntelMPI', 'cfd-worker-0.cfd:4\ncfd-worker-1.cfd:1\n'],
  ])('%s', (impl, expected) => {
    expect(renderHostfile(impl, hosts)).toBe(expected);
  });

  it('is empty without hosts', () => {
    expect(renderHostfile('OpenMPI', [])).toBe('');
  });

  it('gives one line per host, in order, naming its slots', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<MPIImplementation>('OpenMPI', 'MPICH', 'IntelMPI'),
        fc.array(
          fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9.-]{0,40}$/), slots: fc.integer({ min: 1, max: 512 }) }),
        ),
        (impl, list) => {
          const lines = renderHostfile(impl, list).split('\n').slice(0, -1);
          expect(lines).toHaveLength(list.length);
          lines.forEach((line, i) => {
            const { name, slots } = list[i]!;
            expect(line).toBe(impl === 'OpenMPI' ? `${name} slots=${slots}` : `${name}:${slots}`);
          });
        },
      ),
    );
  });
});
