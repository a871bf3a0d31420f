// #BSUB options (bsub's own spellings) and what each becomes in a BatchRequest. docs/cli.md has the same table.
import { ignored, lsfDuration, memoryMiB, positive, refused, set, type OptionSpec } from './options.js';
import { parseExport, textField, type BatchRequest } from './request.js';

/** -R "span[ptile=4] rusage[mem=4096] select[...]": the sections this understands, one message per other one. */
function resourceRequirement(r: BatchRequest, value: string): string | undefined {
  const sections = [...value.matchAll(/(\w+)\s*\[([^\]]*)\]/g)];
  if (sections.length === 0) return `expected sections such as span[ptile=4] or rusage[mem=4096], got '${value}'`;
  for (const [, name, body] of sections) {
    const settings = Object.fromEntries(
      body!.split(/[:,\s]+/).flatMap((kv) => (kv.includes('=') ? [kv.split('=', 2) as [string, string]] : [])),
    );
    if (name === 'span') {
      if (settings.ptile !== undefined) {
        const n = positive(settings.ptile);
        if (typeof n === 'string') return `span[ptile]: ${n}`;
        r.tasksPerNode = n;
      }
      if (settings.hosts !== undefined) {
        if (settings.hosts !== '1') return `span[hosts=${settings.hosts}]: only hosts=1 is supported (use ptile)`;
        r.nodes = 1;
      }
    } else if (name === 'rusage') {
      if (settings.mem === undefined) continue;
      const mib = memoryMiB(settings.mem);
      if (typeof mib === 'string') return `rusage[mem]: ${mib}`;
      r.memoryPerTaskMiB = mib;
    } else {
      r.notes.push(`-R ${name}[...] is ignored: node selection is the Kubernetes scheduler's`);
    }
  }
  return undefined;
}

/** -gpu "num=2:mode=exclusive_process" or "-" (the default: one per host). */
function gpu(r: BatchRequest, value: string): string | undefined {
  if (value === '-') {
    r.gpusPerNode = 1;
    return undefined;
  }
  const num = /(?:^|:)num=([^:]+)/.exec(value)?.[1];
  const n = positive(num?.split('/')[0] ?? '1');
  if (typeof n === 'string') return `num: ${n}`;
  r.gpusPerNode = n;
  return undefined;
}

/** -J NAME; NAME[1-10] would be a job array. */
function jobName(r: BatchRequest, v: string): string | undefined {
  return /\[.*\]/.test(v) ? 'job arrays (name[1-10]) are not supported' : textField('jobName')(r, v);
}

const noEffect = 'it has no equivalent on Kubernetes';

export const LSF_OPTIONS: OptionSpec<BatchRequest>[] = [
  {
    names: ['-n'],
    value: true,
    action: set((r, v) => {
      // -n min,max: the job gets the minimum.
      const n = positive(v.split(',')[0]!);
      if (typeof n === 'string') return n;
      r.tasks = n;
      return undefined;
    }),
  },
  {
    names: ['-nnodes'],
    value: true,
    action: set((r, v) => {
      const n = positive(v);
      if (typeof n === 'string') return n;
      r.nodes = n;
      return undefined;
    }),
  },
  { names: ['-R'], value: true, action: set(resourceRequirement) },
  { names: ['-gpu'], value: true, action: set(gpu) },
  {
    names: ['-M'],
    value: true,
    action: set((r, v) => {
      const mib = memoryMiB(v);
      if (typeof mib === 'string') return mib;
      r.memoryPerNodeMiB = mib;
      return undefined;
    }),
  },
  {
    names: ['-W'],
    value: true,
    action: set((r, v) => {
      const seconds = lsfDuration(v);
      if (typeof seconds === 'string') return seconds;
      r.timeLimitSeconds = seconds;
      return undefined;
    }),
  },
  { names: ['-J'], value: true, action: set(jobName) },
  { names: ['-o', '-oo'], value: true, action: set(textField('output')) },
  { names: ['-e', '-eo'], value: true, action: set(textField('error')) },
  { names: ['-cwd'], value: true, action: set(textField('workingDir')) },
  { names: ['-q'], value: true, action: set(textField('queue')) },
  {
    names: ['-x'],
    value: false,
    action: set((r) => {
      r.exclusive = true;
      return undefined;
    }),
  },
  { names: ['-env'], value: true, action: set((r, v) => parseExport(r, v.split(','))) },
  { names: ['-P', '-G', '-sla'], value: true, action: ignored('accounting is the cluster’s (namespaces, quotas)') },
  { names: ['-u'], value: true, action: ignored('no mail is sent; use hpcjob wait') },
  { names: ['-B', '-N'], value: false, action: ignored('no mail is sent; use hpcjob wait') },
  { names: ['-Jd', '-app', '-a', '-L', '-We', '-c', '-v'], value: true, action: ignored(noEffect) },
  { names: ['-r', '-rn'], value: false, action: ignored('restarts follow runPolicy.backoffLimit') },
  { names: ['-K'], value: false, action: ignored('use hpcjob submit --wait') },
  { names: ['-w'], value: true, action: refused('use a workflow (docs/pipelines.md)') },
  { names: ['-m'], value: true, action: refused('hosts are chosen by the Kubernetes scheduler') },
  { names: ['-b'], value: true, action: refused('a job starts when it is submitted') },
  { names: ['-H'], value: false, action: refused('submit with runPolicy.suspend in a manifest instead') },
  { names: ['-I', '-Ip', '-Is'], value: false, action: refused('batch jobs only; use kubectl exec for a shell') },
  { names: ['-i'], value: true, action: refused('a batch job has no standard input') },
];
