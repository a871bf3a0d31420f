// The invariants, each a named function with a message that says what broke. Those about writes run as the API
// accepts them (a status write, a pod create); the others after every step, and at the end of a run.
import type { HPCJob, HPCJobStatus } from '../../../../src/api/types.js';
import { LAUNCHER_FINALIZER } from '../../../../src/render/names.js';
import { isPodFinished, isTerminal, mainContainerEnded } from '../../../../src/controller/status.js';
import { currentAttempt } from '../../../../src/controller/attempts.js';
import type { StoredObject } from './store.js';
import { jobOf, podOf, START, type JobRecord, type World } from './world.js';

function describe(status: HPCJobStatus | undefined): string {
  if (!status?.phase) return 'no status';
  const cond = status.conditions?.find((c) => c.type === status.phase && c.status === 'True');
  const code = status.launcher?.exitCode === undefined ? '' : ` launcher exit ${status.launcher.exitCode}`;
  return `${status.phase}${cond ? `(${cond.reason})` : ''} restarts ${status.restartCount ?? 0}${code}`;
}

function history(record: JobRecord): string {
  return `\n  status writes of job ${record.setup.name}:\n    ${record.history.join('\n    ') || '(none)'}`;
}

/** (1) A job stored Succeeded or Failed keeps that phase. */
export function terminalPhaseIsFinal(w: World, record: JobRecord, after: HPCJob): void {
  const phase = after.status?.phase;
  if (record.terminal && phase !== record.terminal.phase) {
    w.violations.push(
      `invariant 1 (terminal is final): job ${record.setup.name} was stored ${record.terminal.phase} at ` +
        `resourceVersion ${record.terminal.resourceVersion}, then written ${phase}${history(record)}`,
    );
  }
  if (!record.terminal && isTerminal(phase)) {
    record.terminal = { phase: phase!, resourceVersion: after.metadata.resourceVersion ?? '' };
  }
}

/** (1) No pod of a job is created once the job was stored terminal. */
export function checkPodCreate(w: World, obj: StoredObject): void {
  const pod = podOf(obj)!;
  const record = w.recordOfPod(pod);
  if (record?.terminal) {
    w.violations.push(
      `invariant 1 (terminal is final): pod ${pod.metadata?.name} was created after job ${record.setup.name} was ` +
        `stored ${record.terminal.phase} at resourceVersion ${record.terminal.resourceVersion}${history(record)}`,
    );
  }
}

/**
 * (2) restartCount never decreases, stays within backoffLimit, and counts an attempt only when the world broke one
 * of its pods (a failure, an eviction, a deletion, a lost node): one restart per write, for the attempt that was
 * current, so each attempt is counted at most once.
 */
export function restartsAreEarned(w: World, record: JobRecord, before: HPCJob, after: HPCJob): void {
  const name = record.setup.name;
  const was = before.status?.restartCount ?? 0;
  const count = after.status?.restartCount ?? 0;
  const fail = (what: string) => w.violations.push(`invariant 2 (restarts): job ${name} ${what}${history(record)}`);
  if (count < record.restartCount) fail(`restartCount went from ${record.restartCount} down to ${count}`);
  if (count > record.setup.backoffLimit)
    fail(`restartCount ${count} exceeds backoffLimit ${record.setup.backoffLimit}`);
  if (count > was + 1) fail(`restartCount went from ${was} to ${count} in one write`);
  const attempt = currentAttempt(before.status ?? {});
  if (count > was && !record.injured.has(attempt)) {
    fail(
      `counted a restart for attempt ${attempt} (restartCount ${was} -> ${count}) but nothing in the world failed, ` +
        `was deleted or lost in that attempt`,
    );
  }
  record.restartCount = Math.max(record.restartCount, count);
}

/**
 * (2) A job fails for a failure only when the world broke a pod of its last attempt; a deadline only once it passed.
 */
export function failuresAreEarned(w: World, record: JobRecord, before: HPCJob, after: HPCJob): void {
  const status = after.status ?? {};
  if (status.phase !== 'Failed' || before.status?.phase === 'Failed') return;
  const reason = status.conditions?.find((c) => c.type === 'Failed')?.reason;
  const attempt = currentAttempt(before.status ?? {});
  if ((reason === 'LauncherFailed' || reason === 'WorkerFailed') && !record.injured.has(attempt)) {
    w.violations.push(
      `invariant 2 (failures): job ${record.setup.name} failed ${reason} in attempt ${attempt}, but nothing in the ` +
        `world failed, was deleted or lost in that attempt${history(record)}`,
    );
  }
  const deadline = after.spec.runPolicy?.activeDeadlineSeconds;
  const started = Date.parse(before.status?.startTime ?? status.startTime ?? '');
  if (reason === 'DeadlineExceeded' && (deadline === undefined || w.clock < started + deadline * 1000)) {
    w.violations.push(
      `invariant 2 (failures): job ${record.setup.name} failed DeadlineExceeded at ${new Date(w.clock).toISOString()}, ` +
        `started ${before.status?.startTime} with activeDeadlineSeconds ${deadline}${history(record)}`,
    );
  }
}

