// The caches as the operator builds them, against a scripted HTTP endpoint that records each request: metadata-only
// lists and watches of Secrets (and a Secret's data dropped even from a server that sends it), per-namespace
// collections in a namespaced install, and the merged view the controller reads.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { V1Secret } from '@kubernetes/client-node';
import pino from 'pino';
import { KubeApi, METADATA_ACCEPT, METADATA_LIST_ACCEPT } from '../../../src/kube/api.js';
import { cacheScopes, kubeCaches, METADATA_ONLY, parseNamespaces } from '../../../src/kube/kube-caches.js';
import { collectionPath } from '../../../src/kube/paths.js';
import type { KubeObject } from '../../../src/kube/cache.js';
import { MergedCache } from '../../../src/kube/merged-cache.js';
import type { ObjectCache } from '../../../src/controller/ports.js';
import { RestClient } from '../../../src/kube/rest.js';

interface Request {
  path: string;
  query: URLSearchParams;
  accept: string | undefined;
}

const PRIVATE_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-for-any-cache\n';
const secret = (namespace: string, name: string, rv: string): V1Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name,
    namespace,
    uid: `uid-${name}`,
    resourceVersion: rv,
    ownerReferences: [{ apiVersion: 'hpcjob.dev/v1alpha1', kind: 'HPCJob', name: 'j', uid: 'u', controller: true }],
  },
  data: { id_key: Buffer.from(PRIVATE_KEY).toString('base64') },
  stringData: { note: PRIVATE_KEY },
});

let server: Server;
let port: number;
let requests: Request[];

