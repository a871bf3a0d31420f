// A job's pods without Kubernetes, for the MPI tests: one network namespace per pod on a private bridge, its own
// hostname (a UTS namespace), its own /etc/hosts and run directory, and an arbitrary non-root uid without a passwd
// entry. Everything is made from the operator's own renderers and entrypoint scripts (which write the hostfile and
// ssh_config from the pod's environment, as in a cluster), and torn down by destroy().
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BatchScript, HPCJob, MPIImplementation } from '../../src/api/types.js';
import { renderBatchFiles } from '../../src/render/batch.js';
import { BATCH_SCRIPT_FILES, ENTRYPOINT_FILES } from '../../src/render/entrypoints.js';
import { generateSshKeyPair, renderKnownHosts } from '../../src/render/ssh.js';

export const SSH_PORT = 2222;
export const SLOTS = 2;
/** What the tests need on the machine; hack/mpi-deps.sh installs them. */
export const TOOLS = ['ip', 'unshare', 'setpriv', 'getent', 'sshd', 'ssh', 'mpirun.openmpi', 'mpiexec.hydra'];
const ROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
// A user's PATH, without sbin: worker.sh must find sshd by itself.
const USER_PATH = '/usr/local/bin:/usr/bin:/bin';

export interface Pod {
  /** The pod's hostname, as `hostname` prints it inside. */
  hostname: string;
  /** The name in the hostfile (<pod>.<subdomain>, as the headless Service gives it). */
  dnsName: string;
  netns: string;
  ip: string;
  /** The pod's own run directory (an emptyDir), mounted at the shared run path inside the pod. */
  runDir: string;
  /** Whether /etc/passwd is writable in the pod (else the entrypoint must use nss_wrapper). */
  writablePasswd: boolean;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

const run = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PATH: ROOT_PATH } });

/** Tools from TOOLS that are not on PATH. */
export function missingTools(): string[] {
  return TOOLS.filter((t) => {
    try {
      run('sh', ['-c', `command -v ${t}`]);
      return false;
    } catch {
      return true;
    }
  });
}

/** A uid and gid with no passwd or group entry, like one chosen by OpenShift or runAsUser. */
function unusedId(): number {
  for (;;) {
    const id = 20000 + (randomBytes(2).readUInt16BE() % 40000);
    try {
      run('getent', ['passwd', String(id)]);
    } catch {
      return id;
    }
  }
}

export class Job {
  readonly id = randomBytes(3).toString('hex');
  readonly prefix = `hj${this.id}`;
  readonly uid = unusedId();
  readonly dir: string;
  readonly configDir: string;
  readonly sshDir: string;
  /** The run path every pod sees (each its own directory bind-mounted there): the hostfile, ssh_config and key. */
  readonly runPath: string;
  readonly launcher: Pod;
  readonly workers: Pod[];
  private readonly switchNetns: string;
  private readonly processes: ChildProcess[] = [];
  private readonly namespaces: string[] = [];

