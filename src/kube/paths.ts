// Where the API serves each resource the operator lists, watches or writes: one table for the caches' collections
// and the children KubeApi creates, reads and deletes.
import { KUEUE_GROUP, KUEUE_VERSION } from '../api/kueue.js';
import { GROUP, PLURAL, VERSION } from '../api/types.js';
import type { ChildKind, PodGroupKind, PodGroupResource, Resource } from '../controller/ports.js';
import { GANG_MECHANISMS, POD_GROUP_APIS, podGroupKind, podGroupResource } from '../render/pod-groups.js';

/** Where the API serves each resource: the group-version prefix and the plural. */
const COLLECTIONS: Record<Resource, { prefix: string; plural: string }> = {
  hpcjobs: { prefix: `/apis/${GROUP}/${VERSION}`, plural: PLURAL },
  pods: { prefix: '/api/v1', plural: 'pods' },
  secrets: { prefix: '/api/v1', plural: 'secrets' },
  configmaps: { prefix: '/api/v1', plural: 'configmaps' },
  services: { prefix: '/api/v1', plural: 'services' },
  networkpolicies: { prefix: '/apis/networking.k8s.io/v1', plural: 'networkpolicies' },
  namespaces: { prefix: '/api/v1', plural: 'namespaces' },
  ...(Object.fromEntries(
    GANG_MECHANISMS.map((m) => {
      const { group, version, plural } = POD_GROUP_APIS[m];
      return [podGroupResource(m), { prefix: `/apis/${group}/${version}`, plural }];
    }),
  ) as Record<PodGroupResource, { prefix: string; plural: string }>),
  'workloads.kueue.x-k8s.io': { prefix: `/apis/${KUEUE_GROUP}/${KUEUE_VERSION}`, plural: 'workloads' },
  'resourceflavors.kueue.x-k8s.io': { prefix: `/apis/${KUEUE_GROUP}/${KUEUE_VERSION}`, plural: 'resourceflavors' },
};

/** The collection path a watch opens, e.g. /api/v1/namespaces/ns1/pods or /api/v1/pods. */
export function collectionPath(resource: Resource, namespace?: string): string {
  const { prefix, plural } = COLLECTIONS[resource];
  return namespace ? `${prefix}/namespaces/${namespace}/${plural}` : `${prefix}/${plural}`;
}

/** The resource a child kind is. */
const CHILD_RESOURCES: Record<ChildKind, Resource> = {
  Pod: 'pods',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  Service: 'services',
  NetworkPolicy: 'networkpolicies',
  Workload: 'workloads.kueue.x-k8s.io',
  ...(Object.fromEntries(GANG_MECHANISMS.map((m) => [podGroupKind(m), podGroupResource(m)])) as Record<
    PodGroupKind,
    Resource
  >),
};

/** The collection a child kind is created in, e.g. /api/v1/namespaces/ns/pods. */
export const childCollection = (kind: ChildKind, namespace: string): string =>
  collectionPath(CHILD_RESOURCES[kind], namespace);

/** The path of one namespaced object, e.g. /api/v1/namespaces/ns/pods/p. */
export function objectPath(kind: ChildKind | 'HPCJob', namespace: string, name: string): string {
  const collection = kind === 'HPCJob' ? collectionPath('hpcjobs', namespace) : childCollection(kind, namespace);
  return `${collection}/${name}`;
}
