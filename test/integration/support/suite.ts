// The hooks every operator test file shares: the CRD and one operator process for the file, and a fresh namespace
// (with its Jobs helper) for each test.
import { clients } from './cluster.js';
import { Jobs } from './jobs.js';
import { createTestNamespace, deleteTestNamespace } from './namespace.js';
import { installCrd, type OperatorProcess } from './operator.js';

export function useOperatorSuite(
  operator: OperatorProcess,
  namespacePrefix: string,
  onNamespace: (namespace: string, jobs: Jobs) => void,
  afterNamespaceDeleted?: (namespace: string) => Promise<void>,
): void {
  const { core, custom } = clients();
  let namespace = '';
  beforeAll(async () => {
    installCrd();
    await operator.start();
  });
  afterAll(async () => {
    await operator.stop();
  });
  beforeEach(async () => {
    namespace = await createTestNamespace(core, namespacePrefix);
    onNamespace(namespace, new Jobs(custom, core, namespace));
  });
  afterEach(async () => {
    await deleteTestNamespace(core, namespace);
    await afterNamespaceDeleted?.(namespace);
  });
}
