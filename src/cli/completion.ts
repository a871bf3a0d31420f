// Shell completion: `hpcjob completion bash|zsh` prints a script that asks `hpcjob __complete WORDS...` for
// candidates, so commands, options and job names come from the same table and cluster as the CLI itself. kubectl
// asks the plugin's `kubectl_complete-hpcjob` the same way for `kubectl hpcjob <TAB>`.
import { COMMANDS } from './commands.js';

const BASH = `# hpcjob completion for bash: source <(hpcjob completion bash)
_hpcjob() {
  local IFS=$'\\n'
  COMPREPLY=($(hpcjob __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
  [ \${#COMPREPLY[@]} -gt 0 ] || compopt -o default 2>/dev/null
}
complete -F _hpcjob hpcjob kubectl-hpcjob
`;

const ZSH = `# hpcjob completion for zsh: source <(hpcjob completion zsh)
autoload -U +X bashcompinit && bashcompinit
${BASH.split('\n').slice(1).join('\n')}`;

export function completionScript(shell: string): string | undefined {
  return shell === 'bash' ? BASH : shell === 'zsh' ? ZSH : undefined;
}

const MPI_VALUES = ['OpenMPI', 'MPICH', 'IntelMPI'];

/**
 * Candidates for the last word, given the words typed after `hpcjob` (the last one possibly empty). Job names come
 * from `listJobNames` (the cluster), which may fail: then none.
 */
export async function candidates(
  words: string[],
  listJobNames: (namespace: string | undefined) => Promise<string[]>,
): Promise<string[]> {
  const current = words[words.length - 1] ?? '';
  const starts = (list: string[]): string[] => list.filter((c) => c.startsWith(current));
  if (words.length <= 1) return starts(Object.keys(COMMANDS).concat('--help'));
  const doc = COMMANDS[words[0]!];
  if (!doc) return [];
  if (current.startsWith('-')) {
    return starts(Object.entries(doc.options).flatMap(([n, o]) => [`--${n}`, ...(o.short ? [`-${o.short}`] : [])]));
  }
  const previous = words[words.length - 2]!;
  const option = Object.entries(doc.options).find(([n, o]) => previous === `--${n}` || previous === `-${o.short}`);
  if (option && option[1].type === 'string') return option[0] === 'mpi' ? starts(MPI_VALUES) : [];
  switch (doc.completes) {
    case 'commands':
      return starts(Object.keys(COMMANDS));
    case 'shells':
      return starts(['bash', 'zsh']);
    case 'jobs': {
      const n = words.findIndex((w) => w === '-n' || w === '--namespace');
      const namespace = n >= 0 ? words[n + 1] : undefined;
      return starts(await listJobNames(namespace).catch(() => []));
    }
    default:
      return []; // files: the shell's own completion
  }
}
