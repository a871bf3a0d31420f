// The elector's loop against an in-memory Lease that keeps resourceVersions like the API server (a replace from a
// stale read is refused with 409), on jest's fake clock: one leader at a time, a partitioned leader stops before
// the standby takes over, a release hands over at the standby's next read, and a standby only reads.
import { jest } from '@jest/globals';
import pino from 'pino';
import {
  electionIdentity,
  LeaderElector,
  requestResult,
  type LeaseStore,
  type StoredLease,
} from '../../../src/kube/leader-election.js';
import type { LeaseRecord, LeaseTimings } from '../../../src/kube/lease.js';

const timings: LeaseTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
const logger = pino({ level: 'silent' });

class ApiError extends Error {
  constructor(readonly code: number) {
    super(`HTTP ${code}`);
  }
}

/** One Lease shared by every replica's view of it. */
class MemoryLease {
  record: LeaseRecord | undefined;
  version = 0;
  writes: { by: string; verb: string; spec: LeaseRecord }[] = [];

  /** A replica's connection: counts its calls; `down` makes every call fail, `hang` never answer. */
  view(name: string) {
    const calls: string[] = [];
    const link = { down: false, hang: false };
    const check = async () => {
      if (link.hang) await new Promise(() => undefined);
      if (link.down) throw new Error('connection refused');
    };
    const stored = (): StoredLease => ({
      spec: structuredClone(this.record!),
      metadata: { name: 'l', resourceVersion: String(this.version) },
    });
    const store: LeaseStore = {
      get: async () => {
        calls.push('get');
        await check();
        return this.record ? stored() : undefined;
      },
      create: async (spec) => {
        calls.push('create');
        await check();
        if (this.record) throw new ApiError(409);
        this.record = structuredClone(spec);
        this.version++;
        this.writes.push({ by: name, verb: 'create', spec });
        return stored();
      },
      replace: async (read, spec) => {
        calls.push('update');
        await check();
        if (read.metadata?.resourceVersion !== String(this.version)) throw new ApiError(409);
        this.record = structuredClone(spec);
        this.version++;
        this.writes.push({ by: name, verb: 'update', spec });
        return stored();
      },
    };
    return { store, calls, link };
  }
}

function replica(lease: MemoryLease, identity: string, t: LeaseTimings = timings) {
  const { store, calls, link } = lease.view(identity);
  const events: { event: string; at: number }[] = [];
  const elector = new LeaderElector({
    identity,
    store,
    timings: t,
    logger,
    onStartedLeading: () => events.push({ event: 'started', at: Date.now() }),
    onStoppedLeading: (reason) => events.push({ event: `stopped: ${reason}`, at: Date.now() }),
  });
  return { elector, calls, link, events };
}

/** Advances the fake clock in small steps, checking after each that at most one replica believes it leads. */
async function run(ms: number, ...replicas: { elector: LeaderElector }[]) {
  for (let t = 0; t < ms; t += 100) {
    await jest.advanceTimersByTimeAsync(100);
    expect(replicas.filter((r) => r.elector.leading).length).toBeLessThanOrEqual(1);
  }
}

const T0 = Date.parse('2026-03-01T10:00:00Z');
beforeEach(() => jest.useFakeTimers({ now: T0 }));
afterEach(() => jest.useRealTimers());

test('two replicas on a fresh lease: one creates it and leads, the other stands by reading only', async () => {
  const lease = new MemoryLease();
  const a = replica(lease, 'a');
  const b = replica(lease, 'b');
  a.elector.start();
  b.elector.start();
  await run(60_000, a, b);
  expect(a.elector.leading).toBe(true);
  expect(b.elector.leading).toBe(false);
  expect(a.events).toEqual([{ event: 'started', at: T0 }]);
  expect(b.events).toEqual([]);
  // b raced a for the create once (409), then only read, every retry period.
  expect(b.calls.filter((c) => c !== 'get')).toEqual(['create']);
  expect(b.calls.filter((c) => c === 'get').length).toBeGreaterThanOrEqual(30);
  // a renewed every retry period.
  expect(lease.writes.filter((w) => w.by === 'a').length).toBeGreaterThanOrEqual(30);
  expect(lease.record).toMatchObject({ holderIdentity: 'a', leaseTransitions: 0 });
  await a.elector.release();
  await b.elector.release();
});

