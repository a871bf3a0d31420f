// Access to the local control plane from tests: the hack/cluster script and API clients on its admin kubeconfig.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const clusterScript = path.join(repoRoot, 'hack/cluster');

export function runClusterScript(
  args: string[],
  opts: { allowFailure?: boolean } = {},
): { status: number; stdout: string; stderr: string } {
  const result = spawnSync('bash', [clusterScript, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const status = result.status ?? 1;
  if (status !== 0 && !opts.allowFailure) {
    throw new Error(`hack/cluster ${args.join(' ')} exited ${status}:\n${result.stderr}`);
  }
  return { status, stdout: result.stdout, stderr: result.stderr };
}

export function kubeconfigPath(): string {
  return process.env.KUBECONFIG ?? runClusterScript(['kubeconfig']).stdout.trim();
}

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath());
  return kc;
}

export function clients(): { kc: KubeConfig; core: CoreV1Api; apps: AppsV1Api; custom: CustomObjectsApi } {
  const kc = kubeConfig();
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
  };
}

/** Runs the control plane's own kubectl against the local cluster. */
export function kubectl(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const binDir = runClusterScript(['bin-dir']).stdout.trim();
  const result = spawnSync(path.join(binDir, 'kubectl'), ['--kubeconfig', kubeconfigPath(), ...args], {
    encoding: 'utf8',
    input,
  });
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** The last lines of every component's log, for a failing test's report. */
export function componentLogTails(lines = 40): string {
  const stateDir =
    process.env.HPCJOB_CLUSTER_DIR ??
    path.join(process.env.HPCJOB_CACHE ?? path.join(process.env.HOME ?? '', '.cache/hpcjob-operator'), 'cluster');
  const logDir = path.join(stateDir, 'logs');
  if (!existsSync(logDir)) return `(no component logs in ${logDir})`;
  return readdirSync(logDir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => {
      const text = readFileSync(path.join(logDir, f), 'utf8').split('\n').slice(-lines).join('\n');
      return `----- ${f} (last ${lines} lines) -----\n${text}`;
    })
    .join('\n');
}
