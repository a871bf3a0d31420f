// Command-line words to a command's options and operands, with usage errors that name the option (exit code 2).
import { parseArgs } from 'node:util';
import { COMMANDS } from './commands.js';

/** Bad usage: the message names what was wrong; the CLI prints it with the command's synopsis and exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

export interface ParsedCommand {
  command: string;
  values: Record<string, string | boolean | string[] | undefined>;
  operands: string[];
}

/** node:util's messages quote the option: "Unknown option '--bogus'. To specify ..." */
function describeParseError(err: { code?: string; message: string }): string {
  const option = /'(-[^' ]*)/.exec(err.message)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? err.message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(err.message)
        ? `option ${option ?? ''} needs a value`.replace('  ', ' ')
        : `option ${option ?? ''} takes no value`.replace('  ', ' ');
    default:
      return err.message;
  }
}

export function parseCommand(argv: string[]): ParsedCommand {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('no command given');
  const doc = COMMANDS[command];
  if (!doc) throw new UsageError(`unknown command '${command}'`);
  const options = Object.fromEntries(
    Object.entries(doc.options).map(([name, o]) => [
      name,
      { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    return { command, values: values as ParsedCommand['values'], operands: positionals };
  } catch (err) {
    throw new UsageError(describeParseError(err as { code?: string; message: string }), command);
  }
}

/** A whole number of seconds from --timeout, or a usage error naming it. */
export function secondsOption(value: unknown, command: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new UsageError(`option --timeout needs a whole number of seconds, got '${String(value)}'`, command);
  }
  return n;
}
