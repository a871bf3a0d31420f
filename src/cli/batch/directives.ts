// The directive lines of a batch script (#SBATCH, #BSUB, #HPCJOB) and their words. Like sbatch and bsub, only the
// lines before the script's first command count: a directive after it is a plain comment (and gets a warning here,
// since the user most likely meant it).

export type DirectivePrefix = '#SBATCH' | '#BSUB' | '#HPCJOB';
const PREFIXES: DirectivePrefix[] = ['#SBATCH', '#BSUB', '#HPCJOB'];

export interface Directive {
  prefix: DirectivePrefix;
  /** 1-based line number in the script, for messages. */
  line: number;
  words: string[];
}

export interface ScannedScript {
  directives: Directive[];
  /** Problems with the script itself: unbalanced quotes. */
  errors: string[];
  warnings: string[];
}

function prefixOf(line: string): DirectivePrefix | undefined {
  return PREFIXES.find((p) => line.startsWith(p) && (line.length === p.length || /\s/.test(line[p.length]!)));
}

/**
 * Shell-like words: whitespace separates, '...' and "..." quote (a backslash escapes in double quotes and outside
 * quotes), and a word starting with # begins a comment that runs to the end of the line. Undefined when a quote is
 * left open.
 */
export function splitWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) word = (word ?? '') + text[++i];
      else word += c;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '#' && word === undefined) {
      break;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) return undefined;
  if (word !== undefined) words.push(word);
  return words;
}

/** The directives before the first command, in order. */
export function scanDirectives(script: string, fileName = 'script'): ScannedScript {
  const result: ScannedScript = { directives: [], errors: [], warnings: [] };
  let inHeader = true;
  script.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const number = i + 1;
    const prefix = prefixOf(line);
    if (!inHeader) {
      if (prefix)
        result.warnings.push(
          `${fileName}:${number}: ${prefix} after the first command is ignored, as the scheduler does`,
        );
      return;
    }
    if (prefix) {
      const words = splitWords(line.slice(prefix.length));
      if (words === undefined) result.errors.push(`${fileName}:${number}: ${prefix}: a quote is not closed`);
      else result.directives.push({ prefix, line: number, words });
      return;
    }
    const trimmed = line.trim();
    if (trimmed !== '' && !trimmed.startsWith('#')) inHeader = false;
  });
  return result;
}
