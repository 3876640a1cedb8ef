/**
 * The fused Adam update of a whole variable group (`ADAM_GROUP_KERNEL`, src/core/optimizer.ts):
 * inputs value<i>, moments<i> [2, n_i], gradient<i> for i < count; outputs
 * [value0', moments0', value1', moments1', ...], each variable updated as `ADAM_KERNEL` does (adam.ts).
 *
 * webgpu: in place, one dispatch per chunk of ⌊maxStorageBuffersPerShaderStage / 3⌋ variables
 * (θ and [m; v] bound read_write, g read): each invocation updates one element of one variable of
 * the chunk, the same float32 operations in the same order as adam.ts's two programs. The outputs
 * are the inputs' own buffers (with a reference added, as tfjs's Reshape does). In place is used
 * only where the kernel holds the only reference to θ's and [m; v]'s buffers (a cloned variable
 * shares its buffer with the original until its first update), else that variable goes through
 * adam.ts's two out-of-place programs. The dispatch goes through tfjs's own `recordAndSubmit`, so
 * it is ordered with tfjs's programs, counted (deviceWork.ts) and profiled like them.
 * cpu: adam.ts's host loop per variable (new tensors).
 */
import type * as tf from '@tensorflow/tfjs';
import type { AdamUpdateAttrs } from '../core/optimizer';
import { adamUpdateHost, adamUpdateWebGPU } from './adam';
import type { KernelArgs } from './compose';
import { dispatchInPlace, exclusive, IN_PLACE_WORKGROUP as WORKGROUP, inPlaceOutput, MAX_WORKGROUPS, pipelineFor, type WebGPUInternals } from './inPlace';

type GroupAttrs = AdamUpdateAttrs & { count: number; decays?: number[]; l1s?: number[] };

const FLOATS: (keyof AdamUpdateAttrs)[] = ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'biasCorrection1', 'biasCorrection2', 'epsilon', 'negLearningRate'];

interface Item { value: tf.TensorInfo; moments: tf.TensorInfo; gradient: tf.TensorInfo; n: number; decay: number; l1: number }

function items(args: KernelArgs): Item[] {
  const { count, decays, l1s } = args.attrs as unknown as GroupAttrs;
  return Array.from({ length: count }, (_, i) => {
    const value = args.inputs[`value${i}`];
    return { value, moments: args.inputs[`moments${i}`], gradient: args.inputs[`gradient${i}`], n: value.shape.reduce((a, b) => a * b, 1), decay: Math.fround(decays?.[i] ?? 0), l1: Math.fround(l1s?.[i] ?? 0) };
  });
}

/** The per-variable kernel's inputs for one item (its own `decay`). */
function single(args: KernelArgs, item: Item): KernelArgs {
  return { inputs: { value: item.value, moments: item.moments, gradient: item.gradient }, backend: args.backend, attrs: { ...args.attrs, decay: item.decay, l1: item.l1 } };
}

/** The group kernel on cpu: the host loop per variable. */
export function adamGroupHost(backendName: string): tf.KernelFunc {
  const one = adamUpdateHost(backendName);
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    return items(args).flatMap((item) => one(single(args, item) as never) as tf.TensorInfo[]);
  };
}

