// The site's policy for HPCJobs: who runs as which POSIX identity, which host paths and volume types pods may
// mount, and which pod settings that reach the host are allowed. It lives in the cluster configuration under
// `sitePolicy`; admission and the renderer read the same parsed object. A bad value stops the operator at start
// with the key named.
import { RESTRICTED_VOLUME_TYPES } from '../render/pod-security.js';

/** The most supplementary groups spec.submitter.groups holds (the CRD's maxItems). */
export const MAX_GROUPS = 64;

export interface PosixIdentity {
  uid: number;
  gid: number;
  /** Supplementary groups. */
  groups: number[];
  /** The POSIX login name, for `{user}` in host paths; default: the Kubernetes username. */
  name?: string;
}

/** Keys of the user's `extra` attributes (what structured authentication's claim mappings set) to read. */
export interface IdentityClaims {
  uid: string;
  gid?: string;
  groups?: string;
  name?: string;
}

export interface IdentityPolicy {
  /** Off: pods keep the template's identity. On: every pod runs as the submitter's mapped identity. */
  enabled: boolean;
  /** Kubernetes username → identity. Looked up before the claims. */
  users: Record<string, PosixIdentity>;
  claims?: IdentityClaims;
  /** What a user with no mapping gets: rejected, or the default identity. */
  unmapped: 'reject' | 'default';
  default?: PosixIdentity;
  /** Namespaces whose jobs all run as one identity, whoever submits them (a pipeline's service account). */
  namespaces: Record<string, PosixIdentity>;
  /** Namespaces the whole site policy leaves alone (the site's own operations). */
  exemptNamespaces: string[];
}

export type MountAccess = 'ReadOnly' | 'ReadWrite';

export interface HostPathRule {
  /** An absolute directory; `{user}` stands for the submitter's login name. */
  path: string;
  access: MountAccess;
}

export interface SitePolicy {
  identity: IdentityPolicy;
  /** Host directories pods may mount (with everything below them); none by default. */
  hostPaths: HostPathRule[];
  /** Volume types (the V1Volume key, e.g. persistentVolumeClaim) allowed besides hostPath. */
  volumeTypes: string[];
  privileged: boolean;
  hostPID: boolean;
  hostIPC: boolean;
  /** Capabilities a template may add; the operator's own IPC_LOCK for RDMA is governed by allowIpcLock. */
  capabilities: string[];
  /** Service accounts a template may name; unset always works. */
  serviceAccounts: string[];
  nodeName: boolean;
  /** Namespaces whose jobs may use the host network; "*" for all. */
  hostNetworkNamespaces: string[];
  /** NetworkAttachmentDefinitions a template's Multus annotation may name ("name" or "namespace/name"). */
  multusNetworks: string[];
}

export const DEFAULT_SITE_POLICY: SitePolicy = {
  identity: { enabled: false, users: {}, unmapped: 'reject', namespaces: {}, exemptNamespaces: [] },
  hostPaths: [],
  // The Pod Security "restricted" list: volumes that reach nothing on the node.
  volumeTypes: [...RESTRICTED_VOLUME_TYPES],
  privileged: false,
  hostPID: false,
  hostIPC: false,
  capabilities: [],
  serviceAccounts: ['default'],
  nodeName: false,
  hostNetworkNamespaces: [],
  multusNetworks: [],
};

type Raw = Record<string, unknown>;

function fail(key: string, problem: string): never {
  throw new Error(`config.sitePolicy${key ? `.${key}` : ''}: ${problem}`);
}

function object(value: unknown, key: string): Raw {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(key, 'must be a mapping');
  return value as Raw;
}

function onlyKeys(value: Raw, allowed: string[], key: string): void {
  for (const k of Object.keys(value)) {
    if (!allowed.includes(k)) fail(key ? `${key}.${k}` : k, `unknown key (known: ${allowed.join(', ')})`);
  }
}

function bool(value: unknown, key: string): boolean {
  if (typeof value !== 'boolean') fail(key, 'must be true or false');
  return value;
}

function text(value: unknown, key: string, pattern = /^.+$/, what = 'a non-empty string'): string {
  if (typeof value !== 'string' || !pattern.test(value)) fail(key, `must be ${what}, got ${JSON.stringify(value)}`);
  return value;
}

function strings(value: unknown, key: string): string[] {
  if (!Array.isArray(value)) fail(key, 'must be a list');
  return value.map((v, i) => text(v, `${key}[${i}]`));
}

