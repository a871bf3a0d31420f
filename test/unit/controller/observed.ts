// What planReconcile observes, for the plan's unit tests: by default every shared object exists and is wanted.
import type { V1Pod } from '@kubernetes/client-node';
import type { HPCJob } from '../../../src/api/types.js';
import type { Observed } from '../../../src/controller/plan.js';

export const now = new Date('2026-06-01T12:00:00Z');

export function observe(job: HPCJob, pods: V1Pod[], extra: Partial<Observed> = {}): Observed {
  return {
    job,
    pods,
    hasSecret: true,
    hasConfigMap: true,
    hasService: true,
    hasScripts: true,
    hasNetworkPolicy: true,
    wantsNetworkPolicy: true,
    now,
    ...extra,
  };
}
