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
