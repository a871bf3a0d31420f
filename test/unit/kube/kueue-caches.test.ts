// Where the Kueue caches list and watch: Workloads per watched namespace, ResourceFlavors cluster-wide always.
import { cacheScopes } from '../../../src/kube/kube-caches.js';
import { collectionPath } from '../../../src/kube/paths.js';

test('Workloads follow the watched namespaces; the cluster-scoped ResourceFlavors are one cluster-wide watch', () => {
  expect(cacheScopes('workloads.kueue.x-k8s.io', [])).toEqual([{}]);
  expect(cacheScopes('workloads.kueue.x-k8s.io', ['a', 'b'])).toEqual([{ namespace: 'a' }, { namespace: 'b' }]);
  expect(cacheScopes('resourceflavors.kueue.x-k8s.io', ['a', 'b'])).toEqual([{}]);
  expect(collectionPath('workloads.kueue.x-k8s.io', 'a')).toBe('/apis/kueue.x-k8s.io/v1beta2/namespaces/a/workloads');
  expect(collectionPath('resourceflavors.kueue.x-k8s.io')).toBe('/apis/kueue.x-k8s.io/v1beta2/resourceflavors');
});
