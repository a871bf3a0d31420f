// `hpcjob submit job.sh`: a batch script and the submit command's flags to an HPCJob. The script's directives
// (#SBATCH or #BSUB, and #HPCJOB) are read in order, then the command line's flags, which win.
import type { BatchDialect } from '../../api/types.js';
import { validateJob } from '../../api/validate.js';
import { scanDirectives, type DirectivePrefix } from './directives.js';
import { LSF_OPTIONS } from './lsf.js';
import { applyWords, type OptionSpec, type ParsedWords } from './options.js';
import { emptyRequest, HPCJOB_OPTIONS, type BatchRequest } from './request.js';
import { SLURM_OPTIONS } from './slurm.js';
import { requestToJob, type Conversion, type SubmitContext } from './to-job.js';

const DIALECT_OF: Partial<Record<DirectivePrefix, BatchDialect>> = { '#SBATCH': 'Slurm', '#BSUB': 'LSF' };

/** Whether a file is a batch script rather than a manifest: a #! line or a directive before the first command. */
export function looksLikeBatchScript(text: string): boolean {
  return text.startsWith('#!') || scanDirectives(text).directives.length > 0;
}

export interface BatchInput extends Omit<SubmitContext, 'dialect' | 'text'> {
  /** The submit command's own words for #HPCJOB options (--image X, --mpi MPICH, ...). */
  flags: string[];
}

function optionsFor(prefix: DirectivePrefix): { style: 'getopt' | 'bsub'; specs: OptionSpec<BatchRequest>[] } {
  if (prefix === '#BSUB') return { style: 'bsub', specs: LSF_OPTIONS };
  return { style: 'getopt', specs: prefix === '#SBATCH' ? SLURM_OPTIONS : HPCJOB_OPTIONS };
}

/** The HPCJob for a script, with every error and warning; the job is checked against the CRD's schema too. */
export function batchScriptToJob(text: string, input: BatchInput): Conversion {
  const scanned = scanDirectives(text, input.fileName);
  const out: ParsedWords = { errors: [...scanned.errors], warnings: [...scanned.warnings] };
  const dialects = [...new Set(scanned.directives.flatMap((d) => DIALECT_OF[d.prefix] ?? []))];
  if (dialects.length > 1) out.errors.push('the script has both #SBATCH and #BSUB directives: use one scheduler’s');
  const dialect = dialects[0] ?? 'Slurm';

  const request = emptyRequest();
  for (const d of scanned.directives) {
    const { style, specs } = optionsFor(d.prefix);
    applyWords(style, specs, d.words, request, `${input.fileName}:${d.line}: ${d.prefix}`, out);
  }
  applyWords('getopt', HPCJOB_OPTIONS, input.flags, request, 'command line', out);

  const conversion = requestToJob(request, { ...input, dialect, text });
  const errors = [...out.errors, ...conversion.errors];
  const warnings = [...out.warnings, ...conversion.warnings];
  if (errors.length > 0 || !conversion.job) return { errors, warnings };
  const invalid = validateJob(conversion.job);
  return invalid.length > 0 ? { errors: invalid, warnings } : { job: conversion.job, errors, warnings };
}
