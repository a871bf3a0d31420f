// The operator against the real local control plane: lifecycle, failure handling, and recovery of the operator and
// of the API server. KWOK decides each launcher's exit code from the pod annotations the job's template sets.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { clients, kubeconfigPath, kubectl, repoRoot, runClusterScript } from './support/cluster.js';
import { eventually } from './support/eventually.js';
import { jobManifest, Jobs } from './support/jobs.js';
import { OperatorProcess } from './support/operator.js';
import { useOperatorSuite } from './support/suite.js';

const { core } = clients();
const operator = new OperatorProcess('operator-lifecycle');
let namespace: string;
let jobs: Jobs;

useOperatorSuite(operator, 'hj', (ns, j) => {
  namespace = ns;
  jobs = j;
});

test('a new job reads Pending; a launcher exiting 0 makes it Succeeded with exit code 0; kubectl wait and printer columns see it', async () => {
  // The CRD's default status: the job reads as Pending before the operator has written anything.
  const created = await jobs.create(jobManifest('ok', { workers: 2, exitCode: 0 }));
  expect(created.status).toEqual({ phase: 'Pending' });
  const wait = kubectl(['wait', '-n', namespace, '--for=condition=Succeeded', '--timeout=60s', 'hpcjob/ok']);
  expect(wait.stderr).toBe('');
  expect(wait.status).toBe(0);
  const status = await jobs.waitForPhase('ok', 'Succeeded');
  expect(status.launcher?.exitCode).toBe(0);
  expect(status.completionTime).toBeDefined();
  expect(status.startTime).toBeDefined();
  expect(jobs.condition(status, 'Succeeded')?.status).toBe('True');
  const table = kubectl(['get', 'hj', 'ok', '-n', namespace]);
  expect(table.stdout).toMatch(/PHASE\s+WORKERS\s+EXIT CODE/);
  expect(table.stdout).toMatch(/ok\s+Succeeded\s+\S+\s+0/);
  // A success is in the status and its conditions; Events are kept for what went wrong.
  expect(await jobs.events('ok')).toEqual([]);
  expect(jobs.condition(status, 'Created')?.status).toBe('True');
  expect(jobs.launcherCreations('ok')).toBe(1);
});

test('a launcher exiting 3 is retried backoffLimit times, then the job is Failed with exit code 3', async () => {
  await jobs.create(
    jobManifest('three', { workers: 1, exitCode: 3, runDuration: '300ms', spec: { runPolicy: { backoffLimit: 2 } } }),
  );
  const status = await jobs.waitForPhase('three', 'Failed', 90_000);
  expect(status.launcher?.exitCode).toBe(3);
  expect(status.restartCount).toBe(2);
  expect(jobs.condition(status, 'Failed')?.reason).toBe('LauncherFailed');
  const attempts = (await jobs.events('three')).filter((e) => e.reason === 'LauncherFailed');
  expect(attempts).toHaveLength(3);
  for (const e of attempts) expect(e.message).toContain('code 3');
  // The failed launcher's pod stays for its log (cleanPodPolicy Running); the workers are removed.
  await eventually(async () => {
    const live = await jobs.livePods('three');
    expect(live.map((p) => p.metadata?.name)).toEqual(['three-launcher']);
  });
});

