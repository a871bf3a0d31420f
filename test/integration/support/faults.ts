// Helpers for the fault-injection tests: one operator process per test (started with the environment a fault
// needs, always stopped), a namespace per test that is gone before the next test starts, the operator's reconcile
// count from /metrics, events counted by reason, a label loop that makes status writes conflict, and a Node that
// no kubelet (and no KWOK) answers for.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { reuseConnections } from '../../../src/kube/client-node-pool.js';
import { clients, kubeConfig, kubectl } from './cluster.js';
import { eventually } from './eventually.js';
import { Jobs } from './jobs.js';
import { createTestNamespace, deleteTestNamespace } from './namespace.js';
import { installCrd, OperatorProcess, permissiveConfigFile } from './operator.js';

export interface FaultContext {
  namespace: string;
  jobs: Jobs;
  /** Starts an operator for this test; env is set for its start only (the process inherits process.env). */
  startOperator(env?: Record<string, string>): Promise<OperatorProcess>;
}

let operatorSerial = 0;

/**
 * Hooks for a fault test file: the CRD, a fresh namespace per test, and every operator a test starts stopped after
 * it whatever happened. The namespace is deleted while an operator still runs (it releases launcher finalizers)
 * and waited for, so that the next test's operator sees none of this test's jobs.
 */
export function useFaultSuite(prefix: string): FaultContext {
  const { core, custom } = clients();
  let started: OperatorProcess[] = [];
  // Fault tests pin pods to nodes and check Pod Security on host-network and privileged jobs.
  const configFile = permissiveConfigFile();
  const ctx: FaultContext = {
    namespace: '',
    jobs: undefined as unknown as Jobs,
    async startOperator(env = {}) {
      const op = new OperatorProcess(`${prefix}-${process.pid}-${++operatorSerial}`, ['--config', configFile]);
      started.push(op);
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
      try {
        await op.start();
      } finally {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
      return op;
    },
  };
  beforeAll(() => installCrd());
  beforeEach(async () => {
    started = [];
    ctx.namespace = await createTestNamespace(core, prefix);
    ctx.jobs = new Jobs(custom, core, ctx.namespace);
  });
  afterEach(async () => {
    try {
      // A test that failed with its operator crashed still gets its launcher finalizers released.
      if (!started.some((op) => op.running)) await ctx.startOperator();
      await removeNamespace(core, ctx.namespace);
    } finally {
      for (const op of started) await op.stop();
    }
  }, 150_000);
  return ctx;
}

async function removeNamespace(core: CoreV1Api, namespace: string): Promise<void> {
  await deleteTestNamespace(core, namespace);
  const gone = async () => {
    const exists = await core.readNamespace({ name: namespace }).then(
      () => true,
      (err: { code?: number }) => err.code !== 404,
    );
    if (exists) throw new Error(`namespace ${namespace} still exists`);
  };
  try {
    await eventually(gone, 60_000, 500);
  } catch {
    // Pods on a node nobody answers for never finish terminating: they go by force.
    const pods = (await core.listNamespacedPod({ namespace })).items;
    for (const pod of pods) await forceDeletePod(core, pod);
    await eventually(gone, 60_000, 500);
  }
}

/** Removes every finalizer and deletes the pod with no grace period, as an administrator does for a lost node. */
export async function forceDeletePod(core: CoreV1Api, pod: V1Pod): Promise<void> {
  const { name = '', namespace = '' } = pod.metadata ?? {};
  if (pod.metadata?.finalizers?.length) {
    await core
      .patchNamespacedPod(
        { name, namespace, body: { metadata: { finalizers: null } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )
      .catch(() => undefined);
  }
  await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
}

/** The operator's passes so far (every result), from hpcjob_reconcile_duration_seconds_count on its /metrics. */
export async function reconcileCount(
  op: OperatorProcess,
): Promise<{ total: number; byResult: Record<string, number> }> {
  const text = await (await fetch(op.metricsUrl)).text();
  const byResult: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^hpcjob_reconcile_duration_seconds_count\{result="([^"]*)"\} (\S+)$/.exec(line);
    if (m) byResult[m[1]!] = Number(m[2]);
  }
  return { total: Object.values(byResult).reduce((a, b) => a + b, 0), byResult };
}

/** One value of a metric without labels (e.g. hpcjob_workqueue_length), or a sum over the lines matching labels. */
export async function metricSum(op: OperatorProcess, name: string, labels: Record<string, string> = {}) {
  const text = await (await fetch(op.metricsUrl)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !/^[^{ ]+(\{[^}]*\})? \S+$/.test(line)) continue;
    const [series, value] = line.split(' ');
    if (series!.replace(/\{.*$/, '') !== name) continue;
    if (Object.entries(labels).every(([k, v]) => series!.includes(`${k}="${v}"`))) sum += Number(value);
  }
  return sum;
}

/** The job's events counted by reason. */
/** The job's events by reason, and launchersCreated: how many times its launcher was created (the operators' logs). */
export async function eventCounts(jobs: Jobs, name: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const e of await jobs.events(name)) counts[e.reason] = (counts[e.reason] ?? 0) + 1;
  const launchers = jobs.launcherCreations(name);
  if (launchers > 0) counts.launchersCreated = launchers;
  return counts;
}

