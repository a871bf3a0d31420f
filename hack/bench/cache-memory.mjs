// Heap held by the pod cache, per pod: the same served pods (the operator's own rendering, with a status and
// managedFields as the API server sends them) stored whole and as keepPod keeps them. No cluster needed.
//   npm run build && node --expose-gc hack/bench/cache-memory.mjs [pods]
import { withDefaults } from '../../dist/api/defaults.js';
import { parseClusterConfig } from '../../dist/config/cluster-config.js';
import { keepPod } from '../../dist/kube/transforms.js';
import { renderWorkerPod } from '../../dist/render/pods.js';

const PODS = Number(process.argv[2] ?? 9000);
const at = '2026-12-04T12:00:00Z';
const job = withDefaults({
  apiVersion: 'hpcjob.dev/v1alpha1',
  kind: 'HPCJob',
  metadata: { name: 'bench', namespace: 'bench', uid: '00000000-0000-4000-8000-000000000000' },
  spec: { image: 'bench/mpi', command: ['mpirun', 'true'], workers: PODS },
});
const template = renderWorkerPod(job, parseClusterConfig(undefined), 0, 2222);
const fields = (manager) => ({ manager, operation: 'Update', apiVersion: 'v1', time: at, fieldsType: 'FieldsV1' });

/** The JSON text a watch delivers for pod i: parsed afresh, so no two pods share a string or an object. */
function servedJson(i) {
  const pod = JSON.parse(JSON.stringify(template));
  pod.metadata = { ...pod.metadata, name: `bench-worker-${i}`, uid: `uid-${i}`, resourceVersion: String(1000 + i) };
  pod.metadata.creationTimestamp = at;
  pod.metadata.managedFields = [fields('hpcjob-operator'), fields('kube-scheduler'), fields('kubelet')];
  pod.spec.nodeName = `node-${i % 8}`;
  pod.status = {
    phase: 'Running',
    podIP: `10.0.${i >> 8}.${i & 255}`,
    startTime: at,
    conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
      type,
      status: 'True',
      lastTransitionTime: at,
    })),
    containerStatuses: [
      {
        name: 'worker',
        ready: true,
        restartCount: 0,
        image: 'bench/mpi',
        imageID: 'sha256:0',
        state: { running: { startedAt: at } },
      },
    ],
  };
  return JSON.stringify(pod);
}

function heldBy(store) {
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const held = [];
  for (let i = 0; i < PODS; i++) held.push(store(JSON.parse(servedJson(i))));
  globalThis.gc();
  const bytes = process.memoryUsage().heapUsed - before;
  return { held, bytes };
}

const whole = heldBy((pod) => pod);
const wholePerPod = whole.bytes / PODS;
whole.held.length = 0;
const kept = heldBy(keepPod);
const keptPerPod = kept.bytes / PODS;
console.log(
  JSON.stringify(
    {
      pods: PODS,
      servedJsonBytesPerPod: servedJson(0).length,
      wholeHeapBytesPerPod: Math.round(wholePerPod),
      keptHeapBytesPerPod: Math.round(keptPerPod),
      keptMiB: Math.round((kept.bytes / 1048576) * 10) / 10,
      wholeMiB: Math.round((whole.bytes / 1048576) * 10) / 10,
    },
    null,
    2,
  ),
);
