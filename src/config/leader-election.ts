// The leader-election settings from the command line and the environment. Off unless asked for (--leader-elect or
// HPCJOB_LEADER_ELECT=true): a single operator run by hand or by a test acts at once, as it always did; the chart
// turns it on for its replicas.
import { DEFAULT_LEASE_TIMINGS, parseDuration, timingsProblem, type LeaseTimings } from '../kube/lease.js';

export interface LeaderElectionFlags {
  'leader-elect'?: boolean;
  'leader-election-namespace'?: string;
  'leader-election-id'?: string;
  'leader-election-lease-duration'?: string;
  'leader-election-renew-deadline'?: string;
  'leader-election-retry-period'?: string;
}

export interface LeaderElectionSettings {
  enabled: boolean;
  /** Where the Lease lives: the operator's own namespace in the chart. */
  namespace: string;
  /** The Lease's name: replicas that share it elect one leader. */
  name: string;
  timings: LeaseTimings;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);

/** The settings, or an Error naming the flag that is wrong. */
export function leaderElectionSettings(flags: LeaderElectionFlags, env: NodeJS.ProcessEnv): LeaderElectionSettings {
  const duration = (flag: keyof LeaderElectionFlags, envName: string, fallback: number): number => {
    const text = (flags[flag] as string | undefined) ?? env[envName];
    if (text === undefined || text === '') return fallback;
    const ms = parseDuration(text);
    if (ms === undefined) throw new Error(`--${flag} (${envName}): '${text}' is not a duration such as 15s or 500ms`);
    return ms;
  };
  const timings = {
    leaseDurationMs: duration(
      'leader-election-lease-duration',
      'HPCJOB_LEASE_DURATION',
      DEFAULT_LEASE_TIMINGS.leaseDurationMs,
    ),
    renewDeadlineMs: duration(
      'leader-election-renew-deadline',
      'HPCJOB_RENEW_DEADLINE',
      DEFAULT_LEASE_TIMINGS.renewDeadlineMs,
    ),
    retryPeriodMs: duration('leader-election-retry-period', 'HPCJOB_RETRY_PERIOD', DEFAULT_LEASE_TIMINGS.retryPeriodMs),
  };
  const problem = timingsProblem(timings);
  if (problem) throw new Error(`leader election: ${problem}`);
  return {
    enabled: flags['leader-elect'] ?? TRUE.has((env.HPCJOB_LEADER_ELECT ?? '').toLowerCase()),
    namespace: flags['leader-election-namespace'] || env.POD_NAMESPACE || 'default',
    name: flags['leader-election-id'] || env.HPCJOB_LEADER_ELECTION_ID || 'hpcjob-operator',
    timings,
  };
}
