// A long-running process a test starts (the operator, the Kueue manager): its output in a log file, its PID recorded
// so the global teardown kills it if its test never does, ready once its /readyz answers, stopped gently then by force.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { eventually } from './eventually.js';
import { forgetOperatorPid, recordOperatorPid } from './operator-pids.js';

/** Starts command with its output appended to logFile; its PID is recorded in logDir until it exits. */
export function spawnRecorded(
  logDir: string,
  logFile: string,
  command: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): ChildProcess {
  mkdirSync(logDir, { recursive: true });
  mkdirSync(path.dirname(logFile), { recursive: true });
  const log = openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', log, log], ...(env ? { env } : {}) });
  closeSync(log);
  const pid = child.pid;
  if (pid !== undefined) {
    recordOperatorPid(logDir, pid);
    child.once('exit', () => forgetOperatorPid(logDir, pid));
  }
  return child;
}

/** Waits until readyzUrl answers 200; throws at once, naming the log, if the process exits first. */
export async function waitReady(child: ChildProcess, readyzUrl: string, what: string, logFile: string): Promise<void> {
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}; see ${logFile}`);
    const res = await fetch(readyzUrl);
    if (res.status !== 200) throw new Error(`readyz ${res.status}`);
  }, 60_000);
}

/** Sends signal and waits for the exit; a process stuck in its shutdown is killed after forceAfterMs. */
export async function stopProcess(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals,
  forceAfterMs: number,
): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const force = setTimeout(() => child.kill('SIGKILL'), forceAfterMs);
  await exited;
  clearTimeout(force);
}
