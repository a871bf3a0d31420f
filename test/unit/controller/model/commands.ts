// The steps of a model run as fast-check commands. Each reads as a sentence in a shrunk counterexample, applies only
// when the world allows it (a pod must exist to be deleted), and is followed by the per-step invariants.
import fc from 'fast-check';
import type { Resource } from '../../../../src/controller/ports.js';
import type { CreateFault } from './api.js';
import {
  canConfirm,
  canDeletePod,
  canExit,
  canMarkUnschedulable,
  canStart,
  collectGarbage,
  confirmStopped,
  declareNodeDead,
  deleteJob,
  deletePod,
  exitMain,
  isSuspended,
  jobExists,
  kubeletEvict,
  labelJob,
  loseNode,
  markUnschedulable,
  recoverNode,
  setSuspend,
  startPod,
} from './cluster.js';
import { checkStep } from './invariants.js';
import { NODES, type World } from './world.js';

export class Step implements fc.AsyncCommand<World, World> {
  constructor(
    readonly text: string,
    readonly applies: (w: World) => boolean,
    readonly act: (w: World) => unknown,
  ) {}

  check(w: Readonly<World>): boolean {
    return this.applies(w as World);
  }

  async run(_model: World, w: World): Promise<void> {
    await this.act(w);
    checkStep(w);
  }

  toString(): string {
    return this.text;
  }
}

const known = (w: World, job: string) => w.jobs.has(job);
const live = (w: World, job: string) => known(w, job) && jobExists(w, job);
const SLOTS = ['launcher', 'worker-0', 'worker-1', 'worker-2'];
const job = fc.constantFrom('a', 'b');
const pod = fc.tuple(job, fc.constantFrom(...SLOTS)).map(([j, slot]) => `${j}-${slot}`);
const node = fc.constantFrom(...NODES);
const seconds = (ms: number) => (ms >= 60_000 ? `${ms / 60_000}min` : `${ms / 1000}s`);

// ---- the operator ----
const reconcile = job.map(
  (j) =>
    new Step(
      `reconcile ${j}`,
      (w) => known(w, j),
      (w) => w.reconcile(j),
    ),
);
const deliver = fc
  .tuple(fc.integer({ min: 1, max: 6 }), fc.constantFrom<Resource | undefined>(undefined, 'pods', 'hpcjobs'))
  .map(([k, r]) => {
    const what = r === undefined ? 'events' : r === 'pods' ? 'pod events' : 'job events';
    return new Step(
      `deliver ${k} ${what}`,
      (w) => w.pending(r).length > 0,
      (w) => w.deliver(k, r),
    );
  });
const deliverAll = fc.constant(
  new Step(
    'deliver every event',
    (w) => w.pending().length > 0,
    (w) => w.deliverAll(),
  ),
);
const restart = fc.constant(
  new Step(
    'operator restarts',
    () => true,
    (w) => w.restartOperator(),
  ),
);

// ---- kubelets and the scheduler ----
const start = fc.tuple(pod, node).map(
  ([p, n]) =>
    new Step(
      `${p} starts on ${n}`,
      (w) => canStart(w, p, n),
      (w) => startPod(w, p, n),
    ),
);
const startAll = fc.constant(
  new Step(
    'scheduler starts every pending pod on node-1',
    (w) => w.store.list('pods').some((o) => canStart(w, o.metadata.name, 'node-1')),
    (w) => {
      for (const o of w.store.list('pods'))
        if (canStart(w, o.metadata.name, 'node-1')) startPod(w, o.metadata.name, 'node-1');
    },
  ),
);
const launcherExits = fc.tuple(job, fc.constantFrom(0, 0, 1, 3)).map(
  ([j, code]) =>
    new Step(
      `launcher of job ${j} exits ${code}`,
      (w) => canExit(w, `${j}-launcher`),
      (w) => exitMain(w, `${j}-launcher`, code),
    ),
);
const workerFails = fc.tuple(job, fc.integer({ min: 0, max: 2 }), fc.constantFrom(1, 137)).map(
  ([j, i, code]) =>
    new Step(
      `worker ${j}-worker-${i} exits ${code}`,
      (w) => canExit(w, `${j}-worker-${i}`),
      (w) => exitMain(w, `${j}-worker-${i}`, code),
    ),
);
const evict = pod.map(
  (p) =>
    new Step(
      `kubelet evicts ${p} (phase Failed, reason Evicted)`,
      (w) => canExit(w, p) && canDeletePod(w, p),
      (w) => kubeletEvict(w, p),
    ),
);
const confirm = pod.map(
  (p) =>
    new Step(
      `kubelet confirms ${p} stopped and removes it`,
      (w) => canConfirm(w, p),
      (w) => confirmStopped(w, p),
    ),
);
const unschedulable = pod.map(
  (p) =>
    new Step(
      `scheduler finds no node for ${p}`,
      (w) => canMarkUnschedulable(w, p),
      (w) => markUnschedulable(w, p),
    ),
);

