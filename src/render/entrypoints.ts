// The entrypoint scripts the pods run from their namespace's scripts ConfigMap: worker.sh (sshd), launcher.sh (waits for the
// workers, then runs the user's command) and common.sh, which both source. They are kept as real shell files in
// src/render/scripts so they can be read, linted and run as they are.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SCRIPT_NAMES = ['common.sh', 'worker.sh', 'launcher.sh', 'wait.sh'] as const;
/** Only in a batch job's ConfigMap: the script's runner and the srun it finds on its PATH. */
const BATCH_SCRIPT_NAMES = ['batch.sh', 'srun'] as const;

/** Exit code of launcher.sh when a worker's sshd is still unreachable after HPCJOB_WAIT_TIMEOUT_SECONDS. */
export const WORKERS_UNREACHABLE_EXIT_CODE = 124;
/** Exit code of the entrypoints when their own setup fails (no hostfile, no passwd entry possible, ...). */
export const SETUP_FAILED_EXIT_CODE = 125;

/** Beside this module in src/, or the sources' copy when running the compiled dist/render/entrypoints.js. */
function scriptsDir(): string {
  const candidates = ['./scripts/', '../../src/render/scripts/'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const found = candidates.find((dir) => existsSync(`${dir}worker.sh`));
  if (!found) throw new Error(`entrypoint scripts not found in ${candidates.join(' or ')}`);
  return found;
}

function loadScripts(names: readonly string[]): Record<string, string> {
  const dir = scriptsDir();
  return Object.fromEntries(names.map((name) => [name, readFileSync(`${dir}${name}`, 'utf8')]));
}

/** File name → script text, for the ConfigMap mounted at HPCJOB_CONFIG_DIR. */
export const ENTRYPOINT_FILES: Record<string, string> = loadScripts(SCRIPT_NAMES);
/** The same for the files only a batch job has (render/batch.ts). */
export const BATCH_SCRIPT_FILES: Record<string, string> = loadScripts(BATCH_SCRIPT_NAMES);

/** Every script, for the scripts ConfigMap that the jobs of a namespace share. */
export const SCRIPT_FILES: Record<string, string> = { ...ENTRYPOINT_FILES, ...BATCH_SCRIPT_FILES };

/**
 * The scripts ConfigMap is named after its content: an operator with other scripts makes one of its own, and
 * pods already running keep the one they mounted.
 */
export const SCRIPTS_CONFIGMAP = `hpcjob-scripts-${createHash('sha256')
  .update(JSON.stringify(SCRIPT_FILES))
  .digest('hex')
  .slice(0, 10)}`;
