// The cache's watch lifecycle, driven by a scripted HTTP endpoint so each failure mode happens on cue: a watch that
// goes quiet, a 410 Gone, an object deleted while no watch was open, a server that keeps failing.
// (The same cache runs against the real API server in the integration tests, including an API server restart.)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import pino from 'pino';
import { ResourceCache, backoffWithJitter, type CacheEvent } from '../../../src/kube/cache.js';
import { RestClient } from '../../../src/kube/rest.js';

interface Item {
  metadata: { name: string; namespace: string; resourceVersion: string };
}
type WatchScript = (res: ServerResponse, query: URLSearchParams) => void;

const item = (name: string, rv: string): Item => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });
const send = (res: ServerResponse, type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);

let server: Server;
let port: number;
let watches: WatchScript[];
let watchQueries: URLSearchParams[];
let lists: number;
let listItems: Item[];

beforeEach(async () => {
  watches = [];
  watchQueries = [];
  lists = 0;
  listItems = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.searchParams.get('watch') === 'true') {
      watchQueries.push(url.searchParams);
      res.writeHead(200, { 'content-type': 'application/json' });
      const script = watches.shift();
      if (script) script(res, url.searchParams);
      return; // no script: a watch that stays open and silent
    }
    res.writeHead(500);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function makeCache(
  opts: { quietTimeoutMs?: number; maxConsecutiveFailures?: number; onGiveUp?: (err: unknown) => void } = {},
) {
  const events: [CacheEvent, string][] = [];
  const restarts: string[] = [];
  const cache = new ResourceCache<Item>({
    client: new RestClient({ server: `http://127.0.0.1:${port}`, context: 'test', authorization: () => undefined }),
    path: '/api/v1/things',
    list: async () => {
      lists += 1;
      return { items: listItems, metadata: { resourceVersion: String(100 + lists) } };
    },
    onEvent: (event, obj) => events.push([event, obj.metadata.name]),
    onGiveUp: opts.onGiveUp ?? (() => undefined),
    onWatchRestart: (reason) => restarts.push(reason),
    logger: pino({ level: 'silent' }),
    quietTimeoutMs: opts.quietTimeoutMs ?? 60_000,
    maxConsecutiveFailures: opts.maxConsecutiveFailures ?? 12,
  });
  return { cache, events, restarts };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('lists, then watches from the list resourceVersion with bookmarks, applying events', async () => {
  listItems = [item('a', '1')];
  watches.push((res) => {
    send(res, 'ADDED', item('b', '102'));
    send(res, 'MODIFIED', item('a', '103'));
    send(res, 'DELETED', item('b', '104'));
  });
  const { cache, events } = makeCache();
  await cache.start();
  await until(() => events.length === 4);
  expect(events).toEqual([
    ['add', 'a'],
    ['add', 'b'],
    ['update', 'a'],
    ['delete', 'b'],
  ]);
  expect(watchQueries[0]?.get('resourceVersion')).toBe('101');
  expect(watchQueries[0]?.get('allowWatchBookmarks')).toBe('true');
  expect(cache.list().map((i) => i.metadata.name)).toEqual(['a']);
  cache.stop();
});

test('a watch that goes quiet is resumed from the last resourceVersion, without a relist', async () => {
  watches.push((res) => send(res, 'ADDED', item('a', '150')));
  const { cache, events } = makeCache({ quietTimeoutMs: 300 });
  await cache.start();
  await until(() => watchQueries.length >= 2);
  expect(events).toEqual([['add', 'a']]);
  expect(watchQueries[1]?.get('resourceVersion')).toBe('150');
  expect(lists).toBe(1);
  cache.stop();
});

test('a bookmark moves the resourceVersion the next watch resumes from', async () => {
  watches.push((res) => {
    send(res, 'BOOKMARK', { metadata: { resourceVersion: '777' } });
    res.end();
  });
  const { cache } = makeCache();
  await cache.start();
  await until(() => watchQueries.length >= 2);
  expect(watchQueries[1]?.get('resourceVersion')).toBe('777');
  cache.stop();
});

test('410 Gone relists, and an object deleted while unwatched is reported as deleted', async () => {
  listItems = [item('a', '1'), item('b', '2')];
  watches.push((res) => {
    listItems = [item('a', '1')]; // b is deleted while the watch is broken
    send(res, 'ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    res.end();
  });
  const { cache, events, restarts } = makeCache();
  await cache.start();
  await until(() => lists >= 2 && events.some(([e]) => e === 'delete'));
  expect(events).toContainEqual(['delete', 'b']);
  expect(restarts).toContain('relist');
  expect(cache.list().map((i) => i.metadata.name)).toEqual(['a']);
  cache.stop();
});

test('a server that keeps failing makes the cache give up loudly', async () => {
  const gaveUp: unknown[] = [];
  server.removeAllListeners('request');
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(500);
    res.end();
  });
  const { cache } = makeCache({ maxConsecutiveFailures: 3, onGiveUp: (err) => gaveUp.push(err) });
  await cache.start();
  await until(() => gaveUp.length === 1, 10_000);
  cache.stop();
});

test('watch breaks with events between them do not add up to giving up', async () => {
  const gaveUp: unknown[] = [];
  const breaks = 12;
  for (let i = 0; i < breaks; i++) {
    // Each watch gets one event through, then its connection drops mid-stream.
    watches.push((res) =>
      res.write(`${JSON.stringify({ type: 'ADDED', object: item(`p${i}`, String(200 + i)) })}\n`, () => res.destroy()),
    );
  }
  const { cache, events, restarts } = makeCache({ maxConsecutiveFailures: 3, onGiveUp: (err) => gaveUp.push(err) });
  await cache.start();
  await until(() => watchQueries.length > breaks || gaveUp.length > 0, 10_000);
  expect(gaveUp).toEqual([]);
  expect(restarts.filter((r) => r === 'error')).toHaveLength(breaks);
  expect(events).toHaveLength(breaks);
  cache.stop();
});

test('a watch refused with 410 Gone each time, but relisted successfully, does not give up', async () => {
  const gaveUp: unknown[] = [];
  server.removeAllListeners('request');
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(410);
    res.end();
  });
  const { cache } = makeCache({ maxConsecutiveFailures: 3, onGiveUp: (err) => gaveUp.push(err) });
  await cache.start();
  await until(() => lists >= 6 || gaveUp.length > 0, 10_000);
  expect(gaveUp).toEqual([]);
  cache.stop();
});

test('watch breaks with nothing received between them still make the cache give up', async () => {
  const gaveUp: unknown[] = [];
  for (let i = 0; i < 3; i++) watches.push((res) => res.destroy());
  const { cache } = makeCache({ maxConsecutiveFailures: 3, onGiveUp: (err) => gaveUp.push(err) });
  await cache.start();
  await until(() => gaveUp.length === 1, 10_000);
  expect(lists).toBe(1);
  cache.stop();
});

test('backoff grows with failures and stays within its cap', () => {
  for (let failures = 1; failures < 20; failures++) {
    const delay = backoffWithJitter(failures, 200, 30_000);
    const ceiling = Math.min(30_000, 200 * 2 ** (failures - 1));
    expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
    expect(delay).toBeLessThanOrEqual(ceiling);
  }
});

test('cached objects are stored without managedFields', async () => {
  listItems = [
    { metadata: { name: 'a', namespace: 'ns', resourceVersion: '1', managedFields: [{ manager: 'x' }] } } as Item,
  ];
  const { cache } = makeCache();
  await cache.start();
  expect(cache.get('ns/a')?.metadata).toEqual({ name: 'a', namespace: 'ns', resourceVersion: '1' });
  cache.stop();
});
