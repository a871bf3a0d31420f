// Every shipped example must be accepted by the same validator the CLI and the controller use, and be runnable
// with the example cluster configuration.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { withDefaults } from '../../../src/api/defaults.js';
import { checkRunnable } from '../../../src/api/semantic.js';
import type { HPCJob } from '../../../src/api/types.js';
import { validateJob } from '../../../src/api/validate.js';
import { DEFAULT_CLUSTER_CONFIG, loadClusterConfig, parseClusterConfig } from '../../../src/config/cluster-config.js';
import { renderLauncherPod, renderWorkerPod } from '../../../src/render/pods.js';

const examples = fileURLToPath(new URL('../../../examples', import.meta.url));
const CONFIG_FILE = 'cluster-config.yaml';
// Chart values, not an HPCJob: checked on its own below.
const SITE_POLICY_FILE = 'site-policy.yaml';
// Kueue's queue objects, not HPCJobs: checked against the Kueue example's job in kueue-example.test.ts.
const KUEUE_QUEUES_FILE = 'queues.yaml';
// Pipeline definitions that embed an HPCJob: checked in test/unit/examples/pipelines.test.ts.
const PIPELINES_DIR = 'pipelines';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === PIPELINES_DIR ? [] : yamlFiles(full);
    return entry.name.endsWith('.yaml') && ![CONFIG_FILE, SITE_POLICY_FILE, KUEUE_QUEUES_FILE].includes(entry.name)
      ? [full]
      : [];
  });
}

const files = yamlFiles(examples).map((f) => [path.relative(examples, f), f] as const);
const config = loadClusterConfig(path.join(examples, CONFIG_FILE));

describe('examples', () => {
  it('exist, including the local variants', () => {
    const names = files.map(([name]) => name);
    expect(names).toEqual(
      expect.arrayContaining(['openfoam.yaml', 'gpu-allreduce.yaml', 'hostnetwork.yaml', 'sriov.yaml']),
    );
    expect(names.filter((n) => n.startsWith('local/')).length).toBeGreaterThan(0);
  });

  it('include a valid cluster configuration', () => {
    expect(config).not.toEqual(DEFAULT_CLUSTER_CONFIG);
  });

  it.each(files)('%s is a valid, runnable HPCJob', (_, file) => {
    const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as HPCJob);
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) {
      expect(validateJob(doc)).toEqual([]);
      // The API server fills in the namespace; the renderers need one.
      const job = withDefaults({ ...doc, metadata: { ...doc.metadata, namespace: 'default', uid: 'u' } });
      expect(checkRunnable(job, config)).toBeUndefined();
      expect(() => renderWorkerPod(job, config, 0, 2222)).not.toThrow();
      expect(() => renderLauncherPod(job, config, 1, 2222)).not.toThrow();
    }
  });

  it('local variants either tell KWOK how the launcher ends, or select the real node for both roles', () => {
    for (const [name, file] of files.filter(([n]) => n.startsWith('local/'))) {
      const job = parseAllDocuments(readFileSync(file, 'utf8'))[0]!.toJS() as HPCJob;
      const annotations = job.spec.launcher?.template?.metadata?.annotations ?? {};
      const realNode = [job.spec.launcher, job.spec.worker].every(
        (role) => role?.template?.spec?.nodeSelector?.['hpcjob.dev/node-kind'] === 'real',
      );
      const kwokExit = annotations['kwok.hpcjob.dev/exit-code'];
      expect([name, realNode || /^\d+$/.test(kwokExit ?? '')]).toEqual([name, true]);
    }
  });
});

describe('the site policy example', () => {
  it('is a valid configuration whose policy maps users and allows their homes', () => {
    const values = parseAllDocuments(readFileSync(path.join(examples, SITE_POLICY_FILE), 'utf8'))[0]!.toJSON() as {
      config: unknown;
    };
    const site = parseClusterConfig(values.config).sitePolicy;
    expect(site.identity.enabled).toBe(true);
    expect(site.identity.users.alice).toMatchObject({ uid: 1234 });
    expect(site.hostPaths.map((r) => r.path)).toContain('/home/{user}');
  });
});