// POSIX ids: 0 (root) is a valid mapping target only where the site says so explicitly; 2^31-1 is Kubernetes' cap.
function posixId(value: unknown, key: string): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 2147483647) {
    fail(key, `must be an integer from 0 to 2147483647, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

/** A POSIX login name, at most 256 characters (what spec.submitter.name holds). */
export const LOGIN_NAME = /^(?=.{1,256}$)[a-z_][a-z0-9_.-]*\$?$/i;

function identity(value: unknown, key: string): PosixIdentity {
  const raw = object(value, key);
  onlyKeys(raw, ['uid', 'gid', 'groups', 'name'], key);
  const uid = posixId(raw.uid, `${key}.uid`);
  if (raw.groups !== undefined && !Array.isArray(raw.groups)) fail(`${key}.groups`, 'must be a list');
  const out: PosixIdentity = {
    uid,
    gid: raw.gid === undefined ? uid : posixId(raw.gid, `${key}.gid`),
    groups: raw.groups === undefined ? [] : (raw.groups as unknown[]).map((g, i) => posixId(g, `${key}.groups[${i}]`)),
  };
  // A longer list would make every job of this user fail the CRD's schema, with a message that names no rule.
  if (out.groups.length > MAX_GROUPS) {
    fail(`${key}.groups`, `at most ${MAX_GROUPS} groups (what spec.submitter.groups holds), got ${out.groups.length}`);
  }
  if (raw.name !== undefined) out.name = text(raw.name, `${key}.name`, LOGIN_NAME, 'a login name');
  return out;
}

function identities(value: unknown, key: string): Record<string, PosixIdentity> {
  const raw = object(value, key);
  return Object.fromEntries(Object.entries(raw).map(([name, v]) => [name, identity(v, `${key}.${name}`)]));
}

// Extra keys are lowercased by the API server; a domain-prefixed key is what structured authentication accepts.
const EXTRA_KEY = /^[a-z0-9.-]+\/[a-z0-9._-]+$/;

function claims(value: unknown, key: string): IdentityClaims {
  const raw = object(value, key);
  onlyKeys(raw, ['uid', 'gid', 'groups', 'name'], key);
  const one = (k: string) => text(raw[k], `${key}.${k}`, EXTRA_KEY, 'a lowercase domain-prefixed key');
  if (raw.uid === undefined) fail(`${key}.uid`, 'is required');
  const out: IdentityClaims = { uid: one('uid') };
  for (const k of ['gid', 'groups', 'name'] as const) if (raw[k] !== undefined) out[k] = one(k);
  return out;
}

function identityPolicy(value: unknown): IdentityPolicy {
  const key = 'identity';
  const raw = object(value, key);
  onlyKeys(raw, ['enabled', 'users', 'claims', 'unmapped', 'default', 'namespaces', 'exemptNamespaces'], key);
  const policy = structuredClone(DEFAULT_SITE_POLICY.identity);
  if (raw.enabled !== undefined) policy.enabled = bool(raw.enabled, `${key}.enabled`);
  if (raw.users !== undefined) policy.users = identities(raw.users, `${key}.users`);
  if (raw.claims !== undefined) policy.claims = claims(raw.claims, `${key}.claims`);
  if (raw.unmapped !== undefined) {
    if (raw.unmapped !== 'reject' && raw.unmapped !== 'default') fail(`${key}.unmapped`, 'must be reject or default');
    policy.unmapped = raw.unmapped;
  }
  if (raw.default !== undefined) policy.default = identity(raw.default, `${key}.default`);
  if (policy.unmapped === 'default' && !policy.default) fail(`${key}.default`, 'is required when unmapped is default');
  if (raw.namespaces !== undefined) policy.namespaces = identities(raw.namespaces, `${key}.namespaces`);
  if (raw.exemptNamespaces !== undefined) {
    policy.exemptNamespaces = strings(raw.exemptNamespaces, `${key}.exemptNamespaces`);
  }
  return policy;
}

function hostPathRule(value: unknown, key: string): HostPathRule {
  const raw = object(value, key);
  onlyKeys(raw, ['path', 'access'], key);
  const path = raw.path;
  if (typeof path !== 'string' || !path.startsWith('/') || path.split('/').some((p) => p === '..' || p === '.')) {
    fail(`${key}.path`, `must be an absolute path without . or .., got ${JSON.stringify(path)}`);
  }
  const access = raw.access ?? 'ReadOnly';
  if (access !== 'ReadOnly' && access !== 'ReadWrite') fail(`${key}.access`, 'must be ReadOnly or ReadWrite');
  return { path: path.length > 1 ? path.replace(/\/+$/, '') : path, access };
}

const BOOLEANS = ['privileged', 'hostPID', 'hostIPC', 'nodeName'] as const;
const LISTS = ['volumeTypes', 'capabilities', 'serviceAccounts', 'hostNetworkNamespaces', 'multusNetworks'] as const;

/** The site policy from the configuration's `sitePolicy` mapping (any subset of the keys), over the defaults. */
export function parseSitePolicy(input: unknown): SitePolicy {
  const policy = structuredClone(DEFAULT_SITE_POLICY);
  if (input === undefined || input === null) return policy;
  const raw = object(input, '');
  onlyKeys(raw, Object.keys(DEFAULT_SITE_POLICY), '');
  if (raw.identity !== undefined) policy.identity = identityPolicy(raw.identity);
  if (raw.hostPaths !== undefined) {
    if (!Array.isArray(raw.hostPaths)) fail('hostPaths', 'must be a list');
    policy.hostPaths = raw.hostPaths.map((r, i) => hostPathRule(r, `hostPaths[${i}]`));
  }
  for (const key of BOOLEANS) if (raw[key] !== undefined) policy[key] = bool(raw[key], key);
  for (const key of LISTS) if (raw[key] !== undefined) policy[key] = strings(raw[key], key);
  if (policy.volumeTypes.includes('hostPath'))
    fail('volumeTypes', 'hostPath is governed by hostPaths, not listed here');
  return policy;
}
