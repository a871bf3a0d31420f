// Option words to values, for the three directive languages: getopt style for #SBATCH and #HPCJOB (-N2, -N 2,
// --nodes=2, --nodes 2) and bsub style for #BSUB (-n 4, -R "span[ptile=2]"). Each option names what it does with its
// value; an option that is not in the table is an error naming it.

/** What one option does: sets part of a request, or is accepted with a warning, or refused with a reason. */
export type OptionAction<R> =
  | { kind: 'set'; apply: (request: R, value: string) => string | undefined }
  | { kind: 'ignored'; why: string }
  | { kind: 'refused'; why: string };

export interface OptionSpec<R> {
  /** Every spelling: '-N', '--nodes'. */
  names: string[];
  /** Whether it takes a value; 'optional' for long options such as --exclusive[=user]. */
  value: boolean | 'optional';
  action: OptionAction<R>;
}

export interface ParsedWords {
  errors: string[];
  warnings: string[];
}

interface Found<R> {
  spec: OptionSpec<R>;
  name: string;
  value?: string;
  /** Words used, counting the option itself. */
  used: number;
}

function lookup<R>(specs: OptionSpec<R>[], name: string): OptionSpec<R> | undefined {
  return specs.find((s) => s.names.includes(name));
}

/** getopt: --long=value, --long value, -Xvalue, -X value. */
function findGetopt<R>(specs: OptionSpec<R>[], words: string[], i: number): Found<R> | string {
  const word = words[i]!;
  const next = words[i + 1];
  if (word.startsWith('--')) {
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    const spec = lookup(specs, name);
    if (!spec) return `unknown option ${name}`;
    if (eq >= 0) return spec.value ? { spec, name, value: word.slice(eq + 1), used: 1 } : `${name} takes no value`;
    if (spec.value === true) {
      return next === undefined ? `${name} needs a value` : { spec, name, value: next, used: 2 };
    }
    return { spec, name, used: 1 };
  }
  if (word.startsWith('-') && word.length >= 2) {
    const name = word.slice(0, 2);
    const spec = lookup(specs, name);
    if (!spec) return `unknown option ${name}`;
    if (!spec.value) return word.length === 2 ? { spec, name, used: 1 } : `${name} takes no value (got ${word})`;
    if (word.length > 2) return { spec, name, value: word.slice(2), used: 1 };
    return next === undefined ? `${name} needs a value` : { spec, name, value: next, used: 2 };
  }
  return `unexpected word '${word}' (options start with -)`;
}

/** bsub: every option is one word (-n, -R, -gpu, -cwd) and its value the next word. */
function findBsub<R>(specs: OptionSpec<R>[], words: string[], i: number): Found<R> | string {
  const name = words[i]!;
  if (!name.startsWith('-')) return `unexpected word '${name}' (options start with -)`;
  const spec = lookup(specs, name);
  if (!spec) return `unknown option ${name}`;
  if (!spec.value) return { spec, name, used: 1 };
  const value = words[i + 1];
  return value === undefined ? `${name} needs a value` : { spec, name, value, used: 2 };
}

/** Applies the words of one directive (or command line) to the request; messages are prefixed with `where`. */
export function applyWords<R>(
  style: 'getopt' | 'bsub',
  specs: OptionSpec<R>[],
  words: string[],
  request: R,
  where: string,
  out: ParsedWords,
): void {
  for (let i = 0; i < words.length;) {
    const found = (style === 'getopt' ? findGetopt : findBsub)(specs, words, i);
    if (typeof found === 'string') {
      out.errors.push(`${where}: ${found}`);
      return;
    }
    i += found.used;
    const { action } = found.spec;
    const shown = found.value === undefined ? found.name : `${found.name} ${found.value}`;
    if (action.kind === 'ignored') out.warnings.push(`${where}: ${shown} is ignored: ${action.why}`);
    else if (action.kind === 'refused') out.errors.push(`${where}: ${found.name} is not supported: ${action.why}`);
    else {
      const problem = action.apply(request, found.value ?? '');
      if (problem) out.errors.push(`${where}: ${found.name}: ${problem}`);
    }
  }
}

export const set = <R>(apply: (request: R, value: string) => string | undefined): OptionAction<R> => ({
  kind: 'set',
  apply,
});
export const ignored = <R>(why: string): OptionAction<R> => ({ kind: 'ignored', why });
export const refused = <R>(why: string): OptionAction<R> => ({ kind: 'refused', why });

/** A positive whole number, or a message. */
export function positive(value: string): number | string {
  return /^[1-9]\d*$/.test(value) && Number(value) <= 1e9
    ? Number(value)
    : `must be a positive whole number, got '${value}'`;
}

/** Slurm's time limit: minutes, m:s, h:m:s, d-h, d-h:m, d-h:m:s; UNLIMITED/INFINITE: none. Seconds, or a message. */
export function slurmDuration(value: string): number | null | string {
  if (/^(unlimited|infinite|-1)$/i.test(value)) return null;
  const bad = `must be minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS, got '${value}'`;
  const m = /^(?:(\d+)-)?(\d+(?::\d+){0,2})$/.exec(value);
  if (!m) return bad;
  const parts = m[2]!.split(':').map(Number);
  let seconds: number;
  if (m[1] !== undefined) {
    const [h = 0, min = 0, s = 0] = parts;
    seconds = ((Number(m[1]) * 24 + h) * 60 + min) * 60 + s;
  } else if (parts.length === 1) seconds = parts[0]! * 60;
  else if (parts.length === 2) seconds = parts[0]! * 60 + parts[1]!;
  else seconds = (parts[0]! * 60 + parts[1]!) * 60 + parts[2]!;
  return seconds > 0 ? seconds : `must be longer than zero, got '${value}'`;
}

/** bsub -W: [hours:]minutes. Seconds, or a message. */
export function lsfDuration(value: string): number | string {
  const m = /^(?:(\d+):)?(\d+)$/.exec(value);
  if (!m) return `must be [HOURS:]MINUTES, got '${value}'`;
  const seconds = (Number(m[1] ?? 0) * 60 + Number(m[2])) * 60;
  return seconds > 0 ? seconds : `must be longer than zero, got '${value}'`;
}

const UNIT_MIB: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 };

/** A memory size with an optional K/M/G/T unit (KB, MB, ... also read), MiB when none. MiB, or a message. */
export function memoryMiB(value: string): number | string {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT])?B?$/i.exec(value);
  if (!m) return `must be a size such as 4096, 4096M or 4G, got '${value}'`;
  const mib = Math.ceil(Number(m[1]) * UNIT_MIB[(m[2] ?? 'M').toUpperCase()]!);
  return mib > 0 ? mib : `must be more than zero, got '${value}'`;
}

/** A Kubernetes quantity for a size in MiB: whole GiB when it is one. */
export const mibQuantity = (mib: number): string => (mib % 1024 === 0 ? `${mib / 1024}Gi` : `${mib}Mi`);
