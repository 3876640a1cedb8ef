import { describe, expect, it } from 'vitest';
import { fitAxis, niceStep } from './plotRange';

describe('niceStep', () => {
  it('picks 1, 2, 2.5 or 5 times a power of ten', () => {
    expect(niceStep(10, 5)).toBe(2);
    expect(niceStep(3, 5)).toBeCloseTo(1, 12);
    expect(niceStep(12, 5)).toBe(2.5);
    expect(niceStep(40, 5)).toBe(10);
    expect(niceStep(0.9, 5)).toBeCloseTo(0.2, 12);
  });
});

describe('fitAxis', () => {
  it('zooms to a tight cluster instead of 0 … 100 or steps of 5', () => {
    const { domain, ticks } = fitAxis([83.4, 84.1, 85.0, 84.6]);
    // the points fill most of the axis
    expect((85.0 - 83.4) / (domain[1] - domain[0])).toBeGreaterThan(0.5);
    expect(domain[0]).toBeLessThanOrEqual(83.4);
    expect(domain[1]).toBeGreaterThanOrEqual(85.0);
    expect(ticks[0]).toBeGreaterThanOrEqual(domain[0]);
    expect(ticks[ticks.length - 1]).toBeLessThanOrEqual(domain[1]);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
  });

  it('keeps a margin so no point sits on the frame', () => {
    const { domain } = fitAxis([20, 90]);
    expect(domain[0]).toBeLessThan(20);
    expect(domain[1]).toBeGreaterThan(90);
  });

  it('gives one point a readable range around it', () => {
    const { domain, ticks } = fitAxis([72.3]);
    expect(domain[1] - domain[0]).toBeGreaterThanOrEqual(2);
    expect(domain[0]).toBeLessThan(72.3);
    expect(domain[1]).toBeGreaterThan(72.3);
    expect(ticks.length).toBeGreaterThanOrEqual(2);
  });

  it('stays inside 0 … 100, shifting a range that would stick out', () => {
    const top = fitAxis([99.6, 99.9]);
    expect(top.domain[1]).toBe(100);
    expect(top.domain[1] - top.domain[0]).toBeGreaterThanOrEqual(2);
    const bottom = fitAxis([0.1]);
    expect(bottom.domain[0]).toBe(0);
    expect(fitAxis([0, 100]).domain).toEqual([0, 100]);
  });

  it('ignores NaN and gives the whole bounds when nothing is finite', () => {
    expect(fitAxis([NaN, 50, Infinity]).domain[0]).toBeGreaterThan(40);
    expect(fitAxis([NaN]).domain).toEqual([0, 100]);
    expect(fitAxis([]).domain).toEqual([0, 100]);
  });
});
