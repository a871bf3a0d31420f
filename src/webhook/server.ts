// The admission webhook's HTTPS server: POST /mutate and /validate with an AdmissionReview. The certificate and
// key are files (the chart mounts a Secret it generates); the API server checks them against the caBundle of the
// webhook configurations.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ClusterConfig } from '../config/cluster-config.js';
import { mutate, review, validate, type AdmissionRequest, type AdmissionResponse } from './admission.js';

// An AdmissionReview carries the object and the old object, each at most ~1.5 MiB in etcd.
const MAX_BODY_BYTES = 8 * 1024 * 1024;

const HANDLERS: Record<string, (r: AdmissionRequest, c: ClusterConfig) => AdmissionResponse> = {
  '/mutate': mutate,
  '/validate': validate,
};

export interface WebhookOptions {
  port: number;
  address: string;
  /** Holds tls.crt and tls.key. */
  certDir: string;
  config: ClusterConfig;
  logger: Logger;
}

function readBody(req: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function serveWebhook(opts: WebhookOptions): Server {
  const server = createServer(
    {
      cert: readFileSync(path.join(opts.certDir, 'tls.crt')),
      key: readFileSync(path.join(opts.certDir, 'tls.key')),
    },
    (req, res) => {
      const url = (req.url ?? '').split('?')[0] ?? '';
      const handler = HANDLERS[url];
      if (req.method !== 'POST' || !handler) {
        res.writeHead(req.url === '/healthz' ? 200 : 404);
        res.end(req.url === '/healthz' ? 'ok' : '');
        return;
      }
      readBody(req)
        .then((text) => {
          const body = JSON.parse(text) as { request?: AdmissionRequest };
          const answer = review(body, handler, opts.config);
          const r = answer.response!;
          const request = body.request;
          // Who asked for what and the verdict; never the object itself (it may carry secrets in env values).
          opts.logger.info(
            {
              webhook: url,
              operation: request?.operation,
              job: `${request?.namespace ?? ''}/${request?.name ?? ''}`,
              user: request?.userInfo?.username,
              allowed: r.allowed,
              ...(r.status ? { message: r.status.message } : {}),
            },
            'admission',
          );
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(answer));
        })
        .catch((err: unknown) => {
          opts.logger.warn(
            { webhook: url, err: err instanceof Error ? err.message : String(err) },
            'bad admission request',
          );
          res.writeHead(400);
          res.end(err instanceof Error ? err.message : String(err));
        });
    },
  );
  server.listen(opts.port, opts.address);
  return server;
}
