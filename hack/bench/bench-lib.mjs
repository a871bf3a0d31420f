// Helpers shared by the operator benchmark's modules: the operator build under test, clients per identity, waiting,
// namespaces, and a process's CPU time and memory.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The operator build under test: a checkout with dist/ and node_modules/ (BENCH_OPERATOR_DIR, default this repo). */
export const OPERATOR_DIR = path.resolve(process.env.BENCH_OPERATOR_DIR ?? REPO);

// client-node is taken from the operator's own node_modules, so the benchmark and the operator's dist share one copy
// (a KubeConfig from another copy would not get the operator's connection reuse).
const requireFromOperator = createRequire(path.join(OPERATOR_DIR, 'package.json'));
/** A package from the operator's node_modules. */
export const operatorPackage = (name) => import(pathToFileURL(requireFromOperator.resolve(name)).href);
export const k8s = await operatorPackage('@kubernetes/client-node');

/** A module of the operator's dist/ (e.g. 'kube/api.js'). */
export const operatorModule = (file) => import(pathToFileURL(path.join(OPERATOR_DIR, 'dist', file)).href);

const { reuseConnections } = await operatorModule('kube/client-node-pool.js');

/** API clients acting as the identity of one kubeconfig file; connections kept alive, as the operators do. */
export function clientsFor(kubeconfigPath) {
  const kc = reuseConnections(new k8s.KubeConfig());
  kc.loadFromFile(kubeconfigPath);
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const now = () => performance.now();
export const seconds = (ms) => Math.round(ms) / 1000;

export async function waitUntil(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** A promise that fails after timeoutMs, naming what it waited for. */
export function within(promise, timeoutMs, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench: timed out waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** fn over items, at most `limit` at a time. */
export async function inBatches(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** An API error's HTTP status; undefined for a network error (a refused or timed-out connection). */
const statusOf = (err) => (typeof err?.code === 'number' ? err.code : undefined);

/**
 * fn, tried again after a network error (the API server, sharing 2 cores with everything, may not answer a connect
 * in time). A create whose first try reached the server but not its answer gets 409 on the next: it is done.
 */
export async function retryingNetworkErrors(fn) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt > 1 && statusOf(err) === 409) return undefined;
      if (statusOf(err) !== undefined || attempt === 6) throw err;
      await sleep(500 * 2 ** attempt);
    }
  }
}

/** Deletes the namespace and waits until it is gone: a deletion still running would load the API server. */
export async function deleteNamespaceAndWait(core, name) {
  // The pods first, at once (grace period 0): they run on fake nodes, and KWOK confirming 10,000 graceful deletions
  // one by one held a namespace for 15 minutes. A launcher's finalizer still waits for its operator.
  await core.deleteCollectionNamespacedPod({ namespace: name, gracePeriodSeconds: 0 }).catch(() => undefined);
  await core.deleteNamespace({ name }).catch(() => undefined);
  await waitUntil(
    () =>
      core.readNamespace({ name }).then(
        () => false,
        (err) => statusOf(err) === 404,
      ),
    1_800_000,
    `namespace ${name} deleted`,
  );
}

export async function freshNamespace(core, name) {
  await deleteNamespaceAndWait(core, name);
  await retryingNetworkErrors(() => core.createNamespace({ body: { metadata: { name } } }));
}

const MiB = (kiB) => Math.round(kiB / 102.4) / 10;

/**
 * CPU time (user + system) and memory of a running process, from /proc: its peak and current RSS, and the current
 * RSS split into anonymous pages (its own heap and stacks) and file-backed ones (its binary and libraries, which
 * the kernel may drop and read again).
 */
export function processStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kiB = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  // Fields 14 and 15 of /proc/PID/stat, counted after the command name (which may hold spaces) ends with ') '.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  return {
    peakRssMiB: MiB(kiB('VmHWM')),
    rssMiB: MiB(kiB('VmRSS')),
    anonMiB: MiB(kiB('RssAnon')),
    fileMiB: MiB(kiB('RssFile')),
    cpuSeconds: ticks / 100,
  };
}

/**
 * Samples a process's anonymous RSS every intervalMs (the kernel keeps a peak of the whole RSS only); stop() returns
 * the highest sample in MiB.
 */
export function sampleAnonPeak(pid, intervalMs = 250) {
  let peak = 0;
  const sample = () => {
    try {
      peak = Math.max(peak, processStats(pid).anonMiB);
    } catch {
      // The process ended; its last sample stands.
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}
