import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { reuseConnections } from '../../../src/kube/client-node-pool.js';

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function dispatcherOf(kc: KubeConfig): Promise<unknown> {
  const ctx = new RequestContext('https://127.0.0.1:6443/api/v1/pods', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx.getDispatcher();
}

test('requests share one connection pool instead of a new agent (and TLS connection) each', async () => {
  const plain = kubeConfig();
  expect(await dispatcherOf(plain)).not.toBe(await dispatcherOf(plain));
  const pooled = reuseConnections(kubeConfig());
  const first = await dispatcherOf(pooled);
  expect(first).toBeDefined();
  expect(await dispatcherOf(pooled)).toBe(first);
});
