// The operator's own image, installed with the Helm chart, runs on the real node, serves the chart's admission
// webhook, and takes a job to Succeeded.
// Pods reach the API server at the node's address (hack/cluster forwards it to the loopback API server), given to
// the chart as apiServer.host/port; the token is the chart's projected ServiceAccount token.
import { clients, kubectl } from '../integration/support/cluster.js';
import { helmTemplate } from '../integration/support/helm.js';
import { eventually } from '../integration/support/eventually.js';
import { Jobs } from '../integration/support/jobs.js';
import { createTestNamespace, deleteTestNamespace } from '../integration/support/namespace.js';
import { installCrd } from '../integration/support/operator.js';
import { runClusterScript } from '../integration/support/cluster.js';
import { launcherLog, onRealNode, rankHosts, realJob } from './support/real-jobs.js';

const { core, custom } = clients();
const release = 'hj-e2e';
let releaseNamespace = '';
let namespace = '';
let manifests = '';

function renderChart(): string {
  const api = new URL(runClusterScript(['apiserver-for-pods']).stdout.trim());
  const placement = onRealNode();
  return helmTemplate(release, releaseNamespace, [
    '--set',
    'image.repository=localhost/hpcjob/operator,image.tag=dev,image.pullPolicy=Never',
    '--set',
    `apiServer.host=${api.hostname},apiServer.port=${api.port}`,
    '--set-json',
    `nodeSelector=${JSON.stringify(placement.nodeSelector)}`,
    '--set-json',
    `tolerations=${JSON.stringify(placement.tolerations)}`,
  ]);
}

beforeAll(async () => {
  installCrd();
  releaseNamespace = await createTestNamespace(core, 'e2e-chart-op');
  namespace = await createTestNamespace(core, 'e2e-chart');
  manifests = renderChart();
  const applied = kubectl(['apply', '-f', '-'], manifests);
  if (applied.status !== 0) throw new Error(applied.stderr);
});

afterAll(async () => {
  // Every replica's log (the leader's and the standby's), each line prefixed with its pod.
  const logs = kubectl([
    'logs',
    '-n',
    releaseNamespace,
    '-l',
    `app.kubernetes.io/instance=${release}`,
    '--prefix',
    '--tail',
    '40',
  ]);
  if (logs.status === 0) process.stderr.write(`----- operator pod log (tail) -----\n${logs.stdout}\n`);
  kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], manifests);
  await deleteTestNamespace(core, namespace);
  await deleteTestNamespace(core, releaseNamespace);
});

it('the image with the chart becomes Ready on the real node and takes a job to Succeeded', async () => {
  // The chart's two replicas (the leader and a standby, which is ready too) both run on the one real node: their
  // anti-affinity is only preferred.
  await eventually(async () => {
    const pods = (await core.listNamespacedPod({ namespace: releaseNamespace })).items;
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      if (!ready)
        throw new Error(`operator pod not ready: ${JSON.stringify(pod.status?.containerStatuses ?? pod.status)}`);
      expect(pod.spec?.nodeName).toBe('hpcjob-real-0');
    }
  }, 120_000);
  // One of them holds the Lease named after the release.
  const holder = kubectl(['get', 'lease', release, '-n', releaseNamespace, '-o', 'jsonpath={.spec.holderIdentity}']);
  expect(holder.stdout).toMatch(new RegExp(`^${release}-`));
  const jobs = new Jobs(custom, core, namespace);
  await jobs.create(realJob('viachart'));
  // The chart's admission webhook, behind its Service on the real node, recorded who submitted the job.
  expect((await jobs.get('viachart')).spec.submitter?.user).toBe('hpcjob-admin');
  const status = await jobs.waitForPhase('viachart', 'Succeeded', 150_000);
  expect(status.launcher?.exitCode).toBe(0);
  expect(new Set(rankHosts(launcherLog(namespace, 'viachart')).values()).size).toBe(2);
});
