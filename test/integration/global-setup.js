// Brings the local control plane up once for the integration run, or reuses one that is already up.
// Plain JavaScript: jest loads global setup outside its module transform.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultOperatorLogDir } from './support/operator-pids.js';

const clusterScript = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../hack/cluster');

export function runCluster(args, allowFailure = false) {
  const r = spawnSync('bash', [clusterScript, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0 && !allowFailure) throw new Error(`hack/cluster ${args.join(' ')} exited ${r.status}`);
  return r;
}

/** One operator log directory for the whole run, so that the global teardown finds every operator's PID record. */
export function shareOperatorLogDir() {
  process.env.HPCJOB_OPERATOR_LOG_DIR ??= defaultOperatorLogDir();
}

export default async function globalSetup() {
  shareOperatorLogDir();
  const alreadyUp = runCluster(['status'], true).status === 0;
  if (!alreadyUp) runCluster(['up']);
  globalThis.hpcjobStartedCluster = !alreadyUp;
  process.env.KUBECONFIG = runCluster(['kubeconfig']).stdout.trim();
}
