// The operator's keys and entrypoint scripts used by real sshd and real mpirun (Open MPI and MPICH) across network
// namespaces, each "pod" with its own address and hostname and an arbitrary non-root uid; the hostfile and ssh_config
// are the ones the entrypoints write from the pod's environment. Where each rank ran is read from the ranks' own
// output.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MPIImplementation } from '../../src/api/types.js';
import { WORKERS_UNREACHABLE_EXIT_CODE } from '../../src/render/entrypoints.js';
import { renderHostfile } from '../../src/render/hostfile.js';
import { renderSshConfig } from '../../src/render/ssh.js';
import { Job, missingTools, SLOTS, SSH_PORT } from './pods.js';

const WORKERS = 2;
const RANKS = WORKERS * SLOTS;

const mpirun: Record<'OpenMPI' | 'MPICH', string> = { OpenMPI: 'mpirun.openmpi', MPICH: 'mpiexec.hydra' };

// Each rank reports its rank, hostname, addresses, uid, the mode of the key file ssh uses in its pod, and the
// variables the launcher forwards.
const REPORT =
  'echo "rank=${OMPI_COMM_WORLD_RANK:-$PMI_RANK} host=$(hostname) uid=$(id -u) key=$(stat -c %a "$1")' +
  ' nccl=${NCCL_HPCJOB_TEST:-} ucx=${UCX_HPCJOB_TEST:-} fwd=${MY_SETTING:-} addr=$(ip -4 -o addr show dev eth0)"';

const FORWARDED = {
  NCCL_HPCJOB_TEST: 'n1',
  UCX_HPCJOB_TEST: 'u1',
  MY_SETTING: 'two words',
  HPCJOB_FORWARD_ENV: 'MY_SETTING',
};

interface Rank {
  rank: number;
  host: string;
  uid: number;
  key: string;
  nccl: string;
  ucx: string;
  fwd: string;
  addr: string;
}

function parseRanks(stdout: string): Rank[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('rank='))
    .map((l) => {
      const m = /^rank=(\d+) host=(\S+) uid=(\d+) key=(\S*) nccl=(\S*) ucx=(\S*) fwd=(.*) addr=(.*)$/.exec(l);
      if (!m) throw new Error(`unexpected rank line: ${l}`);
      return { rank: +m[1]!, host: m[2]!, uid: +m[3]!, key: m[4]!, nccl: m[5]!, ucx: m[6]!, fwd: m[7]!, addr: m[8]! };
    })
    .sort((a, b) => a.rank - b.rank);
}