/** WGSL of one chunk of k variables (bindings θ_i, mv_i, g_i at 3i, 3i+1, 3i+2; uniforms last). */
function shaderCode(k: number): string {
  const range = Array.from({ length: k }, (_, i) => i);
  const fields = ['pad : i32,', ...range.map((i) => `n${i} : i32,`), ...FLOATS.map((f) => `${f} : f32,`), ...range.map((i) => `decay${i} : f32,`), ...range.map((i) => `l1_${i} : f32,`)].join('\n  ');
  const bindings = range.map((i) => `
@group(0) @binding(${3 * i}) var<storage, read_write> theta${i} : array<f32>;
@group(0) @binding(${3 * i + 1}) var<storage, read_write> mv${i} : array<f32>;
@group(0) @binding(${3 * i + 2}) var<storage, read> g${i} : array<f32>;`).join('');
  const updates = range.map((i) => `
  if (j < uniforms.n${i}) {
    let n = uniforms.n${i};
    var gi = g${i}[j];
    if (uniforms.decay${i} != 0.0) {
      let d = uniforms.decay${i} * theta${i}[j];
      gi = gi + d;
    }
    if (uniforms.l1_${i} != 0.0) { gi = gi + select(-uniforms.l1_${i}, uniforms.l1_${i}, theta${i}[j] > 0.0); }
    let m = mv${i}[j] * uniforms.beta1 + gi * uniforms.oneMinusBeta1;
    let v = mv${i}[n + j] * uniforms.beta2 + (gi * gi) * uniforms.oneMinusBeta2;
    mv${i}[j] = m;
    mv${i}[n + j] = v;
    let mHat = m / uniforms.biasCorrection1;
    let vHat = v / uniforms.biasCorrection2;
    theta${i}[j] = (mHat / (sqrt(vHat) + uniforms.epsilon)) * uniforms.negLearningRate + theta${i}[j];
    return;
  }
  j = j - uniforms.n${i};`).join('');
  return `
struct Uniforms {
  ${fields}
};
${bindings}
@group(0) @binding(${3 * k}) var<uniform> uniforms : Uniforms;

@compute @workgroup_size(${WORKGROUP}, 1, 1)
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
  var j = i32(gid.x);${updates}
}`;
}

/** One in-place dispatch for `chunk` (every item eligible). */
function runChunk(backend: WebGPUInternals, chunk: Item[], attrs: GroupAttrs): void {
  const pipeline = pipelineFor(backend.device, `resclAdamGroup${chunk.length}`, () => shaderCode(chunk.length));
  const uniforms = [
    ...chunk.map((it) => ({ type: 'int32' as const, data: [it.n] })), ...FLOATS.map((f) => ({ type: 'float32' as const, data: [attrs[f]] })),
    ...chunk.map((it) => ({ type: 'float32' as const, data: [it.decay] })), ...chunk.map((it) => ({ type: 'float32' as const, data: [it.l1] })),
  ];
  dispatchInPlace(backend, 'resclAdamGroup', pipeline, chunk.flatMap((it) => [it.value, it.moments, it.gradient]), chunk.reduce((a, it) => a + it.n, 0), uniforms);
}

/** The group kernel on webgpu: in place where it may be, chunked to the device's storage-buffer limit. */
export function adamGroupWebGPU(): tf.KernelFunc {
  const outOfPlace = adamUpdateWebGPU();
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const attrs = args.attrs as unknown as GroupAttrs;
    const backend = args.backend as unknown as WebGPUInternals;
    const perChunk = Math.max(1, Math.floor(backend.device.limits.maxStorageBuffersPerShaderStage / 3));
    const all = items(args);
    const outputs: tf.TensorInfo[][] = [];
    let chunk: Item[] = [];
    let chunkSize = 0;
    const flush = () => { if (chunk.length) runChunk(backend, chunk, attrs); chunk = []; chunkSize = 0; };
    for (const [i, it] of all.entries()) {
      const ok = it.value.dtype === 'float32' && it.moments.dtype === 'float32' && it.gradient.dtype === 'float32'
        && it.moments.shape.length === 2 && it.moments.shape[0] === 2 && it.moments.shape[1] === it.n
        && it.gradient.shape.reduce((a, b) => a * b, 1) === it.n && it.n > 0
        && Math.ceil(it.n / WORKGROUP) <= MAX_WORKGROUPS
        && exclusive(backend, it.value) && exclusive(backend, it.moments);
      if (!ok) {
        outputs[i] = outOfPlace(single(args, it) as never) as tf.TensorInfo[];
        continue;
      }
      if (chunk.length === perChunk || Math.ceil((chunkSize + it.n) / WORKGROUP) > MAX_WORKGROUPS) flush();
      chunk.push(it);
      chunkSize += it.n;
      outputs[i] = [inPlaceOutput(backend, it.value), inPlaceOutput(backend, it.moments)];
    }
    flush();
    return outputs.flat();
  };
}
