// Leader election's decisions as pure functions of the Lease as read, what was observed of it before, and the clock:
// whether the lease has expired, whether to take it, and the spec to write. src/kube/leader-election.ts does the I/O.
// The rules are client-go's (tools/leaderelection): a lease held by someone else is judged expired on the local clock,
// leaseDurationSeconds after this process first saw its current record, never by comparing renewTime with the local
// clock (the holder's clock may differ); a released lease (no holder) may be taken at once.

/** The Lease spec fields the election reads and writes; times are RFC 3339 with microseconds, as the API stores them. */
export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** How long a lease lasts, how long a leader keeps trying to renew before it gives up, and how often anyone tries. */
export interface LeaseTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const DEFAULT_LEASE_TIMINGS: LeaseTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/**
 * Why the timings cannot work, or undefined. A leader must give up (renewDeadline) before a standby may take the
 * lease (leaseDuration); otherwise both would act at once for the difference.
 */
export function timingsProblem(t: LeaseTimings): string | undefined {
  if (!(t.retryPeriodMs > 0)) return 'the retry period must be above 0';
  if (!(t.renewDeadlineMs > t.retryPeriodMs)) return 'the renew deadline must be longer than the retry period';
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) return 'the lease duration must be longer than the renew deadline';
  if (t.leaseDurationMs % 1000 !== 0) return 'the lease duration must be whole seconds (the Lease stores seconds)';
  return undefined;
}

/** A duration flag: '15s', '500ms', '2m', or a bare number of seconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(value * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000));
}

/** A time as the API's MicroTime: RFC 3339 with six fractional digits (the API refuses three). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The record this process last saw and when, on its own clock, it first saw it in that form. */
export interface Observation {
  record: LeaseRecord;
  sinceMs: number;
}

const comparable = (r: LeaseRecord) =>
  JSON.stringify([r.holderIdentity ?? '', r.leaseDurationSeconds, r.acquireTime, r.renewTime, r.leaseTransitions]);

/** The observation after reading `record` at nowMs: the clock restarts only when the record changed. */
export function observe(previous: Observation | undefined, record: LeaseRecord, nowMs: number): Observation {
  if (previous && comparable(previous.record) === comparable(record)) return previous;
  return { record, sinceMs: nowMs };
}

/** When the observed record expires on the local clock. The record's own duration counts, as its holder set it. */
export function expiresAtMs(observation: Observation, timings: LeaseTimings): number {
  const seconds = observation.record.leaseDurationSeconds;
  const durationMs = seconds !== undefined && seconds > 0 ? seconds * 1000 : timings.leaseDurationMs;
  return observation.sinceMs + durationMs;
}

export type LeaseDecision =
  /** No Lease yet: create it, held by this process. */
  | { kind: 'create'; spec: LeaseRecord }
  /** Replace the Lease (with the resourceVersion read): a renewal, or a take-over of a free or expired lease. */
  | { kind: 'update'; spec: LeaseRecord; acquiring: boolean }
  /** Someone else holds a valid lease. */
  | { kind: 'wait'; holder: string; expiresAtMs: number };

export interface DecisionInput {
  identity: string;
  nowMs: number;
  timings: LeaseTimings;
  /** The Lease's spec as just read; undefined when there is no Lease. */
  current: LeaseRecord | undefined;
  /** The observation after that read: observe(previous, current, nowMs). */
  observation?: Observation;
}

/** What to do with the Lease just read. */
export function decide({ identity, nowMs, timings, current, observation }: DecisionInput): LeaseDecision {
  const durationSeconds = timings.leaseDurationMs / 1000;
  const now = microTime(nowMs);
  if (current === undefined) {
    return {
      kind: 'create',
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      },
    };
  }
  const holder = current.holderIdentity ?? '';
  if (holder === identity) {
    return {
      kind: 'update',
      acquiring: false,
      spec: { ...current, leaseDurationSeconds: durationSeconds, renewTime: now },
    };
  }
  if (holder !== '') {
    // Never seen before this read: its duration counts from now.
    const expiresAt = expiresAtMs(observation ?? { record: current, sinceMs: nowMs }, timings);
    if (nowMs < expiresAt) return { kind: 'wait', holder, expiresAtMs: expiresAt };
  }
  return {
    kind: 'update',
    acquiring: true,
    spec: {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: now,
      renewTime: now,
      // A change of holder counts as a transition; taking back a lease this process released does too.
      leaseTransitions: (current.leaseTransitions ?? 0) + 1,
    },
  };
}

/**
 * The spec a leader writes when it steps down: no holder, and a one-second duration, so that a standby that reads
 * it takes it at once (no holder) and one that reads it late still judges it expired a second later. Transitions are
 * kept: the next holder counts the change.
 */
export function releasedSpec(current: LeaseRecord, nowMs: number): LeaseRecord {
  const now = microTime(nowMs);
  return { ...current, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now };
}
