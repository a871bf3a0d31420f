// Wrong batch scripts get an error naming the file, the line, the directive and the rule; ignored directives a
// warning; nothing is dropped silently.
import { batchScriptToJob } from '../../../src/cli/batch/script.js';
import { scanDirectives, splitWords } from '../../../src/cli/batch/directives.js';

const IMAGE = '#HPCJOB --image=img:1\n';
const convert = (text: string, flags: string[] = []) => batchScriptToJob(text, { fileName: 'job.sh', flags, env: {} });

const wrong: [string, string, string][] = [
  ['an unknown #SBATCH option', `#SBATCH --nodez=2\n${IMAGE}a`, 'job.sh:1: #SBATCH: unknown option --nodez'],
  ['an unknown short option', `#SBATCH -Z 2\n${IMAGE}a`, 'job.sh:1: #SBATCH: unknown option -Z'],
  ['an unknown #BSUB option', `#BSUB -frobnicate 1\n${IMAGE}a`, 'job.sh:1: #BSUB: unknown option -frobnicate'],
  ['an unknown #HPCJOB option', `#HPCJOB --imagine=x\na`, 'job.sh:1: #HPCJOB: unknown option --imagine'],
  ['a value missing at the end', `#SBATCH -N\n${IMAGE}a`, 'job.sh:1: #SBATCH: -N needs a value'],
  [
    'a count that is not one',
    `#SBATCH -N two\n${IMAGE}a`,
    "job.sh:1: #SBATCH: -N: must be a positive whole number, got 'two'",
  ],
  ['a zero count', `#SBATCH --ntasks=0\n${IMAGE}a`, "--ntasks: must be a positive whole number, got '0'"],
  ['a bad time', `#SBATCH -t 1:2:3:4\n${IMAGE}a`, 'job.sh:1: #SBATCH: -t: must be minutes, MM:SS, HH:MM:SS'],
  ['a bad LSF time', `#BSUB -W 1h\n${IMAGE}a`, "job.sh:1: #BSUB: -W: must be [HOURS:]MINUTES, got '1h'"],
  ['a bad memory size', `#SBATCH --mem=lots\n${IMAGE}a`, "--mem: must be a size such as 4096, 4096M or 4G, got 'lots'"],
  [
    'a generic resource that is not a GPU',
    `#SBATCH --gres=nvme:1\n${IMAGE}a`,
    "--gres: only gpu resources are supported, got 'nvme:1'",
  ],
  [
    'a job array',
    `#SBATCH --array=1-10\n${IMAGE}a`,
    'job.sh:1: #SBATCH: --array is not supported: submit one job per array element',
  ],
  ['a dependency', `#SBATCH -d afterok:12\n${IMAGE}a`, '-d is not supported: use a workflow'],
  [
    'a node list',
    `#SBATCH -w node[1-4]\n${IMAGE}a`,
    '-w is not supported: nodes are chosen by the Kubernetes scheduler',
  ],
  ['an LSF job array', `#BSUB -J "sweep[1-10]"\n${IMAGE}a`, '-J: job arrays (name[1-10]) are not supported'],
  [
    'an LSF span other than ptile or hosts=1',
    `#BSUB -n 4 -R "span[hosts=2]"\n${IMAGE}a`,
    'span[hosts=2]: only hosts=1 is supported',
  ],
  ['an unclosed quote', `#SBATCH -J "open\n${IMAGE}a`, 'job.sh:1: #SBATCH: a quote is not closed'],
  ['both schedulers', `#SBATCH -N 1\n#BSUB -n 1\n${IMAGE}a`, 'the script has both #SBATCH and #BSUB directives'],
  [
    'more tasks than nodes × tasks per node',
    `#SBATCH -N 2 --ntasks-per-node=2 -n 8\n${IMAGE}a`,
    '8 tasks do not fit 2 nodes × 2 tasks per node',
  ],
  [
    'fewer tasks than nodes',
    `#SBATCH -N 4 -n 2\n${IMAGE}a`,
    '2 tasks cannot use 4 nodes: each node needs at least one task',
  ],
  ['GPUs that do not divide', `#SBATCH -N 3 -G 4\n${IMAGE}a`, '4 GPUs cannot be shared evenly by 3 nodes'],
  ['no image', `#SBATCH -N 1\na`, 'no image: add "#HPCJOB --image=IMAGE" to the script'],
  [
    'an MPI that does not exist',
    `#HPCJOB --image=i --mpi=LAM\na`,
    "--mpi: must be OpenMPI, MPICH or IntelMPI, got 'LAM'",
  ],
  ['a bad exported name', `#SBATCH --export=1BAD=x\n${IMAGE}a`, "--export: '1BAD' is not a variable name"],
  [
    'a flag with a value',
    `#SBATCH --exclusive --requeue=yes\n${IMAGE}a`,
    'job.sh:1: #SBATCH: --requeue takes no value',
  ],
  ['an invalid --name', `#SBATCH -N 1\n${IMAGE}a`, '--name Bad_Name: bad-name would be a valid name'],
  ['a spec the CRD refuses', `#SBATCH -N 1\n#HPCJOB --image=i --shared-memory=lots\na`, 'spec.sharedMemory'],
];

