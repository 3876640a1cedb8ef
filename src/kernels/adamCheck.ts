/**
 * Test helpers for the fused Adam: `useAdamKernel` registers it on a backend (also on wasm, where
 * registerFastKernels leaves it out for speed, so the host loop is still checked on wasm memory);
 * `compareAdam` runs it (core/optimizer.ts `createAdam`) and tfjs's own `tf.train.adam` on cpu
 * over the same seeded variables and gradients and returns the worst relative errors of the values
 * and of both moments. With `decay` λ, every other variable has a weight decay (λ/2)‖θ‖², and with
 * `l1Weight` the others an L1 term: folded into the fused kernel (`decay`, `l1`), differentiated by
 * tfjs's autodiff (`weightDecay`, `l1`) for the reference.
 */
import * as tf from '@tensorflow/tfjs';
import { l1, weightDecay } from '../core/losses';
import { ADAM_KERNEL, createAdam, FusedAdam } from '../core/optimizer';
import { adamUpdateHost, adamUpdateWebGPU } from './adam';
import { registerFastKernels } from './register';
import { randomValues, relativeError } from './testing';

/**
 * Registers our kernels on `backendName` (registerFastKernels) plus ADAM_KERNEL if they do not
 * include it; returns a function that removes only what this call added beyond registerFastKernels.
 */
export function useAdamKernel(backendName: string): () => void {
  registerFastKernels(backendName);
  if (tf.getKernel(ADAM_KERNEL, backendName)) return () => {};
  const kernelFunc = backendName === 'webgpu' ? adamUpdateWebGPU() : adamUpdateHost(backendName);
  tf.registerKernel({ kernelName: ADAM_KERNEL, backendName, kernelFunc });
  return () => tf.unregisterKernel(ADAM_KERNEL, backendName);
}

/** Variable shapes: scalar-like, odd sizes, 2-D and 4-D (a conv filter), and one longer vector. */
export const ADAM_SHAPES: number[][] = [[1], [7], [33, 5], [3, 3, 2, 5], [1031]];

/**
 * Gradient scale per variable: from 1e-6 (where √v̂ is ~ε, so ε matters) to 10.
 */
const SCALES = [1, 1e-6, 3e-2, 10, 1e-3];

export interface AdamComparison {
  /** worst over variables of max |Δθ| / max |θ_ref|, after every step */
  value: number;
  /** the same for m and for v, after the last step */
  m: number;
  v: number;
  /** true when the fused kernel ran */
  fused: boolean;
}

function gradientsAt(step: number): Float32Array[] {
  return ADAM_SHAPES.map((shape, k) => {
    const g = randomValues(shape.reduce((a, b) => a * b, 1), 1000 * step + 17 * k + 3);
    return g.map((x) => x * SCALES[k]);
  });
}

/** Runs `steps` Adam steps at `learningRate` on `backendName` (fused) and on cpu (tfjs's Adam). */
export async function compareAdam(backendName: string, steps: number, learningRate = 1e-2, decay = 0, l1Weight = 0): Promise<AdamComparison> {
  const decayOf = (k: number) => (k % 2 === 0 ? decay : 0);
  const l1Of = (k: number) => (k % 2 === 1 ? l1Weight : 0);
  const initial = ADAM_SHAPES.map((shape, k) => randomValues(shape.reduce((a, b) => a * b, 1), 11 + k));

  // Reference: tfjs's own Adam on cpu, moments read with getWeights() ([iterations, m..., v...]).
  await tf.setBackend('cpu');
  const refVars = ADAM_SHAPES.map((shape, k) => tf.variable(tf.tensor(initial[k], shape), true, `adamRef${k}`));
  const stock = tf.train.adam(learningRate);
  const refValues: Float32Array[][] = [];
  for (let s = 0; s < steps; s++) {
    const grads = gradientsAt(s).map((g, k) => tf.tidy(() => {
      const given = tf.tensor(g, ADAM_SHAPES[k]);
      if (decayOf(k) !== 0) return tf.add(given, tf.grad((t: tf.Tensor) => weightDecay([t], decayOf(k)))(refVars[k]));
      if (l1Of(k) !== 0) return tf.add(given, tf.grad((t: tf.Tensor) => tf.mul(l1([t]), l1Of(k)))(refVars[k]));
      return given;
    }));
    stock.applyGradients(refVars.map((v, k) => ({ name: v.name, tensor: grads[k] })));
    tf.dispose(grads);
    refValues.push(refVars.map((v) => v.dataSync() as Float32Array));
  }
  const weights = await stock.getWeights();
  const refM = weights.slice(1, 1 + refVars.length).map((w) => w.tensor.dataSync() as Float32Array);
  const refV = weights.slice(1 + refVars.length).map((w) => w.tensor.dataSync() as Float32Array);
  stock.dispose();
  tf.dispose(refVars);

  await tf.setBackend(backendName);
  const undo = useAdamKernel(backendName);
  const vars = ADAM_SHAPES.map((shape, k) => tf.variable(tf.tensor(initial[k], shape), true, `adamFused${k}`));
  const fused = createAdam(learningRate);
  let value = 0;
  for (let s = 0; s < steps; s++) {
    const grads = gradientsAt(s).map((g, k) => tf.tensor(g, ADAM_SHAPES[k]));
    fused.applyGradients(vars.map((v, k) => ({ name: v.name, tensor: grads[k], decay: decayOf(k), l1: l1Of(k) })));
    tf.dispose(grads);
    for (let k = 0; k < vars.length; k++) value = Math.max(value, relativeError(await vars[k].data(), refValues[s][k]));
  }
  let m = 0;
  let v = 0;
  if (fused instanceof FusedAdam) {
    for (let k = 0; k < vars.length; k++) {
      const n = refM[k].length;
      const mv = await fused.momentsOf(vars[k].name)!.data();
      m = Math.max(m, relativeError(mv.subarray(0, n), refM[k]));
      v = Math.max(v, relativeError(mv.subarray(n, 2 * n), refV[k]));
    }
  }
  fused.dispose();
  tf.dispose(vars);
  undo();
  return { value, m, v, fused: fused.fused };
}
