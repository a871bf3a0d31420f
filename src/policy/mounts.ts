// The site's host paths (Shifter's siteFs): a hostPath volume is allowed only at or below a listed directory, with
// that directory's access; `{user}` in a listed directory is the submitter's login name. Pure.
import { posix } from 'node:path';
import type { HostPathRule, MountAccess } from './site-policy.js';

/** A login name usable inside a path: no separator, no dot segments. */
function safeLogin(login: string | undefined): string | undefined {
  if (login === undefined || login === '' || login.includes('/') || login === '.' || login === '..') return undefined;
  return login;
}

/** Why a requested host path cannot be judged at all (relative, or with dot segments the kernel would resolve). */
export function hostPathShapeProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (path.split('/').some((part) => part === '.' || part === '..')) return 'must not contain . or .. segments';
  return undefined;
}

/**
 * The access the site grants to this host path for this user, from the most specific rule that covers it, or
 * undefined when none does. Symbolic links on the host are not followed: the site lists directories it controls.
 */
export function hostPathAccess(
  path: string,
  rules: HostPathRule[],
  login: string | undefined,
): { access: MountAccess; rule: string } | undefined {
  if (hostPathShapeProblem(path) !== undefined) return undefined;
  const wanted = posix.normalize(path).replace(/(.)\/+$/, '$1');
  const user = safeLogin(login);
  let best: { access: MountAccess; rule: string; length: number } | undefined;
  for (const rule of rules) {
    if (rule.path.includes('{user}') && user === undefined) continue;
    const dir = rule.path.replaceAll('{user}', user ?? '');
    const covers = dir === '/' || wanted === dir || wanted.startsWith(`${dir}/`);
    if (covers && (!best || dir.length > best.length))
      best = { access: rule.access, rule: rule.path, length: dir.length };
  }
  return best && { access: best.access, rule: best.rule };
}
