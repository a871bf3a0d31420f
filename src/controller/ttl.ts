// ttlSecondsAfterFinished: the whole HPCJob (and so, through the garbage collector, its children) is deleted this
// long after completion.
import type { HPCJob } from '../api/types.js';

/** Milliseconds until the job expires; 0 or less means delete now; undefined means never. */
export function msUntilExpiry(job: HPCJob, now: Date): number | undefined {
  const ttl = job.spec.runPolicy?.ttlSecondsAfterFinished;
  const completed = job.status?.completionTime;
  if (ttl === undefined || ttl === null || !completed) return undefined;
  return Date.parse(completed) + ttl * 1000 - now.getTime();
}
