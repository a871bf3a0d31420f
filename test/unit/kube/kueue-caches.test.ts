// Where the Kueue caches list and watch: Workloads per watched namespace, ResourceFlavors cluster-wide always.
import { cacheScopes, collectionPath } from '../../../src/kube/kube-caches.js';

test('Workloads follow the watched namespaces; the cluster-scoped ResourceFlavors are one cluster-wide watch', () => {
  expect(cacheScopes('workloads', [])).toEqual([{}]);
  expect(cacheScopes('workloads', ['a', 'b'])).toEqual([{ namespace: 'a' }, { namespace: 'b' }]);
  expect(cacheScopes('resourceflavors', ['a', 'b'])).toEqual([{}]);
  expect(collectionPath('workloads', 'a')).toBe('/apis/kueue.x-k8s.io/v1beta2/namespaces/a/workloads');
  expect(collectionPath('resourceflavors')).toBe('/apis/kueue.x-k8s.io/v1beta2/resourceflavors');
});
