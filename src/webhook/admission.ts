// Admission of HPCJobs (admission.k8s.io/v1 AdmissionReview in, AdmissionReview out). Pure.
//   mutate:   on create, spec.submitter is written from the request's userInfo and the site's identity policy,
//             replacing whatever the user put there; on update, a submitter left out is carried over.
//   validate: the record is the one this request earns and never changes; an unmapped user is rejected; the spec
//             complies with the site policy; only the submitter changes what the pods run.
import { isDeepStrictEqual } from 'node:util';
import type { HPCJob, Submitter } from '../api/types.js';
import type { ClusterConfig } from '../config/cluster-config.js';
import { resolveIdentity, submitterRecord, type UserInfo } from '../policy/identity.js';
import { policyViolations } from '../policy/job-rules.js';

export interface AdmissionRequest {
  uid: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  namespace?: string;
  name?: string;
  userInfo?: UserInfo;
  object?: unknown;
  oldObject?: unknown;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  patchType?: 'JSONPatch';
  patch?: string;
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** Structural equality of JSON values, whatever realm or key order they came from. */
const sameJson = (a: unknown, b: unknown) =>
  isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? null)), JSON.parse(JSON.stringify(b ?? null)));

const allow = (uid: string): AdmissionResponse => ({ uid, allowed: true });

function deny(uid: string, message: string, code = 403): AdmissionResponse {
  return { uid, allowed: false, status: { code, reason: code === 400 ? 'BadRequest' : 'Forbidden', message } };
}

/** The job as admitted: the namespace comes from the request when the object leaves it out. */
function asJob(value: unknown, namespace: string | undefined): HPCJob | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const job = value as HPCJob;
  if (typeof job.spec !== 'object' || job.spec === null) return undefined;
  return { ...job, metadata: { ...job.metadata, namespace: job.metadata?.namespace ?? namespace ?? '' } };
}

function jsonPatch(ops: unknown[]): string {
  return Buffer.from(JSON.stringify(ops)).toString('base64');
}

export function mutate(request: AdmissionRequest, config: ClusterConfig): AdmissionResponse {
  const job = asJob(request.object, request.namespace);
  if (!job) return allow(request.uid);
  if (request.operation === 'CREATE') {
    const user = request.userInfo ?? {};
    const resolution = resolveIdentity(user, job.metadata.namespace, config.sitePolicy);
    if (resolution.kind === 'rejected') return deny(request.uid, resolution.message);
    const record = submitterRecord(user, resolution);
    return {
      ...allow(request.uid),
      patchType: 'JSONPatch',
      patch: jsonPatch([{ op: 'add', path: '/spec/submitter', value: record }]),
    };
  }
  const old = asJob(request.oldObject, request.namespace);
  if (request.operation === 'UPDATE' && old?.spec.submitter && job.spec.submitter === undefined) {
    // kubectl replace or a client that does not know the field: the record stays as it was.
    const ops = [{ op: 'add', path: '/spec/submitter', value: old.spec.submitter }];
    return { ...allow(request.uid), patchType: 'JSONPatch', patch: jsonPatch(ops) };
  }
  return allow(request.uid);
}

const describe = (s: Submitter | undefined) => (s ? JSON.stringify(s) : 'none');

/** Whether an update changes what the pods run: anything in spec but runPolicy (suspend, deadlines, clean-up). */
function changesWorkload(job: HPCJob, old: HPCJob): boolean {
  const strip = (j: HPCJob) => ({ ...j.spec, runPolicy: undefined, submitter: undefined });
  return !sameJson(strip(job), strip(old));
}

function validateUpdate(request: AdmissionRequest, job: HPCJob, old: HPCJob, config: ClusterConfig): string[] {
  if (!sameJson(job.spec.submitter, old.spec.submitter)) {
    return [`spec.submitter: is recorded at admission and cannot change (was ${describe(old.spec.submitter)})`];
  }
  const owner = old.spec.submitter?.user;
  const username = request.userInfo?.username ?? '';
  const policy = config.sitePolicy.identity;
  const exempt = policy.exemptNamespaces.includes(job.metadata.namespace);
  if (policy.enabled && !exempt && owner !== undefined && owner !== username && changesWorkload(job, old)) {
    // The pods run as the submitter's uid: another user changing the command or templates would run as them.
    return [`spec: only the submitter (${owner}) may change what this job runs; ${username} may change spec.runPolicy`];
  }
  // A policy tightened after the job was admitted does not block its suspend or resume: only new violations count.
  const before = new Set(policyViolations(old, config));
  return policyViolations(job, config).filter((v) => !before.has(v));
}

function validateCreate(request: AdmissionRequest, job: HPCJob, config: ClusterConfig): string[] {
  const user = request.userInfo ?? {};
  const resolution = resolveIdentity(user, job.metadata.namespace, config.sitePolicy);
  if (resolution.kind === 'rejected') return [resolution.message];
  const expected = submitterRecord(user, resolution);
  // Another mutating webhook after ours could have rewritten the record.
  if (!sameJson(job.spec.submitter, expected)) {
    return [
      `spec.submitter: must be the record admission writes (${describe(expected)}), got ${describe(job.spec.submitter)}`,
    ];
  }
  return policyViolations(job, config);
}

export function validate(request: AdmissionRequest, config: ClusterConfig): AdmissionResponse {
  const job = asJob(request.object, request.namespace);
  if (!job) return allow(request.uid);
  const old = asJob(request.oldObject, request.namespace);
  let problems: string[] = [];
  if (request.operation === 'CREATE') problems = validateCreate(request, job, config);
  else if (request.operation === 'UPDATE' && old) problems = validateUpdate(request, job, old, config);
  if (problems.length === 0) return allow(request.uid);
  const name = `${job.metadata.namespace}/${job.metadata.name ?? request.name ?? ''}`;
  return deny(request.uid, `HPCJob ${name} is not allowed by the site policy: ${problems.join('; ')}`);
}

/** Answers one AdmissionReview; a review without a request is a bad request. */
export function review(
  body: unknown,
  handler: (r: AdmissionRequest, c: ClusterConfig) => AdmissionResponse,
  config: ClusterConfig,
): AdmissionReview {
  const request = (body as AdmissionReview | undefined)?.request;
  const response =
    request && typeof request.uid === 'string'
      ? handler(request, config)
      : deny(request?.uid ?? '', 'not an admission.k8s.io/v1 AdmissionReview with a request', 400);
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}
