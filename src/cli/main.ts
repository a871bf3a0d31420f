#!/usr/bin/env node
// hpcjob: the user's command line.
//   hpcjob validate FILE...                     check manifests against the CRD schema, offline
//   hpcjob submit FILE [--wait] [-n NS]         create the HPCJob; with --wait, follow it, print the launcher's log at
//                                               the end and exit with mpirun's code
//   hpcjob wait NAME [-n NS] [--timeout S]      wait for the end; exit with the launcher's exit code (like bsub -K)
//   hpcjob status NAME [-n NS]                  phase, workers, exit code and conditions
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { GROUP, PLURAL, VERSION, type HPCJob } from '../api/types.js';
import { validateJob } from '../api/validate.js';
import { mainContainerName } from '../controller/status.js';

const USAGE = `usage:
  hpcjob validate FILE...
  hpcjob submit FILE [--wait] [-n NAMESPACE]
  hpcjob wait NAME [-n NAMESPACE] [--timeout SECONDS]
  hpcjob status NAME [-n NAMESPACE]`;

/** Exit codes of the CLI itself, kept apart from the launcher's codes it passes through. */
const EXIT_USAGE = 64;
const EXIT_INVALID = 65;
const EXIT_TIMEOUT = 124;

function readManifests(file: string): unknown[] {
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  return parseAllDocuments(text)
    .map((doc) => doc.toJSON() as unknown)
    .filter((doc) => doc !== null && doc !== undefined);
}

/** Messages for every invalid manifest, prefixed with where it came from. */
export function validateFiles(files: string[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    readManifests(file).forEach((manifest, i) => {
      for (const message of validateJob(manifest)) problems.push(`${file}#${i + 1}: ${message}`);
    });
  }
  return problems;
}

interface Clients {
  api: CustomObjectsApi;
  core: CoreV1Api;
  namespace: string;
}

function client(): Clients {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const context = kc.getContextObject(kc.getCurrentContext());
  return {
    api: kc.makeApiClient(CustomObjectsApi),
    core: kc.makeApiClient(CoreV1Api),
    namespace: context?.namespace ?? 'default',
  };
}

/** The launcher's own container log (mpirun's output), or why it cannot be read: the pod may be cleaned up. */
async function launcherLog(core: CoreV1Api, namespace: string, podName: string): Promise<string> {
  try {
    const pod = await core.readNamespacedPod({ name: podName, namespace });
    const container = mainContainerName(pod);
    return await core.readNamespacedPodLog({ name: podName, namespace, ...(container ? { container } : {}) });
  } catch (err) {
    const e = err as { code?: number; message?: string };
    throw new Error(
      `cannot read the log of ${podName}: ${e.code ? `API error ${e.code}` : (e.message ?? String(err))}`,
    );
  }
}

async function getJob(api: CustomObjectsApi, namespace: string, name: string): Promise<HPCJob> {
  return (await api.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace,
    name,
  })) as HPCJob;
}

function describe(job: HPCJob): string {
  const s = job.status ?? {};
  const lines = [
    `${job.metadata.namespace}/${job.metadata.name}: ${s.phase ?? 'New'}, workers ${s.workersReady ?? '-'}, exit code ${s.launcher?.exitCode ?? '-'}, restarts ${s.restartCount ?? 0}`,
  ];
  if (s.launcher?.message) lines.push(`  launcher said: ${s.launcher.message}`);
  for (const c of s.conditions ?? []) if (c.status === 'True') lines.push(`  ${c.type}: ${c.reason} - ${c.message}`);
  return lines.join('\n');
}

/** Follows the job to its end; returns the launcher's exit code (1 when the job failed without one). */
async function waitForEnd(
  { api, core }: Clients,
  namespace: string,
  name: string,
  timeoutSeconds: number,
): Promise<number> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let lastPhase = '';
  let lastWhy = '';
  for (;;) {
    const job = await getJob(api, namespace, name);
    const phase = job.status?.phase ?? 'New';
    if (phase !== lastPhase) {
      process.stderr.write(`${name}: ${phase}\n`);
      lastPhase = phase;
    }
    // Why a job waits (Blocked, Unschedulable, Queued by Kueue), each time it changes: a wait never looks silent.
    const waiting = job.status?.conditions?.find(
      (c) => (c.type === 'Blocked' || c.type === 'Unschedulable' || c.type === 'Queued') && c.status === 'True',
    );
    const why = waiting ? `${waiting.type}: ${waiting.reason} - ${waiting.message}` : '';
    if (why !== lastWhy && why !== '') process.stderr.write(`${name}: ${why}\n`);
    lastWhy = why;
    if (phase === 'Succeeded' || phase === 'Failed') {
      const podName = job.status?.launcher?.podName;
      if (podName) {
        await launcherLog(core, namespace, podName).then(
          (log) => process.stdout.write(`----- ${podName} log -----\n${log}${log.endsWith('\n') ? '' : '\n'}-----\n`),
          (err: Error) => process.stderr.write(`${name}: ${err.message}\n`),
        );
      }
      process.stdout.write(`${describe(job)}\n`);
      return job.status?.launcher?.exitCode ?? (phase === 'Succeeded' ? 0 : 1);
    }
    if (Date.now() > deadline) {
      process.stderr.write(`${name}: still ${phase} after ${timeoutSeconds}s\n`);
      return EXIT_TIMEOUT;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n' },
      wait: { type: 'boolean', default: false },
      timeout: { type: 'string', default: String(7 * 24 * 3600) },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : EXIT_USAGE;
  }
  const timeout = Number(values.timeout);
  switch (command) {
    case 'validate': {
      if (args.length === 0) break;
      const problems = validateFiles(args);
      for (const p of problems) process.stderr.write(`${p}\n`);
      if (problems.length === 0) process.stdout.write(`${args.join(', ')}: valid\n`);
      return problems.length === 0 ? 0 : EXIT_INVALID;
    }
    case 'submit': {
      if (args.length !== 1) break;
      const problems = validateFiles(args);
      if (problems.length > 0) {
        for (const p of problems) process.stderr.write(`${p}\n`);
        return EXIT_INVALID;
      }
      const clients = client();
      const { api, namespace: contextNamespace } = clients;
      let code = 0;
      for (const manifest of readManifests(args[0]!) as HPCJob[]) {
        const namespace = values.namespace ?? manifest.metadata.namespace ?? contextNamespace;
        const body = { ...manifest, metadata: { ...manifest.metadata, namespace } };
        await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, body });
        process.stdout.write(`hpcjob/${manifest.metadata.name} created in ${namespace}\n`);
        if (values.wait) code = Math.max(code, await waitForEnd(clients, namespace, manifest.metadata.name, timeout));
      }
      return code;
    }
    case 'wait': {
      if (args.length !== 1) break;
      const clients = client();
      return waitForEnd(clients, values.namespace ?? clients.namespace, args[0]!, timeout);
    }
    case 'status': {
      if (args.length !== 1) break;
      const { api, namespace } = client();
      process.stdout.write(`${describe(await getJob(api, values.namespace ?? namespace, args[0]!))}\n`);
      return 0;
    }
  }
  process.stderr.write(`${USAGE}\n`);
  return EXIT_USAGE;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/hpcjob')) {
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      const e = err as { code?: number; body?: unknown; message?: string };
      process.stderr.write(
        `hpcjob: ${e.code ? `API error ${e.code}: ${JSON.stringify(e.body)}` : (e.message ?? String(err))}\n`,
      );
      process.exit(1);
    },
  );
}
