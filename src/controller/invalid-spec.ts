// What makes a job impossible to run, as one message naming the field: the CRD schema (a job may predate the
// installed CRD, or reach the API server without its validation) and the checks that need the cluster configuration.
import { validateJob } from '../api/validate.js';
import { checkRunnable } from '../api/semantic.js';
import type { HPCJob } from '../api/types.js';
import type { ClusterConfig } from '../config/cluster-config.js';
import { podSecurityViolations, type PodSecurityLevel } from '../render/pod-security.js';
import { renderLauncherPod, renderWorkerPod } from '../render/pods.js';
import { policyViolations } from '../policy/job-rules.js';

export function jobProblem(job: HPCJob, config: ClusterConfig): string | undefined {
  const schemaErrors = validateJob(job);
  if (schemaErrors.length > 0) return schemaErrors.join('; ');
  return checkRunnable(job, config);
}

/**
 * The Pod Security rules the job's pods would break in a namespace enforcing this level, as one message; the
 * renderer already applied every default the spec allows, so what is left needs a change to the spec.
 */
export function podSecurityProblem(
  job: HPCJob,
  config: ClusterConfig,
  level: PodSecurityLevel,
  sshPort: number,
): string | undefined {
  if (level === 'privileged') return undefined;
  const pods = [
    { role: 'worker', pod: renderWorkerPod(job, config, 0, sshPort, level) },
    { role: 'launcher', pod: renderLauncherPod(job, config, 1, sshPort, level) },
  ];
  const problems = pods.flatMap(({ role, pod }) => podSecurityViolations(pod, level).map((v) => `${role} ${v}`));
  if (problems.length === 0) return undefined;
  const ns = job.metadata.namespace;
  return `namespace ${ns} enforces Pod Security "${level}"; the pods would break: ${[...new Set(problems)].join('; ')}`;
}

/** What the site policy forbids in the job, as one message; a job created before the policy or past admission. */
export function policyProblem(job: HPCJob, config: ClusterConfig): string | undefined {
  const violations = policyViolations(job, config);
  return violations.length > 0 ? `the site policy forbids: ${violations.join('; ')}` : undefined;
}
