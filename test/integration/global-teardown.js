// Stops the control plane only when this run started it; a cluster that was already up stays up.
import { runCluster } from './global-setup.js';

export default async function globalTeardown() {
  if (globalThis.hpcjobStartedCluster && process.env.HPCJOB_KEEP_CLUSTER !== '1') runCluster(['down']);
}
