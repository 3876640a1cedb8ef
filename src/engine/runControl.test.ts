import { describe, expect, it } from 'vitest';
import { RunControl, StopSignal } from './runControl';

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

describe('RunControl', () => {
  it('passes checkpoints while running and yields to the event loop', async () => {
    let yields = 0;
    const c = new RunControl(async () => { yields += 1; }, 0);
    await c.checkpoint(true);
    await c.checkpoint(false);
    expect(yields).toBe(2);
  });

  it('blocks while paused, lets exactly one step through on step(), and continues on resume()', async () => {
    const c = new RunControl(async () => {}, 1e9);
    expect(c.pause()).toBe(true);
    expect(c.pause()).toBe(false);
    let passed = 0;
    const loop = (async () => { for (let i = 0; i < 3; i++) { await c.checkpoint(true); passed += 1; } })();
    await tick();
    expect(passed).toBe(0);
    c.step();
    await tick();
    // the step's checkpoint consumes the allowance, then waits again
    expect(passed).toBe(1);
    await tick();
    expect(passed).toBe(1);
    expect(c.resume()).toBe(true);
    await loop;
    expect(passed).toBe(3);
    expect(c.resume()).toBe(false);
  });

  it('stop() wakes a paused run and the next checkpoint throws StopSignal; reset() clears it', async () => {
    const c = new RunControl(async () => {}, 1e9);
    c.pause();
    const waiting = c.checkpoint(true);
    await tick();
    c.stop();
    await expect(waiting).rejects.toBeInstanceOf(StopSignal);
    expect(c.stopRequested).toBe(true);
    c.reset();
    expect(c.stopRequested).toBe(false);
    expect(c.paused).toBe(false);
    await expect(c.checkpoint(true)).resolves.toBeUndefined();
  });
});
