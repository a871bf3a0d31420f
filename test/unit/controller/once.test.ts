import { OnceAtATime } from '../../../src/controller/once.js';

describe('OnceAtATime', () => {
  let clock = 0;
  const once = () => new OnceAtATime(() => clock, 1000);

  it('runs an action once for callers that come while it is in flight', async () => {
    const o = once();
    let runs = 0;
    let release!: () => void;
    const action = () => {
      runs++;
      return new Promise<void>((r) => (release = r));
    };
    const callers = [o.ensure('k', action), o.ensure('k', action), o.ensure('k', action)];
    release();
    await Promise.all(callers);
    expect(runs).toBe(1);
  });

  it('remembers a success for a while, then runs again', async () => {
    const o = once();
    let runs = 0;
    const action = async () => void runs++;
    clock = 0;
    await o.ensure('k', action);
    clock = 999;
    await o.ensure('k', action);
    expect(runs).toBe(1);
    clock = 1000;
    await o.ensure('k', action);
    expect(runs).toBe(2);
    await o.ensure('other', action);
    expect(runs).toBe(3);
  });

  it('forgets a failure at once: every waiting caller sees it, the next call runs again', async () => {
    const o = once();
    const failing = o.ensure('k', () => Promise.reject(new Error('no')));
    const waiting = o.ensure('k', async () => undefined);
    await expect(failing).rejects.toThrow('no');
    await expect(waiting).rejects.toThrow('no');
    let ran = false;
    await o.ensure('k', async () => void (ran = true));
    expect(ran).toBe(true);
  });
});
