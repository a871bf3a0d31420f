// The chart's RBAC against the real API server's authorizer: what the operator's ServiceAccount may do, cluster-wide
// and in a namespaced install, compared with charts/hpcjob-operator/permissions.txt; what it may not do outside its
// namespaces; HPCJob rights for users through the built-in view and edit roles; and the operator itself, run with
// only a namespaced install's permissions and --namespaces, reconciling its namespace and leaving another alone.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { clients, kubectl, repoRoot } from './support/cluster.js';
import { eventually } from './support/eventually.js';
import { helmTemplate } from './support/helm.js';
import { serviceAccountKubeconfig, serviceAccountUser } from './support/identity.js';
import { jobManifest, Jobs } from './support/jobs.js';
import { createTestNamespace, deleteTestNamespace } from './support/namespace.js';
import { installCrd, OperatorProcess } from './support/operator.js';

const PERMISSIONS_FILE = path.join(repoRoot, 'charts/hpcjob-operator/permissions.txt');
const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
const { core, custom } = clients();
const work = mkdtempSync(path.join(os.tmpdir(), 'hpcjob-rbac-'));
const releases = { cluster: `hjc-${process.pid}`, namespaced: `hjn-${process.pid}` };
const ns = { clusterRelease: '', namespacedRelease: '', watched1: '', watched2: '', other: '' };

interface Installed {
  serviceAccount: string;
  user: string;
}

/** Renders the chart and applies its RBAC objects (the Deployment is not needed to ask the authorizer). */
function installRbac(release: string, releaseNamespace: string, extraArgs: string[]): Installed {
  const docs = parseAllDocuments(helmTemplate(release, releaseNamespace, extraArgs))
    .map((d) => d.toJSON() as { kind: string; metadata: { name: string } } | null)
    .filter((d) => d !== null && RBAC_KINDS.has(d.kind));
  const file = path.join(work, `${release}.yaml`);
  writeFileSync(file, docs.map((d) => JSON.stringify(d)).join('\n---\n'));
  const applied = kubectl(['apply', '-f', file]);
  if (applied.status !== 0) throw new Error(`kubectl apply: ${applied.stderr}`);
  const serviceAccount = docs.find((d) => d!.kind === 'ServiceAccount')!.metadata.name;
  return { serviceAccount, user: serviceAccountUser(releaseNamespace, serviceAccount) };
}

/** `kubectl auth can-i VERB RESOURCE`: true for yes. */
function canI(user: string, verb: string, resource: string, namespace?: string): boolean {
  const r = kubectl(['auth', 'can-i', verb, resource, '--as', user, ...(namespace ? ['-n', namespace] : [])]);
  if (!['yes', 'no'].includes(r.stdout.trim())) throw new Error(`kubectl auth can-i: ${r.stdout}${r.stderr}`);
  return r.stdout.trim() === 'yes';
}

/**
 * `kubectl auth can-i --list` as stable text: columns split on the table's padding and joined by ' | ', rows
 * sorted under the header, and the test's random namespace names replaced by placeholders.
 */
function permissionsOf(user: string, namespace: string | undefined, names: Record<string, string>): string {
  const r = kubectl(['auth', 'can-i', '--list', '--as', user, ...(namespace ? ['-n', namespace] : [])]);
  if (r.status !== 0) throw new Error(`kubectl auth can-i --list: ${r.stderr}`);
  const rows = r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      // A rule for non-resource URLs leaves the first column blank: shown as '-'.
      let row = l
        .trimEnd()
        .split(/\s{2,}/)
        .map((cell) => cell || '-')
        .join(' | ');
      for (const [name, placeholder] of Object.entries(names)) row = row.replaceAll(name, placeholder);
      return row;
    });
  return [rows[0], ...rows.slice(1).sort()].join('\n');
}

/** The file without its comment lines. */
const withoutComments = (text: string) =>
  text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n')
    .trim();

function unifiedDiff(expected: string, actual: string): string {
  const a = path.join(work, 'expected.txt');
  const b = path.join(work, 'actual.txt');
  writeFileSync(a, `${expected}\n`);
  writeFileSync(b, `${actual}\n`);
  return spawnSync('diff', ['-u', '--label', 'permissions.txt', '--label', 'the API server', a, b], {
    encoding: 'utf8',
  }).stdout;
}

let clusterWide: Installed;
let namespaced: Installed;

