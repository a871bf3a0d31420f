// The operator's HTTP endpoints: /metrics, the probes /healthz and /readyz, and /leaderz. The answers are pure
// functions of the process's state, so what a standby and a leader say is unit-tested.
import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.js';

export interface OperatorState {
  /** Whether leader election is on (--leader-elect). */
  leaderElection: boolean;
  /** Whether this process holds the lease (always true without leader election). */
  leading: boolean;
  /** Whether the controller's caches have synced and its workers run. */
  controllerStarted: boolean;
}

export interface Answer {
  status: number;
  body: string;
}

/**
 * /healthz and /readyz. A standby is healthy and ready: it serves admission like the leader (the webhook Service
 * needs it), it is what takes over, and a PodDisruptionBudget that counted it unready could block a node drain. A
 * leader is ready once its caches have synced, as a single operator is.
 */
export function probeAnswer(s: OperatorState): Answer {
  if (s.leaderElection && !s.leading) return { status: 200, body: 'ok: standby (not leader)' };
  if (!s.controllerStarted)
    return { status: 503, body: s.leaderElection ? 'not ready: leader, caches syncing' : 'not ready' };
  return { status: 200, body: s.leaderElection ? 'ok: leader' : 'ok' };
}

/** /leaderz: 200 where the controller runs (or would, its caches syncing), 503 on a standby. */
export function leaderAnswer(s: OperatorState): Answer {
  if (!s.leading) return { status: 503, body: 'standby (not leader)' };
  return { status: 200, body: s.leaderElection ? 'leader' : 'leader (leader election off)' };
}

export function serveHttp(port: number, address: string, metrics: Metrics, state: () => OperatorState): Server {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      metrics.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(body);
        })
        .catch((err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        });
      return;
    }
    const answer =
      req.url === '/healthz' || req.url === '/readyz'
        ? probeAnswer(state())
        : req.url === '/leaderz'
          ? leaderAnswer(state())
          : { status: 404, body: '' };
    res.writeHead(answer.status, { 'content-type': 'text/plain' });
    res.end(answer.body);
  });
  server.listen(port, address);
  return server;
}
