// A shutdown lets the passes under way finish (a pass cut short between its writes would leave work for the next
// operator), but never waits longer than its bound.
import pino from 'pino';
import type { HPCJob } from '../../../src/api/types.js';
import { loadClusterConfig } from '../../../src/config/cluster-config.js';
import { Controller } from '../../../src/controller/controller.js';
import type { CacheFactory, CacheSpec, ControllerApi, ObjectCache } from '../../../src/controller/ports.js';
import { objectKey, type KubeObject } from '../../../src/kube/cache.js';
import { Metrics } from '../../../src/metrics.js';

const job: HPCJob = {
  apiVersion: 'hpcjob.dev/v1alpha1',
  kind: 'HPCJob',
  metadata: { name: 'j', namespace: 'ns', uid: 'job-uid', generation: 1, resourceVersion: '1' },
  // Suspended: a decision, written in the first pass (a new job's Pending is progress, which waits).
  spec: { image: 'i', command: ['mpirun', 'x'], workers: 1, runPolicy: { suspend: true } },
};

/** Caches holding fixed objects: the job, and nothing else. */
const caches: CacheFactory = <T extends KubeObject>(spec: CacheSpec<T>): ObjectCache<T> => {
  const items = spec.resource === 'hpcjobs' ? [job as unknown as T] : [];
  return {
    start: async () => items.forEach((o) => spec.onEvent('add', o)),
    stop: () => undefined,
    get: (key) => items.find((o) => objectKey(o) === key),
    list: () => items,
    byIndex: () => [],
    size: items.length,
    quietForMs: 0,
  };
};

function apiWithSlowStatusWrite(gate: Promise<void>) {
  const written: string[] = [];
  const api: ControllerApi = {
    create: async (kind, _ns, body) => `${kind}-${(body as KubeObject).metadata?.name}`,
    controllerOf: async () => undefined,
    deletePod: async () => undefined,
    removePodFinalizer: async () => undefined,
    replaceStatus: async (j) => {
      await gate;
      written.push(j.status?.phase ?? '');
      return { ...j, metadata: { ...j.metadata, resourceVersion: '2' } };
    },
    deleteJob: async () => undefined,
    recordEvent: async () => undefined,
    patchWorkloadSpec: async () => undefined,
    patchWorkloadStatus: async () => undefined,
    deleteWorkload: async () => undefined,
    workloadPriority: async () => undefined,
  };
  return { api, written };
}

const metrics = new Metrics();

function controllerWith(api: ControllerApi): Controller {
  const logger = pino({ level: 'silent' });
  return new Controller({ api, caches, config: loadClusterConfig(), logger, metrics, workers: 1, resyncMs: 1e9 });
}

async function untilPassStarted(): Promise<void> {
  for (let i = 0; i < 100; i++) await new Promise((r) => setImmediate(r));
}

test('stop() waits for the pass under way to write its status before it resolves', async () => {
  let open!: () => void;
  const { api, written } = apiWithSlowStatusWrite(new Promise((r) => (open = r)));
  const controller = controllerWith(api);
  await controller.start();
  await untilPassStarted();
  let stopped = false;
  const stopping = controller.stop(10_000).then(() => (stopped = true));
  await untilPassStarted();
  expect(stopped).toBe(false);
  open();
  await stopping;
  expect(written).toEqual(['Suspended']);
});

test('stop() gives up waiting after its bound', async () => {
  const { api, written } = apiWithSlowStatusWrite(new Promise(() => undefined));
  const controller = controllerWith(api);
  await controller.start();
  await untilPassStarted();
  const started = Date.now();
  await controller.stop(200);
  expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  expect(written).toEqual([]);
});
