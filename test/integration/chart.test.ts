// The Helm chart: rendered by helm, applied to the local control plane, and the operator run with exactly the
// chart's ServiceAccount permissions, the chart's configuration file and its leader-election flags, through an HPCJob
// to Succeeded. (The local API server enforces OwnerReferencesPermissionEnforcement, so the children's
// blockOwnerDeletion is checked too.)
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1DeploymentSpec as DeploymentSpec } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { clients, kubectl } from './support/cluster.js';
import { jobManifest, Jobs } from './support/jobs.js';
import { createTestNamespace, deleteTestNamespace } from './support/namespace.js';
import { OperatorProcess } from './support/operator.js';
import { helmTemplate as renderChart } from './support/helm.js';
import { serviceAccountKubeconfig } from './support/identity.js';

const { core, custom } = clients();
const release = `hj-${process.pid}`;
let releaseNamespace: string;
let namespace: string;
const work = mkdtempSync(path.join(os.tmpdir(), 'hpcjob-chart-'));

interface Rendered {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
}

function helmTemplate(): Rendered[] {
  const out = renderChart(release, releaseNamespace, [
    '--include-crds',
    // The operator runs here as a process, not behind the chart's Service, so the webhook it would serve through
    // that Service is left out (a Fail webhook with no endpoint would refuse every HPCJob); test/e2e/chart.test.ts
    // runs the chart's webhook on the real node.
    '--set',
    'webhook.enabled=false',
    '--set-json',
    'config.sriovNetworks={"fast-net":{"networkAttachment":"sriov-rdma","resourceName":"nvidia.com/sriov_rdma_vf"}}',
  ]);
  return parseAllDocuments(out)
    .map((d) => d.toJSON())
    .filter(Boolean);
}

beforeAll(async () => {
  releaseNamespace = await createTestNamespace(core, 'hpcjob-system');
});
afterAll(async () => {
  await deleteTestNamespace(core, releaseNamespace);
  kubectl(['delete', 'clusterrole,clusterrolebinding', '-l', `app.kubernetes.io/instance=${release}`]);
});
beforeEach(async () => {
  namespace = await createTestNamespace(core, 'chart');
});
afterEach(async () => {
  await deleteTestNamespace(core, namespace);
});

test('the chart installs, and the operator runs a job with only its ServiceAccount RBAC and its configuration', async () => {
  const docs = helmTemplate();
  expect(docs.map((d) => d.kind).sort()).toEqual(
    [
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'CustomResourceDefinition',
      'Deployment',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ].sort(),
  );
  // Two replicas by default, one leading: they prefer different nodes but still run on one, and one at a time may go.
  const deployment = docs.find((d) => d.kind === 'Deployment')! as unknown as { spec: DeploymentSpec };
  expect(deployment.spec.replicas).toBe(2);
  const podSpec = deployment.spec.template.spec!;
  expect(Object.keys(podSpec.affinity?.podAntiAffinity ?? {})).toEqual([
    'preferredDuringSchedulingIgnoredDuringExecution',
  ]);
  expect(docs.find((d) => d.kind === 'PodDisruptionBudget')?.spec).toMatchObject({ maxUnavailable: 1 });
  const electionArgs = podSpec.containers[0]!.args!.filter((a) => a.startsWith('--leader-elect'));
  expect(electionArgs).toContain('--leader-elect');
  // The image's entrypoint (node dist/main.js) with V8's optimizing compilers off: the operator below runs so.
  const command = podSpec.containers[0]!.command!;
  expect([command[0], command.at(-1)]).toEqual(['node', 'dist/main.js']);
  const nodeFlags = command.slice(1, -1);
  expect(nodeFlags).toEqual(['--no-opt', '--no-maglev']);
  const manifests = path.join(work, 'rendered.yaml');
  writeFileSync(manifests, docs.map((d) => JSON.stringify(d)).join('\n---\n'));
  const applied = kubectl(['apply', '-n', releaseNamespace, '-f', manifests]);
  expect(applied.stderr).toBe('');
  expect(applied.status).toBe(0);
  expect(kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/hpcjobs.hpcjob.dev']).status).toBe(0);

  const configFile = path.join(work, 'cluster.yaml');
  const configMap = docs.find((d) => d.kind === 'ConfigMap');
  writeFileSync(configFile, configMap!.data!['cluster.yaml']!);
  const serviceAccount = docs.find((d) => d.kind === 'ServiceAccount')!.metadata.name;
  // The chart's election flags; the Lease's namespace, which the chart takes from the downward API, is given here.
  const operator = new OperatorProcess(
    'operator-chart',
    ['--config', configFile, ...electionArgs, `--leader-election-namespace=${releaseNamespace}`],
    () => serviceAccountKubeconfig(releaseNamespace, serviceAccount),
    nodeFlags,
  );
  await operator.start();
  try {
    const jobs = new Jobs(custom, core, namespace);
    // The chart's configuration names fast-net, so an SR-IOV job is accepted rather than failed as InvalidSpec.
    await jobs.create(
      jobManifest('sriov-ok', { workers: 1, spec: { network: { mode: 'sriov', networks: ['fast-net'] } } }),
    );
    await jobs.waitFor('sriov-ok', (s) =>
      expect(s.conditions?.find((c) => c.type === 'Unschedulable')?.status).toBe('True'),
    );
    await jobs.create(jobManifest('chart-job', { workers: 2, exitCode: 0 }));
    const status = await jobs.waitForPhase('chart-job', 'Succeeded');
    expect(status.launcher?.exitCode).toBe(0);
    // Events go through the chart's RBAC too: the unschedulable job's Warning.
    expect((await jobs.events('sriov-ok')).map((e) => e.reason)).toContain('Unschedulable');
    // It led through the chart's Role: the Lease named after the release, in the release namespace.
    const leaderz = await fetch(operator.metricsUrl.replace(/\/metrics$/, '/leaderz'));
    expect(leaderz.status).toBe(200);
    const lease = kubectl(['get', 'lease', release, '-n', releaseNamespace, '-o', 'jsonpath={.spec.holderIdentity}']);
    expect(lease.stdout).toBe(`${os.hostname()}_${operator.pid}`);
  } finally {
    await operator.stop();
  }
});
