// Reads the HPCJob schema from crds/hpcjob.yaml, so the API server and the operator check manifests against one
// document and the two can never drift apart.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { VERSION } from './types.js';

/** A JSON schema node of the CRD, loosely typed: only the keys the operator reads are named. */
export interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  required?: string[];
  description?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: { rule: string; message: string }[];
  [key: string]: unknown;
}

/**
 * Kubernetes prunes unknown fields (and kubectl's strict field validation rejects them): every object with declared
 * properties is marked closed, map values included, except where the schema keeps unknown fields on purpose (pod
 * templates, volumes).
 */
export function closeObjects(node: SchemaNode): SchemaNode {
  const out: SchemaNode = { ...node };
  if (node.properties) {
    out.properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, closeObjects(v)]));
    if (!node['x-kubernetes-preserve-unknown-fields'] && node.additionalProperties === undefined) {
      out.additionalProperties = false;
    }
  }
  if (node.items) out.items = closeObjects(node.items);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') {
    out.additionalProperties = closeObjects(node.additionalProperties);
  }
  return out;
}

// This file sits in src/api/ when run from source and in dist/api/ when built: the package root is two levels up.
export const CRD_PATH = fileURLToPath(new URL('../../crds/hpcjob.yaml', import.meta.url));

let schema: SchemaNode | undefined;

/** The openAPIV3Schema of the served version in a CRD file; an unreadable file is an error that names it. */
export function loadSchema(path: string): SchemaNode {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot read the HPCJob CRD at ${path}, which validation needs (ship crds/ beside dist/): ${why}`);
  }
  const crd = parse(text) as { spec?: { versions?: { name: string; schema: { openAPIV3Schema: SchemaNode } }[] } };
  const version = crd.spec?.versions?.find((v) => v.name === VERSION);
  if (!version) throw new Error(`${path}: no version ${VERSION}`);
  return version.schema.openAPIV3Schema;
}

/** The openAPIV3Schema of the served version; read once. */
export function hpcJobSchema(): SchemaNode {
  schema ??= loadSchema(CRD_PATH);
  return schema;
}

/** Every CEL rule in the schema with the path of the node it sits on (e.g. "spec.network"). */
export function celRules(
  node: SchemaNode = hpcJobSchema(),
  at = '',
): { path: string; rule: string; message: string }[] {
  const here = (node['x-kubernetes-validations'] ?? []).map((v) => ({ path: at, rule: v.rule, message: v.message }));
  const below = Object.entries(node.properties ?? {}).flatMap(([key, child]) =>
    celRules(child, at ? `${at}.${key}` : key),
  );
  const items = node.items ? celRules(node.items, `${at}[]`) : [];
  return [...here, ...below, ...items];
}
