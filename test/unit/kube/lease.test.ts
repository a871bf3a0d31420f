// Leader election's pure decisions with a clock the test sets: when a lease counts as expired, when to take it, and
// the spec written for a create, a renewal, a take-over and a release.
import {
  DEFAULT_LEASE_TIMINGS,
  decide,
  expiresAtMs,
  microTime,
  observe,
  parseDuration,
  releasedSpec,
  timingsProblem,
  type LeaseRecord,
} from '../../../src/kube/lease.js';

const timings = DEFAULT_LEASE_TIMINGS; // 15 s lease, 10 s renew deadline, 2 s retry
const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const held = (holder: string, renewMs: number, extra: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: microTime(T0 - 60_000),
  renewTime: microTime(renewMs),
  leaseTransitions: 3,
  ...extra,
});

test('MicroTime has six fractional digits, as the API requires', () => {
  expect(microTime(T0 + 123)).toBe('2026-03-01T10:00:00.123000Z');
});

test('no Lease: create it, held by this process, with no transition yet', () => {
  const d = decide({ identity: 'a', nowMs: T0, timings, current: undefined });
  expect(d).toEqual({
    kind: 'create',
    spec: {
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: microTime(T0),
      renewTime: microTime(T0),
      leaseTransitions: 0,
    },
  });
});

test('held by this process: renew, keeping the acquire time and the transitions', () => {
  const current = held('a', T0 - 2_000);
  const d = decide({ identity: 'a', nowMs: T0, timings, current, observation: observe(undefined, current, T0) });
  expect(d).toEqual({ kind: 'update', acquiring: false, spec: { ...current, renewTime: microTime(T0) } });
});

test('held by another: wait until the lease duration has passed since the record was first seen as it is', () => {
  const current = held('b', T0);
  let obs = observe(undefined, current, T0 + 500);
  for (const nowMs of [T0 + 500, T0 + 10_000, T0 + 15_499]) {
    obs = observe(obs, current, nowMs);
    expect(decide({ identity: 'a', nowMs, timings, current, observation: obs })).toEqual({
      kind: 'wait',
      holder: 'b',
      expiresAtMs: T0 + 15_500,
    });
  }
  const nowMs = T0 + 15_500;
  obs = observe(obs, current, nowMs);
  const d = decide({ identity: 'a', nowMs, timings, current, observation: obs });
  expect(d).toEqual({
    kind: 'update',
    acquiring: true,
    spec: {
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: microTime(nowMs),
      renewTime: microTime(nowMs),
      leaseTransitions: 4,
    },
  });
});

test('a renewal seen restarts the clock: a live leader is never judged expired', () => {
  let obs = observe(undefined, held('b', T0), T0);
  // b renews every 2 s; a reads every 2 s, 14 s after each renewal it saw first. Never expired.
  for (let t = 2_000; t <= 60_000; t += 2_000) {
    const current = held('b', T0 + t);
    obs = observe(obs, current, T0 + t + 1_000);
    expect(obs.sinceMs).toBe(T0 + t + 1_000);
    expect(decide({ identity: 'a', nowMs: T0 + t + 1_999, timings, current, observation: obs }).kind).toBe('wait');
  }
});

test("expiry is judged on the local clock, never from renewTime: the holder's clock may be skewed", () => {
  // renewTime an hour in the past (the holder's clock is behind): just seen, so still valid.
  const behind = held('b', T0 - 3_600_000);
  expect(
    decide({ identity: 'a', nowMs: T0, timings, current: behind, observation: observe(undefined, behind, T0) }),
  ).toMatchObject({ kind: 'wait' });
  // renewTime an hour ahead (the holder's clock is ahead) but unchanged for 15 s here: expired.
  const ahead = held('b', T0 + 3_600_000);
  const seen = observe(undefined, ahead, T0);
  expect(
    decide({
      identity: 'a',
      nowMs: T0 + 15_000,
      timings,
      current: ahead,
      observation: observe(seen, ahead, T0 + 15_000),
    }),
  ).toMatchObject({ kind: 'update', acquiring: true });
});

test("the holder's own lease duration counts, not the reader's", () => {
  const current = held('b', T0, { leaseDurationSeconds: 40 });
  const obs = observe(undefined, current, T0);
  expect(expiresAtMs(obs, timings)).toBe(T0 + 40_000);
  expect(decide({ identity: 'a', nowMs: T0 + 20_000, timings, current, observation: obs }).kind).toBe('wait');
  // Absent or zero: the reader's own duration.
  const unset = held('b', T0, { leaseDurationSeconds: undefined });
  expect(expiresAtMs(observe(undefined, unset, T0), timings)).toBe(T0 + 15_000);
});

test('a lease first read now counts its duration from now, whatever its times say', () => {
  const current = held('b', T0 - 600_000);
  expect(decide({ identity: 'a', nowMs: T0, timings, current })).toEqual({
    kind: 'wait',
    holder: 'b',
    expiresAtMs: T0 + 15_000,
  });
});

test('a released lease (no holder) is taken at once, counting a transition', () => {
  const released = releasedSpec(held('b', T0), T0 + 100);
  expect(released).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 3 });
  expect(released.renewTime).toBe(microTime(T0 + 100));
  const d = decide({
    identity: 'a',
    nowMs: T0 + 200,
    timings,
    current: released,
    observation: observe(undefined, released, T0 + 200),
  });
  expect(d).toMatchObject({ kind: 'update', acquiring: true, spec: { holderIdentity: 'a', leaseTransitions: 4 } });
});

test('observe keeps the first sighting of an unchanged record and restarts on any change', () => {
  const record = held('b', T0);
  const first = observe(undefined, record, T0);
  expect(observe(first, { ...record }, T0 + 9_000)).toBe(first);
  for (const change of [
    { holderIdentity: 'c' },
    { renewTime: microTime(T0 + 1) },
    { leaseTransitions: 4 },
    { leaseDurationSeconds: 16 },
    { acquireTime: microTime(T0) },
  ]) {
    expect(observe(first, { ...record, ...change }, T0 + 9_000).sinceMs).toBe(T0 + 9_000);
  }
});

test('timings: the leader must give up before a standby may take over, and retry within its deadline', () => {
  expect(timingsProblem(DEFAULT_LEASE_TIMINGS)).toBeUndefined();
  expect(timingsProblem({ leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 1_000 })).toBeUndefined();
  expect(timingsProblem({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).toMatch(
    /lease duration must be longer than the renew deadline/,
  );
  expect(timingsProblem({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toMatch(
    /renew deadline must be longer than the retry period/,
  );
  expect(timingsProblem({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 0 })).toMatch(/retry/);
  expect(timingsProblem({ leaseDurationMs: 15_500, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).toMatch(
    /whole seconds/,
  );
});

test.each([
  ['15s', 15_000],
  ['15', 15_000],
  ['500ms', 500],
  ['1.5s', 1_500],
  ['2m', 120_000],
  ['fast', undefined],
  ['-1s', undefined],
  ['', undefined],
])('parseDuration(%p) is %p', (text, ms) => {
  expect(parseDuration(text)).toBe(ms);
});
