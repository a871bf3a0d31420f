// The end of every run. Fair progress: users resume what they suspended, lost nodes come back or are declared dead,
// the kubelets run every pod and confirm every deletion, launchers end, watch events arrive, and the operator
// reconciles what its queue and its timers hand it, as its workers would. Every job must end (invariant 5); then,
// with nothing left to deliver, more passes must write nothing (invariant 6).
import { msUntilExpiry } from '../../../../src/controller/ttl.js';
import { NAMESPACE } from './store.js';
import {
  canConfirm,
  canExit,
  canStart,
  collectGarbage,
  confirmStopped,
  declareNodeDead,
  exitMain,
  isSuspended,
  recoverNode,
  setSuspend,
  startPod,
} from './cluster.js';
import { checkCleanedUp, checkStep } from './invariants.js';
import { checkWorkloadsFinished, kueueRound } from './kueue.js';
import { NODES, podOf, type World } from './world.js';
import { LABEL_ROLE } from '../../../../src/render/names.js';
import { isTerminal } from '../../../../src/controller/status.js';
import { PROGRESS_WRITE_INTERVAL_MS } from '../../../../src/controller/execute.js';

/** One round of every kubelet and the garbage collector; returns how many things they did. */
export function clusterRound(w: World): number {
  let acted = collectGarbage(w) + (w.setup.kueue ? kueueRound(w) : 0);
  let next = 0;
  for (const obj of w.store.list('pods')) {
    const pod = podOf(obj)!;
    const name = pod.metadata!.name!;
    if (canConfirm(w, name)) {
      confirmStopped(w, name);
    } else if (canStart(w, name, NODES[next % NODES.length]!)) {
      startPod(w, name, NODES[next++ % NODES.length]!);
    } else if (
      pod.metadata?.labels?.[LABEL_ROLE] === 'launcher' &&
      pod.metadata.deletionTimestamp === undefined &&
      canExit(w, name)
    ) {
      exitMain(w, name, w.recordOfPod(pod)?.setup.fairExitCode ?? 0);
    } else {
      continue;
    }
    acted += 1;
  }
  return acted;
}

const allEnded = (w: World): boolean =>
  [...w.jobs.keys()].every((name) => {
    const job = w.job(name);
    return job === undefined || isTerminal(job.status?.phase);
  });

function unfinished(w: World): string {
  return [...w.jobs.values()]
    .filter((r) => w.job(r.setup.name) && !isTerminal(w.job(r.setup.name)?.status?.phase))
    .map((r) => {
      const status = w.job(r.setup.name)!.status;
      const conditions = (status?.conditions ?? [])
        .filter((c) => c.status === 'True')
        .map((c) => `${c.type}(${c.reason}: ${c.message})`);
      const pods = w.store
        .list('pods')
        .map((o) => podOf(o)!)
        .filter((p) => w.recordOfPod(p) === r)
        .map((p) => `${p.metadata?.name}[${p.status?.phase}${p.metadata?.deletionTimestamp ? ', terminating' : ''}]`);
      return `job ${r.setup.name}: ${status?.phase ?? 'no status'}, conditions ${conditions.join(', ') || 'none'}, pods ${pods.join(' ') || 'none'}`;
    })
    .join('\n  ');
}

/**
 * (5) Under fair progress every job ends (or is deleted): within maxRounds rounds in which something happens, and
 * within maxIdle rounds in which the operator only looks again when a timer it set comes due.
 */
export async function everyJobEnds(w: World, maxRounds = 200, maxIdle = 2000): Promise<void> {
  for (const name of w.jobs.keys()) if (w.job(name) && isSuspended(w, name)) setSuspend(w, name, false);
  for (const [node, state] of w.nodes) {
    if (state !== 'lost') continue;
    if (w.setup.lostNodesRecover) recoverNode(w, node);
    else declareNodeDead(w, node);
  }
  let rounds = 0;
  let idle = 0;
  while (rounds < maxRounds && idle < maxIdle) {
    const writes = w.writes.length;
    const acted = clusterRound(w);
    const delivered = w.deliverAll();
    const keys = await w.takeQueued();
    for (const [key, at] of w.timers) {
      if (at > w.clock) continue;
      keys.add(key);
      w.timers.delete(key);
    }
    for (const key of [...keys].sort()) await w.reconcile(key.slice(NAMESPACE.length + 1));
    checkStep(w);
    if (acted > 0 || delivered > 0 || w.writes.length > writes) rounds += 1;
    else idle += 1;
    if (keys.size > 0 || acted > 0 || w.pending().length > 0) continue;
    if (allEnded(w)) return;
    const next = Math.min(...w.timers.values());
    if (!Number.isFinite(next)) {
      throw new Error(`invariant 5 (progress): nothing is queued and no timer is set, yet:\n  ${unfinished(w)}`);
    }
    w.clock = Math.max(w.clock, next);
  }
  const what = allEnded(w)
    ? `every job ended, but the operator never went quiet; its last writes:\n  ${w.writes
        .slice(-6)
        .map((x) => `${x.verb} ${x.what}`)
        .join('\n  ')}`
    : `not every job has ended:\n  ${unfinished(w)}`;
  throw new Error(`invariant 5 (progress): after ${rounds} fair rounds with progress and ${idle} without, ${what}`);
}

/**
 * (6) With every event delivered, two more passes over each job make no API write at all; the progress write
 * interval passes before each, so that a write merely put off (progress waits, execute.ts) shows too. The one
 * change that the clock alone makes is allowed: a finished job whose TTL ran out during these passes is deleted.
 */
export async function quietWhenNothingChanged(w: World): Promise<void> {
  for (let round = 1; round <= 2; round++) {
    w.clock += PROGRESS_WRITE_INTERVAL_MS;
    w.deliverAll();
    for (const name of w.jobs.keys()) {
      const before = w.writes.length;
      const stored = w.job(name);
      const expired = stored !== undefined && (msUntilExpiry(stored, new Date(w.clock)) ?? 1) <= 0;
      await w.reconcile(name);
      const made = w.writes.slice(before).filter((m) => !(expired && m.verb === 'deleteJob' && m.what === name));
      if (made.length > 0) {
        throw new Error(
          `invariant 6 (no writes when nothing changed): pass ${round} over job ${name} wrote:\n  ` +
            made.map((m) => `${m.verb} ${m.what}`).join('\n  '),
        );
      }
    }
  }
  checkStep(w);
}

/** The whole end of a run: fair progress, quiet, and what must be left (or gone). */
export async function finishRun(w: World): Promise<void> {
  await everyJobEnds(w);
  await quietWhenNothingChanged(w);
  checkCleanedUp(w);
  if (w.setup.kueue) checkWorkloadsFinished(w);
}
