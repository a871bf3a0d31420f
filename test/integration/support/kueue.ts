// Real Kueue (the manager built from its Go module by hack/build-kueue.sh) against the local control plane: its
// CRDs, the manager as a process on 127.0.0.1 ports with no webhook registered, and the queue objects a test needs.
//
// The manager reads its metrics certificate from the hard-coded /etc/kueue/metrics/certs. It runs in a private mount
// namespace (unshare -m) in which /etc is an overlay over the host's /etc with a tmpfs upper layer: the manager sees
// the host's /etc plus the certificate; the host's /etc is never written, and the layer vanishes with the process.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kubeconfigPath, kubectl, repoRoot } from './cluster.js';
import { freePort, operatorLogDir } from './operator.js';
import { spawnRecorded, stopProcess, waitReady } from './tracked-process.js';

const KUEUE_NAMESPACE = 'kueue-system';

/** Where hack/build-kueue.sh put the manager and the CRDs (hack/test.sh builds them before the suites). */
export function kueueDir(): string {
  const dir = spawnSync('bash', [path.join(repoRoot, 'hack/build-kueue.sh'), '--print-dir'], { encoding: 'utf8' });
  const out = dir.stdout.trim();
  if (!existsSync(path.join(out, 'bin/kueue'))) {
    throw new Error(`no Kueue manager in ${out}: run hack/build-kueue.sh (hack/test.sh integration does)`);
  }
  return out;
}

function mustKubectl(args: string[], input?: string): string {
  const r = kubectl(args, input);
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Kueue's CRDs, server-side applied (the Workload CRD is far above client-side apply's annotation limit). */
export function installKueueCrds(): void {
  const crds = path.join(kueueDir(), 'crds');
  mustKubectl(['apply', '--server-side', '--force-conflicts', '-f', crds]);
  const names = readdirSync(crds).map((f) => `crd/${f.replace(/^kueue\.x-k8s\.io_(.*)\.yaml$/, '$1')}.kueue.x-k8s.io`);
  mustKubectl(['wait', '--for=condition=Established', '--timeout=60s', ...names]);
}

/** A self-signed certificate for 127.0.0.1: the manager's metrics and webhook servers insist on serving TLS. */
function makeCertificate(dir: string): void {
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      path.join(dir, 'tls.key'),
      '-out',
      path.join(dir, 'tls.crt'),
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
}

export class KueueManager {
  #child: ChildProcess | undefined;
  readonly logFile = path.join(operatorLogDir, 'kueue.log');
  healthUrl = '';

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    const bin = path.join(kueueDir(), 'bin/kueue');
    // Kueue's own namespace (its configuration names it); already there after an earlier run.
    kubectl(['create', 'namespace', KUEUE_NAMESPACE]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hpcjob-kueue-'));
    const certs = path.join(dir, 'certs');
    mkdirSync(certs);
    makeCertificate(certs);
    const [health, metrics, webhook] = [await freePort(), await freePort(), await freePort()];
    this.healthUrl = `http://127.0.0.1:${health}`;
    const config = [
      'apiVersion: config.kueue.x-k8s.io/v1beta2',
      'kind: Configuration',
      `namespace: ${KUEUE_NAMESPACE}`,
      `health: {healthProbeBindAddress: "127.0.0.1:${health}"}`,
      `metrics: {bindAddress: "127.0.0.1:${metrics}"}`,
      `webhook: {host: 127.0.0.1, port: ${webhook}, certDir: "${certs}"}`,
      'leaderElection: {leaderElect: false}',
      'internalCertManagement: {enable: false}',
      // Kueue manages no built-in kind here; the operator owns its Workloads (no webhook is registered).
      'integrations: {frameworks: ["batch/job"]}',
    ].join('\n');
    writeFileSync(path.join(dir, 'config.yaml'), config);
    // The layer over /etc lives on a tmpfs mounted over the scratch directory inside the namespace; the certificate
    // is copied in from outside it first.
    const layer = path.join(dir, 'layer');
    mkdirSync(layer);
    const script = [
      'set -e',
      `mount -t tmpfs tmpfs "${layer}"`,
      `mkdir "${layer}/upper" "${layer}/work"`,
      `mount -t overlay overlay -o "lowerdir=/etc,upperdir=${layer}/upper,workdir=${layer}/work" /etc`,
      'mkdir -p /etc/kueue/metrics/certs',
      `cp "${certs}/tls.crt" "${certs}/tls.key" /etc/kueue/metrics/certs/`,
      `exec "${bin}" --config="${dir}/config.yaml" --kubeconfig="${kubeconfigPath()}" ` +
        '--feature-gates=VisibilityOnDemand=false --zap-log-level=2',
    ].join('\n');
    // unshare and sh exec: the child's PID is the manager's own.
    this.#child = spawnRecorded(operatorLogDir, this.logFile, 'unshare', [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
    ]);
    try {
      await waitReady(this.#child, `${this.healthUrl}/readyz`, 'kueue', this.logFile);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await stopProcess(this.#child, 'SIGTERM', 15_000);
    this.#child = undefined;
  }
}

// ---- the queue objects a test creates (cluster-scoped ones are deleted by deleteKueueObjects) ----

const apply = (obj: object) => mustKubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(obj));
const API = 'kueue.x-k8s.io/v1beta2';

export function resourceFlavor(name: string, nodeLabels: Record<string, string>): void {
  apply({ apiVersion: API, kind: 'ResourceFlavor', metadata: { name }, spec: { nodeLabels } });
}

/** A ClusterQueue with nominal quotas in one flavor, open to every namespace. */
export function clusterQueue(
  name: string,
  flavor: string,
  quotas: Record<string, string>,
  preemption?: { withinClusterQueue: 'Never' | 'LowerPriority' | 'LowerOrNewerEqualPriority' },
): void {
  apply({
    apiVersion: API,
    kind: 'ClusterQueue',
    metadata: { name },
    spec: {
      namespaceSelector: {},
      resourceGroups: [
        {
          coveredResources: Object.keys(quotas),
          flavors: [
            {
              name: flavor,
              resources: Object.entries(quotas).map(([resource, quota]) => ({ name: resource, nominalQuota: quota })),
            },
          ],
        },
      ],
      ...(preemption ? { preemption } : {}),
    },
  });
}

export function localQueue(namespace: string, name: string, cq: string): void {
  apply({ apiVersion: API, kind: 'LocalQueue', metadata: { name, namespace }, spec: { clusterQueue: cq } });
}

export function workloadPriorityClass(name: string, value: number): void {
  apply({ apiVersion: API, kind: 'WorkloadPriorityClass', metadata: { name }, value });
}

/**
 * Deletes cluster-scoped Kueue objects (ClusterQueues before the flavors they use) and waits for them to go. Kueue's
 * controllers hold their finalizers while they are in use, so this runs while the manager does: before a suite makes
 * them (leftovers of a run that was cut short) and before it stops Kueue.
 */
export function deleteKueueObjects(objects: { kind: string; name: string }[]): void {
  for (const { kind, name } of objects) {
    kubectl(['delete', `${kind}.kueue.x-k8s.io`, name, '--ignore-not-found', '--timeout=60s']);
  }
}
