import type { V1Pod } from '@kubernetes/client-node';
import { podsToCleanUp } from '../../../src/controller/cleanup.js';

const pod = (name: string, phase: string, terminating = false): V1Pod => ({
  metadata: { name, ...(terminating ? { deletionTimestamp: new Date() } : {}) },
  status: { phase },
});
const pods = [pod('launcher', 'Failed'), pod('w0', 'Running'), pod('w1', 'Pending'), pod('w2', 'Running', true)];
const names = (list: V1Pod[]) => list.map((p) => p.metadata?.name);

test.each([
  ['None', []],
  ['All', ['launcher', 'w0', 'w1']],
  ['Running', ['w0', 'w1']],
] as const)('cleanPodPolicy %s removes %j', (policy, expected) => {
  expect(names(podsToCleanUp(pods, policy))).toEqual(expected);
});

test('a deadline stops running pods even under cleanPodPolicy None, and keeps finished ones', () => {
  expect(names(podsToCleanUp(pods, 'None', 'DeadlineExceeded'))).toEqual(['w0', 'w1']);
  expect(names(podsToCleanUp(pods, 'None', 'LauncherFailed'))).toEqual([]);
});
