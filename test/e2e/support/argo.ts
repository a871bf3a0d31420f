// Argo Workflows against the local cluster: its CRDs, and its workflow-controller (built by hack/build-argo.sh) as
// a process on the host, with its executor image (hack/images/build.sh argoexec) for the step pods on the real node.
//
// The controller runs cluster-wide but with its own instance ID, so it only takes the Workflows a test labels for
// it. Its configuration carries what the local cluster lacks for a pod that calls the API server: the cluster has
// no kube-proxy (the API server's Service address leads nowhere; pods use the node's forwarded address) and no
// ServiceAccount admission (no token is mounted unless a pod asks). Both are patched into every step's pod.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { HPCJob } from '../../../src/api/types.js';
import { clients, kubeconfigPath, kubectl, repoRoot, runClusterScript } from '../../integration/support/cluster.js';
import { eventually } from '../../integration/support/eventually.js';
import { createTestNamespace, deleteTestNamespace } from '../../integration/support/namespace.js';
import { operatorLogDir } from '../../integration/support/operator.js';
import { spawnRecorded, stopProcess } from '../../integration/support/tracked-process.js';

export const EXECUTOR_IMAGE = 'localhost/hpcjob/argoexec:dev';
export const INSTANCE_LABEL = 'workflows.argoproj.io/controller-instanceid';
const CONFIG_MAP = 'workflow-controller-configmap';
const TOKEN_VOLUME = 'kube-api-access';
// workflow-controller serves /healthz on this fixed port (not configurable in v3.7).
const HEALTH_URL = 'http://127.0.0.1:6060/healthz';

/** Where hack/build-argo.sh put the binaries and the CRDs (hack/test.sh builds them before the suites). */
export function argoDir(): string {
  const dir = spawnSync('bash', [path.join(repoRoot, 'hack/build-argo.sh'), '--print-dir'], { encoding: 'utf8' });
  const out = dir.stdout.trim();
  if (!existsSync(path.join(out, 'bin/workflow-controller'))) {
    throw new Error(`no workflow-controller in ${out}: run hack/build-argo.sh (hack/test.sh e2e does)`);
  }
  return out;
}