beforeAll(async () => {
  installCrd();
  ns.clusterRelease = await createTestNamespace(core, 'rbac-sys');
  ns.namespacedRelease = await createTestNamespace(core, 'rbac-sys');
  ns.watched1 = await createTestNamespace(core, 'rbac-w');
  ns.watched2 = await createTestNamespace(core, 'rbac-w');
  ns.other = await createTestNamespace(core, 'rbac-other');
  clusterWide = installRbac(releases.cluster, ns.clusterRelease, []);
  namespaced = installRbac(releases.namespaced, ns.namespacedRelease, [
    '--set-json',
    `watchNamespaces=${JSON.stringify([ns.watched1, ns.watched2])}`,
    '--set',
    'aggregateUserRoles=false',
  ]);
});

afterAll(async () => {
  for (const name of Object.values(ns)) if (name) await deleteTestNamespace(core, name);
  for (const release of Object.values(releases)) {
    kubectl(['delete', 'clusterrole,clusterrolebinding', '-l', `app.kubernetes.io/instance=${release}`]);
  }
});

test('the operator may do exactly what charts/hpcjob-operator/permissions.txt lists, cluster-wide and namespaced', () => {
  const names = {
    [ns.watched1]: 'WATCHED_1',
    [ns.watched2]: 'WATCHED_2',
    [ns.other]: 'OTHER',
    [ns.clusterRelease]: 'RELEASE_NAMESPACE',
    [ns.namespacedRelease]: 'RELEASE_NAMESPACE',
    [releases.cluster]: 'RELEASE',
    [releases.namespaced]: 'RELEASE',
  };
  const actual = [
    '[cluster-wide install]',
    permissionsOf(clusterWide.user, undefined, names),
    '',
    '[namespaced install (watchNamespaces: [WATCHED_1, WATCHED_2]), in WATCHED_1]',
    permissionsOf(namespaced.user, ns.watched1, names),
    '',
    '[namespaced install, in a namespace it does not watch]',
    permissionsOf(namespaced.user, ns.other, names),
    '',
    '[cluster-wide install, in its release namespace (the leader-election Lease)]',
    permissionsOf(clusterWide.user, ns.clusterRelease, names),
    '',
    '[namespaced install, in its release namespace (the leader-election Lease)]',
    permissionsOf(namespaced.user, ns.namespacedRelease, names),
  ].join('\n');
  const current = readFileSync(PERMISSIONS_FILE, 'utf8');
  if (process.env.HPCJOB_UPDATE_PERMISSIONS === '1') {
    const header = current.split('\n').filter((l) => l.startsWith('#'));
    writeFileSync(PERMISSIONS_FILE, `${[...header, actual].join('\n')}\n`);
    return;
  }
  expect(unifiedDiff(withoutComments(current), actual)).toBe('');
});

test("a namespaced install's identity reaches its namespaces only", () => {
  const user = namespaced.user;
  expect(canI(user, 'get', 'secrets', ns.watched1)).toBe(true);
  expect(canI(user, 'list', 'secrets', ns.watched2)).toBe(true);
  expect(canI(user, 'get', 'secrets', ns.other)).toBe(false);
  expect(canI(user, 'list', 'secrets', ns.other)).toBe(false);
  expect(canI(user, 'create', 'pods', 'kube-system')).toBe(false);
  expect(canI(user, 'create', 'pods', ns.watched1)).toBe(true);
  // Namespaces by name: its own, not another, and not all of them.
  expect(canI(user, 'watch', `namespaces/${ns.watched1}`)).toBe(true);
  expect(canI(user, 'watch', `namespaces/${ns.other}`)).toBe(false);
  expect(canI(user, 'list', 'namespaces')).toBe(false);
  // Neither install may change a Secret once written, nor read one in a namespace it does not own.
  expect(canI(clusterWide.user, 'update', 'secrets', ns.other)).toBe(false);
  expect(canI(clusterWide.user, 'delete', 'secrets', ns.other)).toBe(false);
});

