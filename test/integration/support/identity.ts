// Acting as another identity against the local control plane: a kubeconfig whose client certificate, signed by the
// cluster's CA, names a ServiceAccount, so RBAC sees exactly that account's permissions.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kubectl } from './cluster.js';

/** The ServiceAccount's user name, as `kubectl --as` and RBAC subjects write it. */
export const serviceAccountUser = (namespace: string, serviceAccount: string): string =>
  `system:serviceaccount:${namespace}:${serviceAccount}`;

/** Writes a kubeconfig for namespace/serviceAccount (groups system:serviceaccounts) and returns its path. */
export function serviceAccountKubeconfig(namespace: string, serviceAccount: string): string {
  const work = mkdtempSync(path.join(os.tmpdir(), 'hpcjob-identity-'));
  const stateDir =
    process.env.HPCJOB_CLUSTER_DIR ??
    path.join(process.env.HPCJOB_CACHE ?? path.join(os.homedir(), '.cache/hpcjob-operator'), 'cluster');
  const pki = path.join(stateDir, 'pki');
  const key = path.join(work, 'sa-user.key');
  const csr = path.join(work, 'sa-user.csr');
  const crt = path.join(work, 'sa-user.crt');
  const subject = `/O=system:serviceaccounts/CN=${serviceAccountUser(namespace, serviceAccount)}`;
  execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', subject], {
    stdio: 'ignore',
  });
  const ca = ['-CA', path.join(pki, 'ca.crt'), '-CAkey', path.join(pki, 'ca.key'), '-CAcreateserial'];
  execFileSync('openssl', ['x509', '-req', '-in', csr, ...ca, '-out', crt, '-days', '1'], { stdio: 'ignore' });
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
