// The model under many faults: crashes before any API call, operator restarts, conflicting status writes (a
// concurrent label), pod creates refused for quota, as invalid, or by a failing webhook.
import fc from 'fast-check';
import { commands } from './commands.js';
import { runModel, worldSetup } from './setup.js';

test('crashes, conflicts and failed creates never break the invariants, and jobs still end', async () => {
  const faults = commands({ crash: 12, restart: 4, conflict: 10, createFails: 8, lose: 0, dead: 0, recover: 0 });
  await fc.assert(
    fc.asyncProperty(worldSetup, fc.commands([faults], { maxCommands: 50, size: 'max' }), (setup, steps) =>
      runModel(setup, steps),
    ),
    { numRuns: 600 },
  );
});
