import { parseClusterConfig } from '../../../src/config/cluster-config.js';
import { DEFAULT_SITE_POLICY, parseSitePolicy } from '../../../src/policy/site-policy.js';

describe('parseSitePolicy', () => {
  it('forbids everything that reaches the host by default and maps no identity', () => {
    const policy = parseClusterConfig({}).sitePolicy;
    expect(policy).toEqual(DEFAULT_SITE_POLICY);
    expect(policy).toMatchObject({ privileged: false, hostPID: false, hostIPC: false, nodeName: false, hostPaths: [] });
    expect(policy.identity.enabled).toBe(false);
    expect(policy.volumeTypes).not.toContain('hostPath');
  });

  it('fills gid from uid and groups with none', () => {
    const policy = parseSitePolicy({ identity: { enabled: true, users: { bob: { uid: 1235 } } } });
    expect(policy.identity.users.bob).toEqual({ uid: 1235, gid: 1235, groups: [] });
  });

  it('keeps a directory without its trailing slash and defaults access to ReadOnly', () => {
    expect(parseSitePolicy({ hostPaths: [{ path: '/apps/' }] }).hostPaths).toEqual([
      { path: '/apps', access: 'ReadOnly' },
    ]);
  });

  it.each([
    [{ bogus: 1 }, 'config.sitePolicy.bogus: unknown key'],
    [{ privileged: 'yes' }, 'config.sitePolicy.privileged: must be true or false'],
    [{ identity: { users: { a: { uid: -1 } } } }, 'config.sitePolicy.identity.users.a.uid: must be an integer'],
    [
      { identity: { users: { a: { uid: 1, groups: 5 } } } },
      'config.sitePolicy.identity.users.a.groups: must be a list',
    ],
    [{ identity: { unmapped: 'default' } }, 'config.sitePolicy.identity.default: is required when unmapped is default'],
    [{ identity: { claims: { gid: 'hpcjob.dev/gid' } } }, 'config.sitePolicy.identity.claims.uid: is required'],
    [{ identity: { claims: { uid: 'NoDomain' } } }, 'config.sitePolicy.identity.claims.uid: must be a lowercase'],
    [{ hostPaths: [{ path: 'home' }] }, 'config.sitePolicy.hostPaths[0].path: must be an absolute path'],
    [{ hostPaths: [{ path: '/a/../b' }] }, 'config.sitePolicy.hostPaths[0].path: must be an absolute path without'],
    [{ hostPaths: [{ path: '/a', access: 'rw' }] }, 'config.sitePolicy.hostPaths[0].access: must be ReadOnly or'],
    [{ volumeTypes: ['hostPath'] }, 'config.sitePolicy.volumeTypes: hostPath is governed by hostPaths'],
    [{ serviceAccounts: [''] }, 'config.sitePolicy.serviceAccounts[0]: must be a non-empty string'],
  ])('rejects %j naming the key', (input, message) => {
    expect(() => parseClusterConfig({ sitePolicy: input })).toThrow(message);
  });
});
