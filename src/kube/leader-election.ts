// Leader election on a coordination.k8s.io/v1 Lease, so that of several replicas exactly one runs the controller.
// Every replica reads the Lease each retry period; the decisions are src/kube/lease.ts's pure functions. Writes are
// replaces carrying the resourceVersion read, so two replicas that both decide to take a lease cannot both succeed:
// the API answers the second with 409 (a lost race, retried at the next period).
// The leader renews every retry period; when no renewal succeeds within the renew deadline, or a read shows another
// holder, it has lost and says so at once (onStoppedLeading). The renew deadline is shorter than the lease duration,
// and a standby counts the duration from when it saw the last renewal, so the leader has stopped before anyone may
// take over.
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { httpStatus, type RestClient } from './rest.js';
import {
  decide,
  microTime,
  observe,
  releasedSpec,
  type LeaseRecord,
  type LeaseTimings,
  type Observation,
} from './lease.js';

/** A Lease as read or written: its spec, and what a replace needs to carry (the resourceVersion, the metadata). */
export interface StoredLease {
  spec: LeaseRecord;
  metadata: V1Lease['metadata'];
}

/** The three calls the election makes; the unit tests plug in an in-memory one. */
export interface LeaseStore {
  /** The Lease, or undefined when there is none. */
  get(): Promise<StoredLease | undefined>;
  /** Throws the API's error: 409 when someone created it first. */
  create(spec: LeaseRecord): Promise<StoredLease>;
  /** Replaces the spec of the Lease as read (its resourceVersion is the precondition): 409 when it changed since. */
  replace(read: StoredLease, spec: LeaseRecord): Promise<StoredLease>;
}

export type LeaseVerb = 'get' | 'create' | 'update';

/** The result label of a lease request: ok, not_found, conflict (someone wrote first) or error. */
export function requestResult(err: unknown): string {
  if (err === undefined) return 'ok';
  const code = httpStatus(err);
  return code === 404 ? 'not_found' : code === 409 ? 'conflict' : 'error';
}

/** This process's name in the Lease: the pod's name when the chart gives it (POD_NAME), else host and PID. */
export function electionIdentity(env: NodeJS.ProcessEnv, hostname: string, pid: number): string {
  return env.POD_NAME || `${hostname}_${pid}`;
}

// MicroTime values come back as the API's strings; a Date (a store that parses times) is turned back into one.
const timeText = (value: unknown): string | undefined =>
  value === undefined || value === null
    ? undefined
    : value instanceof Date
      ? microTime(value.getTime())
      : String(value);

function storedLease(lease: V1Lease): StoredLease {
  const s = lease.spec ?? {};
  return {
    metadata: lease.metadata,
    spec: {
      holderIdentity: s.holderIdentity ?? '',
      leaseDurationSeconds: s.leaseDurationSeconds,
      acquireTime: timeText(s.acquireTime),
      renewTime: timeText(s.renewTime),
      leaseTransitions: s.leaseTransitions,
    },
  };
}

/** The Lease `name` in `namespace`, through the API server; every request is counted by verb and result. */
export function kubeLeaseStore(
  client: RestClient,
  namespace: string,
  name: string,
  count: (verb: LeaseVerb, result: string) => void = () => undefined,
): LeaseStore {
  const leases = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  // The API takes MicroTime as text with six fractional digits, which is how LeaseRecord holds it.
  const lease = (metadata: V1Lease['metadata'], spec: LeaseRecord) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata,
    spec,
  });
  const counted = async <T>(verb: LeaseVerb, call: () => Promise<T>): Promise<T> => {
    try {
      const result = await call();
      count(verb, 'ok');
      return result;
    } catch (err) {
      count(verb, requestResult(err));
      throw err;
    }
  };
  return {
    get: () =>
      counted('get', () => client.get<V1Lease>(`${leases}/${name}`)).then(storedLease, (err: unknown) => {
        if (httpStatus(err) === 404) return undefined;
        throw err;
      }),
    create: async (spec) =>
      storedLease(await counted('create', () => client.post<V1Lease>(leases, lease({ name, namespace }, spec)))),
    replace: async (read, spec) =>
      storedLease(await counted('update', () => client.put<V1Lease>(`${leases}/${name}`, lease(read.metadata, spec)))),
  };
}

export interface LeaderElectorOptions {
  identity: string;
  store: LeaseStore;
  timings: LeaseTimings;
  logger: Logger;
  /** This process now holds the lease: start acting. Not called once release() has begun. */
  onStartedLeading: () => void;
  /** Leadership was lost (another holder, or no renewal within the renew deadline); called once. Not on release. */
  onStoppedLeading: (reason: string) => void;
  now?: () => number;
}

