// An operator under test as a child process: its output in a log file, started fresh for every scenario (so its peak
// memory and CPU time are that scenario's), stopped by its PID.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { sleep } from './bench-lib.mjs';

// Operators still running when the benchmark ends or is interrupted are stopped with it, never left behind.
const running = new Set();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));

export function startProcess(command, args, { env, cwd, logFile }) {
  const log = openSync(logFile, 'a');
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', log, log] });
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  let alive = true;
  exited.then(() => {
    alive = false;
    running.delete(child);
  });
  return {
    pid: child.pid,
    logFile,
    alive: () => alive,
    exited,
    /** SIGTERM, then SIGKILL after 20 s; resolves once it is gone. */
    async stop() {
      if (!alive) return;
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Waits until ready() holds; fails if the process exits first or after timeoutMs, with the end of its log. */
export async function waitReady(proc, ready, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (!proc.alive() || Date.now() > deadline) {
      const tail = existsSync(proc.logFile) ? readFileSync(proc.logFile, 'utf8').split('\n').slice(-20).join('\n') : '';
      await proc.stop();
      throw new Error(`bench: ${what} did not become ready (log ${proc.logFile}):\n${tail}`);
    }
    await sleep(200);
  }
}

/** Whether something listens on 127.0.0.1:port. */
export async function portInUse(port) {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
