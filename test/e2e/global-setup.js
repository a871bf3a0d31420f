// Brings the local cluster up with its real node for the e2e run (or reuses one that is up), and imports the
// images built by hack/images/build.sh into the node's containerd. Without a real node the suite fails here,
// with the reason hack/cluster gave: it never skips.
import { runCluster, shareOperatorLogDir } from '../integration/global-setup.js';

export default async function globalSetup() {
  shareOperatorLogDir();
  const alreadyUp = runCluster(['status'], true).status === 0;
  if (!alreadyUp || runCluster(['node-ip'], true).status !== 0) runCluster(['up']);
  globalThis.hpcjobStartedCluster = !alreadyUp;
  const nodeIp = runCluster(['node-ip'], true);
  if (nodeIp.status !== 0 || !nodeIp.stdout.trim()) {
    throw new Error('the e2e suite needs the real node, and hack/cluster up did not start one (its reason is above)');
  }
  runCluster(['images']);
  process.env.KUBECONFIG = runCluster(['kubeconfig']).stdout.trim();
}
