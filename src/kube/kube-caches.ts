// The controller's caches on a real API server: one list+watch ResourceCache per resource, or, when the operator
// watches a list of namespaces, one per resource and namespace merged behind the same ObjectCache.
import type { Logger } from 'pino';
import type { CacheFactory, CacheSpec, ObjectCache, Resource } from '../controller/ports.js';
import { METADATA_ACCEPT, type KubeApi } from './api.js';
import { ResourceCache, type KubeObject } from './cache.js';
import { MergedCache } from './merged-cache.js';
import { collectionPath } from './paths.js';
import { keepJob, keepPod } from './transforms.js';

/** Cluster-scoped resources other than namespaces: one list+watch, whatever namespaces the operator watches. */
const CLUSTER_SCOPED: ReadonlySet<Resource> = new Set<Resource>(['resourceflavors.kueue.x-k8s.io']);

/**
 * Children the controller only needs to know exist and who owns them (name, uid, ownerReferences,
 * deletionTimestamp): they are listed and watched as metadata, so the ssh Secret's private keys, written once at
 * create, never come back into the operator's memory.
 */
export const METADATA_ONLY: ReadonlySet<Resource> = new Set<Resource>([
  'secrets',
  'configmaps',
  'services',
  'networkpolicies',
]);

/** What the caches of whole objects keep of them (transforms.ts); the others keep all the controller reads. */
const KEPT: Partial<Record<Resource, (obj: never) => KubeObject>> = { pods: keepPod, hpcjobs: keepJob };

/** One list+watch: a namespace, or a single object by name for the cluster-scoped namespaces. */
export interface CacheScope {
  namespace?: string;
  fieldSelector?: string;
}

/**
 * The list+watch scopes of a resource: the whole cluster when no namespace is given; otherwise one per namespace.
 * Namespaces themselves are cluster-scoped and are watched one by name, which RBAC can grant by resourceNames.
 */
export function cacheScopes(resource: Resource, namespaces: readonly string[]): CacheScope[] {
  if (namespaces.length === 0 || CLUSTER_SCOPED.has(resource)) return [{}];
  if (resource === 'namespaces') return namespaces.map((ns) => ({ fieldSelector: `metadata.name=${ns}` }));
  return namespaces.map((ns) => ({ namespace: ns }));
}

/** What a metadata-only cache keeps of an object, whatever the server sent: its metadata alone. */
export function metadataOf<T extends KubeObject>(obj: T): T {
  return { metadata: obj.metadata } as T;
}

export function kubeCaches(
  api: KubeApi,
  logger: Logger,
  onGiveUp: (err: unknown) => void,
  namespaces: readonly string[] = [],
): CacheFactory {
  return <T extends KubeObject>(spec: CacheSpec<T>): ObjectCache<T> => {
    const metadataOnly = METADATA_ONLY.has(spec.resource);
    const parts = cacheScopes(spec.resource, namespaces).map((scope) => {
      const path = collectionPath(spec.resource, scope.namespace);
      return new ResourceCache<T>({
        client: api.client,
        logger,
        onGiveUp,
        path,
        labelSelector: spec.labelSelector,
        fieldSelector: scope.fieldSelector,
        list: (labelSelector) =>
          api.list<T>(path, {
            labelSelector,
            fieldSelector: scope.fieldSelector,
            metadataOnly,
          }),
        accept: metadataOnly ? METADATA_ACCEPT : undefined,
        keep: metadataOnly ? metadataOf : (KEPT[spec.resource] as ((obj: T) => T) | undefined),
        onEvent: spec.onEvent,
        onWatchRestart: spec.onWatchRestart,
        indexBy: spec.indexBy,
      });
    });
    return parts.length === 1 ? parts[0]! : new MergedCache(parts);
  };
}

/**
 * The namespaces to watch from a comma-separated list (flag or environment); empty means the whole cluster. A name
 * that cannot be a namespace stops the operator at start rather than failing every watch.
 */
export function parseNamespaces(value: string | undefined): string[] {
  const names = (value ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const bad = names.find((n) => !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(n));
  if (bad !== undefined) throw new Error(`--namespaces: '${bad}' is not a namespace name (RFC 1123 label)`);
  return [...new Set(names)];
}
