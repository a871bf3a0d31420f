// What the site policy forbids in a job, each violation naming the field and the rule. Admission rejects a job
// with any; the controller refuses to render one that got past admission (created before the policy, or while the
// webhook was away). Templates are free-form in the schema, so every value is read defensively. Pure.
import type { HPCJob } from '../api/types.js';
import type { ClusterConfig } from '../config/cluster-config.js';
import { jobIdentity, loginName, type JobIdentity } from './identity.js';
import { hostPathAccess, hostPathShapeProblem } from './mounts.js';
import type { PosixIdentity, SitePolicy } from './site-policy.js';

/** The Multus annotations: extra networks, and the one that replaces the pod's default network. */
export const MULTUS_ANNOTATIONS = ['k8s.v1.cni.cncf.io/networks', 'v1.multus-cni.io/default-network'];

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const show = (v: unknown) => JSON.stringify(v);

interface Context {
  job: HPCJob;
  policy: SitePolicy;
  identity: JobIdentity;
  login: string | undefined;
  out: string[];
}

function identityText(id: PosixIdentity): string {
  return `uid ${id.uid}, gid ${id.gid}${id.groups.length > 0 ? `, groups ${id.groups.join(',')}` : ''}`;
}

/** runAsUser / runAsGroup / groups of one security context against the mapped identity. */
function checkIds(ctx: Context, sc: Raw, path: string, podLevel: boolean): void {
  if (ctx.identity.kind !== 'mapped') return;
  const id = ctx.identity.identity;
  const who = `the submitter ${ctx.identity.user} runs as ${identityText(id)} (site identity policy)`;
  if (sc.runAsUser !== undefined && sc.runAsUser !== id.uid) {
    out(ctx, `${path}.runAsUser: ${show(sc.runAsUser)} is not allowed: ${who}`);
  }
  if (sc.runAsGroup !== undefined && sc.runAsGroup !== id.gid) {
    out(ctx, `${path}.runAsGroup: ${show(sc.runAsGroup)} is not allowed: ${who}`);
  }
  if (sc.runAsNonRoot === false && id.uid !== 0) {
    out(ctx, `${path}.runAsNonRoot: false is not allowed: ${who}`);
  }
  if (!podLevel) return;
  const own = new Set([id.gid, ...id.groups]);
  const foreign = arr(sc.supplementalGroups).filter((g) => !own.has(g as number));
  if (foreign.length > 0)
    out(ctx, `${path}.supplementalGroups: ${show(foreign)} are not the submitter's groups (${who})`);
  if (sc.fsGroup !== undefined && !own.has(sc.fsGroup as number)) {
    out(ctx, `${path}.fsGroup: ${show(sc.fsGroup)} is not one of the submitter's groups (${who})`);
  }
}

function out(ctx: Context, message: string): void {
  ctx.out.push(message);
}

function checkContainer(ctx: Context, c: Raw, path: string): void {
  const sc = obj(c.securityContext);
  const at = `${path}.securityContext`;
  checkIds(ctx, sc, at, false);
  if (sc.privileged === true && !ctx.policy.privileged) {
    out(ctx, `${at}.privileged: privileged containers are not allowed (sitePolicy.privileged)`);
  }
  if (sc.allowPrivilegeEscalation === true && ctx.identity.kind === 'mapped') {
    out(ctx, `${at}.allowPrivilegeEscalation: true is not allowed: a setuid program could leave the submitter's uid`);
  }
  const added = arr(obj(sc.capabilities).add).filter((cap) => !ctx.policy.capabilities.includes(String(cap)));
  if (added.length > 0) {
    out(ctx, `${at}.capabilities.add: ${added.map(String).join(', ')} not allowed (sitePolicy.capabilities)`);
  }
}

function checkVolume(ctx: Context, v: Raw, path: string): void {
  const type = Object.keys(v).find((k) => k !== 'name');
  if (type === undefined) return;
  if (type !== 'hostPath') {
    if (!ctx.policy.volumeTypes.includes(type)) {
      out(ctx, `${path}.${type}: ${type} volumes are not allowed (sitePolicy.volumeTypes)`);
    }
    return;
  }
  const hostPath = obj(v.hostPath).path;
  const where = `${path}.hostPath.path`;
  if (typeof hostPath !== 'string') return out(ctx, `${where}: must be a string`);
  const shape = hostPathShapeProblem(hostPath);
  if (shape) return out(ctx, `${where}: ${show(hostPath)} ${shape}`);
  if (!hostPathAccess(hostPath, ctx.policy.hostPaths, ctx.login)) {
    const allowed = ctx.policy.hostPaths.map((r) => r.path).join(', ') || 'none';
    out(
      ctx,
      `${where}: ${hostPath} is not under a host path the site allows this user (sitePolicy.hostPaths: ${allowed})`,
    );
  }
}

