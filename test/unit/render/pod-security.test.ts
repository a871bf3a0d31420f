// Pod Security: who can read the ssh keys, the restricted profile's defaults, and the rules a pod breaks.
import type { V1Pod, V1PodSpec } from '@kubernetes/client-node';
import fc from 'fast-check';
import { withDefaults } from '../../../src/api/defaults.js';
import type { HPCJob } from '../../../src/api/types.js';
import {
  enforcedLevel,
  podSecurityViolations,
  sshKeyAccess,
  withRestrictedDefaults,
} from '../../../src/render/pod-security.js';
import { renderLauncherPod, renderWorkerPod } from '../../../src/render/pods.js';
import { arbJob, makeJob, testConfig } from '../api/fixtures.js';

const spec = (s: Partial<V1PodSpec> = {}): V1PodSpec => ({ containers: [{ name: 'worker' }], ...s });
const pod = (s: Partial<V1PodSpec> = {}): V1Pod => ({ spec: spec(s) });

describe('enforcedLevel', () => {
  it.each([
    [undefined, 'privileged'],
    [{}, 'privileged'],
    [{ 'pod-security.kubernetes.io/enforce': 'baseline' }, 'baseline'],
    [{ 'pod-security.kubernetes.io/enforce': 'restricted' }, 'restricted'],
    [{ 'pod-security.kubernetes.io/warn': 'restricted' }, 'privileged'],
    [{ 'pod-security.kubernetes.io/enforce': 'bogus' }, 'privileged'],
  ])('%j -> %s', (labels, level) => expect(enforcedLevel(labels)).toBe(level));
});

describe('sshKeyAccess', () => {
  it('an image whose USER is unknown (no runAsUser): 0440 with a pod group, so a non-root USER can read the key', () => {
    expect(sshKeyAccess(spec(), { name: 'worker' })).toEqual({
      mode: 0o440,
      securityContext: { fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch' },
    });
  });
  it('runAsNonRoot alone gets the same', () => {
    expect(sshKeyAccess(spec({ securityContext: { runAsNonRoot: true } }), { name: 'w' }).mode).toBe(0o440);
  });
  it('root for certain: 0400 and no group', () => {
    expect(sshKeyAccess(spec({ securityContext: { runAsUser: 0 } }), { name: 'w' })).toEqual({
      mode: 0o400,
      securityContext: { runAsUser: 0 },
    });
  });
  it("the template's fsGroup is kept; else runAsGroup, else runAsUser", () => {
    expect(sshKeyAccess(spec({ securityContext: { fsGroup: 7 } }), { name: 'w' }).securityContext?.fsGroup).toBe(7);
    const c = { name: 'w', securityContext: { runAsUser: 4242, runAsGroup: 99 } };
    expect(sshKeyAccess(spec(), c).securityContext?.fsGroup).toBe(99);
    expect(sshKeyAccess(spec({ securityContext: { runAsUser: 4242 } }), { name: 'w' }).securityContext?.fsGroup).toBe(
      4242,
    );
  });
});

describe('podSecurityViolations', () => {
  it('privileged allows anything', () => {
    expect(podSecurityViolations(pod({ hostNetwork: true }), 'privileged')).toEqual([]);
  });
  it('baseline names host namespaces, hostPath, hostPort and added capabilities', () => {
    const v = podSecurityViolations(
      pod({
        hostNetwork: true,
        volumes: [{ name: 'data', hostPath: { path: '/data' } }],
        containers: [
          {
            name: 'worker',
            ports: [{ containerPort: 2222, hostPort: 2222 }],
            securityContext: { capabilities: { add: ['IPC_LOCK', 'CHOWN'] } },
          },
        ],
      }),
      'baseline',
    );
    expect(v).toEqual([
      'hostNetwork: host namespaces are not allowed (baseline)',
      'volumes (data): hostPath volumes are not allowed (baseline)',
      'containers[0] (worker).securityContext.capabilities.add: IPC_LOCK is not allowed (baseline)',
      'containers[0] (worker).ports: hostPort is not allowed (baseline)',
    ]);
  });
  it('restricted: a bare pod breaks the non-root, seccomp, escalation and capability rules; the defaults fix all', () => {
    const bare = pod();
    expect(podSecurityViolations(bare, 'restricted').length).toBe(4);
    expect(podSecurityViolations({ spec: withRestrictedDefaults(bare.spec!) }, 'restricted')).toEqual([]);
  });
  it('restricted keeps what the template set, and names it', () => {
    const s = withRestrictedDefaults(
      spec({
        securityContext: { runAsUser: 0 },
        containers: [{ name: 'worker', securityContext: { allowPrivilegeEscalation: true } }],
      }),
    );
    expect(podSecurityViolations({ spec: s }, 'restricted')).toEqual([
      'securityContext.runAsUser: 0 (root) is not allowed (restricted)',
      'containers[0] (worker).securityContext.allowPrivilegeEscalation: must be false (restricted)',
    ]);
  });
});

describe('rendered pods in a restricted namespace', () => {
  const render = (job: HPCJob) => {
    const j = withDefaults(job);
    return [
      renderWorkerPod(j, testConfig, 0, 2222, 'restricted'),
      renderLauncherPod(j, testConfig, 1, 2222, 'restricted'),
    ];
  };
  it('a pod-network job complies, sidecars included', () => {
    const job = makeJob({
      launcher: {
        template: { spec: { containers: [{ name: 'launcher' }, { name: 'log-shipper', image: 'busybox' }] } },
      },
    });
    for (const p of render(job)) expect(podSecurityViolations(p, 'restricted')).toEqual([]);
  });
  it('a host-network job does not, and the rule is named', () => {
    const [w] = render(makeJob({ network: { mode: 'host' } }));
    expect(podSecurityViolations(w!, 'restricted')).toContain(
      'hostNetwork: host namespaces are not allowed (baseline)',
    );
  });
  it('never throws on random jobs, and every violation names a field and the level', () => {
    fc.assert(
      fc.property(arbJob, (job) => {
        for (const p of render(job)) {
          for (const v of podSecurityViolations(p, 'restricted'))
            expect(v).toMatch(/^[\w[\]() .-]+: .+\((baseline|restricted)\)$/);
        }
      }),
      { numRuns: 200 },
    );
  });
});
