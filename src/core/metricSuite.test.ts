import { describe, expect, it } from 'vitest';
import { formatMetric, metricSuite, METRIC_DEFINITIONS, METRIC_NAMES } from './metricSuite';

describe('metric suite', () => {
  it('two tasks: every metric from its definition', () => {
    const m = metricSuite([[0.9], [0.7, 0.8]], [null, 0.75]);
    expect(m.averageAccuracy.value).toBeCloseTo(0.75);
    expect(m.bwt.value).toBeCloseTo(-0.2);
    expect(m.forgetting.value).toBeCloseTo(0.2);
    expect(m.plasticity.value).toBeCloseTo(0.8);
    expect(m.fwt.value).toBeCloseTo(0.05);
  });

  it('three tasks: forgetting uses the best earlier accuracy, BWT the one right after learning', () => {
    // task 0: 0.9 → 0.6 → 0.8 (best before T = 0.9); task 1: 0.95 → 0.85
    const R = [[0.9], [0.6, 0.95], [0.8, 0.85, 0.7]];
    const m = metricSuite(R, [null, 0.9, 0.8]);
    expect(m.averageAccuracy.value).toBeCloseTo((0.8 + 0.85 + 0.7) / 3);
    expect(m.bwt.value).toBeCloseTo(((0.8 - 0.9) + (0.85 - 0.95)) / 2);
    expect(m.forgetting.value).toBeCloseTo(((0.9 - 0.8) + (0.95 - 0.85)) / 2);
    expect(m.plasticity.value).toBeCloseTo((0.95 + 0.7) / 2);
    expect(m.fwt.value).toBeCloseTo(((0.95 - 0.9) + (0.7 - 0.8)) / 2);
    // forgetting with a task that improved later: max over l ≥ j includes the later peak
    const up = metricSuite([[0.5], [0.9, 0.9], [0.7, 0.9, 0.9]]);
    expect(up.forgetting.value).toBeCloseTo(((0.9 - 0.7) + 0) / 2);
    expect(up.bwt.value).toBeCloseTo(((0.7 - 0.5) + 0) / 2);
  });

  it('undefined values are null with a reason, never NaN', () => {
    const single = metricSuite([[0.9]]);
    expect(single.averageAccuracy.value).toBeCloseTo(0.9);
    for (const k of ['bwt', 'forgetting', 'fwt', 'plasticity'] as const) {
      expect(single[k].value).toBeNull();
      expect(single[k].why).toMatch(/two tasks/);
    }
    // joint training: only the final row
    const joint = metricSuite([[], [], [0.8, 0.85, 0.9]]);
    expect(joint.averageAccuracy.value).toBeCloseTo(0.85);
    expect(joint.bwt.value).toBeNull();
    expect(joint.bwt.why).toMatch(/joint/);
    expect(joint.plasticity.value).toBeNull();
    expect(metricSuite([[], [0.8, 0.9]], [null, 0.5]).fwt.why).toMatch(/final row/);
    // a NaN entry in the final row
    const nan = metricSuite([[0.9], [NaN, 0.8]]);
    expect(nan.averageAccuracy.value).toBeNull();
    expect(nan.bwt.value).toBeNull();
    expect(nan.plasticity.value).toBeCloseTo(0.8);
    // NaN in an intermediate row (forgetting needs it, BWT does not)
    const mid = metricSuite([[0.9], [0.6, NaN], [0.8, 0.85, 0.7]]);
    expect(mid.bwt.value).toBeNull();
    expect(mid.plasticity.value).toBeNull();
    const midOld = metricSuite([[0.9], [0.9, 0.9], [0.8, 0.85, 0.7]]);
    expect(midOld.forgetting.value).toBeCloseTo(((0.9 - 0.8) + (0.9 - 0.85)) / 2);
    // FWT without or with a NaN reference
    expect(metricSuite([[0.9], [0.7, 0.8]]).fwt.why).toMatch(/single-task/);
    expect(metricSuite([[0.9], [0.7, 0.8]], [null, NaN]).fwt.value).toBeNull();
    expect(formatMetric(joint.bwt)).toBe('—');
    expect(formatMetric({ value: 0.1234 })).toBe('12.3');
  });

  it('every metric has a one-line definition', () => {
    for (const k of METRIC_NAMES) expect(METRIC_DEFINITIONS[k].definition).not.toMatch(/\n/);
  });
});