describe('wrong batch scripts', () => {
  it.each(wrong)('%s', (what, text, message) => {
    const r = convert(text, what === 'an invalid --name' ? ['--name', 'Bad_Name'] : []);
    expect(r.job).toBeUndefined();
    expect(r.errors.join('\n')).toContain(message);
  });
});

describe('warnings', () => {
  it('names each ignored directive and why; the job is still made', () => {
    const r = convert(`#SBATCH -N 1 -A physics --mail-type=END --mail-user=a@b\n${IMAGE}a`);
    expect(r.errors).toEqual([]);
    expect(r.job).toBeDefined();
    expect(r.warnings).toEqual([
      'job.sh:1: #SBATCH: -A physics is ignored: accounting is the cluster’s (namespaces, quotas)',
      'job.sh:1: #SBATCH: --mail-type END is ignored: no mail is sent; use hpcjob wait',
      'job.sh:1: #SBATCH: --mail-user a@b is ignored: no mail is sent; use hpcjob wait',
    ]);
  });

  it('says a directive after the first command is ignored', () => {
    const r = convert(`#!/bin/sh\n${IMAGE}echo hi\n#SBATCH -N 4\n`);
    expect(r.job?.spec.workers).toBe(1);
    expect(r.warnings).toContain('job.sh:4: #SBATCH after the first command is ignored, as the scheduler does');
  });

  it('says a bare exported name is not set in the submitting shell', () => {
    const r = convert(`#SBATCH --export=NOPE_NOT_SET\n${IMAGE}a`);
    expect(r.warnings).toContain('NOPE_NOT_SET is exported but not set in this shell: not passed to the job');
  });

  it('says LSF select sections are left to the scheduler', () => {
    const r = convert(`#BSUB -n 2 -R "select[mem>4000] span[ptile=1]"\n${IMAGE}a`);
    expect(r.job?.spec.workers).toBe(2);
    expect(r.warnings).toContain("-R select[...] is ignored: node selection is the Kubernetes scheduler's");
  });
});

describe('directive lines', () => {
  it('splits words as a shell does, and stops at a comment', () => {
    expect(splitWords(` -J "a b" --x='c d' e\\ f # g h`)).toEqual(['-J', 'a b', '--x=c d', 'e f']);
    expect(splitWords(` --comment="x # not a comment"`)).toEqual(['--comment=x # not a comment']);
    expect(splitWords(` -J "a\\"b"`)).toEqual(['-J', 'a"b']);
    expect(splitWords(` -J "open`)).toBeUndefined();
  });

  it('reads only #SBATCH, #BSUB and #HPCJOB at the start of a line, before the first command', () => {
    const s = scanDirectives(
      '#!/bin/bash\n# SBATCH -N 9\n  #SBATCH -N 8\n#SBATCHX -N 7\n#SBATCH -N 2\necho\n#BSUB -n 1\n',
    );
    expect(s.directives).toEqual([{ prefix: '#SBATCH', line: 5, words: ['-N', '2'] }]);
    expect(s.warnings).toEqual(['script:7: #BSUB after the first command is ignored, as the scheduler does']);
  });
});
