// A list+watch cache of one resource type, owned end to end by the operator because client-node's informer can stop
// silently, ends for good on non-410 errors, does not replay known objects after a restart, and (2.x) aborts idle
// watches. This cache:
// - lists, then watches from the list's resourceVersion with bookmarks;
// - treats a watch that ended or went quiet (no event or bookmark within quietTimeoutMs) as something to resume;
// - relists on 410 Gone or an ERROR event, and reports objects that vanished meanwhile as deletions;
// - backs off with jitter between failed attempts and gives up (onGiveUp) after maxConsecutiveFailures with nothing
//   listed or received in between, so the process can exit and be restarted rather than serve stale state.
import type { Logger } from 'pino';
import { QuietWatchError, type Query, type RestClient } from './rest.js';

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
}

export interface ListResult<T> {
  items: T[];
  metadata?: { resourceVersion?: string };
}

export type CacheEvent = 'add' | 'update' | 'delete';

export interface CacheOptions<T extends KubeObject> {
  client: RestClient;
  /** Collection path for watches, e.g. /api/v1/pods or /apis/hpcjob.dev/v1alpha1/hpcjobs. */
  path: string;
  labelSelector?: string;
  /** A field selector for the watch (the list closure applies its own), e.g. metadata.name=NS. */
  fieldSelector?: string;
  /** The watch's Accept header, e.g. to receive metadata only (PartialObjectMetadata). */
  accept?: string;
  /** What of each object is stored and handed to onEvent; the rest is dropped on arrival. */
  keep?: (obj: T) => T;
  list: (labelSelector: string | undefined) => Promise<ListResult<T>>;
  onEvent: (event: CacheEvent, obj: T) => void;
  onGiveUp: (err: unknown) => void;
  onWatchRestart?: (reason: string) => void;
  logger: Logger;
  quietTimeoutMs?: number;
  maxConsecutiveFailures?: number;
  /** Server-side watch timeout; the server ends the watch and it is resumed, which keeps connections fresh. */
  watchTimeoutSeconds?: number;
  /** A secondary index: objects grouped by this value (e.g. the owning job's key). */
  indexBy?: (obj: T) => string | undefined;
}

