// activeDeadlineSeconds: counted from status.startTime, which is set when the job becomes active (and again on
// resume from suspension, as batch Jobs do).
import type { HPCJob } from '../api/types.js';

/** Milliseconds left before the deadline; undefined when there is no deadline. */
export function msUntilDeadline(job: HPCJob, startTime: string, now: Date): number | undefined {
  const seconds = job.spec.runPolicy?.activeDeadlineSeconds;
  if (seconds === undefined || seconds === null) return undefined;
  return Date.parse(startTime) + seconds * 1000 - now.getTime();
}
