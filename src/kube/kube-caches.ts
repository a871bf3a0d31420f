// The controller's caches on a real API server: one list+watch ResourceCache per resource.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, PLURAL, VERSION } from '../api/types.js';
import type { CacheFactory, CacheSpec, Resource } from '../controller/ports.js';
import type { KubeApi } from './api.js';
import { ResourceCache, type KubeObject, type ListResult } from './cache.js';

const PATHS: Record<Resource, string> = {
  hpcjobs: `/apis/${GROUP}/${VERSION}/${PLURAL}`,
  pods: '/api/v1/pods',
  secrets: '/api/v1/secrets',
  configmaps: '/api/v1/configmaps',
  services: '/api/v1/services',
  networkpolicies: '/apis/networking.k8s.io/v1/networkpolicies',
  namespaces: '/api/v1/namespaces',
};

export function kubeCaches(
  kc: KubeConfig,
  api: KubeApi,
  logger: Logger,
  onGiveUp: (err: unknown) => void,
): CacheFactory {
  const lists: Record<Resource, (labelSelector?: string) => Promise<ListResult<KubeObject>>> = {
    hpcjobs: api.listJobs,
    pods: api.listPods,
    secrets: api.listSecrets,
    configmaps: api.listConfigMaps,
    services: api.listServices,
    networkpolicies: api.listNetworkPolicies,
    namespaces: api.listNamespaces,
  };
  return <T extends KubeObject>(spec: CacheSpec<T>) =>
    new ResourceCache<T>({
      kc,
      logger,
      onGiveUp,
      path: PATHS[spec.resource],
      labelSelector: spec.labelSelector,
      list: lists[spec.resource] as (labelSelector?: string) => Promise<ListResult<T>>,
      onEvent: spec.onEvent,
      onWatchRestart: spec.onWatchRestart,
      indexBy: spec.indexBy,
    });
}
