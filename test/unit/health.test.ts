// What the probes and /leaderz answer for a single operator, a standby, and a leader before and after its caches
// have synced.
import { leaderAnswer, probeAnswer, type OperatorState } from '../../src/health.js';

const state = (leaderElection: boolean, leading: boolean, controllerStarted: boolean): OperatorState => ({
  leaderElection,
  leading,
  controllerStarted,
});

test.each([
  // leader election off: ready once the caches have synced, as before
  [state(false, true, false), 503, 'not ready', 200, 'leader (leader election off)'],
  [state(false, true, true), 200, 'ok', 200, 'leader (leader election off)'],
  // a standby is ready (it serves admission and must not block a drain) but is not the leader
  [state(true, false, false), 200, 'ok: standby (not leader)', 503, 'standby (not leader)'],
  // a leader syncing its caches, then running
  [state(true, true, false), 503, 'not ready: leader, caches syncing', 200, 'leader'],
  [state(true, true, true), 200, 'ok: leader', 200, 'leader'],
])('%j: probes %p %p, /leaderz %p %p', (s, probeStatus, probeBody, leaderStatus, leaderBody) => {
  expect(probeAnswer(s)).toEqual({ status: probeStatus, body: probeBody });
  expect(leaderAnswer(s)).toEqual({ status: leaderStatus, body: leaderBody });
});
