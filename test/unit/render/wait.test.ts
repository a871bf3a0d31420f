// The launcher's wait for the workers (wait.sh), run by dash as launcher.sh runs it. The per-host probe is replaced
// by a shell function after sourcing, so 100,000 hosts cost no process each; the probe itself is run against a
// stand-in ssh. Real sshd is in test/mpi.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SETUP_FAILED_EXIT_CODE, WORKERS_UNREACHABLE_EXIT_CODE } from '../../../src/render/entrypoints.js';

const SCRIPTS = resolve('src/render/scripts');
const MANY = 100_000;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hpcjob-wait-'));
  mkdirSync(join(dir, 'run'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const host = (i: number) => `j-worker-${i}.d`;

/**
 * Sources the scripts, replaces hpcjob_probe_host with `probe` (a function body: $1 is the host, $T a scratch
 * directory), runs `shell` (by default the wait) and prints `waited` when it returns.
 */
function runWait(probe: string, env: Record<string, string>, shell = 'hpcjob_wait_workers') {
  const script = [
    `. ${SCRIPTS}/common.sh`,
    `. ${SCRIPTS}/wait.sh`,
    `T=${dir}`,
    'hpcjob_progress_seconds=1',
    `hpcjob_probe_host() {\n${probe}\n}`,
    shell,
    'echo waited',
  ].join('\n');
  const r = spawnSync('sh', ['-c', script], {
    encoding: 'utf8',
    env: {
      PATH: '/usr/bin:/bin',
      HPCJOB_RUN_DIR: join(dir, 'run'),
      HPCJOB_JOB_NAME: 'j',
      HPCJOB_HOST_DOMAIN: 'd',
      ...env,
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** How many times each host was probed, from the lines the stubs append to $T/probed. */
function probeCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const h of readFileSync(join(dir, 'probed'), 'utf8').split('\n').filter(Boolean)) {
    counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  return counts;
}

const progressLines = (stderr: string) =>
  stderr.split('\n').filter((l) => /^hpcjob: \d+\/\d+ workers reachable after \d+s$/.test(l));

const RECORD = 'echo "$1" >>"$T/probed"';

describe('hpcjob_wait_workers (wait.sh)', () => {
  it(`probes each of ${MANY} workers once when all answer, and says so`, () => {
    const r = runWait(`${RECORD}\nreturn 0`, { HPCJOB_WORKERS: String(MANY) });
    expect(r.stderr).not.toContain('gave up');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('waited\n');
    const counts = probeCounts();
    expect(counts.size).toBe(MANY);
    const notOnce = Array.from({ length: MANY }, (_, i) => host(i)).filter((h) => counts.get(h) !== 1);
    expect(notOnce).toEqual([]);
    expect(r.stderr).toContain(`hpcjob: waiting for the sshd of ${MANY} workers (32 probes at once, up to 300s)\n`);
    expect(progressLines(r.stderr).at(-1)).toMatch(new RegExp(`^hpcjob: ${MANY}/${MANY} workers reachable after`));
    // The launcher itself is no worker: never probed.
    expect(counts.has('j-launcher.d')).toBe(false);
  });

  it('retries hosts that answer late, only those, and succeeds, with progress lines on the way', () => {
    const late = [host(3), host(50_000), host(MANY - 1)];
    // Each late host answers at its third try.
    const probe = [
      RECORD,
      `case $1 in ${late.join(' | ')})`,
      '  [ ! -e "$T/$1.2" ] || return 0',
      '  if [ -e "$T/$1.1" ]; then : >"$T/$1.2"; else : >"$T/$1.1"; fi',
      '  hpcjob_reason="Connection refused"',
      '  return 1 ;;',
      'esac',
    ].join('\n');
    const r = runWait(probe, { HPCJOB_WORKERS: String(MANY) });
    expect(r.stderr).not.toContain('gave up');
    expect(r.status).toBe(0);
    const counts = probeCounts();
    expect(counts.size).toBe(MANY);
    expect(late.map((h) => counts.get(h))).toEqual([3, 3, 3]);
    expect([...counts.values()].filter((n) => n !== 1)).toHaveLength(late.length);
    // Retries are a second apart, progress is shown every second here: lines while waiting, and one at the end.
    const progress = progressLines(r.stderr);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toMatch(new RegExp(`^hpcjob: ${MANY}/${MANY} workers reachable`));
  });

  it(`exits 124 at its bound among ${MANY} workers, naming the hosts that never answered with their reasons`, () => {
    // Workers 3 and 7 are their lanes' first probes: tried however slow the machine. The others answer, and any the
    // bound came too early for are named as not tried.
    const probe = [
      RECORD,
      'case $1 in',
      `  ${host(3)}) hpcjob_reason="does not resolve"; return 1 ;;`,
      `  ${host(7)}) hpcjob_reason="Connection refused"; return 1 ;;`,
      'esac',
    ].join('\n');
    const r = runWait(probe, { HPCJOB_WORKERS: String(MANY), HPCJOB_WAIT_TIMEOUT_SECONDS: '5' });
    expect(r.status).toBe(WORKERS_UNREACHABLE_EXIT_CODE);
    expect(r.stdout).toBe('');
    const gaveUp =
      /hpcjob: gave up after \d+s \(HPCJOB_WAIT_TIMEOUT_SECONDS=5\) waiting for the sshd of (\d+) workers:\n/.exec(
        r.stderr,
      );
    expect(gaveUp).not.toBeNull();
    const named = r.stderr.split('\n').filter((l) => l.startsWith('hpcjob:   '));
    expect(named.slice(0, 2)).toEqual([
      `hpcjob:   ${host(3)}: does not resolve`,
      `hpcjob:   ${host(7)}: Connection refused`,
    ]);
    expect(
      named.slice(2).filter((l) => !/: not tried before the deadline$|^hpcjob: {3}\.\.\. and \d+ more$/.test(l)),
    ).toEqual([]);
    const missing = Number(gaveUp![1]);
    expect(progressLines(r.stderr).at(-1)).toMatch(new RegExp(`^hpcjob: ${MANY - missing}/${MANY} workers reachable`));
    expect(probeCounts().get(host(7))).toBeGreaterThanOrEqual(1);
  });

  it('names the first 20 unreachable hosts in index order and counts the rest', () => {
    // 28 never answer: worker 3 does not resolve, 7 and 38..63 refuse.
    const probe = [
      RECORD,
      'case $1 in',
      `  ${host(3)}) hpcjob_reason="does not resolve"; return 1 ;;`,
      `  ${host(7)} | j-worker-3[89].d | j-worker-[45][0-9].d | j-worker-6[0-3].d) hpcjob_reason="Connection refused"; return 1 ;;`,
      'esac',
    ].join('\n');
    const r = runWait(probe, { HPCJOB_WORKERS: '64', HPCJOB_WAIT_TIMEOUT_SECONDS: '2' });
    expect(r.status).toBe(WORKERS_UNREACHABLE_EXIT_CODE);
    expect(r.stderr).toMatch(/waiting for the sshd of 28 workers:\n/);
    const named = r.stderr.split('\n').filter((l) => l.startsWith('hpcjob:   '));
    expect(named).toEqual([
      `hpcjob:   ${host(3)}: does not resolve`,
      `hpcjob:   ${host(7)}: Connection refused`,
      ...Array.from({ length: 18 }, (_, i) => `hpcjob:   ${host(38 + i)}: Connection refused`),
      'hpcjob:   ... and 8 more',
    ]);
    expect(progressLines(r.stderr).at(-1)).toMatch(/^hpcjob: 36\/64 workers reachable after \d+s$/);
  });

  it('stops at the deadline after the probe in progress: hosts not yet tried are named as such', () => {
    // One lane, and a probe that takes longer than the whole wait.
    const probe = `${RECORD}\nsleep 3\nhpcjob_reason="no answer within 3s"\nreturn 1`;
    const r = runWait(probe, {
      HPCJOB_WORKERS: '5',
      HPCJOB_WAIT_PARALLELISM: '1',
      HPCJOB_WAIT_TIMEOUT_SECONDS: '1',
    });
    expect(r.status).toBe(WORKERS_UNREACHABLE_EXIT_CODE);
    expect([...probeCounts().keys()]).toEqual([host(0)]);
    const named = r.stderr.split('\n').filter((l) => l.startsWith('hpcjob:   '));
    expect(named).toEqual([
      `hpcjob:   ${host(0)}: no answer within 3s`,
      ...[1, 2, 3, 4].map((i) => `hpcjob:   ${host(i)}: not tried before the deadline`),
    ]);
  });

  it.each([
    [8, 200, 8],
    [50, 10, 10],
  ])('probes at most HPCJOB_WAIT_PARALLELISM=%i hosts at once (%i workers)', (parallelism, workers, lanes) => {
    // Each probe marks itself active while it runs and records how many are active.
    const probe = [
      'h=$1',
      'mkdir -p "$T/active"',
      ': >"$T/active/$h"',
      'set -- "$T"/active/*',
      'echo "$#" >>"$T/concurrency"',
      'sleep 0.05',
      'rm -f "$T/active/$h"',
      'echo "$h" >>"$T/probed"',
    ].join('\n');
    const r = runWait(probe, { HPCJOB_WORKERS: String(workers), HPCJOB_WAIT_PARALLELISM: String(parallelism) });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`(${lanes} probes at once,`);
    expect(probeCounts().size).toBe(workers);
    const seen = readFileSync(join(dir, 'concurrency'), 'utf8').split('\n').filter(Boolean).map(Number);
    expect(Math.max(...seen)).toBeLessThanOrEqual(lanes);
    // Parallel at all: more than one probe was active at some point.
    expect(Math.max(...seen)).toBeGreaterThan(1);
  });

  it('returns at once without workers', () => {
    const r = runWait(`${RECORD}\nreturn 1`, { HPCJOB_WORKERS: '0' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('waited\n');
  });

  it.each([
    ['HPCJOB_WAIT_PARALLELISM', '0'],
    ['HPCJOB_WAIT_PROBE_TIMEOUT_SECONDS', 'x'],
    ['HPCJOB_WAIT_TIMEOUT_SECONDS', '-1'],
    ['HPCJOB_WORKERS', ''],
  ])('fails its setup with 125 on %s=%j', (name, value) => {
    const r = runWait('return 0', { HPCJOB_WORKERS: '2', [name]: value });
    expect(r.status).toBe(SETUP_FAILED_EXIT_CODE);
    expect(r.stderr).toContain(`${name} must be`);
  });
});

describe('hpcjob_probe_host (wait.sh)', () => {
  it('runs `ssh -F <ssh_config> -o ConnectTimeout=<bound> <host> true` and reduces its errors to short reasons', () => {
    // A stand-in ssh that records its arguments and fails as ssh does, chosen by the host's name.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const ssh = [
      '#!/bin/sh',
      `echo "$*" >>${dir}/ssh-args`,
      'case $* in',
      '  *unknown*) echo "ssh: Could not resolve hostname unknown: Name or service not known" >&2; exit 255 ;;',
      `  *closed*) printf 'ssh: connect to host closed port 2222: Connection refused\\r\\n' >&2; exit 255 ;;`,
      '  *denied*) echo "Warning: something" >&2; echo "denied@x: Permission denied (publickey)." >&2; exit 255 ;;',
      '  *silent*) exit 255 ;;',
      '  *stuck*) exec sleep 30 ;;',
      'esac',
      '',
    ].join('\n');
    writeFileSync(join(bin, 'ssh'), ssh, { mode: 0o755 });
    const tries = ['up', 'unknown', 'closed', 'denied', 'silent', 'stuck']
      .map((h) => `if hpcjob_probe_host ${h}; then echo "${h}: up"; else echo "${h}: $hpcjob_reason"; fi`)
      .join('\n');
    const probes = spawnSync('sh', ['-c', `. ${SCRIPTS}/common.sh\n. ${SCRIPTS}/wait.sh\nhpcjob_timeout=2\n${tries}`], {
      encoding: 'utf8',
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        HPCJOB_RUN_DIR: join(dir, 'run'),
        HPCJOB_WAIT_PROBE_TIMEOUT_SECONDS: '1',
      },
    });
    expect(probes.stdout.split('\n').filter(Boolean)).toEqual([
      'up: up',
      'unknown: does not resolve',
      'closed: Connection refused',
      'denied: denied@x: Permission denied (publickey).',
      'silent: ssh exited with 255',
      'stuck: no answer within 2s',
    ]);
    const args = readFileSync(join(dir, 'ssh-args'), 'utf8').split('\n')[0];
    expect(args).toBe(`-F ${join(dir, 'run')}/ssh_config -o ConnectTimeout=1 up true`);
  });
});
