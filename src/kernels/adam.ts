/**
 * The fused Adam update (`ADAM_KERNEL`, src/core/optimizer.ts): inputs value θ [...shape] (n
 * elements), moments [2, n] = [m; v], gradient g [...shape]; outputs [θ' [...shape], [m'; v'] [2, n]]:
 *   g ← g + λ_dec·θ (attr `decay` = λ_dec ≠ 0: a folded weight decay),
 *   g ← g + (θ > 0 ? λ : −λ) (attr `l1` = λ ≠ 0: a folded L1 term, tfjs's gradient of abs),
 *   m' = β1·m + (1−β1)·g,  v' = β2·v + (1−β2)·g²,
 *   θ' = ((m'/(1−β1^t)) / (√(v'/(1−β2^t)) + ε))·(−lr) + θ
 * with the constants as the attrs give them (already float32, see `AdamUpdateAttrs`).
 *
 * cpu / wasm: one loop over the typed arrays, every operation rounded to float32 (`Math.fround`)
 * in tfjs's order, so the result is the one tfjs's own Adam kernels give on these backends.
 * webgpu: two programs (a tfjs WebGPU program has one output): [m'; v'] from ([m; v], g, θ), then
 * θ' from (θ, [m'; v']).
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { AdamUpdateAttrs } from '../core/optimizer';
import type { KernelArgs } from './compose';
import { flat, runFlat, type FlatUniform } from './flatProgram';
import { allocate, view } from './memory';
const f = Math.fround;

function checkInputs(args: KernelArgs): { value: tf.TensorInfo; moments: tf.TensorInfo; gradient: tf.TensorInfo; n: number } {
  const { value, moments, gradient } = args.inputs;
  const n = value.shape.reduce((a, b) => a * b, 1);
  const ok = value.dtype === 'float32' && moments.dtype === 'float32' && gradient.dtype === 'float32'
    && moments.shape.length === 2 && moments.shape[0] === 2 && moments.shape[1] === n
    && gradient.shape.reduce((a, b) => a * b, 1) === n;
  if (!ok) {
    throw new Error(`ResclAdamUpdate: expected float32 value [n], moments [2, n], gradient [n]; got value ${value.dtype} [${value.shape}], moments ${moments.dtype} [${moments.shape}], gradient ${gradient.dtype} [${gradient.shape}]`);
  }
  return { value, moments, gradient, n };
}

/** The fused Adam update on `cpu` or `wasm`: one pass over θ, [m; v] and g. */
export function adamUpdateHost(backendName: string): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { value, moments, gradient, n } = checkInputs(args);
    const a = args.attrs as unknown as AdamUpdateAttrs;
    // wasm: allocate every output before taking any view (allocation may grow the heap).
    const outValue = allocate(backendName, args.backend, value.shape);
    const outMoments = allocate(backendName, args.backend, [2, n]);
    const th = view(backendName, args.backend, value);
    const mv = view(backendName, args.backend, moments);
    const g = view(backendName, args.backend, gradient);
    const thOut = view(backendName, args.backend, outValue);
    const mvOut = view(backendName, args.backend, outMoments);
    const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, biasCorrection1, biasCorrection2, epsilon, negLearningRate } = a;
    const decay = f(a.decay ?? 0);
    const l1 = f(a.l1 ?? 0);
    for (let i = 0; i < n; i++) {
      let gi = decay !== 0 ? f(g[i] + f(decay * th[i])) : g[i];
      if (l1 !== 0) gi = f(gi + (th[i] > 0 ? l1 : -l1));
      const m = f(f(mv[i] * beta1) + f(gi * oneMinusBeta1));
      const v = f(f(mv[n + i] * beta2) + f(f(gi * gi) * oneMinusBeta2));
      mvOut[i] = m;
      mvOut[n + i] = v;
      const denom = f(f(Math.sqrt(f(v / biasCorrection2))) + epsilon);
      thOut[i] = f(f(f(f(m / biasCorrection1) / denom) * negLearningRate) + th[i]);
    }
    return [outValue, outMoments];
  };
}

/** The FlatUniforms n and the named attrs, in that order. */
function adamUniforms(n: number, attrs: AdamUpdateAttrs, names: (keyof AdamUpdateAttrs)[]): FlatUniform[] {
  return [{ name: 'n', type: 'i32', value: n }, ...names.map((name) => ({ name, type: 'f32' as const, value: attrs[name] }))];
}

/** [m'; v'] [2, n] from [m; v] [2, n], g [n] and θ [n] (θ read only for a folded decay). */
const MOMENTS_BODY = `
        let n = uniforms.n;
        let k = select(index - n, index, index < n);
        var gi = g[k];
        if (uniforms.decay != 0.0) {
          let d = uniforms.decay * theta[k];
          gi = gi + d;
        }
        if (uniforms.l1 != 0.0) { gi = gi + select(-uniforms.l1, uniforms.l1, theta[k] > 0.0); }
        if (index < n) {
          setOutputAtIndex(index, mv[index] * uniforms.beta1 + gi * uniforms.oneMinusBeta1);
        } else {
          setOutputAtIndex(index, mv[index] * uniforms.beta2 + (gi * gi) * uniforms.oneMinusBeta2);
        }`;

/** θ' [n] from θ [n] and the new moments [m'; v'] [2, n]. */
const APPLY_BODY = `
        let mHat = mv[index] / uniforms.biasCorrection1;
        let vHat = mv[uniforms.n + index] / uniforms.biasCorrection2;
        setOutputAtIndex(index, (mHat / (sqrt(vHat) + uniforms.epsilon)) * uniforms.negLearningRate + theta[index]);`;

/** The fused Adam update on `webgpu`: two WGSL programs (moments, then value). */
export function adamUpdateWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { value, moments, gradient, n } = checkInputs(args);
    const a = args.attrs as unknown as AdamUpdateAttrs;
    const backend = args.backend as unknown as WebGPUBackend;
    const newMoments = runFlat(backend, 'resclAdamMoments', [['mv', moments], ['g', flat(gradient, n)], ['theta', flat(value, n)]],
      adamUniforms(n, { ...a, decay: a.decay ?? 0, l1: a.l1 ?? 0 }, ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'decay', 'l1']), [2, n], MOMENTS_BODY);
    const newValue = runFlat(backend, 'resclAdamApply', [['theta', flat(value, n)], ['mv', newMoments]],
      adamUniforms(n, a, ['biasCorrection1', 'biasCorrection2', 'epsilon', 'negLearningRate']), [n], APPLY_BODY);
    // The output was made as [n]; tfjs-webgpu keys data by dataId, so it is θ's shape by relabelling
    // (as its own Reshape does).
    return [{ ...newValue, shape: value.shape }, newMoments];
  };
}
