/**
 * The fused Adam update (`ADAM_KERNEL`, src/core/optimizer.ts): inputs value θ [...shape] (n
 * elements), moments [2, n] = [m; v], gradient g [...shape]; outputs [θ' [...shape], [m'; v'] [2, n]]:
 *   m' = β1·m + (1−β1)·g,  v' = β2·v + (1−β2)·g²,
 *   θ' = ((m'/(1−β1^t)) / (√(v'/(1−β2^t)) + ε))·(−lr) + θ
 * with the constants as the attrs give them (already float32, see `AdamUpdateAttrs`).
 *
 * cpu / wasm: one loop over the typed arrays, every operation rounded to float32 (`Math.fround`)
 * in tfjs's order, so the result is the one tfjs's own Adam kernels give on these backends.
 * webgpu: two programs (a tfjs WebGPU program has one output): [m'; v'] from ([m; v], g), then
 * θ' from (θ, [m'; v']).
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { AdamUpdateAttrs } from '../core/optimizer';
import type { KernelArgs } from './compose';
import { allocate, view } from './memory';

const WORKGROUP = 64;
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
    for (let i = 0; i < n; i++) {
      const gi = g[i];
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

/**
 * A one-output WGSL program over a flat index (one invocation per output element), with its own
 * uniforms `n : i32` and the named f32 constants; `body` sees `index`, `uniforms` and the inputs
 * (bound as arrays under `variableNames`).
 */
class FlatProgram {
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  size = true;
  uniforms: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];

  constructor(
    public shaderKey: string, public variableNames: string[], floats: string[],
    public outputShape: number[], private readonly body: string,
  ) {
    this.uniforms = `n : i32, ${floats.map((name) => `${name} : f32,`).join(' ')}`;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    this.dispatch = [Math.ceil(outputShape.reduce((a, b) => a * b, 1) / WORKGROUP), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        ${this.body}
      }
    `;
  }
}

/** Runs a FlatProgram with uniforms n and `floats` (values from the attrs, in that order). */
function runFlat(
  backend: WebGPUBackend, key: string, inputs: [string, tf.TensorInfo][], floats: (keyof AdamUpdateAttrs)[],
  attrs: AdamUpdateAttrs, n: number, outputShape: number[], body: string,
): tf.TensorInfo {
  const program = new FlatProgram(key, inputs.map(([name]) => name), floats, outputShape, body);
  const uniforms = [{ type: 'int32', data: [n] }, ...floats.map((name) => ({ type: 'float32', data: [attrs[name]] }))];
  return backend.runWebGPUProgram(program as never, inputs.map(([, info]) => info), 'float32', uniforms);
}

/** [m'; v'] [2, n] from [m; v] [2, n] and g [n]. */
const MOMENTS_BODY = `
        let n = uniforms.n;
        if (index < n) {
          let gi = g[index];
          setOutputAtIndex(index, mv[index] * uniforms.beta1 + gi * uniforms.oneMinusBeta1);
        } else {
          let gi = g[index - n];
          setOutputAtIndex(index, mv[index] * uniforms.beta2 + (gi * gi) * uniforms.oneMinusBeta2);
        }`;

/** θ' [n] from θ [n] and the new moments [m'; v'] [2, n]. */
const APPLY_BODY = `
        let mHat = mv[index] / uniforms.biasCorrection1;
        let vHat = mv[uniforms.n + index] / uniforms.biasCorrection2;
        setOutputAtIndex(index, (mHat / (sqrt(vHat) + uniforms.epsilon)) * uniforms.negLearningRate + theta[index]);`;

/** A float32 tensor's data seen as a flat [n] vector (no copy, no new reference: read-only input). */
function flat(info: tf.TensorInfo, n: number): tf.TensorInfo {
  return { dataId: info.dataId, shape: [n], dtype: info.dtype };
}

/** The fused Adam update on `webgpu`: two WGSL programs (moments, then value). */
export function adamUpdateWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { value, moments, gradient, n } = checkInputs(args);
    const a = args.attrs as unknown as AdamUpdateAttrs;
    const backend = args.backend as unknown as WebGPUBackend;
    const newMoments = runFlat(backend, 'resclAdamMoments', [['mv', moments], ['g', flat(gradient, n)]],
      ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2'], a, n, [2, n], MOMENTS_BODY);
    const newValue = runFlat(backend, 'resclAdamApply', [['theta', flat(value, n)], ['mv', newMoments]],
      ['biasCorrection1', 'biasCorrection2', 'epsilon', 'negLearningRate'], a, n, [n], APPLY_BODY);
    // The output was made as [n]; tfjs-webgpu keys data by dataId, so it is θ's shape by relabelling
    // (as its own Reshape does).
    return [{ ...newValue, shape: value.shape }, newMoments];
  };
}
