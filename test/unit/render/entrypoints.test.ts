// The entrypoint scripts on their own: syntax, the exit codes the operator documents, loading from dist/, and
// launcher.sh's rewriting of an mpirun line for each MPI, with a stand-in mpirun that prints what it was given, and
// its hostfile and wait with a stand-in ssh. Real sshd and mpirun runs are in test/mpi; the wait at scale in
// wait.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MPIImplementation } from '../../../src/api/types.js';
import {
  ENTRYPOINT_FILES,
  SETUP_FAILED_EXIT_CODE,
  WORKERS_UNREACHABLE_EXIT_CODE,
} from '../../../src/render/entrypoints.js';

const SCRIPTS_DIR = resolve('src/render/scripts');

describe('ENTRYPOINT_FILES', () => {
  it('holds the worker and launcher scripts and what they source', () => {
    expect(Object.keys(ENTRYPOINT_FILES).sort()).toEqual(['common.sh', 'launcher.sh', 'wait.sh', 'worker.sh']);
  });

  it.each(['common.sh', 'worker.sh', 'launcher.sh', 'wait.sh'])('%s parses as POSIX sh (dash)', (name) => {
    const r = spawnSync('sh', ['-n'], { input: ENTRYPOINT_FILES[name], encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('uses the exit codes exported to the operator', () => {
    expect(ENTRYPOINT_FILES['common.sh']).toContain(
      `HPCJOB_EXIT_WORKERS_UNREACHABLE=${WORKERS_UNREACHABLE_EXIT_CODE}\n`,
    );
    expect(ENTRYPOINT_FILES['common.sh']).toContain(`HPCJOB_EXIT_SETUP=${SETUP_FAILED_EXIT_CODE}\n`);
  });

  it('finds the scripts from a compiled module in dist/ too', () => {
    // dist/render/entrypoints.js sits two levels below the project, beside src/.
    const project = mkdtempSync(join(tmpdir(), 'hpcjob-dist-'));
    try {
      mkdirSync(join(project, 'dist/render'), { recursive: true });
      mkdirSync(join(project, 'src/render'), { recursive: true });
      symlinkSync(SCRIPTS_DIR, join(project, 'src/render/scripts'));
      copyFileSync('src/render/entrypoints.ts', join(project, 'dist/render/entrypoints.ts'));
      const out = execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(join(project, 'dist/render/entrypoints.ts'))}); console.log(Object.keys(m.ENTRYPOINT_FILES).join())`,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
      );
      expect(out.trim()).toBe('common.sh,worker.sh,launcher.sh,wait.sh');
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});

describe('launcher.sh', () => {
  let dir: string;
  const config = () => join(dir, 'config');
  // The hostfile and ssh_config the launcher writes from its environment.
  const run = () => join(dir, 'run');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hpcjob-launcher-'));
    for (const d of ['config', 'ssh', 'run', 'bin']) mkdirSync(join(dir, d));
    for (const [name, text] of Object.entries(ENTRYPOINT_FILES)) writeFileSync(join(config(), name), text);
    writeFileSync(join(dir, 'ssh/id_key'), 'key\n', { mode: 0o440 });
    // Stand-in mpirun and mpiexec: each argument on its own line, then the MPI settings of its environment.
    const fake = '#!/bin/sh\nfor a in "$@"; do echo "arg:$a"; done\nenv | grep -E "^(OMPI|PRTE|HYDRA|I_MPI)_" | sort\n';
    for (const name of ['mpirun', 'mpiexec.hydra']) writeFileSync(join(dir, 'bin', name), fake, { mode: 0o755 });
    // Stand-in ssh (`ssh -F <config> -o ConnectTimeout=<s> <host> true`): logs in, or refuses when told to.
    const ssh = [
      '#!/bin/sh',
      `echo "$5" >>${join(dir, 'ssh-hosts')}`,
      '[ -z "${FAKE_SSH_REFUSE:-}" ] || { echo "ssh: connect to host $5 port 2222: Connection refused" >&2; exit 255; }',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'bin', 'ssh'), ssh, { mode: 0o755 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function launch(impl: MPIImplementation, command: string[], env: Record<string, string> = {}) {
    const r = spawnSync('sh', [join(config(), 'launcher.sh'), ...command], {
      encoding: 'utf8',
      env: {
        PATH: `${join(dir, 'bin')}:/usr/bin:/bin`,
        HPCJOB_CONFIG_DIR: config(),
        HPCJOB_SSH_DIR: join(dir, 'ssh'),
        HPCJOB_RUN_DIR: join(dir, 'run'),
        HPCJOB_MPI_IMPLEMENTATION: impl,
        // No workers unless a test says: the launcher has nothing to wait for.
        HPCJOB_JOB_NAME: 'j',
        HPCJOB_HOST_DOMAIN: 'd',
        HPCJOB_WORKERS: '0',
        NCCL_IB_HCA: 'mlx5',
        UNRELATED: 'x',
        ...env,
      },
    });
    const lines = r.stdout.split('\n').filter(Boolean);
    return {
      status: r.status,
      stderr: r.stderr,
      args: lines.filter((l) => l.startsWith('arg:')).map((l) => l.slice(4)),
      env: Object.fromEntries(lines.filter((l) => !l.startsWith('arg:')).map((l) => l.split(/=(.*)/s).slice(0, 2))),
    };
  }

  it('Open MPI: puts the hostfile and -x for forwarded variables on the mpirun line, and sets ORTE and PRRTE names', () => {
    const r = launch('OpenMPI', ['mpirun', '-np', '4', 'app'], {
      MY_VAR: 'a b',
      HPCJOB_FORWARD_ENV: 'MY_VAR,UNSET_VAR',
    });
    expect(r.status).toBe(0);
    expect(r.args).toEqual(['--hostfile', `${run()}/hostfile`, '-x', 'MY_VAR', '-x', 'NCCL_IB_HCA', '-np', '4', 'app']);
    expect(r.env).toMatchObject({
      OMPI_MCA_orte_default_hostfile: `${run()}/hostfile`,
      PRTE_MCA_prte_default_hostfile: `${run()}/hostfile`,
      OMPI_MCA_plm_rsh_args: `-F ${run()}/ssh_config`,
      PRTE_MCA_plm_ssh_args: `-F ${run()}/ssh_config`,
    });
  });

  it("Open MPI: keeps the user's own hosts and the pod's settings", () => {
    const r = launch('OpenMPI', [join(dir, 'bin/mpirun'), '--host', 'a,b', 'app'], { OMPI_MCA_plm_rsh_args: '-v' });
    expect(r.args).toEqual(['-x', 'NCCL_IB_HCA', '--host', 'a,b', 'app']);
    expect(r.env.OMPI_MCA_plm_rsh_args).toBe('-v');
  });

  it('Intel MPI: -f and -genv on the mpiexec line, Hydra bootstrap settings with the ssh_config', () => {
    const r = launch('IntelMPI', ['mpiexec.hydra', '-n', '2', 'app'], { UCX_TLS: 'rc,sm' });
    expect(r.status).toBe(0);
    expect(r.args).toEqual([
      '-f',
      `${run()}/hostfile`,
      '-genv',
      'NCCL_IB_HCA',
      'mlx5',
      '-genv',
      'UCX_TLS',
      'rc,sm',
      '-n',
      '2',
      'app',
    ]);
    expect(r.env).toMatchObject({
      I_MPI_HYDRA_HOST_FILE: `${run()}/hostfile`,
      I_MPI_HYDRA_BOOTSTRAP: 'ssh',
      I_MPI_HYDRA_BOOTSTRAP_EXEC_EXTRA_ARGS: `-F ${run()}/ssh_config`,
    });
  });

  it('MPICH: Hydra launcher settings', () => {
    const r = launch('MPICH', ['mpiexec.hydra', '-hosts', 'a', 'app']);
    expect(r.args).toEqual(['-genv', 'NCCL_IB_HCA', 'mlx5', '-hosts', 'a', 'app']);
    expect(r.env).toMatchObject({ HYDRA_LAUNCHER: 'ssh', HYDRA_LAUNCHER_EXTRA_ARGS: `-F ${run()}/ssh_config` });
  });

  it.each<MPIImplementation>(['MPICH', 'IntelMPI', 'OpenMPI'])(
    '%s: logs forwarded variables by name, never their values, and still passes the values to mpirun',
    (impl) => {
      const token = 'tok-3f9a1c7e5d-never-logged';
      const r = launch(impl, ['mpiexec.hydra', '-genv', 'DB_PASSWORD', 'hunter2-x', '-x', 'API_KEY=k-77e1', 'app'], {
        API_TOKEN: token,
        HPCJOB_FORWARD_ENV: 'API_TOKEN',
      });
      expect(r.status).toBe(0);
      expect(r.stderr).toContain('hpcjob: running: ');
      for (const secret of [token, 'hunter2-x', 'k-77e1']) expect(r.stderr).not.toContain(secret);
      expect(r.stderr).toContain('-genv DB_PASSWORD <hidden>');
      expect(r.stderr).toContain('-x API_KEY=<hidden>');
      if (impl === 'OpenMPI') {
        expect(r.args).toContain('API_TOKEN');
      } else {
        expect(r.stderr).toContain('-genv API_TOKEN <hidden>');
        expect(r.args.slice(r.args.indexOf('API_TOKEN'), r.args.indexOf('API_TOKEN') + 2)).toEqual([
          'API_TOKEN',
          token,
        ]);
      }
    },
  );

  it('runs any other command unchanged and exits with its code', () => {
    const r = launch('OpenMPI', ['sh', '-c', 'echo "arg:$0 $1"; exit 7', 'x', 'y']);
    expect(r.args).toEqual(['x y']);
    expect(r.status).toBe(7);
  });

  it('fails its setup with 125: no command, an unknown MPI', () => {
    expect(launch('OpenMPI', []).status).toBe(SETUP_FAILED_EXIT_CODE);
    const r = launch('LAM' as MPIImplementation, ['true']);
    expect(r.status).toBe(SETUP_FAILED_EXIT_CODE);
    expect(r.stderr).toContain("unknown HPCJOB_MPI_IMPLEMENTATION 'LAM'");
  });

  it('writes the hostfile (the launcher first when it runs ranks) and ssh_config into the run directory', () => {
    const r = launch('MPICH', ['sh', '-c', 'echo "arg:$HPCJOB_HOSTFILE"'], {
      HPCJOB_LAUNCHER_RUNS_RANKS: 'true',
      HPCJOB_SLOTS_PER_WORKER: '3',
    });
    expect(r.status).toBe(0);
    expect(r.args).toEqual([`${run()}/hostfile`]);
    expect(readFileSync(`${run()}/hostfile`, 'utf8')).toBe('j-launcher.d:3\n');
    expect(readFileSync(`${run()}/ssh_config`, 'utf8')).toContain('Host j-worker-* j-launcher*\n');
  });

  it('waits until every worker lets ssh in, then runs the command', () => {
    rmSync(join(dir, 'ssh-hosts'), { force: true });
    const r = launch('OpenMPI', ['mpirun', 'app'], { HPCJOB_WORKERS: '3', HPCJOB_SLOTS_PER_WORKER: '2' });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('hpcjob: 3/3 workers reachable after ');
    expect(readFileSync(join(dir, 'ssh-hosts'), 'utf8').split('\n').filter(Boolean).sort()).toEqual([
      'j-worker-0.d',
      'j-worker-1.d',
      'j-worker-2.d',
    ]);
    expect(r.args.slice(0, 2)).toEqual(['--hostfile', `${run()}/hostfile`]);
    expect(readFileSync(`${run()}/hostfile`, 'utf8')).toBe(
      'j-worker-0.d slots=2\nj-worker-1.d slots=2\nj-worker-2.d slots=2\n',
    );
  });

  it('exits 124 without running the command when workers refuse ssh past HPCJOB_WAIT_TIMEOUT_SECONDS', () => {
    const r = launch('OpenMPI', ['mpirun', 'app'], {
      HPCJOB_WORKERS: '2',
      HPCJOB_WAIT_TIMEOUT_SECONDS: '1',
      FAKE_SSH_REFUSE: 'yes',
    });
    expect(r.status).toBe(WORKERS_UNREACHABLE_EXIT_CODE);
    expect(r.args).toEqual([]);
    expect(r.stderr).toContain(
      'hpcjob:   j-worker-0.d: Connection refused\nhpcjob:   j-worker-1.d: Connection refused\n',
    );
  });
});

describe('hpcjob_sshd_setenv (common.sh)', () => {
  // OpenSSH's sshd keeps only the first SetEnv line: every variable must be on one.
  const setenv = (env: Record<string, string>) =>
    spawnSync('sh', ['-c', `. ${join(SCRIPTS_DIR, 'common.sh')}; hpcjob_sshd_setenv`], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', ...env },
    });

  it('writes PATH, libraries and the nss_wrapper variables on a single SetEnv line', () => {
    const r = setenv({
      LD_LIBRARY_PATH: '/opt/lib',
      LD_PRELOAD: '/usr/lib/libnss_wrapper.so /opt/other.so',
      NSS_WRAPPER_PASSWD: '/run/hpcjob/passwd',
      NSS_WRAPPER_GROUP: '/etc/group',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      'SetEnv PATH="/usr/bin:/bin" LD_LIBRARY_PATH="/opt/lib" LD_PRELOAD="/usr/lib/libnss_wrapper.so /opt/other.so"' +
        ' NSS_WRAPPER_PASSWD="/run/hpcjob/passwd" NSS_WRAPPER_GROUP="/etc/group"\n',
    );
  });

  it('leaves out a value it cannot quote, and says so', () => {
    const r = setenv({ LD_LIBRARY_PATH: '/odd"path' });
    expect(r.stdout).toBe('SetEnv PATH="/usr/bin:/bin"\n');
    expect(r.stderr).toContain('not passing LD_LIBRARY_PATH');
  });
});