describe('MPI bootstrap across network namespaces', () => {
  let job: Job;

  beforeAll(() => {
    // Missing tools fail every test here: run hack/mpi-deps.sh.
    const missing = missingTools();
    if (missing.length > 0) throw new Error(`missing tools: ${missing.join(', ')} (run hack/mpi-deps.sh)`);
    job = new Job(WORKERS);
    try {
      job.create();
    } catch (e) {
      job.destroy();
      throw e;
    }
  });

  afterEach(() => job?.stopProcesses());
  afterAll(() => job?.destroy());

  const startWorkers = (impl: MPIImplementation) => job.workers.map((_, i) => job.startWorker(i, impl));
  const describeRun = (r: { code: number | null; stdout: string; stderr: string }, logs: (() => string)[] = []) =>
    `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}\nworkers:\n${logs.map((l) => l()).join('\n')}`;

  for (const impl of ['OpenMPI', 'MPICH'] as const) {
    test(`${impl}: mpirun through the launcher entrypoint runs ${SLOTS} ranks on each worker as the job's uid`, async () => {
      job.writeConfig();
      const workers = startWorkers(impl);
      const keyPath = join(job.runPath, 'id_key');
      const result = await job.runLauncher(
        impl,
        [mpirun[impl], '-n', String(RANKS), 'sh', '-c', REPORT, 'rank', keyPath],
        FORWARDED,
      );
      const details = describeRun(
        result,
        workers.map((w) => w.log),
      );
      expect({ code: result.code, details }).toEqual({ code: 0, details });

      const ranks = parseRanks(result.stdout);
      expect(ranks.map((r) => r.rank)).toEqual([0, 1, 2, 3]);
      // Filled in hostfile order, SLOTS per worker, none on the launcher: by hostname and by address.
      ranks.forEach((r, i) => {
        const worker = job.workers[Math.floor(i / SLOTS)]!;
        expect(r.host).toBe(worker.hostname);
        expect(r.addr).toContain(`inet ${worker.ip}/24`);
        expect(r.uid).toBe(job.uid);
        // The key ssh uses inside the worker pod is the entrypoint's private copy.
        expect(r.key).toBe('600');
        expect([r.nccl, r.ucx, r.fwd]).toEqual(['n1', 'u1', 'two words']);
      });

      // sshd runs as the arbitrary uid, not root.
      for (const w of workers) {
        const status = readFileSync(`/proc/${w.process.pid}/status`, 'utf8');
        expect(status).toMatch(new RegExp(`^Uid:\\s+${job.uid}\\s`, 'm'));
      }

      // The launcher wrote the hostfile, every pod the ssh_config (workers for Open MPI's tree spawn).
      const hostfile = readFileSync(join(job.launcher.runDir, 'hostfile'), 'utf8');
      expect(hostfile).toBe(
        renderHostfile(
          impl,
          job.workers.map((w) => ({ name: w.dnsName, slots: SLOTS })),
        ),
      );
      const sshConfig = renderSshConfig({
        port: SSH_PORT,
        identityFile: keyPath,
        knownHostsFile: join(job.sshDir, 'known_hosts'),
        hostPatterns: [`${job.prefix}-worker-*`, `${job.prefix}-launcher*`],
      });
      for (const pod of job.pods) expect(readFileSync(join(pod.runDir, 'ssh_config'), 'utf8')).toBe(sshConfig);
    });

    test(`${impl}: a rank exiting 3 makes the launcher entrypoint exit 3`, async () => {
      job.writeConfig();
      const workers = startWorkers(impl);
      const result = await job.runLauncher(impl, [
        mpirun[impl],
        '-n',
        String(RANKS),
        'sh',
        '-c',
        'r=${OMPI_COMM_WORLD_RANK:-$PMI_RANK}; [ "$r" = 2 ] && exit 3; exit 0',
      ]);
      const details = describeRun(
        result,
        workers.map((w) => w.log),
      );
      expect({ code: result.code, details }).toEqual({ code: 3, details });
    });
  }

  test('Open MPI: when the pod sets mca_base_env_list, the forwarded names join it (mpirun refuses it beside -x)', async () => {
    job.writeConfig();
    startWorkers('OpenMPI');
    const result = await job.runLauncher(
      'OpenMPI',
      [mpirun.OpenMPI, '-n', String(RANKS), 'sh', '-c', 'echo "$POD_SETTING/$NCCL_HPCJOB_TEST"'],
      { ...FORWARDED, POD_SETTING: 'p1', OMPI_MCA_mca_base_env_list: 'POD_SETTING' },
    );
    const details = describeRun(result);
    expect({ code: result.code, details }).toEqual({ code: 0, details });
    expect(result.stdout.split('\n').filter(Boolean)).toEqual(Array<string>(RANKS).fill('p1/n1'));
  });

  test("the launcher's private key is a 0600 copy owned by the job's uid, though the Secret's is group-readable", async () => {
    job.writeConfig();
    startWorkers('OpenMPI');
    const result = await job.runLauncher('OpenMPI', ['sh', '-c', `stat -c '%a %u' ${join(job.runPath, 'id_key')}`]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(`600 ${job.uid}`);
    // The same file in the launcher pod's own run directory, seen from outside.
    const key = statSync(join(job.launcher.runDir, 'id_key'));
    expect({ mode: key.mode & 0o777, uid: key.uid }).toEqual({ mode: 0o600, uid: job.uid });
    expect(statSync(join(job.sshDir, 'id_key')).mode & 0o777).toBe(0o440);
  });

  test('one worker whose sshd starts 5 s late: the launcher waits, then succeeds', async () => {
    job.writeConfig();
    job.startWorker(0, 'OpenMPI');
    const late = setTimeout(() => job.startWorker(1, 'OpenMPI'), 5000);
    try {
      const result = await job.runLauncher('OpenMPI', [mpirun.OpenMPI, '-n', String(RANKS), 'hostname']);
      const details = describeRun(result);
      expect({ code: result.code, details }).toEqual({ code: 0, details });
      expect(result.seconds).toBeGreaterThanOrEqual(5);
      const hosts = result.stdout.split('\n').filter(Boolean).sort();
      expect(hosts).toEqual(job.workers.flatMap((w) => Array<string>(SLOTS).fill(w.hostname)));
    } finally {
      clearTimeout(late);
    }
  });

  test('one worker that never starts: the launcher gives up within its bound, naming that host', async () => {
    job.writeConfig();
    job.startWorker(0, 'OpenMPI');
    const bound = 4;
    const result = await job.runLauncher('OpenMPI', [mpirun.OpenMPI, '-n', String(RANKS), 'hostname'], {
      HPCJOB_WAIT_TIMEOUT_SECONDS: String(bound),
    });
    expect(result.code).toBe(WORKERS_UNREACHABLE_EXIT_CODE);
    // The bound, plus one last round of connection attempts.
    expect(result.seconds).toBeLessThan(bound + 10);
    expect(result.stderr).toContain(job.workers[1]!.dnsName);
    expect(result.stderr).not.toContain(`${job.workers[0]!.dnsName}:`);
    expect(result.stdout).toBe('');
  });
});
