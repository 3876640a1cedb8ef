import { describe, expect, it } from 'vitest';
import {
  averageAccuracy, backwardTransfer, criteriaOf, defaultTau, forgetting, maxAverageAccuracy, paretoFront,
  criterion2, sourceAccuracyAtTarget, tradeoffOf,
} from './metrics';

const R = [[0.9], [0.8, 0.95], [0.7, 0.85, 0.99]];

describe('metrics', () => {
  it('average accuracy, forgetting and BWT follow their definitions', () => {
    expect(averageAccuracy(R, 1)).toBeCloseTo(0.875);
    expect(averageAccuracy(R)).toBeCloseTo((0.7 + 0.85 + 0.99) / 3);
    expect(forgetting(R)).toEqual([expect.closeTo(0.2), expect.closeTo(0.1)]);
    expect(backwardTransfer(R)).toBeCloseTo(((0.7 - 0.9) + (0.85 - 0.95)) / 2);
    expect(backwardTransfer([[0.9]])).toBeNaN();
  });

  it('the Pareto front keeps only undominated points, sorted by target accuracy', () => {
    const pts = [
      { source: 0.9, target: 0.7 }, { source: 0.85, target: 0.8 }, { source: 0.8, target: 0.75 },
      { source: 0.6, target: 0.9 }, { source: 0.6, target: 0.85 },
    ];
    expect(paretoFront(pts)).toEqual([pts[0], pts[1], pts[3]]);
  });

  it('computes both criteria, and says when τ is not reachable', () => {
    const pts = [{ source: 0.9, target: 0.7 }, { source: 0.85, target: 0.8 }, { source: 0.6, target: 0.9 }];
    expect(maxAverageAccuracy(pts)).toBeCloseTo(0.825);
    expect(sourceAccuracyAtTarget(pts, 0.8)).toBe(0.85);
    expect(sourceAccuracyAtTarget(pts, 0.95)).toBeNull();
    expect(defaultTau(0.83)).toBeCloseTo(0.82);
    expect(criteriaOf(pts, 0.75)).toEqual({ maxAvgAcc: expect.closeTo(0.825), tau: 0.75, srcAccAtTau: 0.85 });
  });

  it('tradeoff point: source = mean of earlier tasks, target = last task', () => {
    expect(tradeoffOf('rescl', 0.1, [0.8, 0.9, 0.5])).toEqual({
      method: 'rescl', knob: 0.1, source: expect.closeTo(0.85), target: 0.5, average: expect.closeTo(2.2 / 3),
    });
  });

  it('criterion 1 with 3+ tasks is the average over all tasks, not (old mean + last) / 2', () => {
    const p = tradeoffOf('ft', null, [0.6, 0.9, 0.9]);
    expect(maxAverageAccuracy([p])).toBeCloseTo(0.8);
    expect((p.source + p.target) / 2).toBeCloseTo(0.825); // the old, wrong criterion
  });

  it('maxAverageAccuracy: a NaN point never wins, wherever it stands', () => {
    const ok = { source: 0.8, target: 0.7 };
    const bad = { source: NaN, target: 0.9 };
    expect(maxAverageAccuracy([bad, ok])).toBeCloseTo(0.75);
    expect(maxAverageAccuracy([ok, bad])).toBeCloseTo(0.75);
    expect(maxAverageAccuracy([bad])).toBeNaN();
  });
});

describe('criterion 2 with NaN points', () => {
  it('never lets a NaN point win, wherever it sits', () => {
    const good = { source: 0.6, target: 0.9 };
    for (const bad of [{ source: NaN, target: 0.95 }, { source: 0.99, target: NaN }, { source: NaN, target: NaN }]) {
      expect(sourceAccuracyAtTarget([bad, good], 0.8)).toBe(0.6);
      expect(sourceAccuracyAtTarget([good, bad], 0.8)).toBe(0.6);
    }
  });

  it('is null with the reason when only NaN points would reach τ, when no point reaches τ, and when τ is NaN', () => {
    const onlyNaN = criterion2([{ source: NaN, target: 0.95 }, { source: 0.7, target: 0.5 }], 0.8);
    expect(onlyNaN).toEqual({ value: null, why: expect.stringMatching(/no setting reaches τ = 80\.0 %/) });
    const none = criterion2([{ source: NaN, target: NaN }], 0.8);
    expect(none.value).toBeNull();
    expect(none.why).toMatch(/no point has a finite source and target accuracy/);
    const noTau = criterion2([{ source: 0.7, target: 0.9 }], NaN);
    expect(noTau.value).toBeNull();
    expect(noTau.why).toMatch(/τ is undefined/);
    expect(sourceAccuracyAtTarget([{ source: 0.7, target: 0.9 }], NaN)).toBeNull();
  });

  it('criteriaOf carries the reason only when criterion 2 is undefined', () => {
    expect(criteriaOf([{ source: NaN, target: 0.95 }], 0.8)).toMatchObject({ srcAccAtTau: null, srcAccAtTauWhy: expect.stringMatching(/finite/) });
    expect(criteriaOf([{ source: 0.5, target: 0.95 }], 0.8)).not.toHaveProperty('srcAccAtTauWhy');
  });
});
