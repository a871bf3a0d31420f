// A unique namespace per test, deleted afterwards (the namespace controller removes what is left in it).
import { randomBytes } from 'node:crypto';
import type { CoreV1Api } from '@kubernetes/client-node';

export async function createTestNamespace(core: CoreV1Api, prefix = 't'): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`.slice(0, 63);
  await core.createNamespace({ body: { metadata: { name, labels: { 'hpcjob.dev/test': 'true' } } } });
  return name;
}

export async function deleteTestNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.deleteNamespace({ name }).catch(() => undefined);
}
