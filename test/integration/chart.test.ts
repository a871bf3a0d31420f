// The Helm chart: rendered by helm, applied to the local control plane, and the operator run with exactly the
// chart's ServiceAccount permissions and the chart's configuration file, through an HPCJob to Succeeded.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { clients, kubectl } from './support/cluster.js';
import { jobManifest, Jobs } from './support/jobs.js';
import { createTestNamespace, deleteTestNamespace } from './support/namespace.js';
import { OperatorProcess } from './support/operator.js';
import { helmTemplate as renderChart } from './support/helm.js';

const { core, custom } = clients();
const release = `hj-${process.pid}`;
let releaseNamespace: string;
let namespace: string;
const work = mkdtempSync(path.join(os.tmpdir(), 'hpcjob-chart-'));

function helmTemplate(): { kind: string; metadata: { name: string }; data?: Record<string, string> }[] {
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

/** A kubeconfig whose client certificate names the chart's ServiceAccount, so RBAC sees the operator's own identity. */
function serviceAccountKubeconfig(serviceAccount: string): string {
  const stateDir =
    process.env.HPCJOB_CLUSTER_DIR ??
    path.join(process.env.HPCJOB_CACHE ?? path.join(os.homedir(), '.cache/hpcjob-operator'), 'cluster');
  const pki = path.join(stateDir, 'pki');
  const user = `system:serviceaccount:${releaseNamespace}:${serviceAccount}`;
  const key = path.join(work, 'sa-user.key');
  const csr = path.join(work, 'sa-user.csr');
  const crt = path.join(work, 'sa-user.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      `/O=system:serviceaccounts/CN=${user}`,
    ],
    { stdio: 'ignore' },
  );
  execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      path.join(pki, 'ca.crt'),
      '-CAkey',
      path.join(pki, 'ca.key'),
      '-CAcreateserial',
      '-out',
      crt,
      '-days',
      '1',
    ],
    { stdio: 'ignore' },
  );
  const admin = kubectl([
    'config',
    'view',
    '--raw',
    '-o',
    'jsonpath={.clusters[0].cluster.server} {.clusters[0].cluster.certificate-authority-data}',
  ]).stdout.split(' ');
  const b64 = (file: string) => execFileSync('base64', ['-w0', file], { encoding: 'utf8' });
  const file = path.join(work, 'operator.kubeconfig');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: local, cluster: { server: "${admin[0]}", certificate-authority-data: "${admin[1]}" } }]`,
      `users: [{ name: operator, user: { client-certificate-data: "${b64(crt)}", client-key-data: "${b64(key)}" } }]`,
      'contexts: [{ name: operator, context: { cluster: local, user: operator } }]',
      'current-context: operator',
      '',
    ].join('\n'),
  );
  return file;
}

beforeAll(async () => {
  releaseNamespace = await createTestNamespace(core, 'hpcjob-system');
});
afterAll(async () => {
  await deleteTestNamespace(core, releaseNamespace);
  kubectl(['delete', 'clusterrole,clusterrolebinding', release, '--ignore-not-found']);
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
      'ClusterRoleBinding',
      'ConfigMap',
      'CustomResourceDefinition',
      'Deployment',
      'Service',
      'ServiceAccount',
    ].sort(),
  );
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
  const operator = new OperatorProcess('operator-chart', ['--config', configFile], () =>
    serviceAccountKubeconfig(serviceAccount),
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
    expect((await jobs.events('chart-job')).length).toBeGreaterThan(0);
  } finally {
    await operator.stop();
  }
});
