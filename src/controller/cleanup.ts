// cleanPodPolicy: which pods go when the job has ended.
// None keeps every pod; All removes every pod; Running (the default) removes pods still running (the workers' sshd)
// and keeps finished pods, so a failed launcher's log can be read until the TTL removes the job.
import type { V1Pod } from '@kubernetes/client-node';
import type { CleanPodPolicy } from '../api/types.js';
import { isPodFinished, isTerminating } from './status.js';

export function podsToCleanUp(pods: V1Pod[], policy: CleanPodPolicy): V1Pod[] {
  const live = pods.filter((p) => !isTerminating(p));
  switch (policy) {
    case 'None':
      return [];
    case 'All':
      return live;
    case 'Running':
      return live.filter((p) => !isPodFinished(p));
  }
}