beforeEach(async () => {
  requests = [];
  // A server that ignores the Accept header and sends whole Secrets: the cache must drop their data itself.
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push({ path: url.pathname, query: url.searchParams, accept: req.headers.accept });
    const ns = /\/namespaces\/([^/]+)\//.exec(url.pathname)?.[1] ?? 'default';
    res.writeHead(200, { 'content-type': 'application/json' });
    if (url.searchParams.get('watch') === 'true') {
      res.write(`${JSON.stringify({ type: 'ADDED', object: secret(ns, 'watched-ssh', '20') })}\n`);
      return; // stays open
    }
    // The API server writes an empty PartialObjectMetadataList's items as null.
    const items = ns === 'empty' ? null : [secret(ns, 'j-ssh', '5')];
    res.end(JSON.stringify({ kind: 'PartialObjectMetadataList', metadata: { resourceVersion: '10' }, items }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function restClient(): RestClient {
  return new RestClient({ server: `http://127.0.0.1:${port}`, context: 'test', authorization: () => 'Bearer t' });
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function secretsCache(namespaces: string[] = []) {
  const seen: V1Secret[] = [];
  const cache = kubeCaches(
    new KubeApi(restClient()),
    pino({ level: 'silent' }),
    () => undefined,
    namespaces,
  )<V1Secret>({
    resource: 'secrets',
    labelSelector: 'app.kubernetes.io/managed-by=hpcjob-operator',
    onEvent: (_, s) => seen.push(s),
  });
  return { cache, seen };
}

test('Secrets are listed and watched as metadata only, and what the cache keeps has no data', async () => {
  const { cache, seen } = secretsCache();
  await cache.start();
  await until(() => cache.size === 2);
  try {
    const list = requests.find((r) => r.query.get('watch') !== 'true');
    const watch = requests.find((r) => r.query.get('watch') === 'true');
    expect(list?.path).toBe('/api/v1/secrets');
    expect(list?.accept).toBe(METADATA_LIST_ACCEPT);
    expect(watch?.path).toBe('/api/v1/secrets');
    expect(watch?.accept).toBe(METADATA_ACCEPT);
    for (const s of [...cache.list(), ...seen]) {
      expect(s.data).toBeUndefined();
      expect(s.stringData).toBeUndefined();
      expect(JSON.stringify(s)).not.toContain('not-for-any-cache');
    }
    // What the controller reads of them is still there.
    const kept = cache.get('default/j-ssh');
    expect(kept?.metadata).toMatchObject({ name: 'j-ssh', uid: 'uid-j-ssh' });
    expect(kept?.metadata?.ownerReferences?.[0]?.controller).toBe(true);
  } finally {
    cache.stop();
  }
});

test('a namespaced install lists and watches each namespace on its own and reads them as one cache', async () => {
  const { cache } = secretsCache(['ns1', 'ns2']);
  await cache.start();
  await until(() => cache.size === 4);
  try {
    const paths = new Set(requests.map((r) => r.path));
    expect([...paths].sort()).toEqual(['/api/v1/namespaces/ns1/secrets', '/api/v1/namespaces/ns2/secrets']);
    expect(cache.get('ns1/j-ssh')?.metadata?.namespace).toBe('ns1');
    expect(cache.get('ns2/watched-ssh')?.metadata?.namespace).toBe('ns2');
    expect(cache.list().every((s) => s.data === undefined)).toBe(true);
  } finally {
    cache.stop();
  }
});

test('an empty metadata-only list (items: null) fills the cache with nothing, and its watch goes on', async () => {
  const { cache } = secretsCache(['empty']);
  await cache.start();
  await until(() => cache.size === 1);
  cache.stop();
  expect(cache.get('empty/watched-ssh')).toBeDefined();
}, 10_000);

test('scopes: the cluster, one per namespace, and namespaces themselves one by name', () => {
  expect(cacheScopes('pods', [])).toEqual([{}]);
  expect(cacheScopes('pods', ['a', 'b'])).toEqual([{ namespace: 'a' }, { namespace: 'b' }]);
  expect(cacheScopes('namespaces', ['a'])).toEqual([{ fieldSelector: 'metadata.name=a' }]);
  expect(collectionPath('pods')).toBe('/api/v1/pods');
  expect(collectionPath('hpcjobs', 'a')).toBe('/apis/hpcjob.dev/v1alpha1/namespaces/a/hpcjobs');
  expect(collectionPath('namespaces')).toBe('/api/v1/namespaces');
  expect([...METADATA_ONLY].sort()).toEqual(['configmaps', 'networkpolicies', 'secrets', 'services']);
});

test('parseNamespaces: a comma list, blanks and repeats dropped; a bad name is refused by name', () => {
  expect(parseNamespaces(undefined)).toEqual([]);
  expect(parseNamespaces('')).toEqual([]);
  expect(parseNamespaces(' a, b,,a ')).toEqual(['a', 'b']);
  expect(() => parseNamespaces('a,Bad_Name')).toThrow(/'Bad_Name' is not a namespace name/);
});

test('MergedCache: every part started and stopped; reads across parts; the quietest part shows', async () => {
  const part = (items: Record<string, KubeObject>, quietForMs: number) => {
    const calls: string[] = [];
    const cache: ObjectCache<KubeObject> = {
      start: async () => void calls.push('start'),
      stop: () => void calls.push('stop'),
      get: (k) => items[k],
      list: () => Object.values(items),
      byIndex: (v) => Object.values(items).filter((o) => o.metadata?.uid === v),
      size: Object.keys(items).length,
      quietForMs,
    };
    return { cache, calls };
  };
  const a = part({ 'a/x': { metadata: { name: 'x', namespace: 'a', uid: 'j' } } }, 10);
  const b = part({ 'b/y': { metadata: { name: 'y', namespace: 'b', uid: 'j' } } }, 5000);
  const merged = new MergedCache([a.cache, b.cache]);
  await merged.start();
  expect(merged.get('b/y')?.metadata?.name).toBe('y');
  expect(merged.get('c/z')).toBeUndefined();
  expect(merged.list().map((o) => o.metadata?.name)).toEqual(['x', 'y']);
  expect(merged.byIndex('j')).toHaveLength(2);
  expect(merged.size).toBe(2);
  expect(merged.quietForMs).toBe(5000);
  merged.stop();
  expect([a.calls, b.calls]).toEqual([
    ['start', 'stop'],
    ['start', 'stop'],
  ]);
});
