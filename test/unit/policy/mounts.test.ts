import { hostPathAccess, hostPathShapeProblem } from '../../../src/policy/mounts.js';
import type { HostPathRule } from '../../../src/policy/site-policy.js';

const rules: HostPathRule[] = [
  { path: '/home/{user}', access: 'ReadWrite' },
  { path: '/apps', access: 'ReadOnly' },
  { path: '/apps/scratch', access: 'ReadWrite' },
];

describe('hostPathAccess', () => {
  it.each([
    ['/home/alice', 'alice', 'ReadWrite'],
    ['/home/alice/data/', 'alice', 'ReadWrite'],
    ['/home/alice', 'bob', undefined],
    ['/home', 'alice', undefined],
    ['/home/alicex', 'alice', undefined],
    ['/apps', 'alice', 'ReadOnly'],
    ['/apps/lib/x.so', undefined, 'ReadOnly'],
    ['/apps/scratch/run1', 'alice', 'ReadWrite'],
    ['/appsx', 'alice', undefined],
    ['/home/alice/../bob', 'alice', undefined],
    ['/home/./alice', 'alice', undefined],
    ['home/alice', 'alice', undefined],
    ['/etc', 'alice', undefined],
    ['//home//alice', 'alice', 'ReadWrite'],
  ])('%s for %s: %s', (path, login, access) => {
    expect(hostPathAccess(path, rules, login)?.access).toBe(access);
  });

  it('never lets a login name with a slash or dots widen {user}', () => {
    for (const login of ['..', '.', 'a/b', '']) {
      expect(hostPathAccess('/home/a/b', rules, login)).toBeUndefined();
      expect(hostPathAccess('/home', rules, login)).toBeUndefined();
    }
  });

  it('names the rule that granted access', () => {
    expect(hostPathAccess('/home/alice/x', rules, 'alice')).toEqual({ access: 'ReadWrite', rule: '/home/{user}' });
  });

  it('a rule of / covers everything', () => {
    expect(hostPathAccess('/etc/shadow', [{ path: '/', access: 'ReadOnly' }], 'a')?.access).toBe('ReadOnly');
  });

  it('says why a path cannot be judged', () => {
    expect(hostPathShapeProblem('x')).toBe('must be an absolute path');
    expect(hostPathShapeProblem('/a/../b')).toBe('must not contain . or .. segments');
    expect(hostPathShapeProblem('/a/b')).toBeUndefined();
  });
});