export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name}` : (obj.metadata?.name ?? '');
}

class RelistNeeded extends Error {}

type OptionalKeys = 'labelSelector' | 'fieldSelector' | 'accept' | 'keep' | 'onWatchRestart' | 'indexBy';

export class ResourceCache<T extends KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #index = new Map<string, Map<string, T>>();
  readonly #opts: Required<Omit<CacheOptions<T>, OptionalKeys>> & Pick<CacheOptions<T>, OptionalKeys>;
  #resourceVersion = '';
  #stopped = false;
  #abort: { abort: () => void } | undefined;
  #failures = 0;
  #lastEventAt = Date.now();
  #synced!: Promise<void>;

  constructor(opts: CacheOptions<T>) {
    this.#opts = { quietTimeoutMs: 90_000, maxConsecutiveFailures: 12, watchTimeoutSeconds: 300, ...opts };
  }

  /** Starts the loop; resolves once the first list has filled the cache. */
  start(): Promise<void> {
    let markSynced!: () => void;
    this.#synced = new Promise((resolve) => (markSynced = resolve));
    void this.#run(markSynced);
    return this.#synced;
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  /** Objects whose indexBy value is this one. */
  byIndex(value: string): T[] {
    return [...(this.#index.get(value)?.values() ?? [])];
  }

  #store(key: string, obj: T | undefined, old: T | undefined): void {
    const indexBy = this.#opts.indexBy;
    if (indexBy && old) {
      const oldValue = indexBy(old);
      if (oldValue !== undefined) {
        const bucket = this.#index.get(oldValue);
        bucket?.delete(key);
        if (bucket?.size === 0) this.#index.delete(oldValue);
      }
    }
    if (obj === undefined) {
      this.#items.delete(key);
      return;
    }
    this.#items.set(key, obj);
    const value = indexBy?.(obj);
    if (value !== undefined) {
      let bucket = this.#index.get(value);
      if (!bucket) this.#index.set(value, (bucket = new Map()));
      bucket.set(key, obj);
    }
  }

  get size(): number {
    return this.#items.size;
  }

  /** Milliseconds since the last watch event or bookmark: exported as a liveness signal. */
  get quietForMs(): number {
    return Date.now() - this.#lastEventAt;
  }

  async #run(markSynced: () => void): Promise<void> {
    let needList = true;
    while (!this.#stopped) {
      try {
        if (needList) {
          await this.#relist();
          // Failures count while nothing gets through; a list or a watch event that does ends the run of failures.
          this.#failures = 0;
          markSynced();
          needList = false;
        }
        await this.#watchOnce();
        this.#failures = 0;
      } catch (err) {
        if (this.#stopped) return;
        if (err instanceof RelistNeeded) {
          needList = true;
          this.#opts.onWatchRestart?.('relist');
          continue;
        }
        this.#failures += 1;
        needList = needList || isGone(err);
        this.#opts.onWatchRestart?.('error');
        if (this.#failures >= this.#opts.maxConsecutiveFailures) {
          this.#opts.logger.error({ err, path: this.#opts.path }, 'watch failed repeatedly; giving up');
          this.#opts.onGiveUp(err);
          return;
        }
        const delay = backoffWithJitter(this.#failures);
        this.#opts.logger.warn({ err: describe(err), path: this.#opts.path, delayMs: delay }, 'watch broke; retrying');
        await sleep(delay);
      }
    }
  }

  async #relist(): Promise<void> {
    const result = await this.#opts.list(this.#opts.labelSelector);
    const seen = new Set<string>();
    // A metadata-only list of nothing comes as `items: null` (PartialObjectMetadataList's Go slice is nil).
    for (const item of result.items ?? []) {
      const key = objectKey(item);
      seen.add(key);
      this.#apply('MODIFIED', item);
    }
    // Objects deleted while no watch was open would otherwise never be reported.
    for (const [key, old] of this.#items) {
      if (!seen.has(key)) {
        this.#store(key, undefined, old);
        this.#opts.onEvent('delete', old);
      }
    }
    this.#resourceVersion = result.metadata?.resourceVersion ?? '';
    this.#lastEventAt = Date.now();
  }

  #apply(type: string, received: T): void {
    const obj = this.#opts.keep ? this.#opts.keep(received) : received;
    const key = objectKey(obj);
    const old = this.#items.get(key);
    if (type === 'DELETED') {
      this.#store(key, undefined, old);
      this.#opts.onEvent('delete', obj);
      return;
    }
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    // managedFields are often the largest part of an object and nothing here reads them.
    if (obj.metadata) delete (obj.metadata as { managedFields?: unknown }).managedFields;
    this.#store(key, obj, old);
    this.#opts.onEvent(old ? 'update' : 'add', obj);
  }

  async #watchOnce(): Promise<void> {
    const query: Query = {
      allowWatchBookmarks: true,
      resourceVersion: this.#resourceVersion,
      timeoutSeconds: Math.round(this.#opts.watchTimeoutSeconds * (0.75 + Math.random() * 0.5)),
      labelSelector: this.#opts.labelSelector,
      fieldSelector: this.#opts.fieldSelector,
    };
    let relist: RelistNeeded | undefined;
    const watch = this.#opts.client.watch<T & { code?: number }>(
      this.#opts.path,
      query,
      ({ type, object }) => {
        this.#lastEventAt = Date.now();
        this.#failures = 0;
        if (relist) return;
        if (type === 'BOOKMARK') {
          this.#resourceVersion = object.metadata?.resourceVersion ?? this.#resourceVersion;
          return;
        }
        if (type === 'ERROR') {
          relist = new RelistNeeded(`watch error event (code ${object.code ?? 'unknown'})`);
          watch.abort();
          return;
        }
        this.#resourceVersion = object.metadata?.resourceVersion ?? this.#resourceVersion;
        try {
          this.#apply(type, object);
        } catch (err) {
          this.#opts.logger.error({ err }, 'cache event handler failed');
        }
      },
      this.#opts.quietTimeoutMs,
      this.#opts.accept,
    );
    this.#abort = watch;
    if (this.#stopped) watch.abort();
    try {
      await watch.done;
    } catch (err) {
      // A quiet watch is resumed at once, not counted as a failure.
      if (!relist && !(err instanceof QuietWatchError)) throw err;
    }
    if (relist) throw relist;
  }
}

function isGone(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: number };
  return e?.statusCode === 410 || e?.code === 410;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function backoffWithJitter(failures: number, baseMs = 200, maxMs = 30_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
