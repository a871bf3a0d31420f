// The PID records the integration and e2e teardown uses to end operators that a timed-out test left running.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  forgetOperatorPid,
  killRecordedOperators,
  processStartTime,
  recordOperatorPid,
  recordedOperatorPids,
} from '../../integration/support/operator-pids.js';

let logDir: string;
const children: ChildProcess[] = [];

function sleeper(): { child: ChildProcess; pid: number; ended: Promise<NodeJS.Signals | null> } {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(child);
  const ended = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  return { child, pid: child.pid!, ended };
}

beforeEach(() => {
  logDir = mkdtempSync(path.join(os.tmpdir(), 'hpcjob-pids-'));
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  rmSync(logDir, { recursive: true, force: true });
});

test('no records yet lists nothing', () => {
  expect(recordedOperatorPids(logDir)).toEqual([]);
});

test('records are listed until forgotten', () => {
  const a = sleeper();
  const b = sleeper();
  recordOperatorPid(logDir, a.pid);
  recordOperatorPid(logDir, b.pid);
  forgetOperatorPid(logDir, a.pid);
  expect(recordedOperatorPids(logDir)).toEqual([{ pid: b.pid, startTime: processStartTime(b.pid) }]);
  expect(processStartTime(b.pid)).toMatch(/^\d+$/);
});

test('the teardown kills a recorded process that still runs and removes every record', async () => {
  const alive = sleeper();
  const gone = sleeper();
  recordOperatorPid(logDir, alive.pid);
  recordOperatorPid(logDir, gone.pid);
  gone.child.kill('SIGKILL');
  await gone.ended;
  expect(killRecordedOperators(logDir)).toEqual([alive.pid]);
  expect(await alive.ended).toBe('SIGKILL');
  expect(recordedOperatorPids(logDir)).toEqual([]);
});

test('a record whose PID now names another process (another start time) is not killed', async () => {
  const other = sleeper();
  recordOperatorPid(logDir, other.pid);
  writeFileSync(path.join(logDir, 'pids', String(other.pid)), '1');
  expect(killRecordedOperators(logDir)).toEqual([]);
  const outcome = await Promise.race([
    other.ended.then(() => 'ended'),
    new Promise((resolve) => setTimeout(() => resolve('running'), 200)),
  ]);
  expect(outcome).toBe('running');
  expect(recordedOperatorPids(logDir)).toEqual([]);
});
