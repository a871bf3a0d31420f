// Following a job to its end, as bsub -K does: progress while it runs, the launcher's log and summary at the end,
// and the launcher's exit code as the CLI's own.
import type { HPCJob } from '../api/types.js';
import { describe, progressLine, waitingReason } from './format.js';
import { getJob, launcherLog, type Clients } from './kube.js';

export const EXIT_TIMEOUT = 124;

const finished = (job: HPCJob): boolean => job.status?.phase === 'Succeeded' || job.status?.phase === 'Failed';

/**
 * Progress on stderr. On a terminal one line is redrawn each second (phase, workers ready, elapsed); elsewhere a
 * plain line is written only when the phase or the ready count changes, so logs stay short.
 */
export class Progress {
  private lastPlain = '';
  private lastReason = '';
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly started = Date.now(),
  ) {}

  update(job: HPCJob): void {
    const seconds = (Date.now() - this.started) / 1000;
    const reason = waitingReason(job);
    if (reason !== this.lastReason && reason !== '') this.line(`${job.metadata.name}: ${reason}`);
    this.lastReason = reason;
    const line = progressLine(job, seconds);
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[K${line}`);
      this.drawn = true;
      return;
    }
    const state = line.replace(/, [^,]*$/, ''); // without the elapsed time
    if (state !== this.lastPlain) this.out.write(`${line}\n`);
    this.lastPlain = state;
  }

  /** A line that stays, above a redrawn progress line. */
  line(text: string): void {
    this.end();
    this.out.write(`${text}\n`);
  }

  end(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}

/** Follows the job to its end; returns the launcher's exit code (1 when the job failed without one). */
export async function waitForEnd(c: Clients, namespace: string, name: string, timeoutSeconds: number): Promise<number> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const progress = new Progress(process.stderr);
  for (;;) {
    const job = await getJob(c, namespace, name);
    progress.update(job);
    if (finished(job)) {
      progress.end();
      const podName = job.status?.launcher?.podName;
      if (podName) {
        await launcherLog(c, namespace, podName).then(
          (log) => process.stdout.write(`----- ${podName} log -----\n${log}${log.endsWith('\n') ? '' : '\n'}-----\n`),
          (err: Error) => process.stderr.write(`${name}: ${err.message}\n`),
        );
      }
      process.stdout.write(`${describe(job)}\n`);
      return job.status?.launcher?.exitCode ?? (job.status?.phase === 'Succeeded' ? 0 : 1);
    }
    if (Date.now() > deadline) {
      progress.line(`${name}: still ${job.status?.phase ?? 'New'} after ${timeoutSeconds}s`);
      return EXIT_TIMEOUT;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Waits until the job has a launcher pod to read; its name. */
export async function waitForLauncher(c: Clients, namespace: string, name: string): Promise<string> {
  const progress = new Progress(process.stderr);
  for (;;) {
    const job = await getJob(c, namespace, name);
    const podName = job.status?.launcher?.podName;
    if (podName) {
      progress.end();
      return podName;
    }
    if (finished(job)) throw new Error(`${name} ended without a launcher (${describe(job)})`);
    progress.update(job);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
