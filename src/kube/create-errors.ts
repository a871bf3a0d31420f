// Why creating an object failed, sorted by what it takes to get past it:
//   exists     409 AlreadyExists: ours (created before a crash) or someone else's (a name conflict)
//   quota      403 "exceeded quota": waits until the namespace has room; a partial gang is released meanwhile
//   rejected   400/403/404/413/422: Pod Security, a validating webhook, an invalid or too large object; the spec has
//              to change, so the job fails with the API's message
//   transient  429, 5xx or no answer (a webhook that is down, the API server restarting): retried with backoff
import { httpStatus } from './api.js';

export type CreateFailureKind = 'exists' | 'quota' | 'rejected' | 'transient';

export interface CreateFailure {
  kind: CreateFailureKind;
  /** The API server's own message (or the error's), as users should see it. */
  message: string;
}

/** The message of a Kubernetes Status in an error's body (client-node keeps the body as a string or an object). */
export function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown })?.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string' && message.length > 0) return message;
  return err instanceof Error ? err.message : String(err);
}

export function classifyCreateError(err: unknown): CreateFailure {
  const status = httpStatus(err);
  const message = apiMessage(err);
  if (status === 409) return { kind: 'exists', message };
  if (status === 403 && /exceeded quota/i.test(message)) return { kind: 'quota', message };
  if (status === undefined || status === 429 || status >= 500) return { kind: 'transient', message };
  if (status >= 400) return { kind: 'rejected', message };
  return { kind: 'transient', message };
}
