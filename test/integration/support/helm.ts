// The project's Helm chart rendered by helm (built from its Go module by hack/helm.sh), for the Kubernetes version of
// the local control plane.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './cluster.js';

export function helmTemplate(release: string, namespace: string, extraArgs: string[]): string {
  return execFileSync(
    'bash',
    [
      path.join(repoRoot, 'hack/helm.sh'),
      'template',
      release,
      path.join(repoRoot, 'charts/hpcjob-operator'),
      '--namespace',
      namespace,
      '--kube-version',
      '1.36.3',
      ...extraArgs,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}
