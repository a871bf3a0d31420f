// Access to the local control plane from tests: the hack/cluster script and API clients on its admin kubeconfig.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const clusterScript = path.join(repoRoot, 'hack/cluster');

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

export function clients(): { kc: KubeConfig; core: CoreV1Api; custom: CustomObjectsApi } {
  const kc = kubeConfig();
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
  };
}

/** Runs the control plane's own kubectl against the local cluster. */
export function kubectl(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const binDir = runClusterScript(['bin-dir']).stdout.trim();
  // Bounded: a synchronous call that hangs (an exec into a dying container) would stop jest's own timeouts too.
  const result = spawnSync(path.join(binDir, 'kubectl'), ['--kubeconfig', kubeconfigPath(), ...args], {
    encoding: 'utf8',
    input,
    timeout: 120_000,
  });
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}