test('a worker failing mid-run fails the job with a reason naming the worker', async () => {
  const job = jobManifest('wfail', { workers: 2 });
  job.spec.worker = {
    template: {
      metadata: { annotations: { 'kwok.hpcjob.dev/exit-code': '137', 'kwok.hpcjob.dev/run-duration': '3s' } },
    },
  };
  await jobs.create(job);
  const status = await jobs.waitForPhase('wfail', 'Failed', 60_000);
  const failed = jobs.condition(status, 'Failed');
  expect(failed?.reason).toBe('WorkerFailed');
  expect(failed?.message).toMatch(/worker wfail-worker-\d ended Failed \(exit code 137/);
});

test('a worker pod deleted mid-run restarts the whole gang, counted against backoffLimit', async () => {
  await jobs.create(jobManifest('wdel', { workers: 2, spec: { runPolicy: { backoffLimit: 1 } } }));
  await jobs.waitForPhase('wdel', 'Running');
  const before = await jobs.livePods('wdel');
  expect(before).toHaveLength(3);
  await core.deleteNamespacedPod({ name: 'wdel-worker-1', namespace });
  const status = await jobs.waitFor('wdel', (s) => {
    expect(s.restartCount).toBe(1);
    expect(s.phase).toBe('Running');
  });
  expect(jobs.condition(status, 'Restarting')?.status).toBe('False');
  const after = await jobs.livePods('wdel');
  const oldUids = new Set(before.map((p) => p.metadata?.uid));
  expect(after).toHaveLength(3);
  for (const pod of after) expect(oldUids.has(pod.metadata?.uid)).toBe(false);
  expect(
    (await jobs.events('wdel')).some((e) => e.reason === 'WorkerFailed' && e.message.includes('wdel-worker-1')),
  ).toBe(true);
});

test('suspend deletes the pods and reports Suspended; resume recreates them and the job runs', async () => {
  await jobs.create(jobManifest('sus', { workers: 2 }));
  await jobs.waitForPhase('sus', 'Running');
  await jobs.patchSpec('sus', { runPolicy: { suspend: true } });
  const suspended = await jobs.waitForPhase('sus', 'Suspended');
  expect(jobs.condition(suspended, 'Suspended')?.status).toBe('True');
  await eventually(async () => expect(await jobs.livePods('sus')).toHaveLength(0));
  await jobs.patchSpec('sus', { runPolicy: { suspend: false } });
  const resumed = await jobs.waitForPhase('sus', 'Running');
  expect(jobs.condition(resumed, 'Suspended')?.status).toBe('False');
  expect(await jobs.livePods('sus')).toHaveLength(3);
});

test('activeDeadlineSeconds passing fails the job with DeadlineExceeded and stops every pod', async () => {
  await jobs.create(jobManifest('late', { workers: 2, spec: { runPolicy: { activeDeadlineSeconds: 4 } } }));
  const status = await jobs.waitForPhase('late', 'Failed', 30_000);
  expect(jobs.condition(status, 'Failed')?.reason).toBe('DeadlineExceeded');
  await eventually(async () => expect(await jobs.livePods('late')).toHaveLength(0));
});

test('ttlSecondsAfterFinished deletes the HPCJob and, through the garbage collector, its children', async () => {
  await jobs.create(
    jobManifest('ttl', {
      workers: 1,
      exitCode: 0,
      spec: { runPolicy: { ttlSecondsAfterFinished: 2, cleanPodPolicy: 'None' } },
    }),
  );
  await jobs.waitForPhase('ttl', 'Succeeded');
  await eventually(async () => expect(await jobs.exists('ttl')).toBe(false), 30_000);
  await eventually(async () => {
    expect(await jobs.pods('ttl')).toHaveLength(0);
    const secrets = await core.listNamespacedSecret({ namespace, labelSelector: 'hpcjob.dev/job-name=ttl' });
    expect(secrets.items).toHaveLength(0);
  }, 60_000);
});

test('deleting the HPCJob removes every child', async () => {
  await jobs.create(jobManifest('gone', { workers: 2 }));
  await jobs.waitForPhase('gone', 'Running');
  const selector = 'hpcjob.dev/job-name=gone';
  expect((await core.listNamespacedSecret({ namespace, labelSelector: selector })).items).toHaveLength(1);
  // The job's own objects are its Secret and pods; the hosts Service and the scripts belong to the namespace.
  expect((await core.listNamespacedConfigMap({ namespace, labelSelector: selector })).items).toHaveLength(0);
  expect((await core.listNamespacedService({ namespace, labelSelector: selector })).items).toHaveLength(0);
  const shared = { namespace, labelSelector: 'app.kubernetes.io/managed-by=hpcjob-operator' };
  expect((await core.listNamespacedService(shared)).items.map((s) => s.metadata?.name)).toEqual(['hpcjob-hosts']);
  await jobs.delete('gone');
  await eventually(async () => {
    expect(await jobs.pods('gone')).toHaveLength(0);
    expect((await core.listNamespacedSecret({ namespace, labelSelector: selector })).items).toHaveLength(0);
  }, 60_000);
  expect((await core.listNamespacedService(shared)).items).toHaveLength(1);
});

test('launcher.creationPolicy AtStartup: the launcher is created first, with its workers; a bad value is refused', async () => {
  const job = jobManifest('early', { workers: 3, exitCode: 0, runDuration: '5s' });
  job.spec.launcher!.creationPolicy = 'AtStartup';
  job.spec.runPolicy = { cleanPodPolicy: 'None' };
  await jobs.create(job);
  const status = await jobs.waitForPhase('early', 'Succeeded', 60_000);
  expect(status.restartCount).toBe(0);
  // Kept by the CRD's schema: the attempt whose workers were all seen Ready.
  expect(status.allWorkersReadyAttempt).toBe(1);
  const pods = await jobs.pods('early');
  const createdAt = (name: string) =>
    new Date(pods.find((p) => p.metadata?.name === name)!.metadata!.creationTimestamp!).getTime();
  for (let i = 0; i < 3; i++)
    expect(createdAt(`early-worker-${i}`)).toBeGreaterThanOrEqual(createdAt('early-launcher'));

  const bad = { ...jobManifest('later'), metadata: { name: 'later', namespace } };
  bad.spec.launcher!.creationPolicy = 'Later' as never;
  const applied = kubectl(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(bad));
  expect(applied.status).not.toBe(0);
  expect(applied.stderr).toMatch(/spec\.launcher\.creationPolicy: Unsupported value: "Later"/);
});

test('a spec the operator cannot run fails with InvalidSpec naming the field, and other jobs still run', async () => {
  await jobs.create(
    jobManifest('bad', { workers: 1, spec: { network: { mode: 'sriov', networks: ['no-such-network'] } } }),
  );
  const status = await jobs.waitForPhase('bad', 'Failed');
  const failed = jobs.condition(status, 'Failed');
  expect(failed?.reason).toBe('InvalidSpec');
  expect(failed?.message).toContain('spec.network.networks');
  expect(await jobs.livePods('bad')).toHaveLength(0);
  await jobs.create(jobManifest('good', { workers: 1, exitCode: 0 }));
  await jobs.waitForPhase('good', 'Succeeded');
  expect(operator.running).toBe(true);
});

test('the operator killed with SIGKILL mid-job and restarted finishes the job without duplicate pods', async () => {
  await jobs.create(jobManifest('crash', { workers: 3, exitCode: 0, runDuration: '6s' }));
  await jobs.waitForPhase('crash', 'Running');
  const before = await jobs.livePods('crash');
  await operator.stop('SIGKILL');
  await operator.start();
  const status = await jobs.waitForPhase('crash', 'Succeeded', 60_000);
  expect(status.launcher?.exitCode).toBe(0);
  expect(status.restartCount ?? 0).toBe(0);
  const launcher = (await jobs.pods('crash')).find((p) => p.metadata?.name === 'crash-launcher');
  expect(launcher?.metadata?.uid).toBe(before.find((p) => p.metadata?.name === 'crash-launcher')?.metadata?.uid);
  expect(jobs.launcherCreations('crash')).toBe(1);
});

test('kube-apiserver restarted mid-job: the operator recovers without a restart', async () => {
  const pid = operator.pid;
  await jobs.create(jobManifest('apirestart', { workers: 2, exitCode: 0, runDuration: '20s' }));
  await jobs.waitForPhase('apirestart', 'Running');
  runClusterScript(['restart', 'kube-apiserver']);
  const status = await jobs.waitForPhase('apirestart', 'Succeeded', 120_000);
  expect(status.launcher?.exitCode).toBe(0);
  await jobs.create(jobManifest('after-restart', { workers: 1, exitCode: 0 }));
  await jobs.waitForPhase('after-restart', 'Succeeded', 60_000);
  expect(operator.pid).toBe(pid);
  expect(operator.running).toBe(true);
});

test('hpcjob submit --wait exits with the launcher exit code and shows its termination message', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [path.join(repoRoot, 'dist/cli/main.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: kubeconfigPath() },
      timeout: 120_000,
    });
  const failing = cli(['submit', path.join(repoRoot, 'examples/local/failing.yaml'), '--wait', '-n', namespace]);
  expect(failing.stderr).toContain('diverges: Failed');
  expect(failing.stdout).toContain('exit code 3');
  expect(failing.stdout).toContain('launcher said: solution diverged');
  expect(failing.status).toBe(3);
  const ok = cli(['submit', path.join(repoRoot, 'examples/local/openfoam.yaml'), '--wait', '-n', namespace]);
  expect(ok.stdout).toContain('Succeeded');
  expect(ok.status).toBe(0);
});

test('after 3 minutes idle, a new HPCJob is acted on within 2 seconds', async () => {
  await new Promise((resolve) => setTimeout(resolve, 180_000));
  const created = await jobs.create(jobManifest('idle', { workers: 1 }));
  const pods = await eventually(async () => {
    const list = await jobs.pods('idle');
    expect(list.length).toBeGreaterThan(0);
    return list;
  }, 10_000);
  const jobCreated = Date.parse(String(created.metadata.creationTimestamp));
  const firstPod = Math.min(...pods.map((p) => new Date(p.metadata!.creationTimestamp!).getTime()));
  // Server timestamps have one-second resolution.
  expect(firstPod - jobCreated).toBeLessThanOrEqual(2000);
}, 240_000);
