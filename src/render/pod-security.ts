// Pod Security: who can read the job's ssh keys, the settings that make a pod pass the namespace's Pod Security
// level, and the rules a rendered pod still breaks. Pure: the controller reads the namespace's
// `pod-security.kubernetes.io/enforce` label and hands the level in.
import type { V1Container, V1Pod, V1PodSecurityContext, V1PodSpec } from '@kubernetes/client-node';

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';
export const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

/** The enforced level of a namespace from its labels; an absent or unknown label enforces nothing. */
export function enforcedLevel(labels: Record<string, string> | undefined): PodSecurityLevel {
  const value = labels?.[ENFORCE_LABEL];
  return value === 'baseline' || value === 'restricted' ? value : 'privileged';
}

/**
 * The group of the ssh key files when the pod names none. Any group works: fsGroup is added to the groups of every
 * process in the pod, whatever user the image runs as. 1000 is the first user group of most images (the project's
 * own included), so files a job writes to its volumes keep a group its user already has.
 */
export const DEFAULT_KEY_GROUP = 1000;

function runsAsRoot(spec: V1PodSpec, main: V1Container): boolean {
  return (main.securityContext?.runAsUser ?? spec.securityContext?.runAsUser) === 0;
}

/**
 * The Secret's file mode and the pod security context that lets the container's user read the keys. The pod spec
 * does not say which user the image runs as (its USER may be non-root with no runAsUser), so unless the pod
 * runs as root for certain, the files are 0440 with a group every process of the pod belongs to (fsGroup). The
 * entrypoints copy the private keys to 0600 files of their own before ssh or sshd read them.
 */
export function sshKeyAccess(
  spec: V1PodSpec,
  main: V1Container,
): { mode: number; securityContext?: V1PodSecurityContext } {
  if (runsAsRoot(spec, main)) return { mode: 0o400, securityContext: spec.securityContext };
  const sc = spec.securityContext ?? {};
  if (sc.fsGroup !== undefined) return { mode: 0o440, securityContext: sc };
  const user = main.securityContext?.runAsUser ?? sc.runAsUser;
  const group = main.securityContext?.runAsGroup ?? sc.runAsGroup ?? user ?? DEFAULT_KEY_GROUP;
  // Changing the group of a large volume on every start is slow: only when its top directory differs.
  return { mode: 0o440, securityContext: { ...sc, fsGroup: group, fsGroupChangePolicy: 'OnRootMismatch' } };
}

/** A container with the restricted profile's settings wherever the template left them unset. */
function restrictedContainer(c: V1Container): V1Container {
  const sc = c.securityContext ?? {};
  return {
    ...c,
    securityContext: {
      ...sc,
      allowPrivilegeEscalation: sc.allowPrivilegeEscalation ?? false,
      capabilities: { ...sc.capabilities, drop: sc.capabilities?.drop ?? ['ALL'] },
    },
  };
}

/**
 * For a namespace that enforces `restricted`: non-root, the runtime's default seccomp profile, no privilege
 * escalation and no capabilities, on every container, where the template set nothing else. What the template did
 * set is kept, so that podSecurityViolations can name it.
 */
export function withRestrictedDefaults(spec: V1PodSpec): V1PodSpec {
  const sc = spec.securityContext ?? {};
  return {
    ...spec,
    securityContext: {
      ...sc,
      runAsNonRoot: sc.runAsNonRoot ?? true,
      seccompProfile: sc.seccompProfile ?? { type: 'RuntimeDefault' },
    },
    containers: spec.containers.map(restrictedContainer),
    ...(spec.initContainers ? { initContainers: spec.initContainers.map(restrictedContainer) } : {}),
  };
}

// Capabilities the baseline level lets a container add (the Pod Security Standards' list).
const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
/** Volume types the restricted level allows: none reaches anything on the node. */
export const RESTRICTED_VOLUME_TYPES: readonly string[] = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
];

function allContainers(spec: V1PodSpec): { path: string; c: V1Container }[] {
  return [
    ...spec.containers.map((c, i) => ({ path: `containers[${i}] (${c.name})`, c })),
    ...(spec.initContainers ?? []).map((c, i) => ({ path: `initContainers[${i}] (${c.name})`, c })),
  ];
}

function baselineViolations(spec: V1PodSpec): string[] {
  const out: string[] = [];
  if (spec.hostNetwork) out.push('hostNetwork: host namespaces are not allowed (baseline)');
  if (spec.hostPID) out.push('hostPID: host namespaces are not allowed (baseline)');
  if (spec.hostIPC) out.push('hostIPC: host namespaces are not allowed (baseline)');
  for (const v of spec.volumes ?? []) {
    if (v.hostPath) out.push(`volumes (${v.name}): hostPath volumes are not allowed (baseline)`);
  }
  if (spec.securityContext?.seccompProfile?.type === 'Unconfined') {
    out.push('securityContext.seccompProfile: Unconfined is not allowed (baseline)');
  }
  for (const { path, c } of allContainers(spec)) {
    const sc = c.securityContext;
    if (sc?.privileged)
      out.push(`${path}.securityContext.privileged: privileged containers are not allowed (baseline)`);
    const extra = (sc?.capabilities?.add ?? []).filter((cap) => !BASELINE_CAPABILITIES.has(cap));
    if (extra.length > 0) {
      out.push(`${path}.securityContext.capabilities.add: ${extra.join(', ')} is not allowed (baseline)`);
    }
    if ((c.ports ?? []).some((p) => p.hostPort)) out.push(`${path}.ports: hostPort is not allowed (baseline)`);
    if (sc?.seccompProfile?.type === 'Unconfined') {
      out.push(`${path}.securityContext.seccompProfile: Unconfined is not allowed (baseline)`);
    }
  }
  return out;
}

function restrictedViolations(spec: V1PodSpec): string[] {
  const out: string[] = [];
  const pod = spec.securityContext ?? {};
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (type && !RESTRICTED_VOLUME_TYPES.includes(type) && type !== 'hostPath') {
      out.push(`volumes (${v.name}): ${type} volumes are not allowed (restricted)`);
    }
  }
  if (pod.runAsUser === 0) out.push('securityContext.runAsUser: 0 (root) is not allowed (restricted)');
  for (const { path, c } of allContainers(spec)) {
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) {
      out.push(`${path}.securityContext.allowPrivilegeEscalation: must be false (restricted)`);
    }
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) {
      out.push(`${path}.securityContext.capabilities.drop: must include ALL (restricted)`);
    }
    const added = (sc.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (added.length > 0) {
      out.push(
        `${path}.securityContext.capabilities.add: only NET_BIND_SERVICE is allowed, not ${added.join(', ')} (restricted)`,
      );
    }
    if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) {
      out.push(`${path}.securityContext.runAsNonRoot: must be true (restricted)`);
    }
    if (sc.runAsUser === 0) out.push(`${path}.securityContext.runAsUser: 0 (root) is not allowed (restricted)`);
    const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
      out.push(`${path}.securityContext.seccompProfile: must be RuntimeDefault or Localhost (restricted)`);
    }
  }
  return out;
}

/** The Pod Security Standards rules the pod breaks at this level, each naming the field; empty when it passes. */
export function podSecurityViolations(pod: V1Pod, level: PodSecurityLevel): string[] {
  const spec = pod.spec;
  if (!spec || level === 'privileged') return [];
  const baseline = baselineViolations(spec);
  return level === 'baseline' ? baseline : [...baseline, ...restrictedViolations(spec)];
}
