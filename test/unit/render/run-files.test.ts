// The files the entrypoints write from the pod's environment into the run directory (common.sh), run by dash:
// the hostfile, as renderHostfile would write it, at 100,000 workers, and the ssh client configuration, as
// renderSshConfig would. Neither fits in, or belongs in, a ConfigMap the jobs of a namespace share.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MPIImplementation } from '../../../src/api/types.js';
import { SETUP_FAILED_EXIT_CODE } from '../../../src/render/entrypoints.js';
import { renderHostfile } from '../../../src/render/hostfile.js';
import { renderSshConfig } from '../../../src/render/ssh.js';

const COMMON = resolve('src/render/scripts/common.sh');
const MANY = 100_000;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hpcjob-run-files-'));
  mkdirSync(join(dir, 'run'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Sources common.sh and runs `shell` with the pod's environment. */
function inPod(shell: string, env: Record<string, string>) {
  const r = spawnSync('sh', ['-c', `. ${COMMON}\n${shell}`], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', HPCJOB_RUN_DIR: join(dir, 'run'), ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hostEnv = (impl: MPIImplementation, workers: number, launcherRunsRanks: boolean, slots = 4) => ({
  HPCJOB_MPI_IMPLEMENTATION: impl,
  HPCJOB_JOB_NAME: 'train',
  HPCJOB_HOST_DOMAIN: 'hpcjob-hosts',
  HPCJOB_WORKERS: String(workers),
  HPCJOB_SLOTS_PER_WORKER: String(slots),
  HPCJOB_LAUNCHER_RUNS_RANKS: String(launcherRunsRanks),
});

/** The hosts in rank order, as the operator names them. */
function hosts(workers: number, launcherRunsRanks: boolean, slots = 4) {
  const list = Array.from({ length: workers }, (_, i) => ({ name: `train-worker-${i}.hpcjob-hosts`, slots }));
  return launcherRunsRanks ? [{ name: 'train-launcher.hpcjob-hosts', slots }, ...list] : list;
}

describe('hpcjob_write_hostfile (common.sh)', () => {
  it.each<[MPIImplementation, boolean, string, string]>([
    ['OpenMPI', false, 'train-worker-0.hpcjob-hosts slots=4', 'train-worker-99999.hpcjob-hosts slots=4'],
    ['MPICH', false, 'train-worker-0.hpcjob-hosts:4', 'train-worker-99999.hpcjob-hosts:4'],
    ['IntelMPI', true, 'train-launcher.hpcjob-hosts:4', 'train-worker-99999.hpcjob-hosts:4'],
    ['OpenMPI', true, 'train-launcher.hpcjob-hosts slots=4', 'train-worker-99999.hpcjob-hosts slots=4'],
  ])(
    `%s, launcher runs ranks: %s: ${MANY} workers, as renderHostfile writes them, path in HPCJOB_HOSTFILE`,
    (impl, launcherRunsRanks, first, last) => {
      const r = inPod(
        'hpcjob_write_hostfile && sh -c \'echo "$HPCJOB_HOSTFILE"\'',
        hostEnv(impl, MANY, launcherRunsRanks),
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const path = join(dir, 'run', 'hostfile');
      // Exported: the MPI and srun started later read it.
      expect(r.stdout).toBe(`${path}\n`);
      const text = readFileSync(path, 'utf8');
      const lines = text.split('\n');
      expect(lines.pop()).toBe('');
      expect(lines).toHaveLength(MANY + (launcherRunsRanks ? 1 : 0));
      expect(lines[0]).toBe(first);
      expect(lines.at(-1)).toBe(last);
      if (launcherRunsRanks) expect(lines[1]).toMatch(/^train-worker-0\.hpcjob-hosts[: ]/);
      expect(text).toBe(renderHostfile(impl, hosts(MANY, launcherRunsRanks)));
    },
  );

  it('takes the slots per worker, and writes an empty file for no workers', () => {
    expect(inPod('hpcjob_write_hostfile', hostEnv('MPICH', 2, false, 8)).status).toBe(0);
    expect(readFileSync(join(dir, 'run', 'hostfile'), 'utf8')).toBe(renderHostfile('MPICH', hosts(2, false, 8)));
    expect(inPod('hpcjob_write_hostfile', hostEnv('OpenMPI', 0, false)).status).toBe(0);
    expect(readFileSync(join(dir, 'run', 'hostfile'), 'utf8')).toBe('');
  });

  it.each([
    [{ HPCJOB_WORKERS: 'ten' }, "HPCJOB_WORKERS must be a number, got 'ten'"],
    [{ HPCJOB_SLOTS_PER_WORKER: '2x' }, "HPCJOB_SLOTS_PER_WORKER must be a number, got '2x'"],
    [{ HPCJOB_HOST_DOMAIN: '' }, 'HPCJOB_JOB_NAME and HPCJOB_HOST_DOMAIN must be set'],
    [{ HPCJOB_MPI_IMPLEMENTATION: 'LAM' }, "unknown HPCJOB_MPI_IMPLEMENTATION 'LAM'"],
  ])('fails with 125 on %j', (env, message) => {
    const r = inPod('hpcjob_write_hostfile', { ...hostEnv('OpenMPI', 2, false), ...env });
    expect(r.status).toBe(SETUP_FAILED_EXIT_CODE);
    expect(r.stderr).toBe(`hpcjob: ${message}\n`);
  });
});

describe('hpcjob_write_ssh_config (common.sh)', () => {
  it('writes what renderSshConfig renders for the same job, port, key and known_hosts', () => {
    const ssh = join(dir, 'ssh');
    const r = inPod('hpcjob_write_ssh_config && echo "$HPCJOB_SSH_CONFIG"', {
      HPCJOB_JOB_NAME: 'train',
      HPCJOB_SSH_DIR: ssh,
      HPCJOB_SSH_PORT: '2022',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const path = join(dir, 'run', 'ssh_config');
    expect(r.stdout).toBe(`${path}\n`);
    expect(readFileSync(path, 'utf8')).toBe(
      renderSshConfig({
        port: 2022,
        identityFile: join(dir, 'run', 'id_key'),
        knownHostsFile: join(ssh, 'known_hosts'),
        hostPatterns: ['train-worker-*', 'train-launcher*'],
      }),
    );
  });

  it('fails with 125 without the job name, which its host patterns need', () => {
    const r = inPod('hpcjob_write_ssh_config', {});
    expect(r.status).toBe(SETUP_FAILED_EXIT_CODE);
    expect(r.stderr).toBe('hpcjob: HPCJOB_JOB_NAME is not set\n');
  });
});
