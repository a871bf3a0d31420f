// Where the API server is and how to authenticate to it, for the operator's own REST client (rest.ts): from a
// kubeconfig file (its current context) or, inside a pod, from the ServiceAccount's mounted token and CA.
// Supported credentials: client certificates, bearer tokens (inline or a tokenFile), basic auth, and exec plugins
// (client.authentication.k8s.io ExecCredential). A legacy auth-provider is refused with a message that says so.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

export interface ClusterAccess {
  /** e.g. https://10.96.0.1:443 */
  server: string;
  /** For logs: the kubeconfig context used, or in-cluster. */
  context: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipTlsVerify?: boolean;
  /** The Authorization header for the next request, if any (tokens are re-read or re-issued as they expire). */
  authorization: () => string | undefined;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A mounted ServiceAccount token is rotated by the kubelet; re-reading it this often keeps it current. */
const TOKEN_FILE_REREAD_MS = 60_000;

/** The access a file path (or KUBECONFIG's first entry), else the in-cluster ServiceAccount, else ~/.kube/config gives. */
export function loadClusterAccess(file?: string, env: NodeJS.ProcessEnv = process.env): ClusterAccess {
  const named = file?.split(path.delimiter).find(Boolean);
  if (named) return fromKubeconfigFile(named);
  if (env.KUBERNETES_SERVICE_HOST && existsSync(path.join(SERVICE_ACCOUNT_DIR, 'token'))) return inCluster(env);
  const home = path.join(os.homedir(), '.kube', 'config');
  if (existsSync(home)) return fromKubeconfigFile(home);
  throw new Error('no cluster to talk to: pass --kubeconfig or set KUBECONFIG, or run in a pod with a ServiceAccount');
}

function inCluster(env: NodeJS.ProcessEnv): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    context: 'in-cluster',
    ca: readFileSync(path.join(SERVICE_ACCOUNT_DIR, 'ca.crt')),
    authorization: bearerFromFile(path.join(SERVICE_ACCOUNT_DIR, 'token')),
  };
}

/** The `key` of the entry called `name` in one of a kubeconfig's named lists (contexts, clusters, users). */
function findNamed<T>(list: unknown, name: string, key: string): T {
  const entry = (list as Record<string, unknown>[] | undefined)?.find((e) => e.name === name);
  const value = entry?.[key] as T | undefined;
  if (!value) throw new Error(`kubeconfig: no ${key} named "${name}"`);
  return value;
}

type KubeconfigCluster = {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
};

type KubeconfigUser = {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  'auth-provider'?: { name?: string };
};

interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion?: string;
}

/** The current context of a kubeconfig file; relative file references are read beside the file, as kubectl does. */
export function fromKubeconfigFile(file: string): ClusterAccess {
  const config = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const contextName = config['current-context'] as string | undefined;
  if (!contextName) throw new Error(`kubeconfig ${file}: no current-context`);
  const context = findNamed<{ cluster: string; user: string }>(config.contexts, contextName, 'context');
  const cluster = findNamed<KubeconfigCluster>(config.clusters, context.cluster, 'cluster');
  const user = context.user ? findNamed<KubeconfigUser>(config.users, context.user, 'user') : {};
  if (!cluster.server) throw new Error(`kubeconfig ${file}: cluster "${context.cluster}" has no server`);
  if (user['auth-provider'])
    throw new Error(
      `kubeconfig ${file}: user "${context.user}" uses auth-provider ${user['auth-provider'].name ?? ''}, which the ` +
        'operator does not support; use a token, a client certificate or an exec plugin',
    );
  const dir = path.dirname(path.resolve(file));
  const material = (data: string | undefined, ref: string | undefined): Buffer | undefined =>
    data ? Buffer.from(data, 'base64') : ref ? readFileSync(path.resolve(dir, ref)) : undefined;
  // An exec plugin's client certificate is taken once, at start (connections are made with it); its token is
  // renewed as it expires.
  const exec = user.exec ? execCredential(user.exec, dir) : undefined;
  const issuedAtStart = exec?.();
  return {
    server: cluster.server,
    context: contextName,
    ca: material(cluster['certificate-authority-data'], cluster['certificate-authority']),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    cert: material(user['client-certificate-data'], user['client-certificate']) ?? issuedAtStart?.cert,
    key: material(user['client-key-data'], user['client-key']) ?? issuedAtStart?.key,
    authorization: userAuthorization(user, dir, exec),
  };
}

function userAuthorization(
  user: KubeconfigUser,
  dir: string,
  exec: (() => ExecIssued) | undefined,
): () => string | undefined {
  if (user.token) return () => `Bearer ${user.token}`;
  if (user.tokenFile) return bearerFromFile(path.resolve(dir, user.tokenFile));
  if (user.username !== undefined) {
    const basic = Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64');
    return () => `Basic ${basic}`;
  }
  if (exec)
    return () => {
      const token = exec().token;
      return token ? `Bearer ${token}` : undefined;
    };
  return () => undefined;
}

function bearerFromFile(file: string): () => string {
  let token = '';
  let readAt = -Infinity;
  return () => {
    if (Date.now() - readAt > TOKEN_FILE_REREAD_MS) {
      token = readFileSync(file, 'utf8').trim();
      readAt = Date.now();
    }
    return `Bearer ${token}`;
  };
}

interface ExecIssued {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
}

/** Runs the exec plugin when no credential is held or the one held has expired; its ExecCredential's status. */
function execCredential(config: ExecConfig, dir: string): () => ExecIssued {
  let issued: ExecIssued | undefined;
  let expiresAt = Infinity;
  return () => {
    if (issued && Date.now() < expiresAt) return issued;
    const apiVersion = config.apiVersion ?? 'client.authentication.k8s.io/v1';
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: 'ExecCredential' }),
    };
    for (const e of config.env ?? []) env[e.name] = e.value;
    const command = config.command.includes('/') ? path.resolve(dir, config.command) : config.command;
    const output = execFileSync(command, config.args ?? [], { env, encoding: 'utf8', timeout: 60_000 });
    const status = (JSON.parse(output) as { status?: Record<string, string> }).status ?? {};
    issued = {
      token: status.token,
      cert: status.clientCertificateData ? Buffer.from(status.clientCertificateData) : undefined,
      key: status.clientKeyData ? Buffer.from(status.clientKeyData) : undefined,
    };
    // Renewed a little before it expires, so no request carries a token about to lapse.
    expiresAt = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) - 10_000 : Infinity;
    return issued;
  };
}
