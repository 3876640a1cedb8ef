import { describe, expect, it } from 'vitest';
import {
  clampLambda, formatLambda, LAMBDA_MAX, LAMBDA_MIN, lambdaKey, lambdaToSlider, nearestNotch, sameLambda, SLIDER_MAX, sliderToLambda,
} from './lambda';

describe('λ identity', () => {
  it('equal to 9 significant digits is the same network; the slider\'s neighbours are not', () => {
    expect(sameLambda(0.1 + 0.2, 0.3)).toBe(true);
    expect(sameLambda(1e-4 * (1 + 1e-10), 1e-4)).toBe(true);
    expect(sameLambda(1e-4 * (1 + 1e-7), 1e-4)).toBe(false);
    expect(sameLambda(0, 0)).toBe(true);
    expect(sameLambda(0, 1e-6)).toBe(false);
    expect(sameLambda(Math.fround(1e-3), 1e-3)).toBe(false); // float32 noise is not hidden
    for (let p = 1; p < SLIDER_MAX; p++) expect(sameLambda(sliderToLambda(p), sliderToLambda(p + 1))).toBe(false);
    expect(lambdaKey(1e-3)).toBe(lambdaKey(Number('0.00100000000000')));
  });
});

describe('λ range and text', () => {
  it('clamps to {0} ∪ [1e-6, 1e-1]', () => {
    expect(clampLambda(NaN)).toBe(0);
    expect(clampLambda(-1)).toBe(0);
    expect(clampLambda(1e-9)).toBe(LAMBDA_MIN);
    expect(clampLambda(5)).toBe(LAMBDA_MAX);
    expect(clampLambda(3e-4)).toBe(3e-4);
  });
  it('formats for people', () => {
    expect(formatLambda(null)).toBe('—');
    expect(formatLambda(0)).toBe('0');
    expect(formatLambda(1e-3)).toBe('1e-3');
    expect(formatLambda(3.16e-4)).toBe('3.16e-4');
  });
});

describe('λ slider', () => {
  it('0 is λ=0, the ends are 1e-6 and 1e-1, and every notch round-trips', () => {
    expect(sliderToLambda(0)).toBe(0);
    expect(sliderToLambda(1)).toBe(LAMBDA_MIN);
    expect(sliderToLambda(SLIDER_MAX)).toBe(LAMBDA_MAX);
    for (let p = 0; p <= SLIDER_MAX; p++) expect(nearestNotch(sliderToLambda(p))).toBe(p);
    expect(lambdaToSlider(1e-9)).toBe(0.5);
  });
});
