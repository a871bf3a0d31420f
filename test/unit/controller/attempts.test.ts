// How the launcher of an attempt ended, from its pod alone.
import type { V1Pod } from '@kubernetes/client-node';
import { launcherOutcome, LOST_AFTER_MS, podAttempt } from '../../../src/controller/attempts.js';

const now = new Date('2026-06-01T12:00:00Z');

function launcher(opts: {
  phase?: string;
  exitCode?: number;
  reason?: string;
  message?: string;
  deletedAgoMs?: number;
  node?: string;
}): V1Pod {
  return {
    metadata: {
      name: 'j-launcher',
      annotations: { 'hpcjob.dev/main-container': 'launcher' },
      ...(opts.deletedAgoMs !== undefined ? { deletionTimestamp: new Date(now.getTime() - opts.deletedAgoMs) } : {}),
    },
    spec: { containers: [], ...(opts.node ? { nodeName: opts.node } : {}) },
    status: {
      phase: opts.phase ?? 'Running',
      ...(opts.reason ? { reason: opts.reason, message: opts.message } : {}),
      containerStatuses: [
        {
          name: 'launcher',
          image: 'i',
          imageID: '',
          ready: false,
          restartCount: 0,
          state:
            opts.exitCode === undefined
              ? { running: {} }
              : { terminated: { exitCode: opts.exitCode, reason: opts.exitCode ? 'Error' : 'Completed' } },
        },
      ],
    },
  };
}

test('a running launcher has no outcome yet', () => {
  expect(launcherOutcome(launcher({ node: 'n1' }), now)).toBeUndefined();
});

test("an exit code is the main container's", () => {
  expect(launcherOutcome(launcher({ phase: 'Failed', exitCode: 3 }), now)).toMatchObject({
    exitCode: 3,
    reason: 'Error',
    summary: 'exited with code 3',
  });
});

test('an evicted launcher keeps the reason Evicted and the message, not exit code 1', () => {
  const outcome = launcherOutcome(
    launcher({ phase: 'Failed', exitCode: 137, reason: 'Evicted', message: 'The node was low on memory.' }),
    now,
  );
  expect(outcome).toMatchObject({ exitCode: 137, reason: 'Evicted', message: 'The node was low on memory.' });
  expect(outcome?.summary).toContain('Evicted');
});

test('a launcher deleted while running ends Deleted with the exit code its node reported', () => {
  expect(launcherOutcome(launcher({ phase: 'Failed', exitCode: 143, deletedAgoMs: 0, node: 'n1' }), now)).toMatchObject(
    {
      exitCode: 143,
      reason: 'Deleted',
    },
  );
});

test('a launcher that exited 0 and was then deleted still succeeded', () => {
  expect(
    launcherOutcome(launcher({ phase: 'Succeeded', exitCode: 0, deletedAgoMs: 0, node: 'n1' }), now),
  ).toMatchObject({ exitCode: 0 });
});

test('a deleted launcher whose node never reports is waited for, then Lost with no exit code', () => {
  expect(launcherOutcome(launcher({ deletedAgoMs: LOST_AFTER_MS - 1, node: 'n1' }), now)).toBeUndefined();
  const lost = launcherOutcome(launcher({ deletedAgoMs: LOST_AFTER_MS, node: 'n1' }), now);
  expect(lost).toMatchObject({ reason: 'Lost' });
  expect(lost?.exitCode).toBeUndefined();
  expect(lost?.summary).toContain('node n1');
});

test('a launcher deleted before it was scheduled ends Deleted at once', () => {
  expect(launcherOutcome(launcher({ phase: 'Pending', deletedAgoMs: 0 }), now)).toMatchObject({ reason: 'Deleted' });
});

test('the attempt comes from the annotation; a pod without one belongs to the current attempt', () => {
  expect(podAttempt({ metadata: { annotations: { 'hpcjob.dev/attempt': '2' } } }, 5)).toBe(2);
  expect(podAttempt({ metadata: {} }, 5)).toBe(5);
});
