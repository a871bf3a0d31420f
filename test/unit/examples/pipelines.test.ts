// The pipeline examples (examples/pipelines): the HPCJob each one runs is valid, and each engine waits on the job's
// scalar phase (Argo's conditions are label selectors over the object's JSON: a list such as conditions[] cannot be
// matched). test/e2e/argo.test.ts runs the Argo example for real; KFP cannot run here, so its files are read.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import type { HPCJob } from '../../../src/api/types.js';
import { validateJob } from '../../../src/api/validate.js';

const dir = fileURLToPath(new URL('../../../examples/pipelines/', import.meta.url));
const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
const SUCCESS = 'status.phase == Succeeded';
const FAILURE = 'status.phase == Failed';
const REAL_NODE = { 'hpcjob.dev/node-kind': 'real' };

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** The verbs a Role in file grants on group/resource. */
function grantedVerbs(file: string, group: string, resource: string): string[] {
  const role = parseAllDocuments(read(file))
    .map((d) => d.toJS() as { kind: string; rules?: Rule[] })
    .find((d) => d.kind === 'Role');
  return (role?.rules ?? [])
    .filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource))
    .flatMap((r) => r.verbs);
}

function expectRunsOnRealNode(job: HPCJob): void {
  expect(job.spec.launcher?.template?.spec?.nodeSelector).toEqual(REAL_NODE);
  expect(job.spec.worker?.template?.spec?.nodeSelector).toEqual(REAL_NODE);
}

describe('the Argo Workflows example', () => {
  const workflow = parse(read('argo/workflow.yaml')) as {
    kind: string;
    spec: {
      serviceAccountName: string;
      nodeSelector: Record<string, string>;
      templates: { resource: Record<string, unknown> & { manifest: string } }[];
    };
  };
  const resource = workflow.spec.templates[0]!.resource;
  // Argo replaces {{workflow.name}} when the step starts; a generated name stands in for it.
  const job = parse(resource.manifest.replaceAll('{{workflow.name}}', 'mpi-pipeline-x7k2q')) as HPCJob;

  it('creates a valid HPCJob named after the Workflow, on the real node like the step itself', () => {
    expect(workflow.kind).toBe('Workflow');
    expect(resource.action).toBe('create');
    expect(validateJob(job)).toEqual([]);
    expect(job.metadata.name).toBe('mpi-pipeline-x7k2q-ring');
    expectRunsOnRealNode(job);
    expect(workflow.spec.nodeSelector).toEqual(REAL_NODE);
  });

  it('succeeds and fails with the job’s phase', () => {
    expect(resource.successCondition).toBe(SUCCESS);
    expect(resource.failureCondition).toBe(FAILURE);
  });

  it('runs as a ServiceAccount that rbac.yaml allows exactly what the executor does', () => {
    const serviceAccount = parseAllDocuments(read('argo/rbac.yaml'))
      .map((d) => d.toJS() as { kind: string; metadata: { name: string } })
      .find((d) => d.kind === 'ServiceAccount');
    expect(serviceAccount?.metadata.name).toBe(workflow.spec.serviceAccountName);
    expect(grantedVerbs('argo/rbac.yaml', 'hpcjob.dev', 'hpcjobs').sort()).toEqual(['create', 'get']);
    expect(grantedVerbs('argo/rbac.yaml', 'argoproj.io', 'workflowtaskresults').sort()).toEqual(['create', 'patch']);
    expect(grantedVerbs('argo/rbac.yaml', 'argoproj.io', 'workflows/finalizers')).toEqual(['update']);
  });
});

describe('the Kubeflow Pipelines examples', () => {
  it('run a valid HPCJob (ring-job.yaml)', () => {
    const job = parse(read('kfp/ring-job.yaml')) as HPCJob;
    expect(validateJob(job)).toEqual([]);
    expectRunsOnRealNode(job);
  });

  it('v1: the ResourceOp waits on the job’s phase, in Python that parses', () => {
    const source = read('kfp/v1_resource_op.py');
    expect(source).toContain(`success_condition="${SUCCESS}"`);
    expect(source).toContain(`failure_condition="${FAILURE}"`);
    expect(source).toContain('dsl.ResourceOp(');
    for (const file of ['kfp/v1_resource_op.py', 'kfp/v2_pipeline.py']) {
      const r = spawnSync(
        'python3',
        ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', path.join(dir, file)],
        {
          encoding: 'utf8',
        },
      );
      expect([file, r.status, r.stderr]).toEqual([file, 0, '']);
    }
  });

  it('v2: the component runs the CLI of the operator’s image, which exits with the job’s exit code', () => {
    const component = parse(read('kfp/hpcjob-submit.component.yaml')) as {
      inputs: { name: string }[];
      implementation: { container: { image: string; command: unknown[] } };
    };
    const { image, command } = component.implementation.container;
    expect(image).toBe('localhost/hpcjob/operator:dev');
    // The image's /app holds dist/ (hack/images/build.sh), and the CLI is the package's hpcjob command.
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(command[2]).toContain(`exec node /app/${pkg.bin.hpcjob} submit /tmp/hpcjob.yaml --wait`);
    expect(command[3]).toEqual({ inputValue: component.inputs[0]!.name });
  });
});
