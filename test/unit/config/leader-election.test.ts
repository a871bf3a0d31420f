// The leader-election flags and their environment equivalents: off by default, the chart's namespace from
// POD_NAMESPACE, durations in the forms kube-controller-manager takes, and timings that cannot work refused.
import { leaderElectionSettings } from '../../../src/config/leader-election.js';

test('off by default, with client-go timings, the Lease hpcjob-operator in default', () => {
  expect(leaderElectionSettings({}, {})).toEqual({
    enabled: false,
    namespace: 'default',
    name: 'hpcjob-operator',
    timings: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
  });
});

test('on from the flag or HPCJOB_LEADER_ELECT; the namespace from POD_NAMESPACE unless the flag names one', () => {
  expect(leaderElectionSettings({ 'leader-elect': true }, { POD_NAMESPACE: 'hpcjob-system' })).toMatchObject({
    enabled: true,
    namespace: 'hpcjob-system',
  });
  expect(leaderElectionSettings({}, { HPCJOB_LEADER_ELECT: 'true' }).enabled).toBe(true);
  expect(leaderElectionSettings({}, { HPCJOB_LEADER_ELECT: 'false' }).enabled).toBe(false);
  expect(leaderElectionSettings({ 'leader-elect': false }, { HPCJOB_LEADER_ELECT: 'true' }).enabled).toBe(false);
  expect(
    leaderElectionSettings(
      { 'leader-election-namespace': 'ops', 'leader-election-id': 'hj' },
      { POD_NAMESPACE: 'hpcjob-system' },
    ),
  ).toMatchObject({ namespace: 'ops', name: 'hj' });
});

test('durations from flags or environment', () => {
  const s = leaderElectionSettings(
    { 'leader-election-lease-duration': '4s', 'leader-election-renew-deadline': '3s' },
    { HPCJOB_RETRY_PERIOD: '500ms' },
  );
  expect(s.timings).toEqual({ leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 });
});

test('a bad duration or timings that cannot work stop the operator with the flag named', () => {
  expect(() => leaderElectionSettings({ 'leader-election-retry-period': 'often' }, {})).toThrow(
    /--leader-election-retry-period \(HPCJOB_RETRY_PERIOD\): 'often' is not a duration/,
  );
  expect(() => leaderElectionSettings({ 'leader-election-lease-duration': '10s' }, {})).toThrow(
    /lease duration must be longer than the renew deadline/,
  );
});
