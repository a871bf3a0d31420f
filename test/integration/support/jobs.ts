// HPCJob helpers for integration tests: manifests that run on KWOK nodes, reads, waits and events.
import type { CoreV1Api, CustomObjectsApi, V1Pod } from '@kubernetes/client-node';
import type { HPCJob, HPCJobSpec, HPCJobStatus } from '../../../src/api/types.js';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { eventually } from './eventually.js';
import { operatorLogDir } from './operator.js';

const group = 'hpcjob.dev';
const version = 'v1alpha1';
const plural = 'hpcjobs';

/** A job whose launcher KWOK ends with exitCode after runDuration; without exitCode it runs until stopped. */
export function jobManifest(
  name: string,
  opts: { workers?: number; exitCode?: number; runDuration?: string; spec?: Partial<HPCJobSpec> } = {},
): HPCJob {
  const annotations: Record<string, string> = {};
  if (opts.exitCode !== undefined) annotations['kwok.hpcjob.dev/exit-code'] = String(opts.exitCode);
  if (opts.runDuration) annotations['kwok.hpcjob.dev/run-duration'] = opts.runDuration;
  return {
    apiVersion: `${group}/${version}`,
    kind: 'HPCJob',
    metadata: { name, namespace: '' },
    spec: {
      image: 'registry.example/mpi:latest',
      command: ['mpirun', 'hostname'],
      workers: opts.workers ?? 2,
      launcher: { template: { metadata: { annotations } } },
      ...opts.spec,
    },
  };
}

export class Jobs {
  constructor(
    private readonly custom: CustomObjectsApi,
    private readonly core: CoreV1Api,
    private readonly namespace: string,
  ) {}

  async create(job: HPCJob): Promise<HPCJob> {
    const body = { ...job, metadata: { ...job.metadata, namespace: this.namespace } };
    return (await this.custom.createNamespacedCustomObject({
      group,
      version,
      plural,
      namespace: this.namespace,
      body,
    })) as HPCJob;
  }

  async get(name: string): Promise<HPCJob> {
    return (await this.custom.getNamespacedCustomObject({
      group,
      version,
      plural,
      namespace: this.namespace,
      name,
    })) as HPCJob;
  }

  async patchSpec(name: string, patch: Partial<HPCJobSpec>): Promise<void> {
    const job = await this.get(name);
    await this.custom.replaceNamespacedCustomObject({
      group,
      version,
      plural,
      namespace: this.namespace,
      name,
      body: { ...job, spec: { ...job.spec, ...patch } },
    });
  }

  async delete(name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject({
      group,
      version,
      plural,
      namespace: this.namespace,
      name,
      propagationPolicy: 'Background',
    });
  }

  async exists(name: string): Promise<boolean> {
    return this.get(name).then(
      () => true,
      (err: { code?: number }) => {
        if (err.code === 404) return false;
        throw err;
      },
    );
  }

  async waitFor(name: string, check: (status: HPCJobStatus) => void, timeoutMs = 60_000): Promise<HPCJobStatus> {
    return eventually(async () => {
      const status = (await this.get(name)).status ?? {};
      check(status);
      return status;
    }, timeoutMs);
  }

  async waitForPhase(name: string, phase: string, timeoutMs = 60_000): Promise<HPCJobStatus> {
    return this.waitFor(
      name,
      (s) => {
        if (s.phase !== phase)
          throw new Error(`phase is ${s.phase}, waiting for ${phase}; status ${JSON.stringify(s)}`);
      },
      timeoutMs,
    );
  }

  async pods(name: string): Promise<V1Pod[]> {
    const list = await this.core.listNamespacedPod({
      namespace: this.namespace,
      labelSelector: `hpcjob.dev/job-name=${name}`,
    });
    return list.items;
  }

  async livePods(name: string): Promise<V1Pod[]> {
    return (await this.pods(name)).filter((p) => !p.metadata?.deletionTimestamp);
  }

  async events(name: string): Promise<{ reason: string; message: string; type: string }[]> {
    const list = await this.core.listNamespacedEvent({
      namespace: this.namespace,
      fieldSelector: `involvedObject.kind=HPCJob,involvedObject.name=${name}`,
    });
    return list.items.map((e) => ({ reason: e.reason ?? '', message: e.message ?? '', type: e.type ?? '' }));
  }

  /**
   * How many times this run's operators created the job's launcher, from their logs ('created pods' lines of the
   * job): a job's happy path records no Normal event, so its log is where a second launcher would show.
   */
  launcherCreations(name: string): number {
    const launcher = `${name}-launcher`;
    const job = `${this.namespace}/${name}`;
    let count = 0;
    for (const file of readdirSync(operatorLogDir).filter((f) => f.endsWith('.log'))) {
      for (const line of readFileSync(path.join(operatorLogDir, file), 'utf8').split('\n')) {
        if (!line.includes('"created pods"') || !line.includes(launcher)) continue;
        const entry = JSON.parse(line) as { job?: string; pods?: string[] };
        if (entry.job === job && entry.pods?.includes(launcher)) count++;
      }
    }
    return count;
  }

  condition(status: HPCJobStatus, type: string) {
    return status.conditions?.find((c) => c.type === type);
  }
}
