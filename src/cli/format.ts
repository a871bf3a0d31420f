// What the CLI prints about jobs: pure functions of the job and the time, so they are tested without a cluster.
import type { HPCJob } from '../api/types.js';

/** kubectl's age style: 42s, 5m, 3h, 2d. */
export function age(fromIso: string | undefined, now: number): string {
  if (!fromIso) return '-';
  const seconds = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** 1m05s */
export function elapsed(seconds: number): string {
  const s = Math.floor(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

const phaseOf = (job: HPCJob): string => job.status?.phase ?? 'New';

/** The conditions that say why a job is waiting, as one line; empty when it is not waiting. */
export function waitingReason(job: HPCJob): string {
  const c = job.status?.conditions?.find(
    (c) => (c.type === 'Blocked' || c.type === 'Unschedulable' || c.type === 'Queued') && c.status === 'True',
  );
  return c ? `${c.type}: ${c.reason} - ${c.message}` : '';
}

/** One line for a wait's progress: phase, workers ready, elapsed time. */
export function progressLine(job: HPCJob, seconds: number): string {
  const workers = job.status?.workersReady ?? `0/${job.spec.workers}`;
  return `${job.metadata.name}: ${phaseOf(job)}, workers ${workers} ready, ${elapsed(seconds)}`;
}

/** hpcjob status: the headline, the launcher's message and the true conditions. */
export function describe(job: HPCJob): string {
  const s = job.status ?? {};
  const lines = [
    `${job.metadata.namespace}/${job.metadata.name}: ${phaseOf(job)}, workers ${s.workersReady ?? '-'}, exit code ${s.launcher?.exitCode ?? '-'}, restarts ${s.restartCount ?? 0}`,
  ];
  if (s.launcher?.message) lines.push(`  launcher said: ${s.launcher.message}`);
  for (const c of s.conditions ?? []) if (c.status === 'True') lines.push(`  ${c.type}: ${c.reason} - ${c.message}`);
  return lines.join('\n');
}

/** hpcjob list: aligned columns like squeue, bjobs and kubectl get. */
export function jobTable(jobs: HPCJob[], now: number, withNamespace: boolean): string {
  const header = [...(withNamespace ? ['NAMESPACE'] : []), 'NAME', 'PHASE', 'WORKERS', 'EXIT', 'AGE'];
  const rows = jobs.map((j) => [
    ...(withNamespace ? [j.metadata.namespace] : []),
    j.metadata.name,
    phaseOf(j),
    j.status?.workersReady ?? `-/${j.spec.workers}`,
    j.status?.launcher?.exitCode === undefined ? '-' : String(j.status.launcher.exitCode),
    age(j.metadata.creationTimestamp, now),
  ]);
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 2))).join(''))
    .join('\n');
}
