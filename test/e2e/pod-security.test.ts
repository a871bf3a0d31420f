// A namespace that enforces Pod Security "restricted": the operator renders pods that pass it, so a pod-network job
// runs for real; a spec that cannot comply fails at once with a condition naming the rule, never a silent Pending.
import { kubectl } from '../integration/support/cluster.js';
import type { Jobs } from '../integration/support/jobs.js';
import { useOperatorSuite } from '../integration/support/suite.js';
import { OperatorProcess, permissiveConfigFile } from '../integration/support/operator.js';
import { rankHosts, launcherLog, realJob } from './support/real-jobs.js';

// The site policy allows the host network here, so that Pod Security is what refuses it.
const operator = new OperatorProcess('e2e-pod-security', ['--config', permissiveConfigFile()]);
let namespace = '';
let jobs: Jobs;
useOperatorSuite(operator, 'e2e-psa', (ns, j) => {
  namespace = ns;
  jobs = j;
});

beforeEach(() => {
  const r = kubectl(['label', 'namespace', namespace, 'pod-security.kubernetes.io/enforce=restricted']);
  if (r.status !== 0) throw new Error(r.stderr);
});

it('a pod-network job runs to Succeeded, its pods admitted as restricted', async () => {
  await jobs.create(realJob('tight'));
  const status = await jobs.waitForPhase('tight', 'Succeeded', 150_000);
  expect(status.launcher?.exitCode).toBe(0);
  expect(new Set(rankHosts(launcherLog(namespace, 'tight')).values()).size).toBe(2);
  // The workers are cleaned up when the job ends; the launcher stays for its log.
  const launcher = (await jobs.pods('tight')).find((p) => p.metadata?.name === 'tight-launcher');
  expect(launcher?.spec?.securityContext).toMatchObject({
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
  });
});

it.each([
  ['host network', { network: { mode: 'host' as const } }, 'hostNetwork: host namespaces are not allowed'],
  ["RDMA's IPC_LOCK", { resources: { rdmaDevices: 1 } }, 'capabilities.add: IPC_LOCK is not allowed'],
])('%s cannot comply: Failed at once, the rule named, no pod created', async (_, spec, rule) => {
  await jobs.create(realJob('loose', { spec }));
  const status = await jobs.waitForPhase('loose', 'Failed', 30_000);
  const failed = jobs.condition(status, 'Failed');
  expect(failed?.reason).toBe('PodSecurityViolation');
  expect(failed?.message).toContain('enforces Pod Security "restricted"');
  expect(failed?.message).toContain(rule);
  expect(await jobs.pods('loose')).toEqual([]);
  const events = await jobs.events('loose');
  expect(events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'PodSecurityViolation' }));
});