test('leader election: each install reads and updates its own Lease only, and creates Leases only at home', () => {
  for (const [install, home, lease] of [
    [clusterWide, ns.clusterRelease, releases.cluster],
    [namespaced, ns.namespacedRelease, releases.namespaced],
  ] as const) {
    expect(canI(install.user, 'get', `leases.coordination.k8s.io/${lease}`, home)).toBe(true);
    expect(canI(install.user, 'update', `leases.coordination.k8s.io/${lease}`, home)).toBe(true);
    expect(canI(install.user, 'create', 'leases.coordination.k8s.io', home)).toBe(true);
    expect(canI(install.user, 'get', 'leases.coordination.k8s.io/kube-scheduler', home)).toBe(false);
    expect(canI(install.user, 'update', 'leases.coordination.k8s.io/kube-scheduler', 'kube-system')).toBe(false);
    expect(canI(install.user, 'create', 'leases.coordination.k8s.io', ns.other)).toBe(false);
    expect(canI(install.user, 'delete', `leases.coordination.k8s.io/${lease}`, home)).toBe(false);
    expect(canI(install.user, 'list', 'leases.coordination.k8s.io', home)).toBe(false);
  }
});

test('users bound to the built-in edit role can create HPCJobs; bound to view, read but not create', async () => {
  const [editor, viewer] = [`editor-${process.pid}`, `viewer-${process.pid}`];
  const target = ns.other;
  for (const [name, role, user] of [
    ['e', 'edit', editor],
    ['v', 'view', viewer],
  ] as const) {
    const r = kubectl(['create', 'rolebinding', name, '-n', target, '--clusterrole', role, '--user', user]);
    expect(r.stderr).toBe('');
  }
  // The controller-manager aggregates the chart's roles into view and edit shortly after they appear.
  await eventually(() => expect(canI(editor, 'create', 'hpcjobs.hpcjob.dev', target)).toBe(true));
  await eventually(() => expect(canI(viewer, 'get', 'hpcjobs.hpcjob.dev', target)).toBe(true));
  const job = JSON.stringify({ ...jobManifest('by-editor', { workers: 1 }), metadata: { name: 'by-editor' } });
  const created = kubectl(['create', '-n', target, '--as', editor, '-f', '-'], job);
  expect(created.stderr).toBe('');
  expect(kubectl(['get', 'hpcjob', 'by-editor', '-n', target, '--as', viewer]).status).toBe(0);
  expect(
    kubectl(['get', 'hpcjob', 'by-editor', '-n', target, '--as', viewer, '-o', 'name', '--subresource', 'status'])
      .status,
  ).toBe(0);
  const refused = kubectl(['create', '-n', target, '--as', viewer, '-f', '-'], job.replace('by-editor', 'by-viewer'));
  expect(refused.status).not.toBe(0);
  expect(refused.stderr).toMatch(/forbidden/i);
  expect(canI(viewer, 'delete', 'hpcjobs.hpcjob.dev', target)).toBe(false);
  expect(canI(editor, 'delete', 'hpcjobs.hpcjob.dev', target)).toBe(true);
});

test('with --namespaces and only the namespaced install RBAC, the operator runs a job there and leaves another namespace alone', async () => {
  const operator = new OperatorProcess('operator-namespaced', ['--namespaces', ns.watched1], () =>
    serviceAccountKubeconfig(ns.namespacedRelease, namespaced.serviceAccount),
  );
  await operator.start();
  try {
    const watched = new Jobs(custom, core, ns.watched1);
    const unwatched = new Jobs(custom, core, ns.watched2);
    await unwatched.create(jobManifest('left-alone', { workers: 1, exitCode: 0 }));
    await watched.create(jobManifest('reconciled', { workers: 2, exitCode: 0 }));
    // A failing one too: its Warning event shows the namespaced Role lets the operator record events.
    await watched.create(jobManifest('fails', { workers: 1, exitCode: 3 }));
    const status = await watched.waitForPhase('reconciled', 'Succeeded');
    expect(status.launcher?.exitCode).toBe(0);
    await watched.waitForPhase('fails', 'Failed');
    expect((await watched.events('fails')).map((e) => e.reason)).toContain('LauncherFailed');
    // By now the operator has had every chance to act on the other job: it has not.
    const pods = await core.listNamespacedPod({ namespace: ns.watched2 });
    expect(pods.items).toEqual([]);
    // Only the CRD's default status: nothing the operator writes (worker counts, conditions, a generation seen).
    expect((await unwatched.get('left-alone')).status).toEqual({ phase: 'Pending' });
    // The ssh Secret was written, and no key from it ever reached the operator's log.
    expect(readFileSync(operator.logFile, 'utf8')).not.toMatch(/PRIVATE KEY/);
  } finally {
    await operator.stop();
  }
});
