import type { HPCJob } from '../../../src/api/types.js';
import { mutate, review, validate, type AdmissionRequest } from '../../../src/webhook/admission.js';
import { makeJob } from '../api/fixtures.js';
import { ALICE, aliceJob, siteConfig } from '../policy/fixtures.js';

const create = (object: HPCJob, username: string, extra = {}): AdmissionRequest => ({
  uid: 'r1',
  operation: 'CREATE',
  namespace: 'team-a',
  userInfo: { username, extra },
  object,
});
const update = (object: HPCJob, oldObject: HPCJob, username: string): AdmissionRequest => ({
  uid: 'r2',
  operation: 'UPDATE',
  namespace: 'team-a',
  userInfo: { username },
  object,
  oldObject,
});
const patchOf = (r: { patch?: string }) => JSON.parse(Buffer.from(r.patch ?? '', 'base64').toString()) as unknown;

describe('mutate', () => {
  it("records the request's user and mapped identity, over whatever the user claimed", () => {
    const claimed = makeJob({ submitter: { user: 'bob', uid: 0 } });
    const r = mutate(create(claimed, 'alice'), siteConfig);
    expect(r).toMatchObject({ uid: 'r1', allowed: true, patchType: 'JSONPatch' });
    expect(patchOf(r)).toEqual([{ op: 'add', path: '/spec/submitter', value: ALICE }]);
  });

  it('rejects an unmapped user before anything is stored', () => {
    const r = mutate(create(makeJob(), 'carol'), siteConfig);
    expect(r).toMatchObject({
      allowed: false,
      status: { code: 403, message: expect.stringContaining('user "carol" has no POSIX identity') },
    });
  });

  it('carries the record over an update that leaves it out, and touches nothing else', () => {
    const old = aliceJob();
    const replaced = makeJob({ workers: 2 });
    expect(patchOf(mutate(update(replaced, old, 'alice'), siteConfig))).toEqual([
      { op: 'add', path: '/spec/submitter', value: ALICE },
    ]);
    expect(mutate(update(aliceJob(), old, 'alice'), siteConfig).patch).toBeUndefined();
  });
});

describe('validate', () => {
  it('accepts the record admission wrote and rejects any other', () => {
    expect(validate(create(aliceJob(), 'alice'), siteConfig).allowed).toBe(true);
    const r = validate(create(aliceJob(), 'bob'), siteConfig);
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toContain('spec.submitter: must be the record admission writes');
  });

  it('names every violation in one message, with the job', () => {
    const job = aliceJob({ worker: { template: { spec: { hostPID: true, nodeName: 'n', containers: [] } } } });
    const r = validate(create(job, 'alice'), siteConfig);
    expect(r.status?.message).toBe(
      'HPCJob team-a/cfd is not allowed by the site policy: spec.worker.template.spec.hostPID: not allowed ' +
        '(sitePolicy.hostPID); spec.worker.template.spec.nodeName: not allowed, use placement or a nodeSelector ' +
        '(sitePolicy.nodeName)',
    );
  });

  it('never lets the record change', () => {
    const changed = aliceJob();
    changed.spec.submitter = { ...ALICE, uid: 0 };
    const r = validate(update(changed, aliceJob(), 'alice'), siteConfig);
    expect(r.status?.message).toContain('spec.submitter: is recorded at admission and cannot change');
  });

  it('lets only the submitter change what the job runs, and anyone with rights change its runPolicy', () => {
    const old = aliceJob();
    const template = aliceJob({ worker: { template: { spec: { containers: [{ name: 'worker', args: ['x'] }] } } } });
    expect(validate(update(template, old, 'bob'), siteConfig).status?.message).toContain('only the submitter (alice)');
    expect(validate(update(template, old, 'alice'), siteConfig).allowed).toBe(true);
    const suspended = aliceJob({ runPolicy: { suspend: true } });
    expect(validate(update(suspended, old, 'bob'), siteConfig).allowed).toBe(true);
  });

  it('blocks only violations an update adds: a job from before a tightened policy can still be suspended', () => {
    const old = aliceJob({ worker: { template: { spec: { hostPID: true, containers: [] } } } });
    const suspended = structuredClone(old);
    suspended.spec.runPolicy = { suspend: true };
    expect(validate(update(suspended, old, 'alice'), siteConfig).allowed).toBe(true);
    const worse = structuredClone(old);
    worse.spec.worker!.template!.spec!.hostIPC = true;
    expect(validate(update(worse, old, 'alice'), siteConfig).status?.message).toContain('hostIPC');
    expect(validate(update(worse, old, 'alice'), siteConfig).status?.message).not.toContain('hostPID');
  });
});

describe('review', () => {
  it('answers in kind, and a review without a request is a bad request', () => {
    expect(review({ request: create(aliceJob(), 'alice') }, validate, siteConfig)).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'r1', allowed: true },
    });
    expect(review({}, validate, siteConfig).response).toMatchObject({ allowed: false, status: { code: 400 } });
    expect(review(null, mutate, siteConfig).response).toMatchObject({ allowed: false, status: { code: 400 } });
  });
});
