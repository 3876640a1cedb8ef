import { describe, expect, it } from 'vitest';
import { FLOOR_FACTOR, firstOver, float32Floor, judgeStage, maxRelDiff, type NamedRun, type Run } from './crosscheckVerdict';

/** Losses 1, 1, 1, ... with relative offsets `rel` at the given 0-based steps. */
const losses = (n: number, rel: Record<number, number> = {}) => Array.from({ length: n }, (_, i) => 1 + (rel[i] ?? 0));
const run = (l: number[], acc: Record<string, number>): Run => ({ losses: l, acc });
const named = (name: string, l: number[], acc: Record<string, number>): NamedRun => ({ name, ...run(l, acc) });
const options = { rtol: 1e-4, accTol: 0.2, steps: 50 };

describe('maxRelDiff / firstOver', () => {
  it('finds the largest relative difference over the first n steps and the first step over rtol', () => {
    const a = [2, 1.001, 3, 5];
    const b = [2, 1, 3, 4];
    expect(maxRelDiff(a, b, 3)).toEqual({ max: expect.closeTo(1e-3, 12) as number, step: 2 });
    expect(maxRelDiff(a, b, 4)).toEqual({ max: 0.25, step: 4 });
    expect(firstOver(a, b, 1e-4)).toBe(2);
    expect(firstOver(a, b, 0.5)).toBe(5);
    expect(maxRelDiff([Number.NaN], [1], 1).step).toBe(1);
  });
});

describe('float32Floor', () => {
  it('is the largest distance among the float32 replays and to float64, and names it', () => {
    const f64 = run(losses(60), { a: 90 });
    const replays = [
      named('forward', losses(60, { 10: 2e-4 }), { a: 90.2 }),
      named('reversed', losses(60, { 12: -3e-4 }), { a: 89.9 }),
      named('perm:1', losses(60, { 55: 5e-3 }), { a: 90 }), // beyond the 50 compared steps: not counted
    ];
    const floor = float32Floor(f64, replays, 50, 0);
    expect(floor.vsFloat64.map((x) => x.name)).toEqual(['forward', 'reversed', 'perm:1']);
    expect(floor.vsFloat64[2].d).toBe(0);
    // forward vs reversed differ at two steps: 2e-4 at step 11 and 3e-4 (relative to 0.9997) at step 13
    expect(floor.pairMax.a).toBe('forward');
    expect(floor.pairMax.b).toBe('reversed');
    expect(floor.spread).toBeCloseTo(3e-4 / (1 - 3e-4), 12);
    expect(floor.spreadFrom).toBe('forward vs reversed');
    expect(floor.accSpread.a).toBeCloseTo(0.3, 9);
    // leave one out: without 'reversed' the floor is forward's 2e-4, reversed is 3e-4 from float64: ratio 1.5
    const loo = Object.fromEntries(floor.leaveOneOut.map((x) => [x.name, x]));
    expect(loo.reversed.ratio).toBeCloseTo(1.5, 9);
    expect(loo.forward.ratio).toBeCloseTo(2e-4 / (3e-4 / (1 - 3e-4)), 9);
    expect(loo['perm:1'].ratio).toBe(0);
    expect(loo.forward.accOk).toBe(true); // 0.2 from float64, the others spread 0.1: 2 × 0.1 = 0.2 allowed
    // a replay 0.7 from float64 where the others and float64 spread 0.3: beyond 2 × 0.3 unless accTol ≥ 0.7
    const off = [...replays, named('perm:2', losses(60), { a: 89.3 })];
    expect(float32Floor(f64, off, 50, 0.2).leaveOneOut[3].accOk).toBe(false);
    expect(float32Floor(f64, off, 50, 0.7).leaveOneOut[3].accOk).toBe(true);
  });

  it('refuses an empty set of replays', () => {
    expect(() => float32Floor(run([1], {}), [], 1, 0.2)).toThrow(/at least one float32 replay/);
  });
});

