import { jobIdentity, resolveIdentity, submitterRecord } from '../../../src/policy/identity.js';
import { parseSitePolicy } from '../../../src/policy/site-policy.js';
import { makeJob } from '../api/fixtures.js';
import { siteConfig } from './fixtures.js';

const policy = siteConfig.sitePolicy;
const claims = (extra: Record<string, string[]>) => ({ username: 'oidc:dana', extra });

describe('resolveIdentity', () => {
  it('maps a listed user from the static map', () => {
    expect(resolveIdentity({ username: 'alice' }, 'team-a', policy)).toEqual({
      kind: 'mapped',
      identity: { uid: 1234, gid: 1234, groups: [5000] },
      source: 'sitePolicy.identity.users.alice',
    });
  });

  it('reads uid, gid, groups and login name from extra attributes', () => {
    const extra = {
      'hpcjob.dev/uid': ['4001'],
      'hpcjob.dev/gid': ['4000'],
      'hpcjob.dev/groups': ['5000,5001', '5002'],
      'hpcjob.dev/login': ['dana'],
    };
    expect(resolveIdentity(claims(extra), 'team-a', policy)).toMatchObject({
      kind: 'mapped',
      identity: { uid: 4001, gid: 4000, groups: [5000, 5001, 5002], name: 'dana' },
    });
  });

  it('prefers the static map over a claim', () => {
    const r = resolveIdentity({ username: 'alice', extra: { 'hpcjob.dev/uid': ['1'] } }, 'team-a', policy);
    expect(r).toMatchObject({ identity: { uid: 1234 } });
  });

  it.each([['abc'], ['-1'], ['99999999999'], ['1.5']])('rejects a uid claim of %s naming the claim', (value) => {
    const r = resolveIdentity(claims({ 'hpcjob.dev/uid': [value] }), 'team-a', policy);
    expect(r).toEqual({
      kind: 'rejected',
      message: `user "oidc:dana": claim hpcjob.dev/uid: "${value}" is not a POSIX id`,
    });
  });

  it('rejects an unmapped user, naming where it looked', () => {
    expect(resolveIdentity({ username: 'carol' }, 'team-a', policy)).toEqual({
      kind: 'rejected',
      message:
        'user "carol" has no POSIX identity in the site policy (sitePolicy.identity.users or claim hpcjob.dev/uid) ' +
        'and unmapped users are rejected',
    });
  });

  it('gives an unmapped user the default where the site says so', () => {
    const p = parseSitePolicy({ identity: { enabled: true, unmapped: 'default', default: { uid: 65534 } } });
    expect(resolveIdentity({ username: 'carol' }, 'x', p)).toMatchObject({ kind: 'mapped', identity: { uid: 65534 } });
  });

  it('binds every job of a pipeline namespace to its identity, whoever submits', () => {
    const sa = { username: 'system:serviceaccount:pipelines:runner' };
    expect(resolveIdentity(sa, 'pipelines', policy)).toMatchObject({ identity: { uid: 2000, gid: 2000 } });
    expect(resolveIdentity({ username: 'alice' }, 'pipelines', policy)).toMatchObject({ identity: { uid: 2000 } });
  });

  it('leaves exempt namespaces and a disabled policy unmanaged', () => {
    expect(resolveIdentity({ username: 'carol' }, 'site-ops', policy)).toEqual({ kind: 'exempt' });
    expect(resolveIdentity({ username: 'carol' }, 'x', parseSitePolicy({}))).toEqual({ kind: 'unmanaged' });
  });
});

describe('submitterRecord and jobIdentity', () => {
  it('records the user and the mapped ids, and reads them back', () => {
    const record = submitterRecord({ username: 'alice' }, resolveIdentity({ username: 'alice' }, 'team-a', policy));
    expect(record).toEqual({ user: 'alice', uid: 1234, gid: 1234, groups: [5000] });
    const job = makeJob({ submitter: record });
    expect(jobIdentity(job, policy)).toEqual({
      kind: 'mapped',
      user: 'alice',
      identity: { uid: 1234, gid: 1234, groups: [5000] },
    });
  });

  it('records only the user when nothing is mapped', () => {
    expect(submitterRecord({ username: 'carol' }, { kind: 'unmanaged' })).toEqual({ user: 'carol' });
  });

  it('reports a job with no recorded identity under an enabled policy', () => {
    expect(jobIdentity(makeJob(), policy)).toMatchObject({ kind: 'missing' });
    expect(jobIdentity(makeJob(), parseSitePolicy({}))).toEqual({ kind: 'template' });
  });
});
