// Kueue's steps in random model runs: admit a job, evict it (preemption, readiness timeout), a scheduling round.
import fc from 'fast-check';
import { Step } from './commands.js';
import { admit, canAdmit, canEvict, evict, kueueRound } from './kueue.js';

const job = fc.constantFrom('a', 'b');
const admitStep = job.map(
  (j) =>
    new Step(
      `Kueue admits job ${j}`,
      (w) => canAdmit(w, j),
      (w) => admit(w, j),
    ),
);
const evictStep = fc.tuple(job, fc.constantFrom('Preempted' as const, 'PodsReadyTimeout' as const)).map(
  ([j, reason]) =>
    new Step(
      `Kueue evicts job ${j} (${reason})`,
      (w) => canEvict(w, j),
      (w) => evict(w, j, reason),
    ),
);
const roundStep = fc.constant(
  new Step(
    'Kueue runs a scheduling round',
    () => true,
    (w) => kueueRound(w),
  ),
);

export function kueueCommands(): fc.Arbitrary<Step> {
  return fc.oneof(
    { arbitrary: admitStep, weight: 4 },
    { arbitrary: evictStep, weight: 3 },
    { arbitrary: roundStep, weight: 3 },
  );
}