  constructor(workerCount: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'hpcjob-mpi-'));
    chmodSync(this.dir, 0o755);
    this.configDir = join(this.dir, 'config');
    this.sshDir = join(this.dir, 'ssh');
    this.runPath = join(this.dir, 'run');
    this.switchNetns = `${this.prefix}-sw`;
    // A private 10.x.y.0/24 that exists only inside this job's namespaces.
    const [a, b] = randomBytes(2);
    const subnet = `10.${200 + (a! % 50)}.${b! % 250}`;
    const pod = (name: string, n: number, writablePasswd: boolean): Pod => ({
      hostname: `${this.prefix}-${name}`,
      dnsName: `${this.prefix}-${name}.${this.prefix}`,
      netns: `${this.prefix}-${name.replace('worker-', 'w')}`,
      ip: `${subnet}.${n}`,
      runDir: join(this.dir, 'pods', name),
      writablePasswd,
    });
    this.launcher = pod('launcher', 10, true);
    // The last worker has a read-only /etc/passwd: its entrypoint takes the nss_wrapper path.
    this.workers = Array.from({ length: workerCount }, (_, i) => pod(`worker-${i}`, 11 + i, i < workerCount - 1));
  }

  get pods(): Pod[] {
    return [this.launcher, ...this.workers];
  }

  /** Namespaces, bridge, files and keys; call destroy() afterwards, also when this throws. */
  create(): void {
    for (const dir of [this.configDir, this.sshDir, this.runPath]) mkdirSync(dir, { mode: 0o755 });
    this.writeSecret();
    this.addNetns(this.switchNetns);
    run('ip', ['-n', this.switchNetns, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', this.switchNetns, 'link', 'set', 'br0', 'up']);
    const hosts = ['127.0.0.1 localhost', ...this.pods.map((p) => `${p.ip} ${p.dnsName} ${p.hostname}`), ''].join('\n');
    this.pods.forEach((p, i) => {
      // Like an emptyDir: writable by everyone.
      mkdirSync(p.runDir, { recursive: true });
      chmodSync(p.runDir, 0o777);
      this.addNetns(p.netns);
      const port = `p${i}`;
      run('ip', [
        '-n',
        this.switchNetns,
        'link',
        'add',
        port,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        p.netns,
      ]);
      run('ip', ['-n', this.switchNetns, 'link', 'set', port, 'master', 'br0', 'up']);
      run('ip', ['-n', p.netns, 'addr', 'add', `${p.ip}/24`, 'dev', 'eth0']);
      run('ip', ['-n', p.netns, 'link', 'set', 'eth0', 'up']);
      run('ip', ['-n', p.netns, 'link', 'set', 'lo', 'up']);
      // `ip netns exec` mounts the files of /etc/netns/<ns>/ over those of /etc.
      const etc = `/etc/netns/${p.netns}`;
      mkdirSync(etc, { recursive: true });
      writeFileSync(`${etc}/hosts`, hosts);
      if (p.writablePasswd) {
        // As OpenShift images do: /etc/passwd writable by the user's group.
        copyFileSync('/etc/passwd', `${etc}/passwd`);
        chownSync(`${etc}/passwd`, 0, this.uid);
        chmodSync(`${etc}/passwd`, 0o664);
      }
    });
  }

  private addNetns(name: string): void {
    run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
  }

  /** The Secret's files, readable by the user's group only (defaultMode 0440 with fsGroup). */
  private writeSecret(): void {
    const user = generateSshKeyPair(`hpcjob-${this.prefix}`);
    const host = generateSshKeyPair(`hpcjob-${this.prefix}-host`);
    const patterns = [`${this.prefix}-worker-*`, `${this.prefix}-launcher*`];
    const files: Record<string, string> = {
      id_key: user.privateKey,
      'id_key.pub': user.publicKey,
      authorized_keys: user.publicKey,
      host_key: host.privateKey,
      'host_key.pub': host.publicKey,
      known_hosts: renderKnownHosts(patterns, host.publicKey),
    };
    for (const [name, text] of Object.entries(files)) {
      const path = join(this.sshDir, name);
      writeFileSync(path, text);
      chownSync(path, 0, this.uid);
      chmodSync(path, 0o440);
    }
  }

  private writeConfigFile(name: string, text: string): void {
    const path = join(this.configDir, name);
    rmSync(path, { force: true });
    writeFileSync(path, text, { mode: 0o444 });
  }

  /** The scripts ConfigMap: the same for every MPI (the hostfile's syntax follows HPCJOB_MPI_IMPLEMENTATION). */
  writeConfig(): void {
    for (const [name, text] of Object.entries(ENTRYPOINT_FILES)) this.writeConfigFile(name, text);
  }

  /** A batch job's runner and srun, and its own files (render/batch.ts) for the same hosts, beside the scripts. */
  writeBatchConfig(impl: MPIImplementation, batchScript: BatchScript): void {
    const hosts = this.workers.map((w) => ({ name: w.dnsName, slots: SLOTS }));
    const job = {
      metadata: { name: this.prefix, namespace: 'mpi', uid: randomBytes(16).toString('hex') },
      spec: { image: 'none', workers: hosts.length, slotsPerWorker: SLOTS, mpiImplementation: impl, batchScript },
    } as HPCJob;
    const files = { ...BATCH_SCRIPT_FILES, ...renderBatchFiles(job, hosts) };
    for (const [name, text] of Object.entries(files)) this.writeConfigFile(name, text);
  }

  /** The pod's environment as the operator sets it: the job's name and subdomain are the prefix (see dnsName). */
  env(impl: MPIImplementation, extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: ROOT_PATH,
      HPCJOB_SSH_PORT: String(SSH_PORT),
      HPCJOB_CONFIG_DIR: this.configDir,
      HPCJOB_SSH_DIR: this.sshDir,
      HPCJOB_RUN_DIR: this.runPath,
      HPCJOB_MPI_IMPLEMENTATION: impl,
      HPCJOB_JOB_NAME: this.prefix,
      HPCJOB_HOST_DOMAIN: this.prefix,
      HPCJOB_WORKERS: String(this.workers.length),
      HPCJOB_SLOTS_PER_WORKER: String(SLOTS),
      HPCJOB_LAUNCHER_RUNS_RANKS: 'false',
      ...extra,
    };
  }

  /** Runs `/bin/sh <script> args...` in the pod as the job's uid, the way the pod's command does. */
  private spawnInPod(pod: Pod, script: string, args: string[], env: Record<string, string>): ChildProcess {
    // Root sets up the pod (hostname, run directory), then the script runs as the arbitrary uid.
    const inner = [
      'hostname "$POD_HOSTNAME"',
      'mount --bind "$POD_RUN_DIR" "$POD_RUN_PATH"',
      `exec setpriv --reuid=${this.uid} --regid=${this.uid} --clear-groups env PATH=${USER_PATH} /bin/sh "$@"`,
    ].join(' && ');
    const child = spawn(
      'ip',
      ['netns', 'exec', pod.netns, 'unshare', '--uts', 'sh', '-c', inner, 'sh', join(this.configDir, script), ...args],
      {
        env: { ...env, POD_HOSTNAME: pod.hostname, POD_RUN_DIR: pod.runDir, POD_RUN_PATH: this.runPath },
        // Hydra's proxies change to mpiexec's working directory: it must be one the job's uid can enter, which a
        // checkout under a 0700 directory (mktemp -d) is not. A pod starts in its image's WORKDIR likewise.
        cwd: '/tmp',
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.processes.push(child);
    return child;
  }

  /** Starts worker i's entrypoint (sshd in the foreground); its stderr is kept for failure messages. */
  startWorker(i: number, impl: MPIImplementation): { process: ChildProcess; log: () => string } {
    const child = this.spawnInPod(this.workers[i]!, 'worker.sh', [], this.env(impl));
    let log = '';
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    return { process: child, log: () => log };
  }

  /** Runs the launcher's entrypoint with the user's command to its end. */
  runLauncher(
    impl: MPIImplementation,
    command: string[],
    extraEnv: Record<string, string> = {},
    limitSeconds = 90,
  ): Promise<RunResult> {
    const started = Date.now();
    const child = this.spawnInPod(this.launcher, 'launcher.sh', command, this.env(impl, extraEnv));
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => {
      const timer = setTimeout(() => killGroup(child), limitSeconds * 1000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
      });
    });
  }

  /** Ends every process this job started (and anything left in its namespaces, such as sshd's sessions). */
  stopProcesses(): void {
    for (const child of this.processes.splice(0)) killGroup(child);
    for (const ns of this.namespaces) {
      let pids: string[] = [];
      try {
        pids = run('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean);
      } catch {
        // the namespace is already gone
      }
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already ended
        }
      }
    }
  }

  /** Removes every namespace, file and directory made by create(); safe to call after a partial create(). */
  destroy(): void {
    this.stopProcesses();
    for (const ns of this.namespaces.splice(0)) {
      try {
        run('ip', ['netns', 'del', ns]);
      } catch {
        // already removed
      }
    }
    for (const p of this.pods) rmSync(`/etc/netns/${p.netns}`, { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already ended
  }
}

/** Resolves after ms milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
