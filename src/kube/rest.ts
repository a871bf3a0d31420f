// The operator's HTTP client for the Kubernetes API: JSON requests and line-delimited watches over one keep-alive
// connection pool. It replaces client-node's generated API classes in the operator process, whose ~1,000 modules
// held most of its heap (their source text alone was over 20 MiB; docs/benchmarks.md); client-node's types are
// still used, as types.
import http from 'node:http';
import https from 'node:https';
import type { ClusterAccess } from './kubeconfig.js';

/** An answer of 400 or more: `code` is the HTTP status, `body` the Status object (or the text) the server sent. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: unknown,
    what: string,
  ) {
    // A Status carries a message; a plain-text answer (a proxy's, or the server's to a malformed request) is one.
    const message =
      typeof body === 'string' ? body.slice(0, 500) : (body as { message?: unknown } | undefined)?.message;
    super(`${what}: HTTP ${code}${typeof message === 'string' && message ? `: ${message}` : ''}`);
    this.name = 'ApiError';
  }
}

/** A watch that went quiet for longer than allowed: the caller resumes it. */
export class QuietWatchError extends Error {
  override name = 'QuietWatchError';
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** e.g. application/merge-patch+json for a patch; JSON otherwise. */
  contentType?: string;
  accept?: string;
}

export interface WatchEvent<T> {
  type: string;
  object: T;
}

export interface RunningWatch {
  /** Settles when the server ends the watch (resolves) or it fails or goes quiet (rejects). */
  done: Promise<void>;
  abort: () => void;
}

const JSON_TYPE = 'application/json';
/** A request that gets no answer in this long fails (the caller retries), rather than hanging a reconcile. */
const REQUEST_TIMEOUT_MS = 60_000;
/** A pooled connection idle this long is closed, well before a server would close it under a request. */
const IDLE_SOCKET_MS = 30_000;
/** Requests in flight at once (the rest queue): as many as a plain client saturating the API server uses. */
const MAX_REQUEST_CONNECTIONS = 32;