function mustKubectl(args: string[], input?: string): string {
  const r = kubectl(args, input);
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Argo's full CRDs (with their schemas, so a malformed Workflow is refused), server-side: they are too big for
 *  a client-side apply's annotation. */
export function installArgoCrds(): void {
  const crds = path.join(argoDir(), 'crds/full');
  mustKubectl(['apply', '--server-side', '--force-conflicts', '-f', crds]);
  const names = readdirSync(crds).map((f) => `crd/${f.replace(/^argoproj\.io_(.*)\.yaml$/, '$1')}.argoproj.io`);
  mustKubectl(['wait', '--for=condition=Established', '--timeout=60s', ...names]);
}

/** The controller's configuration (its ConfigMap's `config` key) for the local cluster. */
export function controllerConfig(instanceId: string, apiServerForPods: URL): Record<string, unknown> {
  const tokenVolume = {
    name: TOKEN_VOLUME,
    projected: {
      sources: [
        { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
  // A resource step's pod runs argoexec twice, both calling the API server: init, then main.
  const apiAccess = {
    env: [
      { name: 'KUBERNETES_SERVICE_HOST', value: apiServerForPods.hostname },
      { name: 'KUBERNETES_SERVICE_PORT', value: apiServerForPods.port },
    ],
    volumeMounts: [{ name: TOKEN_VOLUME, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
  };
  return {
    instanceID: instanceId,
    // Nothing scrapes it, and its default port could be taken on a shared machine.
    metricsConfig: { enabled: false },
    // A patch of every step pod, merged last: Argo checks the mounts a template declares against its volumes, so
    // the volume and its mount cannot come from the mainContainer setting.
    workflowDefaults: {
      spec: {
        podSpecPatch: stringify({
          initContainers: [{ name: 'init', ...apiAccess }],
          containers: [{ name: 'main', ...apiAccess }],
          volumes: [tokenVolume],
        }),
      },
    },
  };
}

export class WorkflowController {
  #child: ChildProcess | undefined;
  #namespace = '';
  readonly logFile = path.join(operatorLogDir, 'argo-workflow-controller.log');

  constructor(readonly instanceId: string) {}

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Its own namespace (for its ConfigMap), the configuration, then the process, ready once /healthz answers. */
  async start(): Promise<void> {
    const { core } = clients();
    this.#namespace = await createTestNamespace(core, 'e2e-argo-controller');
    const api = new URL(runClusterScript(['apiserver-for-pods']).stdout.trim());
    await core.createNamespacedConfigMap({
      namespace: this.#namespace,
      body: { metadata: { name: CONFIG_MAP }, data: { config: stringify(controllerConfig(this.instanceId, api)) } },
    });
    const args = [
      '--kubeconfig',
      kubeconfigPath(),
      '--namespace',
      this.#namespace,
      '--configmap',
      CONFIG_MAP,
      '--executor-image',
      EXECUTOR_IMAGE,
      // The image is imported into the node by hack/cluster; there is no registry to pull from.
      '--executor-image-pull-policy',
      'Never',
      '--workflow-workers',
      '4',
    ];
    this.#child = spawnRecorded(operatorLogDir, this.logFile, path.join(argoDir(), 'bin/workflow-controller'), args, {
      ...process.env,
      LEADER_ELECTION_DISABLE: 'true',
    });
    const child = this.#child;
    try {
      await eventually(async () => {
        if (child.exitCode !== null) throw new Error(`workflow-controller exited with ${child.exitCode}`);
        const res = await fetch(HEALTH_URL);
        if (res.status !== 200) throw new Error(`healthz ${res.status}`);
      }, 60_000);
    } catch (err) {
      await this.stop();
      throw new Error(`workflow-controller not ready (log: ${this.logFile})`, { cause: err });
    }
  }

  /** Ends the process (by force after 20 s) and removes its namespace; safe to call when it never started. */
  async stop(): Promise<void> {
    await stopProcess(this.#child, 'SIGTERM', 20_000);
    this.#child = undefined;
    if (this.#namespace) await deleteTestNamespace(clients().core, this.#namespace);
    this.#namespace = '';
  }
}

// --- Workflows -------------------------------------------------------------------------------------------------

export const EXAMPLE_DIR = path.join(repoRoot, 'examples/pipelines/argo');

/** The parts of a Workflow's status the tests read. */
export interface WorkflowNode {
  id: string;
  name: string;
  type: string;
  phase?: string;
  message?: string;
  outputs?: { parameters?: { name: string; value?: string }[] };
}
export interface Workflow {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; generateName?: string; namespace?: string; labels?: Record<string, string> };
  spec: { templates: { name: string; resource?: { manifest: string } }[] } & Record<string, unknown>;
  status?: { phase?: string; message?: string; nodes?: Record<string, WorkflowNode> };
}

const WORKFLOWS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'workflows' };

/** examples/pipelines/argo/workflow.yaml with the HPCJob's manifest edited, labelled for this controller. */
export function exampleWorkflow(instanceId: string, editJob: (job: HPCJob) => void): Workflow {
  const workflow = parse(readFileSync(path.join(EXAMPLE_DIR, 'workflow.yaml'), 'utf8')) as Workflow;
  const resource = workflow.spec.templates[0]!.resource!;
  const job = parse(resource.manifest) as HPCJob;
  editJob(job);
  resource.manifest = stringify(job);
  workflow.metadata.labels = { ...workflow.metadata.labels, [INSTANCE_LABEL]: instanceId };
  return workflow;
}

export async function createWorkflow(namespace: string, workflow: Workflow): Promise<Workflow> {
  return (await clients().custom.createNamespacedCustomObject({
    ...WORKFLOWS,
    namespace,
    body: workflow,
  })) as Workflow;
}

export async function getWorkflow(namespace: string, name: string): Promise<Workflow> {
  return (await clients().custom.getNamespacedCustomObject({ ...WORKFLOWS, namespace, name })) as Workflow;
}

/** What to read when a Workflow does not end as expected: its status and its step pods' logs. */
export function workflowDiagnostics(namespace: string, name: string): string {
  const status = kubectl(['get', 'workflow', '-n', namespace, name, '-o', 'jsonpath={.status}']);
  const pods = kubectl(['get', 'pods', '-n', namespace, '-o', 'wide']);
  const logs = kubectl(['logs', '-n', namespace, '-l', `workflows.argoproj.io/workflow=${name}`, '--prefix']);
  return [`status: ${status.stdout}`, `pods:\n${pods.stdout}`, `step logs:\n${logs.stdout}${logs.stderr}`].join('\n');
}

/** Waits for the Workflow's end (Succeeded, Failed or Error); a wait that times out says what it saw. */
export async function waitForWorkflowEnd(namespace: string, name: string, timeoutMs: number): Promise<Workflow> {
  try {
    return await eventually(
      async () => {
        const workflow = await getWorkflow(namespace, name);
        const phase = workflow.status?.phase ?? '';
        if (!['Succeeded', 'Failed', 'Error'].includes(phase)) throw new Error(`phase ${phase || 'none'}`);
        return workflow;
      },
      timeoutMs,
      500,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${workflowDiagnostics(namespace, name)}`, { cause: err });
  }
}

/** The step that ran the resource template: the Workflow's only Pod node. */
export function resourceStep(workflow: Workflow): WorkflowNode {
  const pods = Object.values(workflow.status?.nodes ?? {}).filter((n) => n.type === 'Pod');
  if (pods.length !== 1) throw new Error(`expected one Pod node, got ${JSON.stringify(workflow.status?.nodes)}`);
  return pods[0]!;
}
