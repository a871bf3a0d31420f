// Every change the API server reports on a collection, recorded from now until stop(): what a test counts (pod
// creations) or replays (a Lease's successive records). A watch that ends (client-node aborts one that is quiet for
// 30 s) is resumed from the last resourceVersion seen, so nothing in between is missed.
import { Watch, type KubeConfig } from '@kubernetes/client-node';

export interface RecordedEvent<T> {
  type: string;
  object: T;
  /** The test's clock when the event arrived. */
  at: number;
}

export interface RecordedWatch<T> {
  events: RecordedEvent<T>[];
  stop(): void;
}

export async function recordWatch<T extends { metadata?: { resourceVersion?: string } }>(
  kc: KubeConfig,
  path: string,
  query: Record<string, string> = {},
): Promise<RecordedWatch<T>> {
  const watch = new Watch(kc);
  const events: RecordedEvent<T>[] = [];
  let stopped = false;
  let resourceVersion: string | undefined;
  let current: AbortController | undefined;
  const open = async (): Promise<void> => {
    current = await watch.watch(
      path,
      { ...query, ...(resourceVersion ? { resourceVersion } : {}) },
      (type, object: T) => {
        if (type === 'BOOKMARK' || type === 'ERROR') return;
        resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
        events.push({ type, object, at: Date.now() });
      },
      () => {
        if (!stopped) setTimeout(() => void open().catch(() => undefined), 100);
      },
    );
  };
  await open();
  return {
    events,
    stop() {
      stopped = true;
      current?.abort();
    },
  };
}
