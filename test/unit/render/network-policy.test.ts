import fc from 'fast-check';
import type { V1LabelSelector, V1Pod } from '@kubernetes/client-node';
import { withDefaults } from '../../../src/api/defaults.js';
import type { HPCJob } from '../../../src/api/types.js';
import { renderNetworkPolicy, wantsNetworkPolicy, type NetworkPolicyBody } from '../../../src/render/network-policy.js';
import { renderLauncherPod, renderWorkerPod } from '../../../src/render/pods.js';
import { arbJob, makeJob, testConfig } from '../api/fixtures.js';

/** Whether a selector picks a pod, as the API defines it (matchLabels only: the renderer uses nothing else). */
function selects(selector: V1LabelSelector | undefined, pod: V1Pod): boolean {
  // An empty or missing selector would pick every pod of the namespace: never what the renderer means.
  expect(Object.keys(selector?.matchLabels ?? {}).length).toBeGreaterThan(0);
  expect(selector?.matchExpressions).toBeUndefined();
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

/** Every pod the job runs: its workers and its launcher. */
function podsOf(job: HPCJob): V1Pod[] {
  const defaulted = withDefaults(job);
  const workers = Array.from({ length: defaulted.spec.workers }, (_, i) =>
    renderWorkerPod(defaulted, testConfig, i, 2222),
  );
  return [...workers, renderLauncherPod(defaulted, testConfig, 1, 2222)];
}

const policyOf = (job: HPCJob): NetworkPolicyBody => renderNetworkPolicy(withDefaults(job), testConfig)!;
/** The peers the single ingress rule admits. */
// The wire name: a `_from` (client-node's model name) would reach the API server as an unknown field and be dropped.
const peersOf = (policy: NetworkPolicyBody) => policy.spec.ingress.flatMap((rule) => rule.from);

describe('renderNetworkPolicy', () => {
  const job = makeJob({ workers: 3 });
  const other = makeJob({ workers: 2 }, 'cfd-2');
  const policy = policyOf(job);

  it('is named after the job, owned by it and labelled for the operator cache', () => {
    expect(policy).toMatchObject({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' });
    expect(policy.metadata).toEqual({
      name: 'cfd',
      namespace: 'team-a',
      labels: { 'hpcjob.dev/job-name': 'cfd', 'app.kubernetes.io/managed-by': 'hpcjob-operator' },
      ownerReferences: [
        {
          apiVersion: 'hpcjob.dev/v1alpha1',
          kind: 'HPCJob',
          name: 'cfd',
          uid: job.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
  });

  it("selects every pod of the job, launcher included, and no other job's pod", () => {
    const selector = policy.spec!.podSelector;
    expect(podsOf(job).map((p) => selects(selector, p))).toEqual([true, true, true, true]);
    expect(podsOf(other).some((p) => selects(selector, p))).toBe(false);
  });

  it('restricts ingress only, from the same job only, on every port', () => {
    expect(policy.spec?.policyTypes).toEqual(['Ingress']);
    expect(Object.keys(policy.spec).sort()).toEqual(['ingress', 'podSelector', 'policyTypes']);
    expect(policy.spec.ingress).toHaveLength(1);
    // No ports (every port), and the peers under the API's own name.
    expect(Object.keys(policy.spec.ingress[0]!)).toEqual(['from']);
    const peers = peersOf(policy);
    expect(peers).toHaveLength(1);
    // A podSelector alone means pods of the policy's own namespace; no ipBlock lets anything else in.
    expect(peers[0]).toEqual({ podSelector: policy.spec?.podSelector });
    expect(podsOf(job).every((p) => selects(peers[0]!.podSelector!, p))).toBe(true);
    expect(podsOf(other).some((p) => selects(peers[0]!.podSelector!, p))).toBe(false);
  });

  it('keeps its selectors on the operator labels, whatever labels the pod template sets', () => {
    const template = { metadata: { labels: { 'hpcjob.dev/job-name': 'cfd', team: 'cfd' } } };
    const impostor = makeJob({ worker: { template }, launcher: { template } }, 'cfd-2');
    expect(podsOf(impostor).some((p) => selects(policy.spec!.podSelector, p))).toBe(false);
  });

  it('renders nothing when the switch is off', () => {
    const off = { ...testConfig, networkPolicy: false };
    expect(renderNetworkPolicy(withDefaults(job), off)).toBeUndefined();
    expect(wantsNetworkPolicy(withDefaults(job), off)).toBe(false);
  });

  it('renders nothing for a host-network job (policies do not apply to host-network pods)', () => {
    const host = withDefaults(makeJob({ network: { mode: 'host' } }));
    expect(renderNetworkPolicy(host, testConfig)).toBeUndefined();
    expect(wantsNetworkPolicy(host, testConfig)).toBe(false);
  });

  it('covers SR-IOV jobs on their pod network like any other', () => {
    const sriov = withDefaults(makeJob({ network: { mode: 'sriov', networks: ['ib-a'] } }));
    expect(renderNetworkPolicy(sriov, testConfig)?.spec?.podSelector).toEqual(policy.spec?.podSelector);
  });

  it("for any job: all of its pods and none of another job's are selected and admitted", () => {
    fc.assert(
      fc.property(arbJob, arbJob, (a, b) => {
        fc.pre(a.metadata.name !== b.metadata.name);
        const rendered = renderNetworkPolicy(withDefaults(a), testConfig);
        if (a.spec.network?.mode === 'host') return expect(rendered).toBeUndefined();
        const selector = rendered!.spec!.podSelector;
        const from = peersOf(rendered!)[0]!.podSelector!;
        expect(podsOf(a).every((p) => selects(selector, p) && selects(from, p))).toBe(true);
        expect(podsOf(b).some((p) => selects(selector, p) || selects(from, p))).toBe(false);
      }),
      { numRuns: 50 },
    );
  });
});
