// The model with pods going away under the job: lost nodes (that come back, or are declared dead and their pods
// force-deleted), kubelet evictions, graceful deletes by users, deleted jobs and the garbage collector, and a clock
// that runs past grace periods, the lost-pod margin and deadlines.
import fc from 'fast-check';
import { commands } from './commands.js';
import { runModel, worldSetup } from './setup.js';

test('lost nodes, evictions and deletions never break the invariants, and jobs still end', async () => {
  const losses = commands({
    lose: 8,
    recover: 4,
    dead: 4,
    evict: 6,
    userDeletesPod: 8,
    workerFails: 4,
    confirm: 10,
    advance: 10,
    userDeletesJob: 2,
    gc: 3,
    crash: 1,
    conflict: 1,
  });
  await fc.assert(
    fc.asyncProperty(worldSetup, fc.commands([losses], { maxCommands: 50, size: 'max' }), (setup, steps) =>
      runModel(setup, steps),
    ),
    { numRuns: 600 },
  );
});