// ---- nodes ----
const lose = node.map(
  (n) =>
    new Step(
      `${n} is lost`,
      (w) => w.nodes.get(n) === 'up',
      (w) => loseNode(w, n),
    ),
);
const recover = node.map(
  (n) =>
    new Step(
      `${n} comes back`,
      (w) => w.nodes.get(n) === 'lost',
      (w) => recoverNode(w, n),
    ),
);
const dead = node.map(
  (n) =>
    new Step(
      `admin declares ${n} dead and force-deletes its pods`,
      (w) => w.nodes.get(n) === 'lost',
      (w) => declareNodeDead(w, n),
    ),
);

// ---- users and the clock ----
const userDeletesPod = pod.map(
  (p) =>
    new Step(
      `user deletes pod ${p} (graceful)`,
      (w) => canDeletePod(w, p),
      (w) => deletePod(w, p),
    ),
);
const advance = fc.constantFrom(1000, 10_000, 31_000, 120_000, 600_000).map(
  (ms) =>
    new Step(
      `clock advances ${seconds(ms)}`,
      () => true,
      (w) => (w.clock += ms),
    ),
);
const suspend = job.map(
  (j) =>
    new Step(
      `user suspends job ${j}`,
      (w) => live(w, j) && !isSuspended(w, j),
      (w) => setSuspend(w, j, true),
    ),
);
const resume = job.map(
  (j) =>
    new Step(
      `user resumes job ${j}`,
      (w) => live(w, j) && isSuspended(w, j),
      (w) => setSuspend(w, j, false),
    ),
);
const userDeletesJob = job.map(
  (j) =>
    new Step(
      `user deletes job ${j}`,
      (w) => live(w, j),
      (w) => deleteJob(w, j),
    ),
);
const gc = fc.constant(
  new Step(
    'garbage collector runs',
    () => true,
    (w) => collectGarbage(w),
  ),
);

// ---- faults ----
const conflict = job.map(
  (j) =>
    new Step(
      `kubectl label job ${j} (the operator's next status write conflicts)`,
      (w) => live(w, j),
      (w) => labelJob(w, j),
    ),
);
const createFails = fc.constantFrom<CreateFault>('quota', 'invalid', 'internal').map((f) => {
  const says = { quota: '403 exceeded quota', invalid: '422 invalid', internal: '500 internal error' }[f];
  return new Step(
    `next pod create fails: ${says}`,
    () => true,
    (w) => w.failNextCreate(f),
  );
});
const crash = fc.integer({ min: 1, max: 5 }).map(
  (n) =>
    new Step(
      `crash before API call ${n}`,
      () => true,
      (w) => w.crashBeforeCall(n),
    ),
);

/** The commands and how often each is drawn; a property may change weights (0 leaves a command out). */
export const WEIGHTS = {
  reconcile: 24,
  deliver: 12,
  deliverAll: 12,
  start: 8,
  startAll: 8,
  launcherExits: 8,
  workerFails: 2,
  evict: 2,
  confirm: 6,
  unschedulable: 1,
  lose: 2,
  recover: 2,
  dead: 2,
  userDeletesPod: 2,
  advance: 6,
  suspend: 2,
  resume: 2,
  userDeletesJob: 1,
  gc: 1,
  conflict: 4,
  createFails: 2,
  crash: 4,
  restart: 2,
};

const ARBITRARIES: Record<keyof typeof WEIGHTS, fc.Arbitrary<Step>> = {
  reconcile,
  deliver,
  deliverAll,
  start,
  startAll,
  launcherExits,
  workerFails,
  evict,
  confirm,
  unschedulable,
  lose,
  recover,
  dead,
  userDeletesPod,
  advance,
  suspend,
  resume,
  userDeletesJob,
  gc,
  conflict,
  createFails,
  crash,
  restart,
};

/** A command drawn by weight: WEIGHTS with these changes. */
export function commands(changes: Partial<typeof WEIGHTS> = {}): fc.Arbitrary<Step> {
  const weights = { ...WEIGHTS, ...changes };
  const entries = Object.entries(weights).filter(([, weight]) => weight > 0) as [keyof typeof WEIGHTS, number][];
  return fc.oneof(...entries.map(([name, weight]) => ({ arbitrary: ARBITRARIES[name], weight })));
}
