// Model-based tests of the real Controller and planReconcile: random steps of an in-memory cluster (delayed watch
// events, kubelets, lost nodes, users, crashes, conflicts, failed creates), the invariants after every step, then fair
// progress to the end of every job and a quiet operator. A failure prints the shrunk steps, one sentence each.
import fc from 'fast-check';
import { commands } from './commands.js';
import { runModel, worldSetup } from './setup.js';
import type { World } from './world.js';

/** How each job of a run ended, for the check that the runs reach the outcomes they are meant to test. */
function tally(outcomes: Map<string, number>, w: World): void {
  const add = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  for (const record of w.jobs.values()) {
    const status = w.job(record.setup.name)?.status;
    add(status ? (status.conditions?.find((c) => c.type === status.phase)?.reason ?? '?') : 'deleted');
    if (record.restartCount > 0) add('restarted');
  }
  if (w.operatorStarts > 1) add('operator restarted');
}

test('every step keeps the invariants, and every job ends under fair progress', async () => {
  const outcomes = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(worldSetup, fc.commands([commands()], { maxCommands: 50, size: 'max' }), (setup, steps) =>
      runModel(setup, steps, (w) => tally(outcomes, w)),
    ),
    { numRuns: 1000 },
  );
  // The random runs get far enough to test what matters: every kind of ending, restarts, crashes.
  const wanted = [
    'LauncherSucceeded',
    'LauncherFailed',
    'WorkerFailed',
    'DeadlineExceeded',
    'CreateRejected',
    'deleted',
    'restarted',
    'operator restarted',
  ];
  expect(wanted.filter((outcome) => !outcomes.has(outcome))).toEqual([]);
});
