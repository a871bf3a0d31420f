// A de-duplicating work queue of object keys, in the manner of client-go's workqueue:
// - a key queued twice before it is taken is processed once;
// - a key added while it is being processed is processed once more after done();
// - failures are retried with per-key exponential backoff until forget();
// - delayed adds (requeue after N ms) collapse to the earliest pending time per key.

// Node runs a setTimeout longer than 2^31-1 ms after 1 ms; longer delays wait in steps of at most this long.
const MAX_TIMER_MS = 24 * 60 * 60 * 1000;

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  #shutDown = false;

  constructor(private readonly backoff: BackoffOptions = { baseDelayMs: 5, maxDelayMs: 60_000 }) {}

  add(key: string): void {
    if (this.#shutDown) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queued.add(key);
    this.#queue.push(key);
  }

  addAfter(key: string, delayMs: number): void {
    if (this.#shutDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.#timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    this.#arm(key, at);
  }

  #arm(key: string, at: number): void {
    const timer = setTimeout(
      () => {
        // A step short of the due time re-arms for the rest rather than waking the key early.
        if (Date.now() < at) {
          this.#arm(key, at);
          return;
        }
        this.#timers.delete(key);
        this.add(key);
      },
      Math.min(Math.max(at - Date.now(), 0), MAX_TIMER_MS),
    );
    timer.unref();
    this.#timers.set(key, { at, timer });
  }

  /** Requeues after this key's next backoff delay (doubling per consecutive failure). */
  addRateLimited(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const delay = Math.min(this.backoff.maxDelayMs, this.backoff.baseDelayMs * 2 ** failures);
    this.addAfter(key, delay);
    return delay;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Resolves with the next key, or undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.#shutDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#queued.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  get length(): number {
    return this.#queue.length;
  }

  shutDown(): void {
    this.#shutDown = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }
}
