// The Kueue example (examples/kueue): the queue objects fit together and fit the job, so the job can be admitted.
// (test/integration/kueue.test.ts has the API server with Kueue's CRDs accept both files.)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { withDefaults } from '../../../src/api/defaults.js';
import type { HPCJob } from '../../../src/api/types.js';
import { validateJob } from '../../../src/api/validate.js';
import { loadClusterConfig } from '../../../src/config/cluster-config.js';
import { renderWorkload } from '../../../src/render/kueue-workload.js';
import { renderLauncherPod, renderWorkerPod } from '../../../src/render/pods.js';

const dir = fileURLToPath(new URL('../../../examples/kueue/', import.meta.url));
interface ResourceGroup {
  coveredResources: string[];
  flavors: { name: string; resources: { name: string; nominalQuota: string | number }[] }[];
}

/** The fields of the queue objects the checks read. */
interface QueueObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { clusterQueue?: string; namespaceSelector?: object; resourceGroups?: ResourceGroup[] };
}

const docs = (file: string) =>
  parseAllDocuments(readFileSync(`${dir}${file}`, 'utf8')).map((d) => d.toJS() as QueueObject);
const queues = docs('queues.yaml');
const job = docs('hpcjob.yaml')[0] as unknown as HPCJob;
const byKind = (kind: string) => queues.filter((d) => d.kind === kind);

test('the queue objects are Kueue v1beta2 and refer to each other by name', () => {
  expect(new Set(queues.map((d) => d.apiVersion))).toEqual(new Set(['kueue.x-k8s.io/v1beta2']));
  const [local] = byKind('LocalQueue');
  const [cluster] = byKind('ClusterQueue');
  expect(local!.spec?.clusterQueue).toBe(cluster!.metadata.name);
  expect(cluster!.spec?.namespaceSelector).toEqual({});
  const flavors = byKind('ResourceFlavor').map((f) => f.metadata.name);
  for (const group of cluster!.spec?.resourceGroups ?? []) {
    for (const flavor of group.flavors) expect(flavors).toContain(flavor.name);
  }
});

test('the job names the LocalQueue of its namespace and an existing priority class, and is a valid HPCJob', () => {
  expect(validateJob(job)).toEqual([]);
  const [local] = byKind('LocalQueue');
  expect(job.metadata.namespace).toBe(local!.metadata.namespace);
  expect(job.metadata.labels?.['kueue.x-k8s.io/queue-name']).toBe(local!.metadata.name);
  const classes = byKind('WorkloadPriorityClass').map((c) => c.metadata.name);
  expect(classes).toContain(job.metadata.labels?.['kueue.x-k8s.io/priority-class']);
});

test("the ClusterQueue covers every resource the job's pods request, with quota for all of them at once", () => {
  const config = loadClusterConfig(fileURLToPath(new URL('../../../examples/cluster-config.yaml', import.meta.url)));
  const full = withDefaults({ ...job, metadata: { ...job.metadata, uid: 'u' } });
  const launcher = renderLauncherPod(full, config, 1, 2222);
  const worker = renderWorkerPod(full, config, 0, 2222);
  const workload = renderWorkload(full, { launcher, worker }, { queueName: 'gpus', active: true });
  const [cluster] = byKind('ClusterQueue');
  const group = cluster!.spec!.resourceGroups![0]!;
  const quota = new Map(group.flavors[0]!.resources.map((r) => [r.name, String(r.nominalQuota)]));
  for (const podSet of workload.spec.podSets) {
    for (const [resource, amount] of Object.entries(podSet.template.spec?.containers[0]?.resources?.requests ?? {})) {
      expect(group.coveredResources).toContain(resource);
      if (resource === 'nvidia.com/gpu')
        expect(Number(amount) * podSet.count).toBeLessThanOrEqual(Number(quota.get(resource)));
    }
  }
});
