import { describe, expect, it } from 'vitest';
import { ALPHA_HISTOGRAM_BINS, ALPHA_HISTOGRAM_RANGE, PROTOCOL_VERSION, type TradeoffPointEvent } from './protocol';
import { alphaHistogram, criteriaEvent, foldReportEvent, histograms, ReportThrottle } from './reporting';

function point(method: TradeoffPointEvent['method'], knob: number | null, source: number, target: number): TradeoffPointEvent {
  return { type: 'tradeoffPoint', v: PROTOCOL_VERSION, method, knob, accByTask: {}, source, target, accMatrix: [], paramCount: 1 };
}

describe('alphaHistogram', () => {
  it('counts every value once, puts out-of-range values in the end bins, and reports mean/min/max', () => {
    const [lo, hi] = ALPHA_HISTOGRAM_RANGE;
    const values = new Float32Array([lo - 5, lo, (lo + hi) / 2, hi, hi + 5]);
    const { counts, stats } = alphaHistogram(values);
    expect(counts).toHaveLength(ALPHA_HISTOGRAM_BINS);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(values.length);
    expect(counts[0]).toBe(2);
    expect(counts[ALPHA_HISTOGRAM_BINS - 1]).toBe(2);
    expect(stats.min).toBe(lo - 5);
    expect(stats.max).toBe(hi + 5);
    expect(stats.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 5);
    expect(alphaHistogram(new Float32Array()).stats.mean).toBeNaN();
  });

  it('histograms() keeps the unit names and both α of each unit', () => {
    const h = histograms([{ unit: 'fc1', alphaSource: new Float32Array([0.5]), alphaTarget: new Float32Array([0.1, 0.2]) }]);
    expect(h[0].unit).toBe('fc1');
    expect(h[0].alphaSource.reduce((a, b) => a + b, 0)).toBe(1);
    expect(h[0].alphaTarget.reduce((a, b) => a + b, 0)).toBe(2);
  });
});

describe('criteriaEvent', () => {
  it('takes τ from fine-tuning when present, else ResCL at λ=0, else the best target', () => {
    expect(criteriaEvent([[point('rescl', 0, 0.5, 0.9), point('ft', null, 0.2, 0.95)]]).tauFrom).toBe('ft');
    expect(criteriaEvent([[point('rescl', 0, 0.5, 0.9), point('rescl', 1, 0.9, 0.6)]]).tauFrom).toBe('rescl-lambda0');
    const e = criteriaEvent([[point('rescl', 1, 0.9, 0.6), point('lwf', 1, 0.7, 0.8)]]);
    expect(e.tauFrom).toBe('best-target');
    expect(Object.keys(e.byMethod).sort()).toEqual(['lwf', 'rescl']);
  });

  it('over seeds: τ from the mean FT target, each criterion per seed, then mean ± sample sd', () => {
    // seed 1: FT target 0.90, seed 2: 0.94 → τ = 0.92 − 0.01 = 0.91
    const e = criteriaEvent([
      [point('ft', null, 0.2, 0.90), point('rescl', 1, 0.8, 0.92), point('rescl', 2, 0.9, 0.85)],
      [point('ft', null, 0.3, 0.94), point('rescl', 1, 0.7, 0.90), point('rescl', 2, 0.95, 0.80)],
    ]);
    expect(e.byMethod.ft?.tau).toBeCloseTo(0.91, 12);
    const r = e.byMethod.rescl;
    // criterion 1 per seed: max((0.8+0.92)/2, (0.9+0.85)/2) = 0.875, max(0.8, 0.875) = 0.875
    expect(r?.maxAvgAcc).toBeCloseTo(0.875, 12);
    expect(r?.maxAvgAccSd).toBeCloseTo(0, 12);
    expect(r?.seeds).toBe(2);
    // criterion 2: seed 1 reaches τ (0.92 ≥ 0.91 → source 0.8), seed 2 does not
    expect(r?.srcAccAtTau).toBeCloseTo(0.8, 12);
    expect(r?.unreachableSeeds).toBe(1);
    // FT: 0.90 < τ in seed 1, 0.94 ≥ τ in seed 2
    expect(e.byMethod.ft?.srcAccAtTau).toBeCloseTo(0.3, 12);
    expect(e.byMethod.ft?.srcAccAtTauWhy).toBeUndefined();
    // a NaN point never wins criterion 2: undefined, with the reason
    const nan = criteriaEvent([[point('ft', null, 0.2, 0.9), point('lwf', 1, NaN, 0.95)]]);
    expect(nan.byMethod.lwf?.srcAccAtTau).toBeNull();
    expect(nan.byMethod.lwf?.srcAccAtTauWhy).toMatch(/no point has a finite source and target accuracy/);
    expect(e.byMethod.ft?.maxAvgAccSd).toBeCloseTo(Math.SQRT1_2 * Math.abs((0.2 + 0.9) / 2 - (0.3 + 0.94) / 2), 12);
  });
});

describe('foldReportEvent', () => {
  it('copies the fold check', () => {
    const e = foldReportEvent(0.01, { maxAbsDiff: 1e-6, logitScale: 3, paramCount: 7 } as never);
    expect(e).toMatchObject({ type: 'foldReport', lambda: 0.01, maxAbsDiff: 1e-6, logitScale: 3, paramCount: 7 });
  });
});

describe('ReportThrottle', () => {
  it('lets progress through once per interval unless forced', () => {
    const t = new ReportThrottle(100, 1000);
    expect(t.progressDue(0, false)).toBe(true);
    expect(t.progressDue(50, false)).toBe(false);
    expect(t.progressDue(50, true)).toBe(true);
    expect(t.progressDue(120, false)).toBe(false);
    expect(t.progressDue(150, false)).toBe(true);
  });

  it('waits at least 20x the last evaluation\'s cost before the next one', () => {
    const t = new ReportThrottle(0, 10);
    expect(t.evalDue(0, false)).toBe(true);
    t.evaluated(0, 100);
    expect(t.evalDue(1000, false)).toBe(false);
    expect(t.evalDue(2100, false)).toBe(true);
    expect(t.evalDue(101, true)).toBe(true);
  });
});
