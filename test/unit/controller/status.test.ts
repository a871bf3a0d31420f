import type { HPCJobStatus } from '../../../src/api/types.js';
import {
  mainContainerEnded,
  onlyWorkerCountsDiffer,
  setCondition,
  terminatedState,
  unschedulableMessage,
} from '../../../src/controller/status.js';

test('setCondition keeps lastTransitionTime unless the status flips', () => {
  const status: HPCJobStatus = {};
  const t1 = new Date('2026-01-01T00:00:00Z');
  const t2 = new Date('2026-01-01T00:01:00Z');
  expect(setCondition(status, 'Running', false, 'X', 'x', t1)).toBe(false);
  expect(status.conditions).toEqual([]);
  expect(setCondition(status, 'Running', true, 'Started', 'm', t1)).toBe(true);
  expect(setCondition(status, 'Running', true, 'Started', 'm', t2)).toBe(false);
  expect(setCondition(status, 'Running', true, 'Other', 'm', t2)).toBe(true);
  expect(status.conditions?.[0]?.lastTransitionTime).toBe(t1.toISOString());
  expect(setCondition(status, 'Running', false, 'Done', 'm', t2)).toBe(true);
  expect(status.conditions?.[0]).toMatchObject({ status: 'False', lastTransitionTime: t2.toISOString() });
});

test('terminatedState reads the exit code, reason and message of the terminated container', () => {
  expect(
    terminatedState({
      status: {
        containerStatuses: [
          {
            name: 'a',
            image: 'i',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 3, reason: 'Error', message: 'boom' } },
          },
        ],
      },
    }),
  ).toEqual({ exitCode: 3, reason: 'Error', message: 'boom' });
  expect(terminatedState({ status: {} })).toBeUndefined();
});

test('unschedulableMessage returns the scheduler message only for Unschedulable', () => {
  const cond = (reason: string) => ({
    status: { conditions: [{ type: 'PodScheduled', status: 'False', reason, message: '0/4 nodes' }] },
  });
  expect(unschedulableMessage(cond('Unschedulable'))).toBe('0/4 nodes');
  expect(unschedulableMessage(cond('SchedulerError'))).toBeUndefined();
});

test('onlyWorkerCountsDiffer ignores worker counts and nothing else', () => {
  const base = { phase: 'Pending' as const, workers: { total: 2, ready: 0, failed: 0 }, workersReady: '0/2' };
  expect(
    onlyWorkerCountsDiffer(base, { ...base, workers: { total: 2, ready: 1, failed: 0 }, workersReady: '1/2' }),
  ).toBe(true);
  expect(onlyWorkerCountsDiffer(base, { ...base, phase: 'Running' })).toBe(false);
});

describe('the main container beside a sidecar', () => {
  const status = (name: string, state: object) => ({
    name,
    image: 'i',
    imageID: '',
    ready: false,
    restartCount: 0,
    state,
  });
  // Container statuses come sorted by name: the sidecar "a-sidecar" is listed before the launcher.
  const pod = (launcherState: object) => ({
    metadata: { annotations: { 'hpcjob.dev/main-container': 'launcher' } },
    status: {
      phase: 'Running',
      containerStatuses: [
        status('a-sidecar', { terminated: { exitCode: 0, reason: 'Completed' } }),
        status('launcher', launcherState),
      ],
    },
  });

  it("supplies the exit code from the container the annotation names, never the sidecar's", () => {
    expect(terminatedState(pod({ terminated: { exitCode: 3, reason: 'Error' } }))).toEqual({
      exitCode: 3,
      reason: 'Error',
      message: undefined,
    });
    expect(terminatedState(pod({ running: {} }))).toBeUndefined();
  });

  it('ends when the main container ends while a sidecar keeps the pod running', () => {
    const withRunningSidecar = pod({ terminated: { exitCode: 0 } });
    withRunningSidecar.status.containerStatuses[0]!.state = { running: {} } as never;
    expect(mainContainerEnded(withRunningSidecar)).toBe(true);
    expect(mainContainerEnded(pod({ running: {} }))).toBe(false);
  });

  it('without a running sidecar, waits for the pod phase (the pod would otherwise be cleaned up as running)', () => {
    expect(mainContainerEnded(pod({ terminated: { exitCode: 0 } }))).toBe(false);
    expect(mainContainerEnded({ ...pod({ terminated: { exitCode: 0 } }), status: { phase: 'Succeeded' } })).toBe(true);
  });
});
