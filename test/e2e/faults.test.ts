// Faults inside real containers: a worker's sshd killed mid-run restarts the gang within backoffLimit; a launcher
// deleted mid-run keeps its exit code through its finalizer; a launcher with a sidecar (a plain container or a native
// sidecar) ends with the launcher's own container, whatever the sidecar does.
import type { Jobs } from '../integration/support/jobs.js';
import { kubectl } from '../integration/support/cluster.js';
import { eventually } from '../integration/support/eventually.js';
import { useOperatorSuite } from '../integration/support/suite.js';
import { OperatorProcess } from '../integration/support/operator.js';
import { OPENMPI4, launcherLog, rankHosts, realJob } from './support/real-jobs.js';

const operator = new OperatorProcess('e2e-faults');
let namespace = '';
let jobs: Jobs;
useOperatorSuite(operator, 'e2e-fault', (ns, j) => {
  namespace = ns;
  jobs = j;
});

it('a worker container killed mid-run: gang restart within backoffLimit, then Succeeded; the exit code is in the events', async () => {
  await jobs.create(realJob('kill', { ringArgs: ['--sleep', '15'], spec: { runPolicy: { backoffLimit: 1 } } }));
  await jobs.waitForPhase('kill', 'Running', 150_000);
  const firstLauncher = (await jobs.pods('kill')).find((p) => p.metadata?.name === 'kill-launcher')?.metadata?.uid;
  // sshd is the worker container's PID 1 (the entrypoint execs it): killing it from inside ends the container.
  // The exec itself may be killed with the container (137) before it reports success.
  const r = kubectl(['exec', '-n', namespace, 'kill-worker-1', '--', 'kill', '1']);
  expect([0, 137]).toContain(r.status);
  const status = await jobs.waitForPhase('kill', 'Succeeded', 180_000);
  expect(status.restartCount).toBe(1);
  expect(status.launcher?.exitCode).toBe(0);
  const launcher = (await jobs.pods('kill')).find((p) => p.metadata?.name === 'kill-launcher');
  expect(launcher?.metadata?.uid).not.toBe(firstLauncher);
  // Who notices first is a race: the operator (the worker's pod ended) or mpirun (its ssh link broke). Either way the
  // attempt ends once, with a Warning naming the cause and its exit code.
  const failures = (await jobs.events('kill')).filter((e) => ['WorkerFailed', 'LauncherFailed'].includes(e.reason));
  expect(failures).toHaveLength(1);
  expect(failures[0]?.type).toBe('Warning');
  expect(failures[0]?.message).toMatch(/worker kill-worker-1 .*exit code \d+|launcher attempt 1 exited with code \d+/);
  expect(rankHosts(launcherLog(namespace, 'kill')).size).toBe(4);
});

it.each([3, 0])(
  "a launcher with a sidecar that never ends: the job ends with the launcher's exit code %i",
  async (code) => {
    const name = `side${code}`;
    // Container statuses come sorted by name: "aa-sidecar" is listed before "launcher".
    const sidecar = { name: 'aa-sidecar', image: OPENMPI4.image, command: ['sleep', '3600'] };
    const ringArgs = code === 0 ? [] : ['--fail-rank', '1', '--exit-code', String(code)];
    await jobs.create(realJob(name, { ringArgs, launcher: { containers: [{ name: 'launcher' }, sidecar] } }));
    const status = await jobs.waitForPhase(name, code === 0 ? 'Succeeded' : 'Failed', 150_000);
    expect(status.launcher?.exitCode).toBe(code);
    await eventually(async () => {
      const pod = (await jobs.pods(name)).find((p) => p.metadata?.name === `${name}-launcher`);
      const side = pod?.status?.containerStatuses?.find((c) => c.name === 'aa-sidecar');
      // Either still running, or the pod was cleaned up as a running pod: the sidecar never decided anything.
      expect(side === undefined || side.state?.running !== undefined || pod?.metadata?.deletionTimestamp).toBeTruthy();
    }, 10_000);
  },
);

it('a launcher deleted mid-run: its finalizer keeps the exit code the kubelet reported; Failed, reason Deleted', async () => {
  await jobs.create(realJob('del', { ringArgs: ['--sleep', '60'] }));
  await jobs.waitForPhase('del', 'Running', 150_000);
  const r = kubectl(['delete', 'pod', '-n', namespace, 'del-launcher', '--wait=false']);
  expect(r.status).toBe(0);
  const status = await jobs.waitForPhase('del', 'Failed', 120_000);
  expect(status.conditions?.find((c) => c.type === 'Failed')?.reason).toBe('LauncherFailed');
  expect(status.launcher).toMatchObject({ attempt: 1, reason: 'Deleted' });
  expect(status.launcher?.exitCode).toEqual(expect.any(Number));
  expect(status.launcher?.exitCode).not.toBe(0);
  // Its result stored, the finalizer comes off and the pod goes.
  await eventually(async () => {
    expect((await jobs.pods('del')).find((p) => p.metadata?.name === 'del-launcher')).toBeUndefined();
  }, 60_000);
});

it("a launcher with a native sidecar (an init container that keeps running): the launcher's exit code decides", async () => {
  const sidecar = { name: 'log-shipper', image: OPENMPI4.image, command: ['sleep', '3600'], restartPolicy: 'Always' };
  await jobs.create(realJob('native', { launcher: { initContainers: [sidecar] } }));
  const status = await jobs.waitForPhase('native', 'Succeeded', 150_000);
  expect(status.launcher?.exitCode).toBe(0);
});