/**
 * Relabels the HPCJob every intervalMs from each of `writers` concurrent loops until stopped; each change moves its
 * resourceVersion, so a status write from an older copy is refused with 409. stop() returns the writes that went
 * through.
 */
export function labelLoop(namespace: string, name: string, intervalMs = 20, writers = 1) {
  // One kept-alive connection: a new TLS handshake per request would space the writes far wider than intervalMs.
  const custom = reuseConnections(kubeConfig()).makeApiClient(CustomObjectsApi);
  let stopped = false;
  let writes = 0;
  const loop = async (writer: number) => {
    while (!stopped) {
      await custom
        .patchNamespacedCustomObject(
          {
            group: 'hpcjob.dev',
            version: 'v1alpha1',
            plural: 'hpcjobs',
            namespace,
            name,
            body: { metadata: { labels: { [`faults.hpcjob.dev/tick-${writer}`]: String(writes) } } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )
        .then(() => writes++)
        .catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  };
  const done = Promise.all(Array.from({ length: writers }, (_, i) => loop(i)));
  return {
    async stop(): Promise<number> {
      stopped = true;
      await done;
      return writes;
    },
  };
}

/**
 * A Node object that neither KWOK (no type=kwok label) nor a kubelet manages: pods bound to it never run and never
 * finish terminating. It copies a KWOK node's capacity and is reported Ready once; a NoSchedule taint keeps the
 * scheduler away, so only pods that name it (spec.nodeName) land there.
 */
export async function createLostNode(core: CoreV1Api, name: string): Promise<void> {
  const model = (await core.listNode({ labelSelector: 'type=kwok' })).items[0];
  const created = kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'hpcjob.dev/node-kind': 'lost' } },
      spec: { taints: [{ key: 'faults.hpcjob.dev/lost', value: 'true', effect: 'NoSchedule' }] },
    }),
  );
  if (created.status !== 0) throw new Error(`creating node ${name}: ${created.stderr}`);
  const now = new Date().toISOString();
  const status = {
    status: {
      allocatable: model?.status?.allocatable,
      capacity: model?.status?.capacity,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'reported once by the test',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
    },
  };
  const patched = kubectl([
    'patch',
    'node',
    name,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify(status),
  ]);
  if (patched.status !== 0) throw new Error(`patching node ${name} status: ${patched.stderr}`);
}

export async function deleteNode(name: string): Promise<void> {
  kubectl(['delete', 'node', name, '--ignore-not-found', '--wait=false']);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