export class LeaderElector {
  readonly #opts: Required<LeaderElectorOptions>;
  #leading = false;
  #stopped = false;
  #observation: Observation | undefined;
  #lastHolderSeen: string | undefined;
  #loop: Promise<void> = Promise.resolve();
  #wake: (() => void) | undefined;
  #sleepTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;

  constructor(opts: LeaderElectorOptions) {
    this.#opts = { now: Date.now, ...opts };
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Tries at once, then every retry period, until the lease is lost or release() is called. */
  start(): void {
    this.#loop = (async () => {
      while (!this.#stopped) {
        await this.#attempt();
        if (this.#stopped) break;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          this.#sleepTimer = setTimeout(resolve, this.#opts.timings.retryPeriodMs);
        });
      }
    })();
  }

  /**
   * Stops trying; a leader then hands the lease back (no holder), so that a standby takes it at its next read rather
   * than after the lease duration (client-go's ReleaseOnCancel). The caller stops acting first: from the write on,
   * another replica may act.
   */
  async release(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#sleepTimer);
    this.#wake?.();
    await this.#loop;
    clearTimeout(this.#deadlineTimer);
    if (!this.#leading) return;
    this.#leading = false;
    const { store, identity, logger } = this.#opts;
    try {
      const read = await this.#bounded(store.get());
      if (read?.spec.holderIdentity !== identity) {
        logger.info(
          { holder: read?.spec.holderIdentity },
          'leader election: the lease is no longer ours; nothing to release',
        );
        return;
      }
      await this.#bounded(store.replace(read, releasedSpec(read.spec, this.#opts.now())));
      logger.info({ identity }, 'leader election: released the lease');
    } catch (err) {
      logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'leader election: could not release the lease; a standby takes over when it expires',
      );
    }
  }

  // A request that hangs must not hold up the loop: it is given up on after half the renew deadline (what it may
  // still write is read back at the next attempt).
  #bounded<T>(request: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const limit = this.#opts.timings.renewDeadlineMs / 2;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`lease request took over ${limit} ms`)), limit);
    });
    return Promise.race([request, timeout]).finally(() => clearTimeout(timer));
  }

  async #attempt(): Promise<void> {
    const { store, identity, timings, logger } = this.#opts;
    const nowMs = this.#opts.now();
    let read: StoredLease | undefined;
    try {
      read = await this.#bounded(store.get());
    } catch (err) {
      // A leader that cannot read keeps its deadline running; a standby simply tries again.
      logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'leader election: reading the lease failed',
      );
      return;
    }
    this.#observation = read ? observe(this.#observation, read.spec, nowMs) : undefined;
    const decision = decide({ identity, nowMs, timings, current: read?.spec, observation: this.#observation });
    if (decision.kind === 'wait') {
      if (this.#leading) return this.#lose(`the lease is held by ${decision.holder}`);
      if (decision.holder !== this.#lastHolderSeen) {
        this.#lastHolderSeen = decision.holder;
        logger.info({ holder: decision.holder }, 'leader election: standing by; the lease is held by another replica');
      }
      return;
    }
    if (this.#stopped && !this.#leading) return;
    try {
      const written = await this.#bounded(
        decision.kind === 'create' ? store.create(decision.spec) : store.replace(read!, decision.spec),
      );
      // What was written is what this process has seen, as of the moment it decided.
      this.#observation = { record: written.spec, sinceMs: nowMs };
      this.#renewed(nowMs, written.spec);
    } catch (err) {
      const result = requestResult(err);
      const message = err instanceof Error ? err.message : String(err);
      if (result === 'conflict')
        logger.debug({ decision: decision.kind }, 'leader election: lost a race for the lease');
      else logger.warn({ err: message, decision: decision.kind }, 'leader election: writing the lease failed');
    }
  }

  #renewed(sentAtMs: number, spec: LeaseRecord): void {
    // The deadline counts from when the renewal was decided, before it was sent: a standby counts the lease duration
    // from after it saw the write, later still.
    clearTimeout(this.#deadlineTimer);
    const left = this.#opts.timings.renewDeadlineMs - (this.#opts.now() - sentAtMs);
    this.#deadlineTimer = setTimeout(
      () => this.#lose(`no renewal succeeded within ${this.#opts.timings.renewDeadlineMs} ms`),
      Math.max(0, left),
    );
    if (this.#leading) return;
    this.#leading = true;
    if (this.#stopped) return;
    this.#opts.logger.info(
      { identity: this.#opts.identity, transitions: spec.leaseTransitions },
      'leader election: became the leader',
    );
    this.#opts.onStartedLeading();
  }

  #lose(reason: string): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#stopped = true;
    clearTimeout(this.#deadlineTimer);
    clearTimeout(this.#sleepTimer);
    this.#wake?.();
    this.#opts.logger.error({ identity: this.#opts.identity, reason }, 'leader election: lost the lease');
    this.#opts.onStoppedLeading(reason);
  }
}
