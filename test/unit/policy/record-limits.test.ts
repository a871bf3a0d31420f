// An identity must fit the record the CRD holds (spec.submitter: at most 64 groups, a name of at most 256
// characters): one that does not is refused where it comes from (the configuration key, or the user's claim),
// not later by the schema with a message that names neither.
import { resolveIdentity } from '../../../src/policy/identity.js';
import { MAX_GROUPS, parseSitePolicy } from '../../../src/policy/site-policy.js';

const groups = (n: number) => Array.from({ length: n }, (_, i) => 7000 + i);

describe('the static map', () => {
  it('accepts 64 groups and refuses 65, naming the key', () => {
    const policy = (n: number) => parseSitePolicy({ identity: { users: { alice: { uid: 1, groups: groups(n) } } } });
    expect(policy(MAX_GROUPS).identity.users.alice!.groups).toHaveLength(64);
    expect(() => policy(65)).toThrow('config.sitePolicy.identity.users.alice.groups: at most 64 groups');
  });

  it('refuses a login name longer than the record holds', () => {
    const policy = (name: string) => parseSitePolicy({ identity: { users: { alice: { uid: 1, name } } } });
    expect(policy('a'.repeat(256)).identity.users.alice!.name).toHaveLength(256);
    expect(() => policy('a'.repeat(257))).toThrow('config.sitePolicy.identity.users.alice.name');
  });
});

describe('identities from claims', () => {
  const policy = parseSitePolicy({
    identity: {
      enabled: true,
      claims: { uid: 'hpc.example.com/uid', groups: 'hpc.example.com/groups', name: 'hpc.example.com/login' },
    },
  });
  const as = (extra: Record<string, string[]>) =>
    resolveIdentity({ username: 'dave', extra: { 'hpc.example.com/uid': ['4321'], ...extra } }, 'ns', policy);

  it('takes up to 64 groups, as one comma-separated value or several', () => {
    expect(as({ 'hpc.example.com/groups': [groups(64).join(',')] })).toMatchObject({
      kind: 'mapped',
      identity: { uid: 4321, groups: groups(64) },
    });
    expect(as({ 'hpc.example.com/groups': groups(64).map(String) })).toMatchObject({ kind: 'mapped' });
  });

  it('refuses more than 64 groups, naming the claim', () => {
    for (const values of [[groups(65).join(',')], groups(65).map(String)]) {
      expect(as({ 'hpc.example.com/groups': values })).toEqual({
        kind: 'rejected',
        message: 'user "dave": claim hpc.example.com/groups: more than 64 groups (65); spec.submitter holds 64',
      });
    }
  });

  it('refuses a login name that could not be a path segment or does not fit the record', () => {
    expect(as({ 'hpc.example.com/login': ['dsmith'] })).toMatchObject({ identity: { name: 'dsmith' } });
    for (const name of ['../etc', 'a/b', 'd smith', '', 'x'.repeat(257)]) {
      expect(as({ 'hpc.example.com/login': [name] })).toEqual({
        kind: 'rejected',
        message: `user "dave": claim hpc.example.com/login: "${name}" is not a login name`,
      });
    }
  });
});
