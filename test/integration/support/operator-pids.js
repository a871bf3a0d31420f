// Records of the operator processes the tests start, one file per PID under <log dir>/pids, so that the global
// teardown can end an operator whose test timed out before stopping it. Plain JavaScript: the teardown loads it too.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where operator logs go when HPCJOB_OPERATOR_LOG_DIR is not set: one directory per test run. */
export function defaultOperatorLogDir(pid = process.pid) {
  return path.join(os.tmpdir(), `hpcjob-operator-logs-${pid}`);
}

const pidDir = (logDir) => path.join(logDir, 'pids');

/** The process's start time in clock ticks since boot, or '' once it has ended: tells a reused PID from ours. */
export function processStartTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may hold spaces, so count from after its closing parenthesis.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

export function recordOperatorPid(logDir, pid) {
  mkdirSync(pidDir(logDir), { recursive: true });
  writeFileSync(path.join(pidDir(logDir), String(pid)), processStartTime(pid));
}

export function forgetOperatorPid(logDir, pid) {
  rmSync(path.join(pidDir(logDir), String(pid)), { force: true });
}

/** The recorded operators, each with the start time it had when recorded. */
export function recordedOperatorPids(logDir) {
  let names = [];
  try {
    names = readdirSync(pidDir(logDir));
  } catch {
    return [];
  }
  return names
    .filter((name) => /^\d+$/.test(name))
    .map((name) => ({ pid: Number(name), startTime: readFileSync(path.join(pidDir(logDir), name), 'utf8') }));
}

/** SIGKILLs every recorded operator that still runs, removes every record, and returns the PIDs it killed. */
export function killRecordedOperators(logDir) {
  const killed = [];
  for (const { pid, startTime } of recordedOperatorPids(logDir)) {
    if (startTime !== '' && processStartTime(pid) === startTime) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(pid);
      } catch {
        // it ended meanwhile
      }
    }
    forgetOperatorPid(logDir, pid);
  }
  return killed;
}
