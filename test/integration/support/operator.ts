// The operator as a real process against the local control plane, with its log in a file that a failing test prints.
import { type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { kubeconfigPath, kubectl, repoRoot } from './cluster.js';
import { defaultOperatorLogDir } from './operator-pids.js';
import { spawnRecorded, stopProcess, waitReady } from './tracked-process.js';

export const operatorLogDir = process.env.HPCJOB_OPERATOR_LOG_DIR ?? defaultOperatorLogDir();
process.env.HPCJOB_OPERATOR_LOG_DIR = operatorLogDir;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export function installCrd(): void {
  const applied = kubectl(['apply', '-f', path.join(repoRoot, 'crds/hpcjob.yaml')]);
  if (applied.status !== 0) throw new Error(`kubectl apply crds: ${applied.stderr}`);
  const waited = kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/hpcjobs.hpcjob.dev']);
  if (waited.status !== 0) throw new Error(`CRD not established: ${waited.stderr}`);
}

export class OperatorProcess {
  #child: ChildProcess | undefined;
  #port = 0;
  readonly logFile: string;

  constructor(
    name = 'operator',
    private readonly extraArgs: string[] = [],
    private readonly kubeconfig: () => string = kubeconfigPath,
    /** Node.js's own flags, before the operator's script (the chart's container command sets some). */
    private readonly nodeFlags: string[] = [],
  ) {
    mkdirSync(operatorLogDir, { recursive: true });
    this.logFile = path.join(operatorLogDir, `${name}.log`);
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get metricsUrl(): string {
    return `http://127.0.0.1:${this.#port}/metrics`;
  }

  async start(): Promise<void> {
    this.#port = await freePort();
    this.#child = spawnRecorded(
      operatorLogDir,
      this.logFile,
      process.execPath,
      [
        ...this.nodeFlags,
        path.join(repoRoot, 'dist/main.js'),
        '--kubeconfig',
        this.kubeconfig(),
        '--metrics-port',
        String(this.#port),
        ...this.extraArgs,
      ],
      { ...process.env, LOG_LEVEL: 'debug', HPCJOB_METRICS_ADDRESS: '127.0.0.1' },
    );
    try {
      await waitReady(this.#child, `http://127.0.0.1:${this.#port}/readyz`, 'operator', this.logFile);
    } catch (err) {
      // An operator that never became ready is not left running behind the failed start.
      await this.stop('SIGKILL');
      throw err;
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    // An operator stuck in its shutdown is killed, not waited on until the hook's own timeout.
    await stopProcess(this.#child, signal, 30_000);
    this.#child = undefined;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }
}

/**
 * A configuration file whose site policy allows the host network everywhere, privileged containers and nodeName:
 * for suites about something else (faults, fabric, Pod Security) that use these settings on purpose. The site
 * policy's own tests start from its defaults.
 */
export function permissiveConfigFile(extraYaml = ''): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hpcjob-config-'));
  const file = path.join(dir, 'cluster.yaml');
  const policy = ['sitePolicy:', '  hostNetworkNamespaces: ["*"]', '  privileged: true', '  nodeName: true'];
  writeFileSync(file, [...policy, extraYaml].join('\n'));
  return file;
}
