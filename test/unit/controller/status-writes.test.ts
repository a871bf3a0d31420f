// How many status writes a job costs: the CRD's default status (Pending) spares the first one, progress waits the
// interval, and a job that starts within it is written once per phase after Pending.
import { PROGRESS_WRITE_INTERVAL_MS, FIRST_PROGRESS_WRITE_MS } from '../../../src/controller/execute.js';
import { exitMain } from './model/cluster.js';
import { DEFAULT_JOB, kubelet, pass, until, withWorld, worldWith, writesSince } from './model/script.js';
import { World } from './model/world.js';

const statusWrites = (w: World, mark: number): string[] => writesSince(w, mark).filter((x) => x === 'replaceStatus a');

/** A world whose CRD has no status default: a new job is read with no status at all. */
async function worldWithoutStatusDefault(): Promise<World> {
  const w = new World({
    jobs: [DEFAULT_JOB],
    lostNodesRecover: true,
    statusDefault: false,
  });
  await w.startOperator();
  return w;
}

test('a job read as Pending (the CRD default) gets no status write until the progress interval has passed', () =>
  withWorld(worldWith({ workers: 2 }), async (w) => {
    expect(w.job('a')?.status).toEqual({ phase: 'Pending' });
    await pass(w);
    w.clock += FIRST_PROGRESS_WRITE_MS + 500;
    await pass(w);
    expect(statusWrites(w, 0)).toEqual([]);
    // Workers still wait for the scheduler: their counts are news worth a write once the interval is over.
    w.clock += PROGRESS_WRITE_INTERVAL_MS;
    await pass(w);
    expect(statusWrites(w, 0)).toEqual(['replaceStatus a']);
    expect(w.job('a')?.status).toMatchObject({ phase: 'Pending', workersReady: '0/2' });
  }));

test('a job read with no status (a CRD from before the default) is written Pending after 3 s', () =>
  withWorld(worldWithoutStatusDefault(), async (w) => {
    expect(w.job('a')?.status).toBeUndefined();
    await pass(w);
    expect(statusWrites(w, 0)).toEqual([]);
    w.clock += FIRST_PROGRESS_WRITE_MS + 500;
    await pass(w);
    expect(statusWrites(w, 0)).toEqual(['replaceStatus a']);
    expect(w.job('a')?.status?.phase).toBe('Pending');
  }));

test('a job that starts within the interval is written twice: Running, then Succeeded', () =>
  withWorld(worldWith({ workers: 2 }), async (w) => {
    await until(w, 'Running');
    const phases: string[] = [];
    const mark = w.writes.length;
    expect(statusWrites(w, 0)).toHaveLength(1);
    phases.push(w.job('a')!.status!.phase!);
    exitMain(w, 'a-launcher', 0);
    await until(w, 'Succeeded');
    phases.push(w.job('a')!.status!.phase!);
    expect(statusWrites(w, mark)).toHaveLength(1);
    expect(phases).toEqual(['Running', 'Succeeded']);
    // Nothing more is written for it once it has ended and its pods went.
    kubelet(w);
    const end = w.writes.length;
    await pass(w);
    expect(statusWrites(w, end)).toEqual([]);
  }));
