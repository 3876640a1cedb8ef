/**
 * Shared test helpers (docs/ARCHITECTURE.md, "Habits"): array comparison, finite-difference gradient
 * checks, and a tensor-leak check.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

/** Asserts |a − b| ≤ atol + rtol·|b| element-wise, reporting the worst element. */
export function expectArraysClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-4, atol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < actual.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= worst)) { worst = excess; worstAt = i; }
  }
  if (worstAt >= 0) {
    throw new Error(`arrays differ at ${worstAt}: ${actual[worstAt]} vs ${expected[worstAt]} (rtol ${rtol}, atol ${atol})`);
  }
}

/**
 * Compares the analytic gradient of a scalar function of `variable` with central finite
 * differences on `probes` randomly chosen coordinates. Runs in float32, so the step and
 * tolerance are coarse; returns the largest relative error seen.
 */
export function finiteDifferenceCheck(f: () => tf.Scalar, variable: tf.Variable, probes = 8, eps = 1e-2): number {
  const analytic = tf.tidy(() => {
    const { grads, value } = tf.variableGrads(f, [variable]);
    value.dispose();
    return grads[variable.name].dataSync().slice();
  });
  const base = variable.dataSync().slice();
  let worst = 0;
  for (let p = 0; p < probes; p++) {
    const i = Math.floor((p * 7919 + 13) % base.length);
    const at = (delta: number) => {
      const w = base.slice();
      w[i] += delta;
      variable.assign(tf.tensor(w, variable.shape));
      return tf.tidy(() => f().dataSync()[0]);
    };
    const numeric = (at(eps) - at(-eps)) / (2 * eps);
    variable.assign(tf.tensor(base, variable.shape));
    const err = Math.abs(numeric - analytic[i]) / Math.max(1e-2, Math.abs(numeric) + Math.abs(analytic[i]));
    worst = Math.max(worst, err);
  }
  return worst;
}

/**
 * Runs `fn` once to warm up (optimiser slots, caches), then again, and asserts the second run
 * leaves `tf.memory().numTensors` unchanged.
 */
export async function expectNoTensorLeak(fn: () => Promise<void> | void): Promise<void> {
  await fn();
  const before = tf.memory().numTensors;
  await fn();
  expect(tf.memory().numTensors).toBe(before);
}
