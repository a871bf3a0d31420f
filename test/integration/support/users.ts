// Users of the local control plane as the API server sees real ones: a client certificate per user (hack/cluster
// user-kubeconfig, CN = username, O = groups) or a service account's token from the TokenRequest API, each with
// kubectl run under that identity, and the RBAC that lets a user work in a namespace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kubeConfig, kubectl, runClusterScript } from './cluster.js';

export interface KubectlResult {
  status: number;
  stdout: string;
  stderr: string;
}

export type Kubectl = (args: string[], input?: string) => KubectlResult;

let binDir: string | undefined;

function kubectlWith(kubeconfig: string): Kubectl {
  binDir ??= runClusterScript(['bin-dir']).stdout.trim();
  const exe = path.join(binDir, 'kubectl');
  return (args, input) => {
    // Bounded like the admin's runner: a hung call would stop jest's own timeouts too.
    const r = spawnSync(exe, ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', input, timeout: 120_000 });
    return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  };
}

/** kubectl as the user NAME in GROUPS, authenticated by a client certificate the cluster's CA signed. */
export function kubectlAs(name: string, groups: string[] = []): Kubectl {
  return kubectlWith(runClusterScript(['user-kubeconfig', name, ...groups]).stdout.trim());
}

/**
 * kubectl as the admin impersonating NAME with these extra attributes: how a test gets a user whose authenticator
 * sets `extra` (structured authentication's claim mappings), which a client certificate cannot carry.
 */
export function kubectlImpersonating(name: string, extra: Record<string, string[]>): Kubectl {
  const flags = Object.entries(extra).flatMap(([key, values]) => values.map((v) => `--as-user-extra=${key}=${v}`));
  return (args, input) => kubectl([`--as=${name}`, '--as-group=system:authenticated', ...flags, ...args], input);
}

const tokenDirs: string[] = [];

/** Removes the kubeconfigs holding service account tokens (valid for an hour): for the file's afterAll. */
export function removeTokenKubeconfigs(): void {
  for (const dir of tokenDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** kubectl as a service account, with a token from the TokenRequest API (what a pipeline's pod mounts). */
export function kubectlAsServiceAccount(namespace: string, name: string): Kubectl {
  const token = kubectl(['create', 'token', name, '-n', namespace, '--duration=1h']);
  if (token.status !== 0) throw new Error(`kubectl create token ${namespace}/${name}: ${token.stderr}`);
  const admin = kubeConfig();
  const cluster = admin.getCurrentCluster()!;
  const dir = mkdtempSync(path.join(tmpdir(), 'hpcjob-sa-'));
  tokenDirs.push(dir);
  const file = path.join(dir, 'kubeconfig');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'local', cluster: { server: cluster.server, 'certificate-authority-data': cluster.caData ?? '' } },
    ],
    users: [{ name, user: { token: token.stdout.trim() } }],
    contexts: [{ name: 'local', context: { cluster: 'local', user: name } }],
    'current-context': 'local',
  };
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return kubectlWith(file);
}

// The HPCJob CRD has no aggregated roles yet (to edit / view): until the chart adds them, tests grant the hpcjobs
// verbs with a ClusterRole of their own, bound beside the built-in edit role.
const HPCJOBS_ROLE = 'hpcjob-test-hpcjobs-editor';

function apply(manifest: object): void {
  const r = kubectl(['apply', '-f', '-'], JSON.stringify(manifest));
  if (r.status !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
}

/**
 * Lets a subject do what a namespace's member does: the built-in edit ClusterRole, and the hpcjobs verbs, both
 * through RoleBindings in that namespace only.
 */
export function grantEdit(namespace: string, subject: { user: string } | { serviceAccount: string }): void {
  apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: HPCJOBS_ROLE },
    rules: [
      {
        apiGroups: ['hpcjob.dev'],
        resources: ['hpcjobs'],
        verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'],
      },
      { apiGroups: ['hpcjob.dev'], resources: ['hpcjobs/status'], verbs: ['get'] },
    ],
  });
  const subjects =
    'user' in subject
      ? [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: subject.user }]
      : [{ kind: 'ServiceAccount', name: subject.serviceAccount, namespace }];
  const who = 'user' in subject ? subject.user : `sa-${subject.serviceAccount}`;
  for (const role of ['edit', HPCJOBS_ROLE]) {
    apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${who}-${role}`.slice(0, 63), namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects,
    });
  }
}

/** Waits until the RBAC authorizer allows the verb: its caches follow new bindings a moment later. */
export async function waitUntilAllowed(run: Kubectl, verb: string, resource: string, namespace: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = run(['auth', 'can-i', verb, resource, '-n', namespace]);
    if (r.stdout.trim() === 'yes') return;
    if (Date.now() > deadline) throw new Error(`still not allowed to ${verb} ${resource} in ${namespace}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
