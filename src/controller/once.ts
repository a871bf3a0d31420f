// One run of an action per key at a time, remembered for a while after it succeeds: when the many jobs of a
// namespace find its shared objects missing at once (their caches have not seen the first create yet), one create
// goes to the API server and the others wait for it.

export class OnceAtATime {
  readonly #runs = new Map<string, { done: Promise<void>; settledAt?: number }>();

  /** now: the clock; rememberMs: how long a success stands for later calls with the same key. */
  constructor(
    private readonly now: () => number,
    private readonly rememberMs: number,
  ) {}

  /** Runs action unless a run for key is in flight or succeeded within rememberMs; a failure is forgotten at once. */
  async ensure(key: string, action: () => Promise<unknown>): Promise<void> {
    const run = this.#runs.get(key);
    if (run && (run.settledAt === undefined || this.now() - run.settledAt < this.rememberMs)) return run.done;
    const entry: { done: Promise<void>; settledAt?: number } = {
      done: action().then(
        () => {
          entry.settledAt = this.now();
        },
        (err: unknown) => {
          this.#runs.delete(key);
          throw err;
        },
      ),
    };
    this.#runs.set(key, entry);
    return entry.done;
  }
}
