// Kills any operator a test left running (one whose test timed out before stopping it), then stops the control
// plane only when this run started it; a cluster that was already up stays up.
import { runCluster } from './global-setup.js';
import { defaultOperatorLogDir, killRecordedOperators } from './support/operator-pids.js';

export default async function globalTeardown() {
  const killed = killRecordedOperators(process.env.HPCJOB_OPERATOR_LOG_DIR ?? defaultOperatorLogDir());
  if (killed.length > 0) console.error(`global teardown: killed operator processes left running: ${killed.join(' ')}`);
  if (globalThis.hpcjobStartedCluster && process.env.HPCJOB_KEEP_CLUSTER !== '1') runCluster(['down']);
}