/** Network names ("namespace/name") a Multus annotation asks for, or undefined when it cannot be read. */
export function multusNetworks(value: string, namespace: string): string[] | undefined {
  const text = value.trim();
  if (text.startsWith('[')) {
    try {
      return arr(JSON.parse(text)).map((n) => `${String(obj(n).namespace ?? namespace)}/${String(obj(n).name)}`);
    } catch {
      return undefined;
    }
  }
  return text
    .split(',')
    .map((s) => s.trim().split('@')[0]!)
    .filter((s) => s !== '')
    .map((s) => (s.includes('/') ? s : `${namespace}/${s}`));
}

function checkAnnotations(ctx: Context, annotations: Raw, path: string): void {
  const ns = ctx.job.metadata.namespace;
  const allowed = new Set(ctx.policy.multusNetworks.map((n) => (n.includes('/') ? n : `${ns}/${n}`)));
  for (const key of MULTUS_ANNOTATIONS) {
    const value = annotations[key];
    if (value === undefined) continue;
    const names = typeof value === 'string' ? multusNetworks(value, ns) : undefined;
    if (!names) {
      out(ctx, `${path}.annotations[${key}]: is not a network list`);
      continue;
    }
    const foreign = names.filter((n) => !allowed.has(n));
    if (foreign.length > 0) {
      out(ctx, `${path}.annotations[${key}]: ${foreign.join(', ')} not allowed (sitePolicy.multusNetworks)`);
    }
  }
}

function hostNetworkAllowed(policy: SitePolicy, namespace: string): boolean {
  return policy.hostNetworkNamespaces.includes('*') || policy.hostNetworkNamespaces.includes(namespace);
}

function checkPodSpec(ctx: Context, spec: Raw, path: string): void {
  const ns = ctx.job.metadata.namespace;
  checkIds(ctx, obj(spec.securityContext), `${path}.securityContext`, true);
  for (const key of ['hostPID', 'hostIPC'] as const) {
    if (spec[key] === true && !ctx.policy[key]) out(ctx, `${path}.${key}: not allowed (sitePolicy.${key})`);
  }
  if (spec.hostNetwork === true && !hostNetworkAllowed(ctx.policy, ns)) {
    out(ctx, `${path}.hostNetwork: not allowed in namespace ${ns} (sitePolicy.hostNetworkNamespaces)`);
  }
  if (spec.nodeName !== undefined && spec.nodeName !== '' && !ctx.policy.nodeName) {
    out(ctx, `${path}.nodeName: not allowed, use placement or a nodeSelector (sitePolicy.nodeName)`);
  }
  for (const key of ['serviceAccountName', 'serviceAccount'] as const) {
    const sa = spec[key];
    if (sa !== undefined && sa !== '' && !ctx.policy.serviceAccounts.includes(String(sa))) {
      out(
        ctx,
        `${path}.${key}: ${show(sa)} is not allowed (sitePolicy.serviceAccounts: ${ctx.policy.serviceAccounts.join(', ') || 'none'})`,
      );
    }
  }
  for (const key of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    arr(spec[key]).forEach((c, i) => checkContainer(ctx, obj(c), `${path}.${key}[${i}]`));
  }
  arr(spec.volumes).forEach((v, i) => checkVolume(ctx, obj(v), `${path}.volumes[${i}]`));
}

/** Every way this job breaks the site policy, each naming the field and the rule; empty when it complies. */
export function policyViolations(job: HPCJob, config: ClusterConfig): string[] {
  const policy = config.sitePolicy;
  const identity = jobIdentity(job, policy);
  if (identity.kind === 'exempt') return [];
  const ctx: Context = { job, policy, identity, login: loginName(identity, job), out: [] };
  if (identity.kind === 'missing') out(ctx, identity.message);
  const spec = obj(job.spec);
  const ns = job.metadata.namespace;
  if (obj(spec.network).mode === 'host' && !hostNetworkAllowed(policy, ns)) {
    out(ctx, `spec.network.mode: host is not allowed in namespace ${ns} (sitePolicy.hostNetworkNamespaces)`);
  }
  arr(spec.volumes).forEach((v, i) => checkVolume(ctx, obj(v), `spec.volumes[${i}]`));
  for (const role of ['launcher', 'worker'] as const) {
    const template = obj(obj(spec[role]).template);
    const path = `spec.${role}.template`;
    checkAnnotations(ctx, obj(obj(template.metadata).annotations), `${path}.metadata`);
    checkPodSpec(ctx, obj(template.spec), `${path}.spec`);
  }
  return ctx.out;
}
