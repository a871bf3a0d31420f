#!/usr/bin/env node
// hpcjob: the user's command line, also installed as the kubectl plugin `kubectl hpcjob`. Commands and options are
// in commands.ts; `hpcjob --help` lists them. Exit codes: the launcher's own for submit --wait and wait, 2 for bad
// usage, 65 for an invalid manifest or script, 124 for a wait that timed out, 1 for anything else.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommand, secondsOption, UsageError, type ParsedCommand } from './args.js';
import { commandHelp, COMMANDS, overview } from './commands.js';
import { candidates, completionScript } from './completion.js';
import { jobTable, describe } from './format.js';
import { apiErrorMessage, connect, deleteJob, followLauncherLog, getJob, launcherLog, listJobs } from './kube.js';
import { EXIT_INVALID, loadJobs, submit } from './submit.js';
import { waitForEnd, waitForLauncher } from './wait.js';

export const EXIT_USAGE = 2;
const WEEK = 7 * 24 * 3600;

/** Every problem of manifests or batch scripts, each prefixed with where it came from. */
export function validateFiles(files: string[]): string[] {
  return files.flatMap((file) => loadJobs(file, {}).errors);
}

function oneName({ command, operands }: ParsedCommand): string {
  if (operands.length !== 1) throw new UsageError(`${command} takes one job NAME`, command);
  return operands[0]!;
}

const namespaceOf = (p: ParsedCommand, fallback: string): string =>
  (p.values.namespace as string | undefined) ?? fallback;

async function runCommand(p: ParsedCommand): Promise<number> {
  const out = (text: string): void => void process.stdout.write(`${text}\n`);
  switch (p.command) {
    case 'help': {
      const topic = p.operands[0];
      if (topic !== undefined && !COMMANDS[topic]) throw new UsageError(`unknown command '${topic}'`);
      out(topic ? commandHelp(topic) : overview());
      return 0;
    }
    case 'completion': {
      const script = completionScript(p.operands[0] ?? '');
      if (!script || p.operands.length !== 1) throw new UsageError('completion takes bash or zsh', 'completion');
      process.stdout.write(script);
      return 0;
    }
    case 'validate': {
      if (p.operands.length === 0) throw new UsageError('validate takes one FILE or more', 'validate');
      const problems = validateFiles(p.operands);
      for (const problem of problems) process.stderr.write(`${problem}\n`);
      if (problems.length === 0) out(`${p.operands.join(', ')}: valid`);
      return problems.length === 0 ? 0 : EXIT_INVALID;
    }
    case 'submit':
      return submit(p);
  }
  const c = connect();
  const namespace = namespaceOf(p, c.namespace);
  switch (p.command) {
    case 'status':
      out(describe(await getJob(c, namespace, oneName(p))));
      return 0;
    case 'list': {
      if (p.operands.length > 0) throw new UsageError('list takes no operands', 'list');
      const all = p.values['all-namespaces'] === true;
      const jobs = await listJobs(c, all ? undefined : namespace);
      out(jobs.length === 0 ? `No HPCJobs in ${all ? 'any namespace' : namespace}.` : jobTable(jobs, Date.now(), all));
      return 0;
    }
    case 'logs': {
      const name = oneName(p);
      if (p.values.follow) {
        await followLauncherLog(c, namespace, await waitForLauncher(c, namespace, name), process.stdout);
        return 0;
      }
      const podName = (await getJob(c, namespace, name)).status?.launcher?.podName;
      if (!podName) throw new Error(`${name} has no launcher yet (hpcjob logs -f waits for it)`);
      process.stdout.write(await launcherLog(c, namespace, podName));
      return 0;
    }
    case 'cancel':
      if (p.operands.length === 0) throw new UsageError('cancel takes one job NAME or more', 'cancel');
      for (const name of p.operands) {
        await deleteJob(c, namespace, name);
        out(`hpcjob/${name} cancelled: deleted with its pods`);
      }
      return 0;
    case 'wait':
      return waitForEnd(c, namespace, oneName(p), secondsOption(p.values.timeout, 'wait', WEEK));
  }
  throw new UsageError(`unknown command '${p.command}'`);
}

/** Job names for completion, from the cluster, given up on after two seconds. */
async function jobNames(namespace: string | undefined): Promise<string[]> {
  const c = connect();
  const names = listJobs(c, namespace ?? c.namespace).then((jobs) => jobs.map((j) => j.metadata.name));
  const timeout = new Promise<string[]>((resolve) => setTimeout(() => resolve([]), 2000).unref());
  return Promise.race([names, timeout]);
}

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === '__complete') {
    for (const c of await candidates(argv.slice(1), jobNames)) process.stdout.write(`${c}\n`);
    return 0;
  }
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(`${overview()}\n`);
    return argv.length === 0 ? EXIT_USAGE : 0;
  }
  try {
    const parsed = parseCommand(argv);
    if (parsed.values.help === true) {
      process.stdout.write(`${commandHelp(parsed.command)}\n`);
      return 0;
    }
    return await runCommand(parsed);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const where = err.command ? `hpcjob ${err.command}` : 'hpcjob';
    const usage = err.command ? `usage: ${COMMANDS[err.command]!.synopsis}` : 'usage: hpcjob COMMAND [options]';
    process.stderr.write(`${where}: ${err.message}\n${usage}\n(${where} --help for more)\n`);
    return EXIT_USAGE;
  }
}

/** Run as a program (hpcjob, kubectl-hpcjob, or kubectl's completion hook for the plugin), not imported. */
function invokedAs(): string | undefined {
  const script = process.argv[1];
  if (!script) return undefined;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url) ? path.basename(script) : undefined;
  } catch {
    return undefined;
  }
}

const invocation = invokedAs();
if (invocation !== undefined) {
  const argv = process.argv.slice(2);
  run(invocation === 'kubectl_complete-hpcjob' ? ['__complete', ...argv] : argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`hpcjob: ${apiErrorMessage(err)}\n`);
      process.exit(1);
    },
  );
}