/**
 * (3) A terminal job says why: a Succeeded/Failed condition with a reason; when the launcher decided it, the
 * launcher status names the last attempt and carries the exit code its container reported (if it reported one).
 */
export function terminalStatusExplains(w: World, record: JobRecord, job: HPCJob): void {
  const status = job.status ?? {};
  if (!isTerminal(status.phase)) return;
  const name = record.setup.name;
  const cond = status.conditions?.find((c) => c.type === status.phase);
  if (cond?.status !== 'True' || !cond.reason) {
    w.violations.push(
      `invariant 3 (terminal reason): job ${name} is ${status.phase} without a true ${status.phase} condition with a reason${history(record)}`,
    );
    return;
  }
  if (cond.reason !== 'LauncherSucceeded' && cond.reason !== 'LauncherFailed') return;
  const attempt = currentAttempt(status);
  const launcher = status.launcher;
  if (launcher?.attempt !== attempt) {
    w.violations.push(
      `invariant 3 (terminal reason): job ${name} ended ${cond.reason} but status.launcher is ${JSON.stringify(launcher)}, not attempt ${attempt}${history(record)}`,
    );
    return;
  }
  const reported = record.launcherExit.get(attempt)?.code;
  if (reported !== undefined && launcher.reason !== 'Lost' && launcher.exitCode !== reported) {
    w.violations.push(
      `invariant 3 (terminal reason): job ${name} ended ${cond.reason} with status.launcher.exitCode ` +
        `${launcher.exitCode}, but the launcher of attempt ${attempt} exited ${reported}${history(record)}`,
    );
  }
}

/** Runs as the API accepts a status write. */
export function checkStatusWrite(w: World, before: StoredObject, after: StoredObject): void {
  const record = w.jobs.get(after.metadata.name);
  const job = jobOf(after)!;
  if (!record) return;
  record.history.push(
    `${describe(jobOf(before)?.status)} -> ${describe(job.status)} (resourceVersion ${after.metadata.resourceVersion}, ` +
      `t+${(w.clock - START) / 1000}s)`,
  );
  terminalPhaseIsFinal(w, record, job);
  restartsAreEarned(w, record, jobOf(before)!, job);
  failuresAreEarned(w, record, jobOf(before)!, job);
  terminalStatusExplains(w, record, job);
}

/** (4) At most one pod with running containers per job, role and index (a pod name is a role and an index). */
export function oneRunningPodPerName(w: World): void {
  const seen = new Map<string, string>();
  for (const [uid, { job, pod, node }] of w.running) {
    const key = `${job}/${pod}`;
    const other = seen.get(key);
    if (other)
      w.violations.push(
        `invariant 4 (one running pod per role and index): ${pod} runs twice: uid ${other} and uid ${uid} (on ${node})`,
      );
    seen.set(key, uid);
  }
}

/** After every step: whatever the write hooks found, and what can be read off the world. */
export function checkStep(w: World): void {
  oneRunningPodPerName(w);
  if (w.violations.length > 0) throw new Error(w.violations.join('\n'));
}

/**
 * At the end of a run: a finished job's pods are gone as its cleanPodPolicy says (a job stopped by its deadline has
 * nothing left running whatever the policy); no launcher finalizer is left on a pod of a finished or deleted job;
 * nothing of a deleted job is left.
 */
export function checkCleanedUp(w: World): void {
  const problems: string[] = [];
  for (const record of w.jobs.values()) {
    const name = record.setup.name;
    const pods = w.store
      .list('pods')
      .map((o) => podOf(o)!)
      .filter((p) => w.recordOfPod(p) === record);
    const job = w.job(name);
    for (const pod of pods) {
      const podName = pod.metadata?.name;
      if (pod.metadata?.finalizers?.includes(LAUNCHER_FINALIZER)) {
        problems.push(
          `pod ${podName} of ${job ? 'finished' : 'deleted'} job ${name} still has finalizer ${LAUNCHER_FINALIZER}`,
        );
      }
      if (!job) {
        problems.push(`pod ${podName} of deleted job ${name} is still there`);
        continue;
      }
      const reason = job.status?.conditions?.find((c) => c.type === job.status?.phase)?.reason;
      const policy = record.setup.cleanPodPolicy;
      const running = !isPodFinished(pod) && !mainContainerEnded(pod);
      if (policy === 'All' || ((policy === 'Running' || reason === 'DeadlineExceeded') && running)) {
        problems.push(
          `pod ${podName} (${pod.status?.phase}) of job ${name} is left after ${reason} with cleanPodPolicy ${policy}`,
        );
      }
    }
  }
  if (problems.length > 0) throw new Error(`end state:\n  ${problems.join('\n  ')}`);
}
