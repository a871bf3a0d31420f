// A real workflow engine runs an HPCJob as a pipeline step: Argo Workflows' controller (built from its Go module)
// runs examples/pipelines/argo/workflow.yaml, whose resource step creates the HPCJob and waits on its phase. The job
// runs mpirun on the real node; the Workflow ends with it, and the step's output carries mpirun's exit code.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { kubectl } from '../integration/support/cluster.js';
import type { Jobs } from '../integration/support/jobs.js';
import { OperatorProcess } from '../integration/support/operator.js';
import { useOperatorSuite } from '../integration/support/suite.js';
import {
  EXAMPLE_DIR,
  WorkflowController,
  createWorkflow,
  exampleWorkflow,
  installArgoCrds,
  resourceStep,
  waitForWorkflowEnd,
} from './support/argo.js';
import { rankHosts, launcherLog } from './support/real-jobs.js';

const operator = new OperatorProcess('e2e-argo');
const controller = new WorkflowController(`hpcjob-e2e-${randomBytes(3).toString('hex')}`);
let namespace = '';
let jobs: Jobs;
useOperatorSuite(operator, 'e2e-argo', (ns, j) => {
  namespace = ns;
  jobs = j;
});

beforeAll(async () => {
  installArgoCrds();
  await controller.start();
});
afterAll(async () => {
  await controller.stop();
});

/** Runs the example Workflow with the ring program's extra arguments; returns it ended, with the job and timing. */
async function runPipeline(ringArgs: string[]) {
  const applied = kubectl(['apply', '-n', namespace, '-f', path.join(EXAMPLE_DIR, 'rbac.yaml')]);
  if (applied.status !== 0) throw new Error(`kubectl apply rbac.yaml: ${applied.stderr}`);
  const started = Date.now();
  const created = await createWorkflow(
    namespace,
    exampleWorkflow(controller.instanceId, (job) => (job.spec.command = [...(job.spec.command ?? []), ...ringArgs])),
  );
  const name = created.metadata.name!;
  const workflow = await waitForWorkflowEnd(namespace, name, 170_000);
  const ended = Date.now();
  // A step that never ran leaves no job: the Workflow's own message says why.
  const job = await jobs.get(`${name}-ring`).catch((err: Error) => {
    throw new Error(`no HPCJob; Workflow ${workflow.status?.phase}: ${workflow.status?.message}`, { cause: err });
  });
  // Where the time goes: before the job exists (step pod), the job itself, after it ends (the 5 s poll, reporting).
  const at = (time?: string) => (time ? ((Date.parse(time) - started) / 1000).toFixed(1) : '?');
  process.stderr.write(
    `argo: ${name} ${workflow.status?.phase} in ${((ended - started) / 1000).toFixed(1)} s; job created at ` +
      `${at(job.metadata.creationTimestamp)} s, running at ${at(job.status?.startTime)} s, ended at ` +
      `${at(job.status?.completionTime)} s\n`,
  );
  return { name, workflow, job, step: resourceStep(workflow) };
}

it('a succeeding HPCJob: the step and the Workflow succeed, the exit code 0 is the step’s output', async () => {
  const { name, workflow, job, step } = await runPipeline([]);
  expect(workflow.status?.phase).toBe('Succeeded');
  expect(step.phase).toBe('Succeeded');
  expect(step.outputs?.parameters?.find((p) => p.name === 'exit-code')?.value).toBe('0');
  expect(job.status?.phase).toBe('Succeeded');
  expect(job.status?.launcher?.exitCode).toBe(0);
  // setOwnerReference: the Workflow owns the job, so deleting it cleans up.
  const owners = (job.metadata as V1ObjectMeta).ownerReferences ?? [];
  expect(owners.map((o) => `${o.kind}/${o.name}`)).toEqual([`Workflow/${name}`]);
  // mpirun really ran: every rank reported its host.
  expect(rankHosts(launcherLog(namespace, `${name}-ring`)).size).toBe(4);
}, 240_000);

it('a failing HPCJob: the failure condition fails the step and the Workflow; the job keeps exit code 3', async () => {
  const { workflow, job, step } = await runPipeline(['--fail-rank', '1', '--exit-code', '3']);
  expect(workflow.status?.phase).toBe('Failed');
  expect(step.phase).toBe('Failed');
  // argoexec exits 64 and names the condition (as a parsed label selector) that held.
  expect(step.message).toContain("failure condition '{status.phase == [Failed]}' evaluated true");
  expect(job.status?.phase).toBe('Failed');
  expect(job.status?.launcher?.exitCode).toBe(3);
}, 240_000);
