/**
 * `SCALED_POWER_SUM_KERNEL` (src/core/losses.ts): scale · Σ_i Σ_j |x_ij|^p (p = 1 or 2) as a
 * float32 scalar, the value of a folded weight decay (p = 2) or L1 term (p = 1). webgpu: one workgroup per dispatch, each of its
 * IN_PLACE_WORKGROUP invocations summing a strided share of every input of the chunk, then a tree
 * reduction in workgroup memory; one dispatch per chunk of (storage buffers − 2) inputs, each chunk
 * after the first adding the previous chunk's partial sum (bound as `prev`); an optional scalar
 * input `base` (attr hasBase) is the first chunk's `prev`, so a reported loss plus its penalty costs
 * no extra add. cpu and wasm do not register it: core then runs its composite (`weightDecay`).
 */
import type * as tf from '@tensorflow/tfjs';
import type { KernelArgs } from './compose';
import { dispatchInPlace, IN_PLACE_WORKGROUP as WORKGROUP, pipelineFor, type WebGPUInternals } from './inPlace';

interface Attrs { count: number; scale: number; power: number; hasBase?: boolean }

/** WGSL of one chunk of k inputs (output at binding 0, inputs 1..k, `prev` at k+1 when chained). */
function shaderCode(k: number, chained: boolean, power: number): string {
  const range = Array.from({ length: k }, (_, i) => i);
  const bindings = range.map((i) => `
@group(0) @binding(${i + 1}) var<storage, read> x${i} : array<f32>;`).join('');
  const loops = range.map((i) => `
  for (var j = ti; j < uniforms.n${i}; j = j + ${WORKGROUP}) { let v = x${i}[j]; sum = sum + ${power === 1 ? 'abs(v)' : 'v * v'}; }`).join('');
  return `
struct Uniforms {
  pad : i32,
  ${range.map((i) => `n${i} : i32,`).join(' ')}
  scale : f32,
};
@group(0) @binding(0) var<storage, read_write> result : array<f32>;${bindings}
${chained ? `@group(0) @binding(${k + 1}) var<storage, read> prev : array<f32>;` : ''}
@group(0) @binding(${k + (chained ? 2 : 1)}) var<uniform> uniforms : Uniforms;
var<workgroup> partial : array<f32, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP}, 1, 1)
fn main(@builtin(local_invocation_index) t : u32) {
  var sum = 0.0;
  let ti = i32(t);${loops}
  partial[t] = sum;
  workgroupBarrier();
  for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride = stride / 2u) {
    if (t < stride) { partial[t] = partial[t] + partial[t + stride]; }
    workgroupBarrier();
  }
  if (t == 0u) { result[0] = partial[0] * uniforms.scale${chained ? ' + prev[0]' : ''}; }
}`;
}

/** The kernel on webgpu. */
export function scaledPowerSumWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { count, scale, power, hasBase } = args.attrs as unknown as Attrs;
    if (power !== 1 && power !== 2) throw new Error(`ResclScaledPowerSum: power must be 1 or 2, got ${power}`);
    const backend = args.backend as unknown as WebGPUInternals & { makeTensorInfo(shape: number[], dtype: string): tf.TensorInfo };
    const inputs = Array.from({ length: count }, (_, i) => args.inputs[`x${i}`]);
    for (const x of inputs) {
      if (x.dtype !== 'float32') throw new Error(`ResclScaledPowerSum: expected float32 inputs, got ${x.dtype} [${x.shape}]`);
    }
    const perChunk = Math.max(1, backend.device.limits.maxStorageBuffersPerShaderStage - 2);
    const base = hasBase ? args.inputs.base : null;
    if (base && (base.dtype !== 'float32' || base.shape.reduce((a, b) => a * b, 1) !== 1)) throw new Error(`ResclScaledPowerSum: expected a float32 scalar base, got ${base.dtype} [${base.shape}]`);
    let previous: tf.TensorInfo | null = base;
    let result: tf.TensorInfo | null = null;
    for (let start = 0; start < inputs.length || result === null; start += perChunk) {
      const chunk = inputs.slice(start, start + perChunk);
      const chained = previous !== null;
      const out = backend.makeTensorInfo([], 'float32');
      const pipeline = pipelineFor(backend.device, `resclPowerSum${power}_${chunk.length}${chained ? 'c' : ''}`, () => shaderCode(chunk.length, chained, power));
      const uniforms = [
        ...chunk.map((x) => ({ type: 'int32' as const, data: [x.shape.reduce((a, b) => a * b, 1)] })),
        { type: 'float32' as const, data: [scale] },
      ];
      dispatchInPlace(backend, 'resclPowerSum', pipeline, [out, ...chunk, ...(previous ? [previous] : [])], WORKGROUP, uniforms);
      if (previous && previous !== base) (backend as unknown as { disposeData(id: object): void }).disposeData(previous.dataId);
      previous = result = out;
    }
    return result;
  };
}
