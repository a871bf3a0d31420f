// The site identity policy for real: alice's job, admitted by the operator's webhook from her client certificate,
// runs every rank as her mapped uid whatever the image's USER says, and a file a rank writes into her allowed home
// directory on the node is owned by that uid on the host; the site's read-only tree cannot be written.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { clients, kubectl } from '../integration/support/cluster.js';
import { Jobs } from '../integration/support/jobs.js';
import { installCrd } from '../integration/support/operator.js';
import { grantEdit, kubectlAs, waitUntilAllowed } from '../integration/support/users.js';
import { AdmissionWebhooks } from '../integration/support/webhooks.js';
import { launcherLog, realJob } from './support/real-jobs.js';

const { core, custom } = clients();
const suffix = `${process.pid}`;
const namespace = `e2e-site-${suffix}`;
// The node is this machine: host paths made here are the ones the pods mount.
const root = mkdtempSync(path.join(tmpdir(), 'hpcjob-site-'));
const home = path.join(root, 'home', 'alice');
const apps = path.join(root, 'apps');
const alice = kubectlAs('alice');
const webhooks = new AdmissionWebhooks(`e2e-site-${suffix}`, {
  identity: { enabled: true, users: { alice: { uid: 1234, gid: 1234, groups: [5000] } }, unmapped: 'reject' },
  hostPaths: [
    { path: path.join(root, 'home', '{user}'), access: 'ReadWrite' },
    { path: apps, access: 'ReadOnly' },
  ],
});

beforeAll(async () => {
  installCrd();
  mkdirSync(home, { recursive: true });
  mkdirSync(apps, { recursive: true });
  chmodSync(root, 0o755);
  chownSync(home, 1234, 1234);
  await core.createNamespace({
    body: { metadata: { name: namespace, labels: { 'hpcjob.dev/test': 'true', ...webhooks.namespaceLabels } } },
  });
  grantEdit(namespace, { user: 'alice' });
  await waitUntilAllowed(alice, 'create', 'hpcjobs.hpcjob.dev', namespace);
  await webhooks.start();
  const probe = realJob('probe');
  probe.metadata.namespace = namespace;
  const forbidden = realJob('probe', { worker: { hostPID: true } });
  forbidden.metadata.namespace = namespace;
  await webhooks.waitUntilActive(alice, namespace, probe, forbidden);
}, 180_000);

afterAll(async () => {
  try {
    webhooks.unregister();
    kubectl(['delete', 'namespace', namespace, '--wait=true', '--timeout=120s']);
  } finally {
    await webhooks.stop();
    rmSync(root, { recursive: true, force: true });
  }
}, 180_000);

it("every rank of alice's job runs as her uid, and what it writes to her home is hers on the host", async () => {
  // The image's USER is 1000; the job asks for nothing.
  const script =
    'echo "site-identity rank=$OMPI_COMM_WORLD_RANK uid=$(id -u) gid=$(id -g) groups=$(id -G)"; ' +
    'touch /data/rank-$OMPI_COMM_WORLD_RANK; ' +
    'if touch /apps/probe 2>/dev/null; then echo "site-identity apps=writable"; else echo "site-identity apps=read-only"; fi';
  const job = realJob('mine', {
    spec: {
      command: ['mpirun', '-np', '4', 'sh', '-c', script],
      volumes: [
        { name: 'data', hostPath: { path: home, type: 'Directory' } },
        { name: 'apps', hostPath: { path: apps, type: 'Directory' } },
      ],
      volumeMounts: [
        { name: 'data', mountPath: '/data' },
        { name: 'apps', mountPath: '/apps' },
      ],
    },
  });
  job.metadata.namespace = namespace;
  const created = alice(['create', '-f', '-'], JSON.stringify(job));
  expect(created.stderr).toBe('');
  const jobs = new Jobs(custom, core, namespace);
  const status = await jobs.waitForPhase('mine', 'Succeeded', 150_000);
  expect(status.launcher?.exitCode).toBe(0);

  const log = launcherLog(namespace, 'mine');
  const ranks = [...log.matchAll(/^site-identity rank=(\d) uid=(\d+) gid=(\d+) groups=(.*)$/gm)];
  expect(ranks.map((m) => m[1]).sort()).toEqual(['0', '1', '2', '3']);
  for (const m of ranks) {
    expect([m[2], m[3]]).toEqual(['1234', '1234']);
    expect(m[4]!.split(' ')).toContain('5000');
  }
  expect(log.match(/^site-identity apps=read-only$/gm)).toHaveLength(4);
  for (const rank of [0, 1, 2, 3]) {
    const file = statSync(path.join(home, `rank-${rank}`));
    expect([file.uid, file.gid]).toEqual([1234, 1234]);
  }
});
