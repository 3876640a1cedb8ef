import { describe, expect, it } from 'vitest';
import { addAlphaSummaries, appendThinned, MAX_TRAJECTORY_POINTS, trajectoryStageKey } from './alphaTrajectory';

const summary = (unit: string, step: number, s: number, t: number) => ({ unit, step, meanAbsSource: s, meanAbsTarget: t });

describe('addAlphaSummaries', () => {
  it('collects mean |α_s|, |α_t| per unit against the step, in step order, a repeated step replaced', () => {
    let r = addAlphaSummaries(undefined, [summary('d1', 4, 0.5, 0.5), summary('d2', 4, 0.4, 0.6)]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    r = addAlphaSummaries(r.trajectories, [summary('d1', 8, 0.3, 0.45), summary('d1', 4, 0.49, 0.5)]);
    if (!r.ok) throw new Error(r.problem);
    expect(r.trajectories.d1).toEqual([{ step: 4, source: 0.49, target: 0.5 }, { step: 8, source: 0.3, target: 0.45 }]);
    expect(r.trajectories.d2).toEqual([{ step: 4, source: 0.4, target: 0.6 }]);
  });

  it('refuses a malformed list with the reason, leaving nothing half-added', () => {
    for (const [bad, why] of [
      [{ unit: 'd1' }, /must be a list/],
      [[summary('d1', 1, NaN, 0.5)], /alphas\[0\]\.meanAbsSource must be a finite number/],
      [[summary('d1', 1, 0.5, -1)], /meanAbsTarget must be a finite number ≥ 0 \(got -1\)/],
      [[summary('d1', 1.5, 0.5, 0.5)], /step must be a whole number/],
      [[{ step: 1, meanAbsSource: 0, meanAbsTarget: 0 }], /unit must be a string/],
      [[null], /alphas\[0\] must be an object/],
    ] as const) {
      const r = addAlphaSummaries({}, bad);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problem).toMatch(why);
    }
  });
});

describe('appendThinned', () => {
  it('stays bounded, keeps the newest point and the ones `keep` asks for', () => {
    let xs: number[] = [];
    for (let i = 0; i < 5 * MAX_TRAJECTORY_POINTS; i++) xs = appendThinned(xs, i, MAX_TRAJECTORY_POINTS, (x) => x % 97 === 0);
    expect(xs.length).toBeLessThanOrEqual(MAX_TRAJECTORY_POINTS + 1);
    expect(xs.at(-1)).toBe(5 * MAX_TRAJECTORY_POINTS - 1);
    expect(xs.filter((x) => x % 97 === 0).length).toBe(Math.ceil((5 * MAX_TRAJECTORY_POINTS) / 97));
  });
});

describe('trajectoryStageKey', () => {
  const all = { 'rescl|0.001|1|combine': {}, 'rescl|0.001|2|combine': {}, 'rescl|0.01|1|combine': {} };
  it('prefers the live stage, else the last combine stage of the selected λ', () => {
    expect(trajectoryStageKey(all, 'rescl|0.01|1|combine', 0.001)).toBe('rescl|0.01|1|combine');
    expect(trajectoryStageKey(all, null, 0.001)).toBe('rescl|0.001|2|combine');
    expect(trajectoryStageKey(all, 'ft|-|1|finetune', 0.01)).toBe('rescl|0.01|1|combine');
    expect(trajectoryStageKey(all, null, 0.1)).toBeNull();
    expect(trajectoryStageKey(all, null, null)).toBeNull();
  });
});
