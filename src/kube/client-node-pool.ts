// For the processes that use client-node's API classes (the CLI, the tests' clients, the benchmark's): one connection
// pool per cluster and user. The operator itself talks through rest.ts.
import type { KubeConfig } from '@kubernetes/client-node';

/**
 * client-node 2.0 makes a new undici Agent for every request, so every request opens a new TLS connection (and the
 * API server pays a handshake for each). One agent per cluster and user keeps connections alive and reused.
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createDispatcher: (cluster: unknown, options: unknown) => unknown };
  const create = target.createDispatcher.bind(kc);
  const agents = new Map<string, unknown>();
  target.createDispatcher = (cluster, options) => {
    const key = JSON.stringify([kc.getCurrentCluster()?.name, kc.getCurrentUser()?.name]);
    if (!agents.has(key)) agents.set(key, create(cluster, options));
    return agents.get(key);
  };
  return kc;
}
