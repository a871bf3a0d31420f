import { jest } from '@jest/globals';
import { WorkQueue } from '../../../src/controller/workqueue.js';

test('a key added twice before it is taken is processed once', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('a');
  q.add('b');
  expect(q.length).toBe(2);
  expect(await q.get()).toBe('a');
  expect(await q.get()).toBe('b');
  expect(q.length).toBe(0);
});

test('a key added while it is processed runs once more after done()', async () => {
  const q = new WorkQueue();
  q.add('a');
  const key = await q.get();
  q.add('a');
  q.add('a');
  expect(q.length).toBe(0);
  q.done(key!);
  expect(q.length).toBe(1);
  expect(await q.get()).toBe('a');
});

test('a waiting get() receives the next key added', async () => {
  const q = new WorkQueue();
  const next = q.get();
  q.add('x');
  expect(await next).toBe('x');
});

test('failures back off exponentially per key until forget()', () => {
  const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 50 });
  expect(q.addRateLimited('a')).toBe(10);
  expect(q.addRateLimited('a')).toBe(20);
  expect(q.addRateLimited('a')).toBe(40);
  expect(q.addRateLimited('a')).toBe(50);
  expect(q.addRateLimited('b')).toBe(10);
  q.forget('a');
  expect(q.failures('a')).toBe(0);
  expect(q.addRateLimited('a')).toBe(10);
  q.shutDown();
});

test('delayed adds keep the earliest time and land in the queue', async () => {
  const q = new WorkQueue();
  q.addAfter('a', 5_000);
  q.addAfter('a', 20);
  await new Promise((r) => setTimeout(r, 60));
  expect(q.length).toBe(1);
  q.shutDown();
});

describe('a delay longer than one timer can wait', () => {
  const day = 24 * 60 * 60 * 1000;
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('adds the key once, when it is due and not before', () => {
    const q = new WorkQueue();
    q.addAfter('ttl', 30 * day);
    jest.advanceTimersByTime(30 * day - 1);
    expect(q.length).toBe(0);
    jest.advanceTimersByTime(1);
    expect(q.length).toBe(1);
    jest.advanceTimersByTime(30 * day);
    expect(q.length).toBe(1);
    expect(jest.getTimerCount()).toBe(0);
    q.shutDown();
  });

  test('a shorter delay for the same key still wins', () => {
    const q = new WorkQueue();
    q.addAfter('ttl', 30 * day);
    q.addAfter('ttl', 1000);
    jest.advanceTimersByTime(1000);
    expect(q.length).toBe(1);
    expect(jest.getTimerCount()).toBe(0);
    q.shutDown();
  });
});

test('shutDown releases waiting workers', async () => {
  const q = new WorkQueue();
  const next = q.get();
  q.shutDown();
  expect(await next).toBeUndefined();
});
