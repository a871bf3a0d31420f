// Which pods go when the job has ended. cleanPodPolicy None keeps every pod; All removes every pod; Running (the
// default) removes pods still running (the workers' sshd) and keeps finished pods, so a failed launcher's log can be
// read until the TTL removes the job. A job stopped by its deadline has every running pod stopped whatever the
// policy: the deadline is a limit on running, not a request.
import type { V1Pod } from '@kubernetes/client-node';
import type { CleanPodPolicy } from '../api/types.js';
import { isPodFinished, isTerminating } from './status.js';

export function podsToCleanUp(pods: V1Pod[], policy: CleanPodPolicy, reason?: string): V1Pod[] {
  const live = pods.filter((p) => !isTerminating(p));
  const running = live.filter((p) => !isPodFinished(p));
  if (reason === 'DeadlineExceeded' && policy === 'None') return running;
  switch (policy) {
    case 'None':
      return [];
    case 'All':
      return live;
    case 'Running':
      return running;
  }
}
