// Fault injection for the integration tests: HPCJOB_CRASH_AT=<point>[@<job name>[@<phase>]] makes the operator kill
// itself (SIGKILL, no cleanup) the first time a pass of that job reaches the point while writing that phase (the
// phase the pass's status carries). Unset, this does nothing.
import type { CrashPoint } from './ports.js';

export type CrashHook = (point: CrashPoint, job: string, phase: string | undefined) => void;

export function crashFromEnvironment(env: NodeJS.ProcessEnv = process.env): CrashHook {
  const wanted = env.HPCJOB_CRASH_AT;
  if (!wanted) return () => undefined;
  const [point, jobName, phaseName] = wanted.split('@');
  return (at, job, phase) => {
    if (at !== point || (jobName && job !== jobName) || (phaseName && phase !== phaseName)) return;
    process.stderr.write(`hpcjob-operator: crash point ${at} reached for ${job} (${phase}); killing the process\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}
