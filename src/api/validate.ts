// Validation of HPCJob manifests against the CRD's own schema (ajv), plus TypeScript twins of the CEL rules that
// apply to one object, so the CLI, the tests and the controller report what the API server would, field by field.
import { isDeepStrictEqual } from 'node:util';
import { Ajv, type ErrorObject, type SchemaValidateFunction, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import { withDefaults } from './defaults.js';
import { closeObjects, hpcJobSchema, type SchemaNode } from './schema.js';
import type { HPCJob } from './types.js';

/** Longest metadata.name: 63 (DNS label) - "-worker-".length - 5 index digits. */
export const MAX_NAME_LENGTH = 63 - '-worker-'.length - 5;
/** A batch job's host lists (SLURM_JOB_NODELIST, LSB_HOSTS, ...) are environment variables, each at most 128 KiB. */
export const MAX_BATCH_WORKERS = 2000;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

// ajv-formats is CommonJS; depending on the loader its plugin arrives as the module or under .default.
type Plugin = (ajv: Ajv) => Ajv;
const addFormats: Plugin =
  (formatsPlugin as unknown as { default?: Plugin }).default ?? (formatsPlugin as unknown as Plugin);

// Lists declared as sets or maps must not repeat an element (a set) or a key (a map), as the API server enforces.
function listDuplicate(kind: string, data: unknown[], keys: string[]): string | undefined {
  const seen = new Set<string>();
  for (const item of data) {
    const id =
      kind === 'map' && item && typeof item === 'object'
        ? JSON.stringify(keys.map((k) => (item as Record<string, unknown>)[k]))
        : JSON.stringify(item);
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
}

function buildValidator(): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const keyword of [
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-validations', // CEL: the object rules are mirrored in celErrors below
    'x-kubernetes-list-map-keys',
    'x-kubernetes-int-or-string',
    'x-kubernetes-embedded-resource',
  ]) {
    ajv.addKeyword({ keyword });
  }
  const checkList: SchemaValidateFunction = (kind: string, data: unknown[], parent?: SchemaNode) => {
    const keys = (parent?.['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
    const duplicate = listDuplicate(kind, data, keys);
    if (duplicate === undefined) return true;
    const what = kind === 'map' ? `${keys.join(', ')} ${duplicate.slice(1, -1)}` : duplicate;
    checkList.errors = [{ keyword: 'x-kubernetes-list-type', message: `has a duplicate entry (${what})`, params: {} }];
    return false;
  };
  ajv.addKeyword({ keyword: 'x-kubernetes-list-type', type: 'array', errors: true, validate: checkList });
  // Status is the operator's own output and the server prunes what it does not know: only spec is held strictly.
  const schema = hpcJobSchema();
  const closed = closeObjects(schema);
  return ajv.compile({ ...closed, properties: { ...closed.properties, status: schema.properties?.status ?? {} } });
}

let validator: ValidateFunction | undefined;

/** "/spec/env/0/name" → "spec.env[0].name" */
function fieldPath(pointer: string, child?: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(root)';
}

function describe(err: ErrorObject): string | undefined {
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'required':
      return `${fieldPath(err.instancePath, String(params.missingProperty))}: is required`;
    case 'additionalProperties':
      return `${fieldPath(err.instancePath, String(params.additionalProperty))}: unknown field`;
    case 'enum':
      return `${fieldPath(err.instancePath)}: must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'anyOf':
      // Only int-or-string fields use anyOf: one message instead of one per branch.
      return `${fieldPath(err.instancePath)}: must be an integer or a string`;
    case 'pattern':
      return `${fieldPath(err.instancePath)}: must match ${String(params.pattern)}`;
    default:
      // The branches of an anyOf are summarised by the anyOf error itself.
      if (err.schemaPath.includes('/anyOf/')) return undefined;
      return `${fieldPath(err.instancePath)}: ${err.message ?? 'is invalid'}`;
  }
}

interface Loose {
  metadata?: { name?: unknown };
  spec?: {
    command?: unknown;
    batchScript?: unknown;
    workers?: unknown;
    network?: { mode?: unknown; networks?: unknown };
  };
}

/**
 * The CEL rules of the CRD that look at one object, keyed by their message (the same text as in the CRD, which a
 * unit test checks). Each returns true when the rule holds; a missing field is left to the schema.
 */
export const OBJECT_RULES: Record<string, (job: Loose) => boolean> = {
  [`metadata.name: must be at most ${MAX_NAME_LENGTH} characters, so that <name>-worker-<index> stays a DNS label`]: (
    job,
  ) => typeof job.metadata?.name !== 'string' || job.metadata.name.length <= MAX_NAME_LENGTH,
  'metadata.name: must be a DNS label that starts with a letter (it names the headless Service)': (job) =>
    typeof job.metadata?.name !== 'string' || DNS_LABEL.test(job.metadata.name),
  'spec.command: exactly one of spec.command and spec.batchScript must be set': (job) =>
    !job.spec ||
    typeof job.spec !== 'object' ||
    (job.spec.command === undefined) !== (job.spec.batchScript === undefined),
  'spec.workers: a batch script job has at most 2000 workers (its host lists are environment variables)': (job) =>
    job.spec?.batchScript === undefined || !(Number(job.spec.workers) > MAX_BATCH_WORKERS),
  'spec.network.networks: must name at least one network when mode is sriov': (job) => {
    const network = job.spec?.network;
    return network?.mode !== 'sriov' || (Array.isArray(network.networks) && network.networks.length > 0);
  },
  'spec.network.networks: is only used when mode is sriov': (job) => {
    const network = job.spec?.network;
    const named = Array.isArray(network?.networks) && network.networks.length > 0;
    return !named || network?.mode === 'sriov';
  },
};

function celErrors(manifest: unknown): string[] {
  if (!manifest || typeof manifest !== 'object') return [];
  return Object.entries(OBJECT_RULES)
    .filter(([, holds]) => !holds(manifest as Loose))
    .map(([message]) => message);
}

/** Every problem with an HPCJob manifest, one "field: problem" message each; empty when it is valid. */
export function validateJob(manifest: unknown): string[] {
  validator ??= buildValidator();
  const schemaErrors = validator(manifest) ? [] : (validator.errors ?? []).map(describe);
  const messages = [...schemaErrors, ...celErrors(manifest)].filter((m): m is string => m !== undefined);
  return [...new Set(messages)];
}

/** The fields the CRD keeps immutable (its transition rules), each read from a defaulted spec. */
export const IMMUTABLE_FIELDS: Record<string, (spec: HPCJob['spec']) => unknown> = {
  'spec.image': (s) => s.image,
  'spec.command': (s) => s.command,
  'spec.batchScript': (s) => s.batchScript,
  'spec.workers': (s) => s.workers,
  'spec.slotsPerWorker': (s) => s.slotsPerWorker,
  'spec.mpiImplementation': (s) => s.mpiImplementation,
  'spec.resources': (s) => s.resources,
  'spec.network': (s) => s.network,
  'spec.placement': (s) => s.placement,
  'spec.scheduling': (s) => s.scheduling,
  'spec.launcher.runsRanks': (s) => s.launcher?.runsRanks ?? false,
  'spec.submitter': (s) => s.submitter,
};

/** The CRD's immutability rules for an update, compared after defaults: one "field: is immutable" per change. */
export function immutableFieldChanges(oldJob: HPCJob, newJob: HPCJob): string[] {
  const before = withDefaults(oldJob).spec;
  const after = withDefaults(newJob).spec;
  return Object.entries(IMMUTABLE_FIELDS)
    .filter(([, read]) => !isDeepStrictEqual(read(before), read(after)))
    .map(([field]) => `${field}: is immutable`);
}
