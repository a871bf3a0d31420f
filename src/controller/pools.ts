// How the executor spreads a pass's requests: a slow start for creations (a job that cannot be created costs a few
// requests, not one per pod) and a bounded pool for the rest.

/**
 * Runs fn over the items in doubling batches (1, 2, 4, ...) while they are smaller than limit, then with limit calls
 * in flight, each finished call making room for the next; it stops taking items at the first failure, so a job
 * that cannot be created (quota, admission) costs a few requests, not one per pod. Returns that failure.
 */
export async function slowStart<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<unknown> {
  let next = 0;
  for (let batch = 1; batch < limit && next < items.length; batch *= 2) {
    const chunk = items.slice(next, next + batch);
    const results = await Promise.allSettled(chunk.map(fn));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) return (failed as PromiseRejectedResult).reason;
    next += chunk.length;
  }
  // Past the ramp, a pool rather than batches: a batch waits for its slowest call, which on a loaded API server
  // left most of the limit idle (10,000 pods took 2.25 times as long as a plain client's pool).
  let failure: { reason: unknown } | undefined;
  const runner = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      await fn(item).catch((reason: unknown) => {
        failure ??= { reason };
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length - next) }, runner));
  return failure?.reason;
}

/** Runs fn over the items, at most limit at once; every item is tried, then the first failure is thrown. */
export async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item).catch((err: unknown) => errors.push(err));
    }
  });
  await Promise.all(runners);
  if (errors.length > 0) throw errors[0];
}