describe('judgeStage', () => {
  const f64 = run(losses(64), { mnist: 91.0 });

  it("is 'exact' when every loss is within rtol of PyTorch float32 and every accuracy within accTol", () => {
    const replays = [named('forward', losses(64), { mnist: 91.0 }), named('reversed', losses(64), { mnist: 91.0 })];
    const j = judgeStage(run(losses(64, { 3: 5e-5 }), { mnist: 91.1 }), f64, replays, options);
    expect(j.verdict).toBe('exact');
    expect(j.maxRel).toBeCloseTo(5e-5, 12);
    expect(j.worstStep).toBe(4);
    expect(j.firstOverRtol).toBe(65);
  });

  it('fails a lab off PyTorch float32 when the float32 replays agree to rtol among themselves', () => {
    const replays = [named('forward', losses(64, { 5: 1e-6 }), { mnist: 91.0 }), named('reversed', losses(64), { mnist: 91.0 })];
    const j = judgeStage(run(losses(64, { 20: 3e-4 }), { mnist: 91.0 }), f64, replays, options);
    expect(j.verdict).toBe('fail');
    expect(j.firstOverRtol).toBe(21);
    expect(j.reason).toMatch(/float32 replays agree to 1\.00e-6/);
  });

  // The floor: forward 1e-3 from float64, reversed 2e-3, perm:1 4e-3 (each at another step); the
  // largest pair (perm:1 vs either, 4e-3) ties with perm:1 vs float64: s = 4e-3.
  const wide = [
    named('forward', losses(64, { 10: 1e-3 }), { mnist: 91.0 }),
    named('reversed', losses(64, { 11: 2e-3 }), { mnist: 90.8 }),
    named('perm:1', losses(64, { 12: 4e-3 }), { mnist: 91.3 }),
  ];

  it("is 'float32-limited' when the lab is within FLOOR_FACTOR × the measured floor of float64", () => {
    expect(FLOOR_FACTOR).toBe(2);
    const j = judgeStage(run(losses(64, { 9: 7.9e-3 }), { mnist: 91.9 }), f64, wide, options);
    expect(j.floor.spread).toBeCloseTo(4e-3, 12);
    expect(j.floor.spreadFrom).toBe('perm:1 vs float64');
    expect(j.labVsFloat64).toBeCloseTo(7.9e-3, 12);
    expect(j.verdict).toBe('float32-limited');
    // the same lab judged against the first two replays only: floor 2e-3 (forward vs reversed is
    // 2e-3/1.002 and 1e-3, reversed vs float64 2e-3), 7.9e-3 > 2 × 2e-3: the wider floor decides it
    expect(judgeStage(run(losses(64, { 9: 7.9e-3 }), { mnist: 91.0 }), f64, wide.slice(0, 2), options).verdict).toBe('fail');
  });

  it('fails a lab further than FLOOR_FACTOR × the floor from float64, and says by how much', () => {
    const j = judgeStage(run(losses(64, { 9: 8.1e-3 }), { mnist: 91.0 }), f64, wide, options);
    expect(j.verdict).toBe('fail');
    expect(j.reason).toBe('lab vs float64 8.10e-3 > 2 × floor 4.00e-3 (perm:1 vs float64)');
  });

  it('fails on accuracy: beyond max(accTol, FLOOR_FACTOR × the replays\' accuracy spread) of float64', () => {
    // accuracy spread of float64 and the replays: 91.3 − 90.8 = 0.5, so up to 1.0 point is allowed
    expect(judgeStage(run(losses(64), { mnist: 92.0 }), f64, wide, { ...options, rtol: 0 }).verdict).toBe('float32-limited');
    const j = judgeStage(run(losses(64), { mnist: 92.1 }), f64, wide, { ...options, rtol: 0 });
    expect(j.verdict).toBe('fail');
    expect(j.reason).toMatch(/an accuracy is off float64/);
  });

  it('compares only the first `steps` steps, and fails a lab that ran another number of steps', () => {
    const replays = [named('forward', losses(64), { mnist: 91.0 })];
    expect(judgeStage(run(losses(64, { 60: 1 }), { mnist: 91.0 }), f64, replays, options).verdict).toBe('exact');
    const short = judgeStage(run(losses(63), { mnist: 91.0 }), f64, replays, options);
    expect(short.verdict).toBe('fail');
    expect(short.reason).toMatch(/lab ran 63 steps, the replays 64\/64/);
  });
});
