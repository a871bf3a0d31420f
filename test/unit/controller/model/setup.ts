// The random part of a run that is fixed before its first step: the jobs and how the fair phase treats lost nodes;
// and the run itself, from an empty cluster through the random steps to the end checks.
import fc from 'fast-check';
import { finishRun } from './fair.js';
import { World, type JobSetup, type WorldSetup } from './world.js';

const jobSetup = (name: string): fc.Arbitrary<JobSetup> =>
  fc.record(
    {
      name: fc.constant(name),
      workers: fc.integer({ min: 1, max: 3 }),
      backoffLimit: fc.integer({ min: 0, max: 2 }),
      deadlineSeconds: fc.constantFrom(60, 600, 3600, 3600),
      cleanPodPolicy: fc.constantFrom('None' as const, 'Running' as const, 'All' as const),
      ttlSeconds: fc.constantFrom(0, 300, 300, 300),
      fairExitCode: fc.constantFrom(0, 2),
      launcherCreation: fc.constantFrom('WaitForWorkersReady' as const, 'AtStartup' as const),
    },
    { requiredKeys: ['name', 'workers', 'backoffLimit', 'cleanPodPolicy', 'fairExitCode'] },
  );

export const worldSetup: fc.Arbitrary<WorldSetup> = fc.record({
  jobs: fc.oneof(
    jobSetup('a').map((a) => [a]),
    fc.tuple(jobSetup('a'), jobSetup('b')),
  ),
  lostNodesRecover: fc.boolean(),
  statusDefault: fc.boolean(),
});

/** One run: the random steps, then fair progress and the end checks; the operator is stopped whatever happens. */
export async function runModel(
  setup: WorldSetup,
  steps: Iterable<fc.AsyncCommand<World, World, boolean>>,
  onEnd?: (world: World) => void,
): Promise<void> {
  const world = new World(setup);
  try {
    await world.startOperator();
    await fc.asyncModelRun(() => ({ model: world, real: world }), steps);
    await finishRun(world);
    onEnd?.(world);
  } finally {
    await world.dispose();
  }
}
