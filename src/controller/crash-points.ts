// Fault injection for the integration tests: HPCJOB_CRASH_AT=<point>[@<job name>] makes the operator kill itself
// (SIGKILL, no cleanup) the first time a pass of that job reaches the point. Unset, this does nothing.
import type { CrashPoint } from './ports.js';

export function crashFromEnvironment(env: NodeJS.ProcessEnv = process.env): (point: CrashPoint, job: string) => void {
  const wanted = env.HPCJOB_CRASH_AT;
  if (!wanted) return () => undefined;
  const [point, jobName] = wanted.split('@');
  return (at, job) => {
    if (at !== point || (jobName !== undefined && job !== jobName)) return;
    process.stderr.write(`hpcjob-operator: crash point ${at} reached for ${job}; killing the process\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}
