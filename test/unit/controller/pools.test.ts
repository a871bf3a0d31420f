// The executor's request pools: the slow start's ramp, its limit, and where each stops on a failure.
import { inParallel, slowStart } from '../../../src/controller/pools.js';

/** A call per item that resolves on the next tick, recording how many calls were in flight at each start. */
function recorder(failOn?: number) {
  let inFlight = 0;
  const starts: { item: number; inFlight: number }[] = [];
  const fn = async (item: number): Promise<void> => {
    inFlight += 1;
    starts.push({ item, inFlight });
    await new Promise((resolve) => setImmediate(resolve));
    inFlight -= 1;
    if (item === failOn) throw new Error(`item ${item} failed`);
  };
  return { fn, starts };
}

const items = (n: number) => Array.from({ length: n }, (_, i) => i);

test('slowStart ramps 1, 2, 4, ... then keeps the limit in flight, never more', async () => {
  const { fn, starts } = recorder();
  expect(await slowStart(items(200), 8, fn)).toBeUndefined();
  expect(starts.map((s) => s.item)).toEqual(items(200));
  // The ramp: batches of 1, 2 and 4 (items 0, 1-2, 3-6), each alone in flight.
  expect(starts.slice(0, 7).map((s) => s.inFlight)).toEqual([1, 1, 2, 1, 2, 3, 4]);
  const pooled = starts.slice(7).map((s) => s.inFlight);
  expect(Math.max(...pooled)).toBe(8);
});

test('slowStart stops taking items at the first failure and returns it', async () => {
  const early = recorder(1);
  expect(String(await slowStart(items(100), 8, early.fn))).toContain('item 1 failed');
  expect(early.starts.map((s) => s.item)).toEqual([0, 1, 2]);
  // Past the ramp, calls already in flight finish; no new one starts.
  const late = recorder(20);
  expect(String(await slowStart(items(1000), 8, late.fn))).toContain('item 20 failed');
  expect(late.starts.length).toBeLessThan(20 + 8 + 1);
});

test('inParallel tries every item, at most limit at once, then throws the first failure', async () => {
  const { fn, starts } = recorder(3);
  await expect(inParallel(items(50), 4, fn)).rejects.toThrow('item 3 failed');
  expect(starts).toHaveLength(50);
  expect(Math.max(...starts.map((s) => s.inFlight))).toBe(4);
});
