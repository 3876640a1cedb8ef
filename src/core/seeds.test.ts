import { describe, expect, it } from 'vitest';
import { aggregateCriteria, aggregatePoints, formatMeanSd, meanSd } from './seeds';

describe('seed aggregation', () => {
  it('mean and sample sd, ignoring non-finite values', () => {
    const m = meanSd([0.8, 0.9, NaN, 1.0]);
    expect(m.mean).toBeCloseTo(0.9);
    expect(m.sd).toBeCloseTo(0.1);
    expect(m.n).toBe(3);
    expect(meanSd([0.5])).toEqual({ mean: 0.5, sd: 0, n: 1 });
    expect(meanSd([]).n).toBe(0);
    expect(formatMeanSd(m)).toBe('90.0 ± 10.0');
    expect(formatMeanSd(meanSd([NaN]))).toBe('—');
  });

  it('groups points by method and knob over seeds', () => {
    const agg = aggregatePoints([
      [{ method: 'rescl', knob: 0.1, source: 0.8, target: 0.7 }, { method: 'ft', knob: null, source: 0.5, target: 0.9 }],
      [{ method: 'rescl', knob: 0.1, source: 0.6, target: 0.9 }, { method: 'ft', knob: null, source: 0.7, target: 0.9 }],
    ]);
    expect(agg.map((a) => a.method)).toEqual(['rescl', 'ft']);
    expect(agg[0].source.mean).toBeCloseTo(0.7);
    expect(agg[0].source.sd).toBeCloseTo(Math.sqrt(0.02));
    expect(agg[0].average.mean).toBeCloseTo(0.75);
    expect(agg[1].target.sd).toBeCloseTo(0);
  });

  it('criteria per seed with τ from the mean FT target, then mean ± sd', () => {
    const perSeed = [
      [{ method: 'ft', knob: null, source: 0.5, target: 0.90 }, { method: 'rescl', knob: 1, source: 0.8, target: 0.89 }],
      [{ method: 'ft', knob: null, source: 0.6, target: 0.94 }, { method: 'rescl', knob: 1, source: 0.7, target: 0.80 }],
    ];
    const c = aggregateCriteria(perSeed);
    const rescl = c.find((x) => x.method === 'rescl');
    expect(rescl?.tau).toBeCloseTo(0.91);
    // seed 1: 0.89 < τ, seed 2: 0.80 < τ → unreachable in both
    expect(rescl?.unreachableSeeds).toBe(2);
    expect(rescl?.maxAvgAcc.mean).toBeCloseTo((0.845 + 0.75) / 2);
    const ft = c.find((x) => x.method === 'ft');
    expect(ft?.unreachableSeeds).toBe(1); // seed 1's 0.90 misses τ = 0.91
    expect(ft?.srcAccAtTau).toEqual({ mean: 0.6, sd: 0, n: 1 });
  });
});
