// The site policy applied to a pod: the submitter's recorded POSIX identity on the pod and on every container
// that names one, no privilege escalation (a setuid program must not leave that uid), and host paths of read-only
// site directories mounted read-only whatever the template says. Pure.
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { hostPathAccess } from '../policy/mounts.js';
import type { PosixIdentity, SitePolicy } from '../policy/site-policy.js';

function containerAs(c: V1Container, id: PosixIdentity): V1Container {
  const sc = { ...c.securityContext, allowPrivilegeEscalation: false };
  if (sc.runAsUser !== undefined) sc.runAsUser = id.uid;
  if (sc.runAsGroup !== undefined) sc.runAsGroup = id.gid;
  if (sc.runAsNonRoot !== undefined) sc.runAsNonRoot = id.uid !== 0;
  return { ...c, securityContext: sc };
}

/** The template's pod spec running as this identity. */
export function withIdentity(spec: V1PodSpec, id: PosixIdentity): V1PodSpec {
  const sc = spec.securityContext ?? {};
  const own = new Set([id.gid, ...id.groups]);
  const securityContext = {
    ...sc,
    runAsUser: id.uid,
    runAsGroup: id.gid,
    runAsNonRoot: id.uid !== 0,
    ...(id.groups.length > 0 ? { supplementalGroups: [...id.groups] } : {}),
  };
  if (id.groups.length === 0) delete securityContext.supplementalGroups;
  // A group outside the identity would be added to every process; the key files' group then falls to the gid.
  if (securityContext.fsGroup !== undefined && !own.has(securityContext.fsGroup)) delete securityContext.fsGroup;
  return {
    ...spec,
    securityContext,
    containers: (spec.containers ?? []).map((c) => containerAs(c, id)),
    ...(spec.initContainers ? { initContainers: spec.initContainers.map((c) => containerAs(c, id)) } : {}),
  };
}

/** Every mount of a host path the site grants read-only is made read-only. */
export function withReadOnlyHostPaths(spec: V1PodSpec, policy: SitePolicy, login: string | undefined): V1PodSpec {
  const readOnly = new Set(
    (spec.volumes ?? [])
      .filter((v) => v.hostPath && hostPathAccess(v.hostPath.path, policy.hostPaths, login)?.access === 'ReadOnly')
      .map((v) => v.name),
  );
  if (readOnly.size === 0) return spec;
  const mountReadOnly = (c: V1Container): V1Container => ({
    ...c,
    ...(c.volumeMounts
      ? { volumeMounts: c.volumeMounts.map((m) => (readOnly.has(m.name) ? { ...m, readOnly: true } : m)) }
      : {}),
  });
  return {
    ...spec,
    containers: spec.containers.map(mountReadOnly),
    ...(spec.initContainers ? { initContainers: spec.initContainers.map(mountReadOnly) } : {}),
  };
}
