// The CLI without a cluster: usage errors name the option and exit 2, every command has --help, completion offers
// commands, options and values, and what list, status and wait print.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../../src/cli/main.js';
import { COMMANDS } from '../../../src/cli/commands.js';
import { candidates, completionScript } from '../../../src/cli/completion.js';
import { age, describe as describeJob, jobTable, progressLine } from '../../../src/cli/format.js';
import { Progress } from '../../../src/cli/wait.js';
import type { HPCJob } from '../../../src/api/types.js';

/** Runs the CLI in-process; what it printed and its exit code. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const write = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = ((s: string) => ((stdout += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
  try {
    return { code: await run(args), stdout, stderr };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'hpcjob-cli-'));
const script = path.join(dir, 'job.sh');
writeFileSync(
  script,
  '#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=2 -t 5\n#SBATCH -A acct\n#HPCJOB --image=img:1\nsrun hostname\n',
);

describe('usage errors', () => {
  it.each([
    [['submit', '--bogus', 'x'], 'hpcjob submit: unknown option --bogus'],
    [['submit'], 'hpcjob submit: submit takes one FILE'],
    [['wait', 'a', '--timeout'], 'hpcjob wait: option --timeout needs a value'],
    [['wait', 'a', '--timeout', 'soon'], "hpcjob wait: option --timeout needs a whole number of seconds, got 'soon'"],
    [['logs', '-x', 'a'], 'hpcjob logs: unknown option -x'],
    [['status'], 'hpcjob status: status takes one job NAME'],
    [['list', 'extra'], 'hpcjob list: list takes no operands'],
    [['completion', 'fish'], 'hpcjob completion: completion takes bash or zsh'],
    [['frobnicate'], "hpcjob: unknown command 'frobnicate'"],
    [['submit', script, '-o', 'yaml'], 'hpcjob submit: option -o needs --dry-run'],
    [['submit', script, '--dry-run', '-o', 'xml'], "hpcjob submit: option -o must be yaml or json, got 'xml'"],
  ])('%j', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(message);
    expect(r.stderr).toContain('usage: ');
  });

  it('refuses batch flags on a manifest', async () => {
    const manifest = path.join(dir, 'job.yaml');
    writeFileSync(
      manifest,
      'apiVersion: hpcjob.dev/v1alpha1\nkind: HPCJob\nmetadata: {name: a}\nspec: {image: i, command: [x], workers: 1}\n',
    );
    const r = await cli(['submit', manifest, '--image', 'other', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('option --image applies to batch scripts only');
  });
});

describe('help', () => {
  it.each(Object.keys(COMMANDS))('%s --help shows its usage and every option', async (command) => {
    const r = await cli([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`usage: ${COMMANDS[command]!.synopsis}`);
    for (const option of Object.keys(COMMANDS[command]!.options)) expect(r.stdout).toContain(`--${option}`);
  });

  it('lists every command', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const command of Object.keys(COMMANDS)) expect(r.stdout).toContain(`  ${command} `);
    expect((await cli([])).code).toBe(2);
  });
});

describe('submit --dry-run and validate on a batch script', () => {
  it('prints the HPCJob as YAML or JSON, with the warnings on stderr', async () => {
    const yaml = await cli(['submit', script, '--dry-run']);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toContain('workers: 2\n  slotsPerWorker: 2\n');
    expect(yaml.stdout).toContain('activeDeadlineSeconds: 300');
    expect(yaml.stderr).toContain('warning: job.sh:3: #SBATCH: -A acct is ignored');
    const json = await cli(['submit', script, '--dry-run', '-o', 'json', '--no-warnings', '--mpi', 'MPICH']);
    expect(json.stderr).toBe('');
    const job = JSON.parse(json.stdout) as HPCJob;
    expect(job.spec).toMatchObject({ workers: 2, mpiImplementation: 'MPICH', batchScript: { dialect: 'Slurm' } });
  });

  it('validate exits 65 with the script’s errors', async () => {
    const bad = path.join(dir, 'bad.sh');
    writeFileSync(bad, '#!/bin/bash\n#SBATCH --nodez 2\n');
    const r = await cli(['validate', bad]);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(`${bad}: bad.sh:2: #SBATCH: unknown option --nodez`);
    expect((await cli(['validate', script])).code).toBe(0);
  });
});

describe('completion', () => {
  const jobs = async (ns: string | undefined) => (ns === 'team' ? ['team-job'] : ['ring', 'cfd']);

  it('offers commands, options, MPI names and job names', async () => {
    expect(await candidates(['su'], jobs)).toEqual(['submit']);
    expect(await candidates(['logs', '--f'], jobs)).toEqual(['--follow']);
    expect(await candidates(['submit', 'x', '--mpi', 'M'], jobs)).toEqual(['MPICH']);
    expect(await candidates(['status', 'r'], jobs)).toEqual(['ring']);
    expect(await candidates(['cancel', '-n', 'team', ''], jobs)).toEqual(['team-job']);
    expect(await candidates(['submit', 'jo'], jobs)).toEqual([]); // files: the shell's own
    expect(await candidates(['wait', ''], () => Promise.reject(new Error('no cluster')))).toEqual([]);
  });

  it('prints scripts for bash and zsh that ask the CLI itself', async () => {
    expect(completionScript('bash')).toContain('complete -F _hpcjob hpcjob kubectl-hpcjob');
    expect(completionScript('zsh')).toContain('bashcompinit');
    const r = await cli(['__complete', 'comp']);
    expect(r.stdout).toBe('completion\n');
  });
});

const job = (name: string, status: HPCJob['status'], created = '2026-12-04T10:00:00Z'): HPCJob => ({
  apiVersion: 'hpcjob.dev/v1alpha1',
  kind: 'HPCJob',
  metadata: { name, namespace: 'lab', creationTimestamp: created },
  spec: { image: 'i', command: ['x'], workers: 4 },
  ...(status ? { status } : {}),
});

describe('what the CLI prints', () => {
  const now = Date.parse('2026-12-04T12:30:00Z');

  it('lists jobs like squeue: name, phase, workers, exit code, age', () => {
    const table = jobTable(
      [
        job('ring', { phase: 'Succeeded', workersReady: '4/4', launcher: { exitCode: 0 } }),
        job('cfd-long-name', undefined),
      ],
      now,
      false,
    );
    expect(table.split('\n')).toEqual([
      'NAME           PHASE      WORKERS  EXIT  AGE',
      'ring           Succeeded  4/4      0     2h',
      'cfd-long-name  New        -/4      -     2h',
    ]);
    expect(jobTable([job('a', undefined)], now, true).split('\n')[0]).toMatch(/^NAMESPACE\s+NAME/);
  });

  it('ages like kubectl', () => {
    expect(age('2026-12-04T12:29:30Z', now)).toBe('30s');
    expect(age('2026-12-04T10:30:00Z', now)).toBe('2h');
    expect(age('2026-12-01T12:30:00Z', now)).toBe('3d');
  });

  it('describes a job with its true conditions', () => {
    const text = describeJob(
      job('ring', {
        phase: 'Failed',
        workersReady: '0/4',
        launcher: { exitCode: 3, message: 'rank 1 died' },
        conditions: [
          { type: 'Failed', status: 'True', reason: 'LauncherFailed', message: 'exit code 3', lastTransitionTime: '' },
          { type: 'Running', status: 'False', reason: 'Ended', message: '', lastTransitionTime: '' },
        ],
      }),
    );
    expect(text).toBe(
      'lab/ring: Failed, workers 0/4, exit code 3, restarts 0\n  launcher said: rank 1 died\n  Failed: LauncherFailed - exit code 3',
    );
  });

  it('shows progress as one redrawn line on a terminal and as changed states only elsewhere', () => {
    let written = '';
    const out = { isTTY: false, write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream;
    const progress = new Progress(out, Date.now() - 65_000);
    progress.update(job('ring', { phase: 'Pending', workersReady: '1/4' }));
    progress.update(job('ring', { phase: 'Pending', workersReady: '1/4' }));
    progress.update(job('ring', { phase: 'Running', workersReady: '4/4' }));
    expect(written).toBe('ring: Pending, workers 1/4 ready, 1m05s\nring: Running, workers 4/4 ready, 1m05s\n');

    written = '';
    (out as { isTTY: boolean }).isTTY = true;
    const tty = new Progress(out, Date.now());
    tty.update(job('ring', { phase: 'Running', workersReady: '4/4' }));
    tty.end();
    expect(written).toBe('\r\x1b[Kring: Running, workers 4/4 ready, 0s\n');
    expect(progressLine(job('x', undefined), 3)).toBe('x: New, workers 0/4 ready, 3s');
  });
});
