// Validators built from Volcano's and scheduler-plugins' own PodGroup CRDs, as hack/fetch-scheduler-crds.sh fetched
// them (hack/test.sh runs it before the unit suite). Checked as the API server would: the openAPIV3Schema with
// unknown fields refused (strict field validation), int-or-string quantities, int32 ranges, and the object
// metadata rules the server applies to every object.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import formatsPlugin from 'ajv-formats';
import { parse } from 'yaml';
import { closeObjects, type SchemaNode } from '../../../src/api/schema.js';

type Plugin = (ajv: Ajv) => Ajv;
const addFormats: Plugin =
  (formatsPlugin as unknown as { default?: Plugin }).default ?? (formatsPlugin as unknown as Plugin);

export interface CrdDefinition {
  group: string;
  names: { plural: string; kind: string };
  versions: { name: string; served: boolean; schema: { openAPIV3Schema: SchemaNode } }[];
}

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const CRD_DIR = execFileSync('bash', [path.join(ROOT, 'hack/fetch-scheduler-crds.sh'), '--print-dir'], {
  encoding: 'utf8',
}).trim();

export function loadCrd(file: string): CrdDefinition {
  const full = path.join(CRD_DIR, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch {
    throw new Error(`${full} is missing: run bash hack/fetch-scheduler-crds.sh (hack/test.sh unit runs it)`);
  }
  return (parse(text) as { spec: CrdDefinition }).spec;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** ObjectMeta's rules for the fields the operator sets (name, namespace, labels, ownerReferences). */
function metadataErrors(metadata: unknown): string[] {
  const meta = (metadata ?? {}) as Record<string, unknown>;
  const errors: string[] = [];
  const name = meta.name;
  if (typeof name !== 'string' || name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    errors.push(`/metadata/name: ${JSON.stringify(name)} is not a DNS subdomain`);
  }
  if (typeof meta.namespace !== 'string' || meta.namespace === '') errors.push('/metadata/namespace: is required');
  for (const [key, value] of Object.entries((meta.labels ?? {}) as Record<string, unknown>)) {
    const [prefix, label] = key.includes('/') ? key.split('/', 2) : [undefined, key];
    const keyOk = LABEL_NAME.test(label ?? '') && label!.length <= 63 && (!prefix || DNS_SUBDOMAIN.test(prefix));
    const valueOk = typeof value === 'string' && value.length <= 63 && LABEL_VALUE.test(value);
    if (!keyOk || !valueOk) errors.push(`/metadata/labels/${key}: invalid label`);
  }
  for (const [i, ref] of ((meta.ownerReferences ?? []) as Record<string, unknown>[]).entries()) {
    for (const field of ['apiVersion', 'kind', 'name', 'uid']) {
      if (typeof ref[field] !== 'string' || ref[field] === '') {
        errors.push(`/metadata/ownerReferences/${i}/${field}: is required`);
      }
    }
  }
  return errors;
}

const describe = (e: ErrorObject): string =>
  e.keyword === 'additionalProperties'
    ? `${e.instancePath}/${String((e.params as { additionalProperty: string }).additionalProperty)}: unknown field`
    : `${e.instancePath}: ${e.message ?? 'is invalid'}`;

/** A function giving every problem the API server would report for an object of the CRD's version; [] if none. */
export function crdValidator(crd: CrdDefinition, version: string): (object: unknown) => string[] {
  const served = crd.versions.find((v) => v.name === version && v.served);
  if (!served) throw new Error(`${crd.names.plural}.${crd.group} serves no version ${version}`);
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  for (const keyword of [
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
    'x-kubernetes-validations',
    'x-kubernetes-embedded-resource',
  ]) {
    ajv.addKeyword({ keyword });
  }
  const validate = ajv.compile(closeObjects(served.schema.openAPIV3Schema));
  return (object) => {
    const schemaErrors = validate(object) ? [] : (validate.errors ?? []).map(describe);
    const o = (object ?? {}) as Record<string, unknown>;
    const identity =
      o.apiVersion === `${crd.group}/${version}` && o.kind === crd.names.kind
        ? []
        : [
            `apiVersion/kind: ${String(o.apiVersion)} ${String(o.kind)} is not ${crd.group}/${version} ${crd.names.kind}`,
          ];
    return [...identity, ...schemaErrors, ...metadataErrors(o.metadata)];
  };
}
