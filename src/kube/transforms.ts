// What the operator's caches keep of each object. The watch hands over whole objects; a pod is about 8 KiB of heap
// (managedFields, the spec's containers, env and volumes) of which the controller reads a few fields. Each cache
// stores the result of one of these pure functions instead, so memory grows with what is read, not with what the
// pods carry.
import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import type { HPCJob } from '../api/types.js';

/** Annotations the controller reads on its pods (the attempt, the main container): its own prefix. */
const OWN_ANNOTATION_PREFIX = 'hpcjob.dev/';
/** kubectl apply's copy of the whole manifest: as large as the spec, and never read. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function definedOnly<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

function ownAnnotations(annotations: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!annotations) return undefined;
  const own = Object.entries(annotations).filter(([k]) => k.startsWith(OWN_ANNOTATION_PREFIX));
  return own.length > 0 ? Object.fromEntries(own) : undefined;
}

const keptCondition = (c: V1PodCondition): V1PodCondition =>
  definedOnly({ type: c.type, status: c.status, reason: c.reason, message: c.message });

/** A container's name and how it runs or ended (exit code, reason, message); not its image, ids or times. */
function keptContainerStatus(cs: V1ContainerStatus): V1ContainerStatus {
  const t = cs.state?.terminated;
  const state = definedOnly({
    running: cs.state?.running ? {} : undefined,
    waiting: cs.state?.waiting ? definedOnly({ reason: cs.state.waiting.reason }) : undefined,
    terminated: t ? definedOnly({ exitCode: t.exitCode, reason: t.reason, message: t.message }) : undefined,
  });
  return { name: cs.name, state } as V1ContainerStatus;
}

/**
 * A pod as the controller reads it: identity, labels, owners, finalizers and deletion; its own annotations; the
 * node it is bound to; phase, reason, message, conditions and its containers' states.
 */
export function keepPod(pod: V1Pod): V1Pod {
  const m = pod.metadata ?? {};
  const s = pod.status;
  return {
    metadata: definedOnly({
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      labels: m.labels,
      annotations: ownAnnotations(m.annotations),
      ownerReferences: m.ownerReferences,
      finalizers: m.finalizers,
      deletionTimestamp: m.deletionTimestamp,
    }),
    ...(pod.spec?.nodeName ? { spec: { nodeName: pod.spec.nodeName, containers: [] } } : {}),
    ...(s
      ? {
          status: definedOnly({
            phase: s.phase,
            reason: s.reason,
            message: s.message,
            conditions: s.conditions?.map(keptCondition),
            containerStatuses: s.containerStatuses?.map(keptContainerStatus),
          }),
        }
      : {}),
  };
}

/** An HPCJob without what only the API server and kubectl read: managedFields and the last-applied manifest. */
export function keepJob(job: HPCJob): HPCJob {
  const {
    managedFields: _managed,
    annotations,
    ...metadata
  } = job.metadata as HPCJob['metadata'] & {
    managedFields?: unknown;
  };
  const rest = annotations && Object.entries(annotations).filter(([k]) => k !== LAST_APPLIED);
  return {
    ...job,
    metadata: { ...metadata, ...(rest && rest.length > 0 ? { annotations: Object.fromEntries(rest) } : {}) },
  };
}
