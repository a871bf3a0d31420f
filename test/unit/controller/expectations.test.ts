import { jest } from '@jest/globals';
import { Expectations } from '../../../src/controller/expectations.js';

const pod = (name: string, uid: string, terminating = false) => ({ name, uid, terminating });

test('no expectation means satisfied', () => {
  expect(new Expectations().satisfied('ns/a', '5', [])).toBe(true);
});

test('a created pod is awaited until the cache shows it', () => {
  const e = new Expectations();
  e.expectCreate('ns/a', 'a-worker-0');
  expect(e.satisfied('ns/a', '1', [])).toBe(false);
  expect(e.satisfied('ns/a', '1', [pod('a-worker-0', 'u1')])).toBe(true);
});

test('a deleted pod is awaited until it is terminating, gone, or replaced', () => {
  const e = new Expectations();
  e.expectDelete('ns/a', pod('a-launcher', 'u1'));
  expect(e.satisfied('ns/a', '1', [pod('a-launcher', 'u1')])).toBe(false);
  expect(e.satisfied('ns/a', '1', [pod('a-launcher', 'u1', true)])).toBe(true);
  e.expectDelete('ns/a', pod('a-launcher', 'u2'));
  expect(e.satisfied('ns/a', '1', [pod('a-launcher', 'u3')])).toBe(true);
});

test('a status write is awaited until the cached job reaches its resourceVersion', () => {
  const e = new Expectations();
  e.expectStatus('ns/a', '120');
  expect(e.satisfied('ns/a', '119', [])).toBe(false);
  expect(e.satisfied('ns/a', '125', [])).toBe(true);
});

test('an expectation older than its limit is dropped so a job never stalls', () => {
  const e = new Expectations(1000);
  e.expectCreate('ns/a', 'never-seen');
  expect(e.satisfied('ns/a', '1', [], Date.now())).toBe(false);
  expect(e.satisfied('ns/a', '1', [], Date.now() + 1001)).toBe(true);
});

test('a batch that keeps showing in the caches is awaited past the limit, counted from its last progress', () => {
  const e = new Expectations(1000);
  const t0 = Date.now();
  const names = ['a-worker-0', 'a-worker-1', 'a-worker-2'];
  for (const name of names) e.expectCreate('ns/a', name);
  expect(e.satisfied('ns/a', '1', [pod(names[0]!, 'u0')], t0 + 800)).toBe(false);
  expect(e.satisfied('ns/a', '1', [pod(names[0]!, 'u0'), pod(names[1]!, 'u1')], t0 + 1600)).toBe(false);
  // Nothing new shows: the same pods seen again are no progress.
  expect(e.satisfied('ns/a', '1', [pod(names[0]!, 'u0'), pod(names[1]!, 'u1')], t0 + 2500)).toBe(false);
  expect(e.satisfied('ns/a', '1', [pod(names[0]!, 'u0'), pod(names[1]!, 'u1')], t0 + 2601)).toBe(true);
});

test('a new write restarts the age of the writes still awaited', () => {
  jest.useFakeTimers();
  try {
    const e = new Expectations(1000);
    e.expectCreate('ns/a', 'a-worker-0');
    jest.advanceTimersByTime(900);
    e.expectCreate('ns/a', 'a-worker-1');
    expect(e.satisfied('ns/a', '1', [], Date.now() + 999)).toBe(false);
    expect(e.satisfied('ns/a', '1', [], Date.now() + 1001)).toBe(true);
  } finally {
    jest.useRealTimers();
  }
});

test("the job's own status write is awaited past maxAgeMs: a stored decision is never planned over", () => {
  let clock = 0;
  const e = new Expectations(1000, () => clock);
  e.expectStatus('ns/j', '50');
  e.expectCreate('ns/j', 'j-worker-0');
  clock = 5000;
  expect(e.satisfied('ns/j', '40', [])).toBe(false);
  expect(e.satisfied('ns/j', '50', [])).toBe(true);
});

test('expectations age by the clock they are given', () => {
  let clock = 1_000_000;
  const e = new Expectations(1000, () => clock);
  e.expectCreate('ns/j', 'j-worker-0');
  expect(e.satisfied('ns/j', '1', [])).toBe(false);
  clock += 1001;
  expect(e.satisfied('ns/j', '1', [])).toBe(true);
});
