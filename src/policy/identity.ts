// Who a job runs as. Admission resolves the submitting user to a POSIX identity once, under the policy of that
// moment, and records it in spec.submitter; the renderer then reads only that record. Pure.
import type { HPCJob, Submitter } from '../api/types.js';
import { LOGIN_NAME, MAX_GROUPS, type PosixIdentity, type SitePolicy } from './site-policy.js';

/** The admission request's userInfo (authentication.k8s.io UserInfo). */
export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export type Resolution =
  /** The identity policy is off: the record names the user, the pods keep the template's identity. */
  | { kind: 'unmanaged' }
  | { kind: 'exempt' }
  | { kind: 'mapped'; identity: PosixIdentity; source: string }
  | { kind: 'rejected'; message: string };

const MAX_ID = 2147483647;

function claimId(values: string[] | undefined, key: string): number | string | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const text = values[0]!;
  if (!/^\d{1,10}$/.test(text) || Number(text) > MAX_ID) return `claim ${key}: "${text}" is not a POSIX id`;
  return Number(text);
}

/** The identity carried in the user's extra attributes, or why it is unusable; undefined when there is no uid. */
function fromClaims(user: UserInfo, policy: SitePolicy): PosixIdentity | string | undefined {
  const claims = policy.identity.claims;
  if (!claims) return undefined;
  const extra = user.extra ?? {};
  const uid = claimId(extra[claims.uid], claims.uid);
  if (uid === undefined || typeof uid === 'string') return uid;
  const gid = claims.gid ? claimId(extra[claims.gid], claims.gid) : undefined;
  if (typeof gid === 'string') return gid;
  const groups: number[] = [];
  for (const value of claims.groups ? (extra[claims.groups] ?? []) : []) {
    // A claim mapping may hand a list as one comma-separated value.
    for (const part of value.split(',').filter((p) => p.trim() !== '')) {
      const id = claimId([part.trim()], claims.groups!);
      if (typeof id === 'string') return id;
      groups.push(id!);
    }
  }
  // Refused here, naming the claim: the record would otherwise fail the CRD's schema with no word of the claim.
  if (groups.length > MAX_GROUPS) {
    return `claim ${claims.groups!}: more than ${MAX_GROUPS} groups (${groups.length}); spec.submitter holds ${MAX_GROUPS}`;
  }
  const identity: PosixIdentity = { uid, gid: gid ?? uid, groups };
  const name = claims.name ? extra[claims.name]?.[0] : undefined;
  // The same rule as a name in the static map: it becomes a path segment in {user} host paths.
  if (name !== undefined && !LOGIN_NAME.test(name)) return `claim ${claims.name!}: "${name}" is not a login name`;
  if (name !== undefined) identity.name = name;
  return identity;
}

/** The identity a job submitted by this user into this namespace runs as, under the policy. */
export function resolveIdentity(user: UserInfo, namespace: string, policy: SitePolicy): Resolution {
  const rules = policy.identity;
  if (!rules.enabled) return { kind: 'unmanaged' };
  if (rules.exemptNamespaces.includes(namespace)) return { kind: 'exempt' };
  const bound = rules.namespaces[namespace];
  if (bound) return { kind: 'mapped', identity: bound, source: `sitePolicy.identity.namespaces.${namespace}` };
  const username = user.username ?? '';
  const listed = rules.users[username];
  if (listed) return { kind: 'mapped', identity: listed, source: `sitePolicy.identity.users.${username}` };
  const claimed = fromClaims(user, policy);
  if (typeof claimed === 'string') return { kind: 'rejected', message: `user "${username}": ${claimed}` };
  if (claimed) return { kind: 'mapped', identity: claimed, source: `claim ${rules.claims!.uid}` };
  if (rules.unmapped === 'default' && rules.default) {
    return { kind: 'mapped', identity: rules.default, source: 'sitePolicy.identity.default' };
  }
  const where = ['sitePolicy.identity.users', ...(rules.claims ? [`claim ${rules.claims.uid}`] : [])].join(' or ');
  return {
    kind: 'rejected',
    message: `user "${username}" has no POSIX identity in the site policy (${where}) and unmapped users are rejected`,
  };
}

/** The record admission writes into spec.submitter. */
export function submitterRecord(user: UserInfo, resolution: Resolution): Submitter {
  const record: Submitter = { user: user.username ?? '' };
  if (resolution.kind === 'mapped') {
    const { uid, gid, groups, name } = resolution.identity;
    Object.assign(record, { uid, gid, groups: [...groups] }, name === undefined ? {} : { name });
  }
  return record;
}

export type JobIdentity =
  | { kind: 'template' }
  | { kind: 'exempt' }
  | { kind: 'mapped'; identity: PosixIdentity; user: string }
  | { kind: 'missing'; message: string };

/** What the renderer and the policy checks apply to a job: the recorded identity, read under today's policy. */
export function jobIdentity(job: HPCJob, policy: SitePolicy): JobIdentity {
  if (policy.identity.exemptNamespaces.includes(job.metadata.namespace)) return { kind: 'exempt' };
  const record = job.spec.submitter;
  if (record?.uid !== undefined) {
    const identity: PosixIdentity = { uid: record.uid, gid: record.gid ?? record.uid, groups: record.groups ?? [] };
    if (record.name !== undefined) identity.name = record.name;
    return { kind: 'mapped', identity, user: record.user };
  }
  if (!policy.identity.enabled) return { kind: 'template' };
  return {
    kind: 'missing',
    message:
      'spec.submitter: no POSIX identity was recorded at admission, and the site policy requires one ' +
      '(was the job created while the admission webhook was not installed?)',
  };
}

/** The login name `{user}` stands for in host paths. */
export function loginName(identity: JobIdentity, job: HPCJob): string | undefined {
  if (identity.kind === 'mapped') return identity.identity.name ?? identity.user;
  return job.spec.submitter?.user;
}
