// Prometheus metrics of the operator, served on /metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HPCJob } from './api/types.js';

export interface CacheView {
  jobs: HPCJob[];
  queueLength: number;
  quietForMs: number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly reconcileSeconds = new Histogram({
    name: 'hpcjob_reconcile_duration_seconds',
    help: 'Time to reconcile one HPCJob, by result (ok, conflict, error).',
    labelNames: ['result'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  readonly apiWrites = new Counter({
    name: 'hpcjob_api_write_requests_total',
    help: 'Write requests the controller sent to the API server, by verb and kind (Lease requests are counted apart).',
    labelNames: ['verb', 'kind'],
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'hpcjob_watch_restarts_total',
    help: 'Watches resumed or relisted, by resource and reason.',
    labelNames: ['resource', 'reason'],
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'hpcjob_leader',
    help: 'Whether this replica runs the controller: 1 the leader (or leader election off), 0 a standby.',
    registers: [this.registry],
  });
  readonly leaseRequests = new Counter({
    name: 'hpcjob_leader_election_requests_total',
    help: 'Requests on the leader-election Lease, by verb (get, create, update) and result (ok, conflict, not_found, error).',
    labelNames: ['verb', 'result'],
    registers: [this.registry],
  });
  #view: () => CacheView = () => ({ jobs: [], queueLength: 0, quietForMs: 0 });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'hpcjob_operator_' });
    const view = () => this.#view();
    new Gauge({
      name: 'hpcjob_jobs',
      help: 'HPCJobs known to the operator, by phase.',
      labelNames: ['phase'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const job of view().jobs) this.inc({ phase: job.status?.phase ?? 'New' });
      },
    });
    new Gauge({
      name: 'hpcjob_workqueue_length',
      help: 'Job keys waiting to be reconciled.',
      registers: [this.registry],
      collect() {
        this.set(view().queueLength);
      },
    });
  }

  observeCaches(view: () => CacheView): void {
    this.#view = view;
  }
}
