// hpcjob submit: HPCJob manifests as they are, or a batch script turned into one HPCJob; then, with --wait,
// followed to the end.
import { hostname } from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import type { HPCJob } from '../api/types.js';
import { validateJob } from '../api/validate.js';
import { UsageError, secondsOption, type ParsedCommand } from './args.js';
import { BATCH_FLAGS } from './commands.js';
import { batchScriptToJob, looksLikeBatchScript } from './batch/script.js';
import { connect, createJob } from './kube.js';
import { waitForEnd } from './wait.js';

export const EXIT_INVALID = 65;
const WEEK = 7 * 24 * 3600;

function readInput(file: string): string {
  return readFileSync(file === '-' ? 0 : file, 'utf8');
}

function manifestsOf(text: string): unknown[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJSON() as unknown)
    .filter((doc) => doc !== null && doc !== undefined);
}

/** The submit command's #HPCJOB flags as directive words: --image X, --env A=1, ... */
function batchFlagWords(values: ParsedCommand['values']): string[] {
  return Object.keys(BATCH_FLAGS).flatMap((name) => {
    const value = values[name];
    if (value === undefined) return [];
    return (Array.isArray(value) ? value : [String(value)]).flatMap((v) => [`--${name}`, v]);
  });
}

export interface LoadedJobs {
  jobs: HPCJob[];
  errors: string[];
  warnings: string[];
}

/** The HPCJobs a file holds: its manifests, or the one its batch script describes. */
export function loadJobs(file: string, values: ParsedCommand['values']): LoadedJobs {
  const text = readInput(file);
  const flags = batchFlagWords(values);
  if (looksLikeBatchScript(text)) {
    const r = batchScriptToJob(text, {
      fileName: path.basename(file === '-' ? 'stdin.sh' : file),
      flags,
      submitDir: process.cwd(),
      submitHost: hostname(),
      env: process.env,
      ...(process.env.HPCJOB_IMAGE ? { defaultImage: process.env.HPCJOB_IMAGE } : {}),
    });
    return { jobs: r.job ? [r.job] : [], errors: r.errors.map((e) => `${file}: ${e}`), warnings: r.warnings };
  }
  if (flags.length > 0) throw new UsageError(`option ${flags[0]} applies to batch scripts only`, 'submit');
  const manifests = manifestsOf(text);
  const errors = manifests.flatMap((m, i) => validateJob(m).map((p) => `${file}#${i + 1}: ${p}`));
  if (manifests.length === 0) errors.push(`${file}: no HPCJob manifest and no #SBATCH or #BSUB directive`);
  return { jobs: manifests as HPCJob[], errors, warnings: [] };
}

export async function submit({ values, operands }: ParsedCommand): Promise<number> {
  if (operands.length !== 1) throw new UsageError('submit takes one FILE', 'submit');
  const format = (values.output as string | undefined) ?? 'yaml';
  if (format !== 'yaml' && format !== 'json')
    throw new UsageError(`option -o must be yaml or json, got '${format}'`, 'submit');
  if (values.output !== undefined && !values['dry-run']) throw new UsageError('option -o needs --dry-run', 'submit');
  const timeout = secondsOption(values.timeout, 'submit', WEEK);
  const loaded = loadJobs(operands[0]!, values);
  if (!values['no-warnings']) for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
  if (loaded.errors.length > 0) {
    for (const e of loaded.errors) process.stderr.write(`${e}\n`);
    return EXIT_INVALID;
  }
  if (values['dry-run']) {
    for (const job of loaded.jobs) {
      process.stdout.write(format === 'json' ? `${JSON.stringify(job, null, 2)}\n` : `---\n${stringify(job)}`);
    }
    return 0;
  }
  const clients = connect();
  let code = 0;
  for (const manifest of loaded.jobs) {
    const namespace = (values.namespace as string | undefined) ?? manifest.metadata.namespace ?? clients.namespace;
    const job = { ...manifest, metadata: { ...manifest.metadata, namespace } };
    await createJob(clients, job);
    process.stdout.write(`hpcjob/${job.metadata.name} created in ${namespace}\n`);
    if (values.wait) code = Math.max(code, await waitForEnd(clients, namespace, job.metadata.name, timeout));
  }
  return code;
}