test('a leader cut off from the API stops at its renew deadline; the standby takes over only after the lease duration', async () => {
  const lease = new MemoryLease();
  const a = replica(lease, 'a');
  a.elector.start();
  await run(1_000, a);
  const b = replica(lease, 'b');
  b.elector.start();
  await run(6_000, a, b);
  a.link.down = true;
  const cutAt = Date.now();
  const lastRenewal = Date.parse(lease.record!.renewTime!);
  await run(30_000, a, b);
  const stopped = a.events.find((e) => e.event.startsWith('stopped'));
  expect(stopped?.event).toMatch(/no renewal succeeded within 10000 ms/);
  expect(stopped!.at - lastRenewal).toBeGreaterThanOrEqual(timings.renewDeadlineMs);
  expect(stopped!.at).toBeLessThan(cutAt + timings.renewDeadlineMs);
  const started = b.events.find((e) => e.event === 'started');
  // b saw the last renewal no earlier than it was made; it waited a full lease duration from there.
  expect(started!.at - lastRenewal).toBeGreaterThanOrEqual(timings.leaseDurationMs);
  expect(started!.at).toBeGreaterThan(stopped!.at);
  expect(lease.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  await b.elector.release();
});

test('a leader whose requests hang stops at its renew deadline too', async () => {
  const lease = new MemoryLease();
  const a = replica(lease, 'a');
  a.elector.start();
  await run(3_000, a);
  a.link.hang = true;
  const hungAt = Date.now();
  await run(12_000, a);
  const stopped = a.events.find((e) => e.event.startsWith('stopped'));
  expect(stopped).toBeDefined();
  expect(stopped!.at - hungAt).toBeLessThanOrEqual(timings.renewDeadlineMs);
});

test('a leader that reads another holder stops at once, without writing', async () => {
  const lease = new MemoryLease();
  const a = replica(lease, 'a');
  a.elector.start();
  await run(3_000, a);
  // An administrator (or a replica that judged the lease expired) wrote another holder.
  lease.record = { ...lease.record!, holderIdentity: 'intruder' };
  lease.version++;
  const writesBefore = lease.writes.length;
  await run(2_100, a);
  expect(a.events.map((e) => e.event)).toEqual(['started', 'stopped: the lease is held by intruder']);
  expect(a.elector.leading).toBe(false);
  expect(lease.writes.length).toBe(writesBefore);
  // It no longer reads either: the loop ended with the term.
  const calls = a.calls.length;
  await run(10_000, a);
  expect(a.calls.length).toBe(calls);
});

test('release hands the lease over: the standby takes it at its next read, not after the lease duration', async () => {
  const lease = new MemoryLease();
  const a = replica(lease, 'a');
  a.elector.start();
  await run(1_000, a);
  const b = replica(lease, 'b');
  b.elector.start();
  await run(5_000, a, b);
  const releasedAt = Date.now();
  await a.elector.release();
  expect(lease.record).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 });
  expect(a.events).toEqual([{ event: 'started', at: T0 }]); // a release is not a loss
  await run(timings.retryPeriodMs + 100, a, b);
  const started = b.events.find((e) => e.event === 'started');
  expect(started!.at - releasedAt).toBeLessThanOrEqual(timings.retryPeriodMs);
  expect(lease.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  // a stopped trying: nothing more from it.
  const calls = a.calls.length;
  await run(20_000, a, b);
  expect(a.calls.length).toBe(calls);
  await b.elector.release();
});

test("a standby's release writes nothing", async () => {
  const lease = new MemoryLease();
  const a = replica(lease, 'a');
  const b = replica(lease, 'b');
  a.elector.start();
  await run(1_000, a);
  b.elector.start();
  await run(4_000, a, b);
  await b.elector.release();
  expect(b.calls.every((c) => c === 'get')).toBe(true);
  expect(lease.record?.holderIdentity).toBe('a');
  await a.elector.release();
});

test('a replica restarted under the same name (POD_NAME) takes its own lease back at once', async () => {
  const lease = new MemoryLease();
  const first = replica(lease, 'pod-1');
  first.elector.start();
  await run(3_000, first);
  // The process dies without releasing; its container restarts with the same pod name.
  first.link.down = true;
  const again = replica(lease, 'pod-1');
  again.elector.start();
  await jest.advanceTimersByTimeAsync(0);
  expect(again.elector.leading).toBe(true);
  await again.elector.release();
});

test('identity: the pod name when given, else host and PID', () => {
  expect(electionIdentity({ POD_NAME: 'op-7d9-x2' }, 'host', 42)).toBe('op-7d9-x2');
  expect(electionIdentity({}, 'host', 42)).toBe('host_42');
  expect(electionIdentity({ POD_NAME: '' }, 'host', 42)).toBe('host_42');
});

test('request results by HTTP status', () => {
  expect(requestResult(undefined)).toBe('ok');
  expect(requestResult(new ApiError(404))).toBe('not_found');
  expect(requestResult(new ApiError(409))).toBe('conflict');
  expect(requestResult(new ApiError(500))).toBe('error');
  expect(requestResult(new Error('socket hang up'))).toBe('error');
});
