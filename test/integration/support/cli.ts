// The built hpcjob CLI run as a user runs it, against the local cluster; every run still going when a test ends is
// killed by stopCliRuns (an afterEach), so a waiting CLI never holds the run open.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { kubeconfigPath, repoRoot } from './cluster.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

/** Runs `hpcjob ARGS...` (dist/cli/main.js) to its end. */
export function hpcjob(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist/cli/main.js'), ...args], {
      env: { ...process.env, KUBECONFIG: kubeconfigPath() },
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

export function stopCliRuns(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}
