// What makes a job impossible to run, as one message naming the field: the CRD schema (a job may predate the
// installed CRD, or reach the API server without its validation) and the checks that need the cluster configuration.
import { validateJob } from '../api/validate.js';
import { checkRunnable } from '../api/semantic.js';
import type { HPCJob } from '../api/types.js';
import type { ClusterConfig } from '../config/cluster-config.js';

export function jobProblem(job: HPCJob, config: ClusterConfig): string | undefined {
  const schemaErrors = validateJob(job);
  if (schemaErrors.length > 0) return schemaErrors.join('; ');
  return checkRunnable(job, config);
}
