import type { ConditionType, HPCJobStatus } from '../../../src/api/types.js';
import {
  mainContainerEnded,
  onlyProgressDiffers,
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

describe('onlyProgressDiffers', () => {
  const at = '2026-06-01T12:00:00Z';
  const cond = (type: ConditionType, status: 'True' | 'False', reason: string = type) => ({
    type,
    status,
    reason,
    message: 'm',
    lastTransitionTime: at,
  });
  const base = { phase: 'Pending' as const, workers: { total: 2, ready: 0, failed: 0 }, workersReady: '0/2' };

  it.each<[string, HPCJobStatus, HPCJobStatus]>([
    ['worker counts', base, { ...base, workers: { total: 2, ready: 1, failed: 0 }, workersReady: '1/2' }],
    ['a first Pending status', {}, { ...base, startTime: at, restartCount: 0, observedGeneration: 1 }],
    ['the Created condition', base, { ...base, conditions: [cond('Created', 'True')] }],
    ['a condition that is not true', base, { ...base, conditions: [cond('Unschedulable', 'False', 'Scheduled')] }],
    ['the launcher created', base, { ...base, launcher: { podName: 'a-launcher', attempt: 1 } }],
  ])('holds for %s', (_, a, b) => expect(onlyProgressDiffers(a, b)).toBe(true));

  it.each<[string, HPCJobStatus, HPCJobStatus]>([
    ['a phase change', base, { ...base, phase: 'Running' }],
    ['a condition turning true', base, { ...base, conditions: [cond('Unschedulable', 'True')] }],
    ['a true condition going', { ...base, conditions: [cond('Blocked', 'True')] }, base],
    ['a new generation seen', { ...base, observedGeneration: 1 }, { ...base, observedGeneration: 2 }],
    ['a restart counted', base, { ...base, restartCount: 1, attempt: 2 }],
    ['the ssh port chosen', base, { ...base, sshPort: 30022 }],
    ['how the launcher ended', base, { ...base, launcher: { podName: 'a-launcher', attempt: 1, exitCode: 3 } }],
  ])('fails for %s', (_, a, b) => expect(onlyProgressDiffers(a, b)).toBe(false));
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
