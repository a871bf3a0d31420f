// The operator's REST client against a local HTTP server: what it sends (method, path, query, headers, body), what
// it makes of answers (JSON, API errors with their Status), and its watches (events, the server's end, a quiet
// watch, a refused one, an abort).
import http from 'node:http';
import { ApiError, httpStatus, QuietWatchError, RestClient, servesResource } from '../../../src/kube/rest.js';

interface Seen {
  method?: string;
  url?: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let port: number;
let handler: (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void;
const seen: Seen[] = [];

beforeEach(async () => {
  seen.length = 0;
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const s = { method: req.method, url: req.url, headers: req.headers, body };
      seen.push(s);
      handler(req, res, s);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = (authorization = () => 'Bearer secret' as string | undefined) =>
  new RestClient({ server: `http://127.0.0.1:${port}`, context: 'test', authorization });

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

test('a request carries its method, path, query, credentials and JSON body, and returns the parsed answer', async () => {
  handler = (_req, res) => json(res, 201, { metadata: { uid: 'u1' } });
  const answer = await client().request('POST', '/api/v1/namespaces/ns/pods', {
    query: { labelSelector: 'a=b', dryRun: undefined },
    body: { metadata: { name: 'p' } },
  });
  expect(answer).toEqual({ metadata: { uid: 'u1' } });
  expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v1/namespaces/ns/pods?labelSelector=a%3Db' });
  expect(seen[0]!.headers.authorization).toBe('Bearer secret');
  expect(seen[0]!.headers['content-type']).toBe('application/json');
  expect(JSON.parse(seen[0]!.body)).toEqual({ metadata: { name: 'p' } });
  // Sized, not chunked: unread chunks of a body the server answered early would spoil the connection's next request.
  expect(seen[0]!.headers['content-length']).toBe(String(Buffer.byteLength(seen[0]!.body)));
  expect(seen[0]!.headers['transfer-encoding']).toBeUndefined();
});

test('a patch names its content type and a metadata read its Accept header', async () => {
  handler = (_req, res) => json(res, 200, {});
  const c = client(() => undefined);
  await c.patch('/api/v1/namespaces/ns/pods/p', { metadata: {} }, 'application/merge-patch+json');
  await c.get('/api/v1/namespaces/ns/pods/p', { accept: 'application/json;as=PartialObjectMetadata' });
  expect(seen[0]!.headers['content-type']).toBe('application/merge-patch+json');
  expect(seen[0]!.headers.authorization).toBeUndefined();
  expect(seen[1]!.headers.accept).toBe('application/json;as=PartialObjectMetadata');
});

test('an error answer is an ApiError with the status code and the Status the server sent', async () => {
  const status = { kind: 'Status', code: 409, reason: 'AlreadyExists', message: 'pods "p" already exists' };
  handler = (_req, res) => json(res, 409, status);
  const err = (await client()
    .post('/api/v1/namespaces/ns/pods', {})
    .catch((e: unknown) => e)) as ApiError;
  expect(err).toBeInstanceOf(ApiError);
  expect(httpStatus(err)).toBe(409);
  expect(err.body).toEqual(status);
  expect(err.message).toContain('pods "p" already exists');
});

test('a refused connection is a network error, without an HTTP status', async () => {
  const c = client();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  const err = await c.get('/api/v1/pods').catch((e: unknown) => e);
  expect(httpStatus(err)).toBeUndefined();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

test('discovery: served, not served, and a group the server does not know', async () => {
  handler = (req, res) =>
    req.url === '/apis/g/v1' ? json(res, 200, { resources: [{ name: 'things' }] }) : json(res, 404, {});
  await expect(servesResource(client(), 'g', 'v1', 'things')).resolves.toBe(true);
  await expect(servesResource(client(), 'g', 'v1', 'others')).resolves.toBe(false);
  await expect(servesResource(client(), 'h', 'v1', 'things')).resolves.toBe(false);
});

describe('watch', () => {
  const events = (lines: object[]) => lines.map((l) => `${JSON.stringify(l)}\n`).join('');

  test('hands over each event, split across chunks as they come, and resolves when the server ends it', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const text = events([
        { type: 'ADDED', object: { metadata: { name: 'a' } } },
        { type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } },
      ]);
      res.write(text.slice(0, 10));
      setTimeout(() => res.end(text.slice(10)), 20);
    };
    const got: string[] = [];
    const w = client().watch<{ metadata: { name?: string } }>(
      '/api/v1/pods',
      { resourceVersion: '5' },
      (e) => got.push(`${e.type} ${e.object.metadata.name ?? ''}`),
      5000,
    );
    await w.done;
    expect(got).toEqual(['ADDED a', 'BOOKMARK ']);
    expect(seen[0]!.url).toBe('/api/v1/pods?resourceVersion=5&watch=true');
  });

  test('a watch with nothing to say for longer than allowed fails as quiet', async () => {
    handler = (_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
    const w = client().watch('/api/v1/pods', {}, () => undefined, 200);
    await expect(w.done).rejects.toBeInstanceOf(QuietWatchError);
  });

  test('a refused watch (410 Gone) is an ApiError with its status', async () => {
    handler = (_req, res) => json(res, 410, { kind: 'Status', code: 410, message: 'too old resource version' });
    const w = client().watch('/api/v1/pods', { resourceVersion: '1' }, () => undefined, 5000);
    const err = await w.done.catch((e: unknown) => e);
    expect(httpStatus(err)).toBe(410);
  });

  test('an aborted watch settles', async () => {
    handler = (_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
    const w = client().watch('/api/v1/pods', {}, () => undefined, 60_000);
    await new Promise((r) => setTimeout(r, 50));
    w.abort();
    await w.done.catch(() => undefined);
  });
});
