import fc from 'fast-check';
import type { V1PodSpec } from '@kubernetes/client-node';
import { gangRequests, podRequests } from '../../../src/render/pod-requests.js';
import { formatQuantity, parseQuantity } from '../../../src/render/quantity.js';

const nanos = (text: string | number) => parseQuantity(text).nanos;
const canonical = (text: string | number) => formatQuantity(parseQuantity(text));

describe('parseQuantity', () => {
  it.each([
    ['1', 10n ** 9n],
    [2, 2n * 10n ** 9n],
    [0.5, 5n * 10n ** 8n],
    ['500m', 5n * 10n ** 8n],
    ['1.5', 15n * 10n ** 8n],
    ['.25', 25n * 10n ** 7n],
    ['5.', 5n * 10n ** 9n],
    ['+3', 3n * 10n ** 9n],
    ['-3', -3n * 10n ** 9n],
    ['1Ki', 1024n * 10n ** 9n],
    ['1.5Gi', 3n * 2n ** 29n * 10n ** 9n],
    ['2G', 2n * 10n ** 18n],
    ['1e3', 10n ** 12n],
    ['1E-3', 10n ** 6n],
    ['7n', 7n],
    ['7u', 7000n],
    // Digits finer than nano are rounded up, as Kubernetes does.
    ['0.1n', 1n],
    ['1.0000000001', 10n ** 9n + 1n],
  ])('%s', (text, expected) => {
    expect(nanos(text)).toBe(expected);
  });

  it.each(['', 'lots', '1Ki2', '1e1.5', '1 Gi', 'Gi', '1KiB', '--1'])('refuses %j', (text) => {
    expect(() => parseQuantity(text)).toThrow('is not a Kubernetes quantity');
  });
});

describe('formatQuantity', () => {
  it.each([
    ['0', '0'],
    ['1500m', '1500m'],
    ['2000', '2k'],
    ['12', '12'],
    ['0.5', '500m'],
    ['64Gi', '64Gi'],
    ['1536Mi', '1536Mi'],
    ['2048Mi', '2Gi'],
    ['512Ki', '512Ki'],
    // A binary quantity under 1Ki is written in decimal, as Kubernetes writes it.
    ['0.5Ki', '512'],
    ['100u', '100u'],
    ['-2k', '-2k'],
  ])('%s → %s', (text, expected) => {
    expect(canonical(text)).toBe(expected);
  });

  it('reads back as the same value, for any quantity', () => {
    const arbQuantity = fc
      .tuple(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.constantFrom('', 'n', 'u', 'm', 'k', 'M', 'G', 'Ki', 'Mi', 'Gi', 'Ti'),
      )
      .map(([n, suffix]) => `${n}${suffix}`);
    fc.assert(
      fc.property(arbQuantity, (text) => {
        expect(nanos(canonical(text))).toBe(nanos(text));
      }),
    );
  });
});

const spec = (over: Partial<V1PodSpec>): V1PodSpec => ({ containers: [], ...over });
const asText = (requests: ReturnType<typeof podRequests>) =>
  Object.fromEntries([...requests].map(([name, q]) => [name, formatQuantity(q)]));

describe('podRequests', () => {
  it('sums the containers, a limit standing in for a missing request', () => {
    const pod = spec({
      containers: [
        { name: 'a', resources: { requests: { cpu: '1' }, limits: { cpu: '2', memory: '1Gi' } } },
        { name: 'b', resources: { limits: { cpu: '500m', 'nvidia.com/gpu': '2' } } },
        { name: 'c' },
      ],
    });
    expect(asText(podRequests(pod))).toEqual({ cpu: '1500m', memory: '1Gi', 'nvidia.com/gpu': '2' });
  });

  it('takes the larger of the containers and the largest init container', () => {
    const pod = spec({
      containers: [{ name: 'a', resources: { requests: { cpu: '1', memory: '1Gi' } } }],
      initContainers: [
        { name: 'big-cpu', resources: { requests: { cpu: '4' } } },
        { name: 'big-memory', resources: { requests: { memory: '2Gi', 'ephemeral-storage': '10Gi' } } },
      ],
    });
    expect(asText(podRequests(pod))).toEqual({ cpu: '4', memory: '2Gi', 'ephemeral-storage': '10Gi' });
  });

  it('adds sidecars to the containers and to every init container started after them', () => {
    const pod = spec({
      containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }],
      initContainers: [
        { name: 'before', resources: { requests: { cpu: '1500m' } } },
        { name: 'sidecar', restartPolicy: 'Always', resources: { requests: { cpu: '1' } } },
        { name: 'after', resources: { requests: { cpu: '2' } } },
      ],
    });
    // containers 1 + sidecar 1 = 2; init peak: max(1.5, 1, 2 + 1) = 3.
    expect(asText(podRequests(pod))).toEqual({ cpu: '3' });
  });

  it('lets pod-level resources replace the sum for cpu, memory and hugepages only', () => {
    const pod = spec({
      containers: [
        { name: 'a', resources: { requests: { cpu: '1', memory: '1Gi', 'hugepages-2Mi': '64Mi', 'rdma/hca': '1' } } },
      ],
      resources: { requests: { cpu: '3' }, limits: { memory: '8Gi', 'hugepages-2Mi': '128Mi', 'rdma/hca': '2' } },
    });
    // memory: the containers ask for it, so defaulting keeps their sum; hugepages take the pod's limit.
    expect(asText(podRequests(pod))).toEqual({ cpu: '3', memory: '1Gi', 'hugepages-2Mi': '128Mi', 'rdma/hca': '1' });
  });

  it('names the container and resource of a quantity it cannot read', () => {
    const pod = spec({ containers: [{ name: 'a', resources: { limits: { cpu: 'lots' } } }] });
    expect(() => podRequests(pod)).toThrow('containers[a].limits.cpu: "lots" is not a Kubernetes quantity');
  });
});

describe('gangRequests', () => {
  it('multiplies one pod by the gang size, in canonical notation sorted by name', () => {
    const pod = {
      spec: spec({ containers: [{ name: 'a', resources: { requests: { memory: '1536Mi', cpu: '250m' } } }] }),
    };
    expect(Object.entries(gangRequests(pod, 4))).toEqual([
      ['cpu', '1'],
      ['memory', '6Gi'],
    ]);
  });
});