function queryString(query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Calls done with the response's whole body, parsed (see parseBody). */
function readBody(res: http.IncomingMessage, done: (body: unknown) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(parseBody(Buffer.concat(chunks).toString('utf8'), res.headers['content-type'])));
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (!text) return undefined;
  if (!contentType?.includes('json')) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export class RestClient {
  readonly server: URL;
  readonly #agent: http.Agent;
  readonly #watchAgent: http.Agent;
  readonly #transport: typeof http | typeof https;

  constructor(readonly access: ClusterAccess) {
    this.server = new URL(access.server);
    const secure = this.server.protocol === 'https:';
    this.#transport = secure ? https : http;
    // One pool for requests: a TLS handshake per request was once the operator's largest CPU cost. Its size bounds
    // the connections (each holds TLS buffers) however many passes create at once; more requests wait their turn.
    // Watches hold their connection for minutes, so they have a pool of their own and never make requests wait.
    const agent = (maxSockets: number) => {
      const options = { keepAlive: true, timeout: IDLE_SOCKET_MS, maxSockets };
      if (!secure) return new http.Agent(options);
      const tls = { ca: access.ca, cert: access.cert, key: access.key };
      return new https.Agent({ ...options, ...tls, rejectUnauthorized: !access.insecureSkipTlsVerify });
    };
    this.#agent = agent(MAX_REQUEST_CONNECTIONS);
    this.#watchAgent = agent(Infinity);
  }

  /** Sends a request; a socket silent for timeoutMs destroys it with onTimeout's error. */
  #open(
    method: string,
    path: string,
    opts: RequestOptions,
    timeoutMs: number,
    onTimeout: () => Error,
    agent = this.#agent,
  ): http.ClientRequest {
    const headers: Record<string, string> = { Accept: opts.accept ?? JSON_TYPE, 'User-Agent': 'hpcjob-operator' };
    const authorization = this.access.authorization();
    if (authorization) headers.Authorization = authorization;
    // A sized body, never a chunked one: the API server can answer before reading a body (a DELETE of an object that
    // is not there), and the unread chunks of a chunked one would spoil the next request on the connection (400).
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    if (payload) {
      headers['Content-Type'] = opts.contentType ?? JSON_TYPE;
      headers['Content-Length'] = String(payload.length);
    }
    const base = this.server.pathname.replace(/\/$/, '');
    const req = this.#transport.request({
      protocol: this.server.protocol,
      hostname: this.server.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: this.server.port || undefined,
      method,
      path: `${base}${path}${queryString(opts.query)}`,
      headers,
      agent,
      timeout: timeoutMs,
    });
    req.on('timeout', () => req.destroy(onTimeout()));
    req.end(payload);
    return req;
  }

  /** One request; resolves with the parsed body, rejects with ApiError for 400 and up, or the network's error. */
  request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const req = this.#open(
        method,
        path,
        opts,
        REQUEST_TIMEOUT_MS,
        () => new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`),
      );
      req.on('error', reject);
      req.on('response', (res) => {
        res.on('error', reject);
        readBody(res, (body) => {
          const status = res.statusCode ?? 0;
          if (status >= 400) reject(new ApiError(status, body, `${method} ${path}`));
          else resolve(body as T);
        });
      });
    });
  }

  get = <T>(path: string, opts?: RequestOptions): Promise<T> => this.request<T>('GET', path, opts);
  post = <T>(path: string, body: unknown): Promise<T> => this.request<T>('POST', path, { body });
  put = <T>(path: string, body: unknown): Promise<T> => this.request<T>('PUT', path, { body });
  patch = <T>(path: string, body: unknown, contentType: string): Promise<T> =>
    this.request<T>('PATCH', path, { body, contentType });
  delete = (path: string, body?: unknown, query?: Query): Promise<unknown> =>
    this.request('DELETE', path, { body, query });

  /**
   * A watch: onEvent gets each event as the server sends it. It fails with QuietWatchError when nothing (not even a
   * bookmark) arrives for quietMs, and with ApiError when the server refuses it (410 Gone included).
   */
  watch<T>(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent<T>) => void,
    quietMs: number,
    accept?: string,
  ): RunningWatch {
    let req: http.ClientRequest | undefined;
    const done = new Promise<void>((resolve, reject) => {
      const quiet = () => new QuietWatchError(`watch ${path}: quiet for ${quietMs} ms`);
      req = this.#open('GET', path, { query: { ...query, watch: true }, accept }, quietMs, quiet, this.#watchAgent);
      req.on('error', reject);
      req.on('response', (res) => {
        res.on('error', reject);
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          readBody(res, (body) => reject(new ApiError(status, body, `watch ${path}`)));
          return;
        }
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          pending += text;
          let newline: number;
          while ((newline = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, newline).trim();
            pending = pending.slice(newline + 1);
            if (!line) continue;
            try {
              onEvent(JSON.parse(line) as WatchEvent<T>);
            } catch (err) {
              reject(err);
              req!.destroy();
              return;
            }
          }
        });
        res.on('end', () => resolve());
        res.on('close', () => resolve());
      });
    });
    return { done, abort: () => req?.destroy() };
  }
}

/** The HTTP status of an API error (ApiError, or client-node's in the CLI); undefined for a network error. */
export function httpStatus(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => httpStatus(err) === 404;
export const isAlreadyExists = (err: unknown): boolean => httpStatus(err) === 409;
export const isConflict = (err: unknown): boolean => httpStatus(err) === 409;

export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';

/** Whether the server serves `plural` in group/version (discovery); a group it does not know is a no. */
export async function servesResource(
  client: RestClient,
  group: string,
  version: string,
  plural: string,
): Promise<boolean> {
  try {
    const list = await client.get<{ resources: { name: string }[] }>(`/apis/${group}/${version}`);
    return list.resources.some((r) => r.name === plural);
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
