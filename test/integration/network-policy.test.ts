// The job's NetworkPolicy against the real control plane: made with the right selectors and owner, matching exactly
// the pods the operator made, taken by the garbage collector with the job, never taken over from someone else; none
// for a host-network job or when the site switches it off.
// What this does not show: enforcement. The local cluster's network (KWOK nodes, and the real node's bridge plugin)
// does not implement NetworkPolicy, so no connection is refused here; only the rendering and the object are checked.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NetworkingV1Api, type V1LabelSelector, type V1NetworkPolicy, type V1Pod } from '@kubernetes/client-node';
import { clients, kubectl } from './support/cluster.js';
import { eventually } from './support/eventually.js';
import { jobManifest, Jobs } from './support/jobs.js';
import { OperatorProcess, permissiveConfigFile } from './support/operator.js';
import { useOperatorSuite } from './support/suite.js';

const { kc } = clients();
const networking = kc.makeApiClient(NetworkingV1Api);
let namespace: string;
let jobs: Jobs;
const onNamespace = (ns: string, j: Jobs) => {
  namespace = ns;
  jobs = j;
};

const readPolicy = (name: string): Promise<V1NetworkPolicy> =>
  networking.readNamespacedNetworkPolicy({ name, namespace });
const policyNames = async (): Promise<string[]> =>
  (await networking.listNamespacedNetworkPolicy({ namespace })).items.map((p) => p.metadata?.name ?? '');

function selects(selector: V1LabelSelector | undefined, pod: V1Pod): boolean {
  const labels = pod.metadata?.labels ?? {};
  const wanted = Object.entries(selector?.matchLabels ?? {});
  return wanted.length > 0 && wanted.every(([k, v]) => labels[k] === v);
}

describe('with the default configuration', () => {
  // The site policy's host-network switch is on for the host-network case; the NetworkPolicy settings are defaults.
  useOperatorSuite(new OperatorProcess('operator-netpol', ['--config', permissiveConfigFile()]), 'np', onNamespace);

  test("a job gets a policy admitting only its own pods, on every port; another job's pods are outside it", async () => {
    await jobs.create(jobManifest('mesh', { workers: 2, exitCode: 0, runDuration: '2s' }));
    await jobs.create(jobManifest('other', { workers: 1 }));
    const job = await jobs.get('mesh');
    const policy = await eventually(() => readPolicy('mesh'));
    expect(policy.metadata?.labels).toEqual({
      'hpcjob.dev/job-name': 'mesh',
      'app.kubernetes.io/managed-by': 'hpcjob-operator',
    });
    expect(policy.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'HPCJob', name: 'mesh', uid: job.metadata.uid, controller: true }),
    ]);
    expect(policy.spec?.policyTypes).toEqual(['Ingress']);
    const selector = policy.spec?.podSelector;
    expect(selector).toEqual({ matchLabels: policy.metadata?.labels });
    // As stored by the API server (plain JSON, not the client's model): one rule, one peer, no port, no ipBlock.
    const raw = kubectl(['get', 'networkpolicy', 'mesh', '-n', namespace, '-o', 'jsonpath={.spec.ingress}']);
    expect(raw.status).toBe(0);
    expect(JSON.parse(raw.stdout)).toEqual([{ from: [{ podSelector: selector }] }]);

    // Every pod of the job, the launcher included, and none of the other job's.
    await eventually(async () => {
      const pods = await jobs.livePods('mesh');
      expect(pods.map((p) => p.metadata?.labels?.['hpcjob.dev/role']).sort()).toEqual(['launcher', 'worker', 'worker']);
      expect(pods.every((p) => selects(selector, p))).toBe(true);
    }, 60_000);
    const others = await eventually(async () => {
      const pods = await jobs.livePods('other');
      expect(pods.length).toBeGreaterThan(0);
      return pods;
    });
    expect(others.some((p) => selects(selector, p))).toBe(false);
    expect((await policyNames()).sort()).toEqual(['mesh', 'other']);
    // Not enforced on this cluster, so nothing here shows traffic is refused: the job just runs as before.
    await jobs.waitForPhase('mesh', 'Succeeded');
  });

  test('deleting the job removes its policy through the garbage collector', async () => {
    await jobs.create(jobManifest('gone', { workers: 1 }));
    await eventually(() => readPolicy('gone'));
    await jobs.delete('gone');
    await eventually(async () => {
      expect(await policyNames()).toEqual([]);
    }, 60_000);
  });

  test('a policy of the same name that the job does not own blocks it as NameConflict until it is gone', async () => {
    await networking.createNamespacedNetworkPolicy({
      namespace,
      body: { metadata: { name: 'taken' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } },
    });
    await jobs.create(jobManifest('taken', { workers: 1, exitCode: 0 }));
    const blocked = await jobs.waitFor('taken', (s) =>
      expect(jobs.condition(s, 'Blocked')?.reason).toBe('NameConflict'),
    );
    expect(jobs.condition(blocked, 'Blocked')?.message).toContain(
      `NetworkPolicy ${namespace}/taken already exists and has no owner`,
    );
    expect(await jobs.livePods('taken')).toEqual([]);
    await networking.deleteNamespacedNetworkPolicy({ name: 'taken', namespace });
    await jobs.waitForPhase('taken', 'Succeeded', 90_000);
    const job = await jobs.get('taken');
    expect((await readPolicy('taken')).metadata?.ownerReferences?.[0]?.uid).toBe(job.metadata.uid);
  });

  test('a host-network job gets no policy (policies do not apply to host-network pods)', async () => {
    await jobs.create(jobManifest('hostnet', { workers: 1, exitCode: 0, spec: { network: { mode: 'host' } } }));
    await jobs.waitForPhase('hostnet', 'Succeeded');
    expect(await policyNames()).toEqual([]);
  });
});

describe('with networkPolicy: false in the cluster configuration', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hpcjob-config-'));
  const file = path.join(dir, 'cluster.yaml');
  writeFileSync(file, 'networkPolicy: false\n');
  useOperatorSuite(new OperatorProcess('operator-netpol-off', ['--config', file]), 'npoff', onNamespace);

  test('a job runs with no policy made', async () => {
    await jobs.create(jobManifest('open', { workers: 2, exitCode: 0 }));
    await jobs.waitForPhase('open', 'Succeeded');
    expect(await jobs.exists('open')).toBe(true);
    expect(await policyNames()).toEqual([]);
  });
});
