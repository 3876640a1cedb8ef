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
import { WORKGROUP } from './flatProgram';

type GroupAttrs = AdamUpdateAttrs & { count: number };

const FLOATS: (keyof AdamUpdateAttrs)[] = ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'biasCorrection1', 'biasCorrection2', 'epsilon', 'negLearningRate'];
/** tfjs's limit on workgroups per dimension; larger chunks are split (a larger variable goes out of place) */
const MAX_WORKGROUPS = 65535;

interface Item { value: tf.TensorInfo; moments: tf.TensorInfo; gradient: tf.TensorInfo; n: number }

function items(args: KernelArgs): Item[] {
  const count = (args.attrs as unknown as GroupAttrs).count;
  return Array.from({ length: count }, (_, i) => {
    const value = args.inputs[`value${i}`];
    return { value, moments: args.inputs[`moments${i}`], gradient: args.inputs[`gradient${i}`], n: value.shape.reduce((a, b) => a * b, 1) };
  });
}

/** The per-variable kernel's inputs for one item. */
function single(args: KernelArgs, item: Item): KernelArgs {
  return { inputs: { value: item.value, moments: item.moments, gradient: item.gradient }, backend: args.backend, attrs: args.attrs };
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
  const fields = ['pad : i32,', ...range.map((i) => `n${i} : i32,`), ...FLOATS.map((f) => `${f} : f32,`)].join('\n  ');
  const bindings = range.map((i) => `
@group(0) @binding(${3 * i}) var<storage, read_write> theta${i} : array<f32>;
@group(0) @binding(${3 * i + 1}) var<storage, read_write> mv${i} : array<f32>;
@group(0) @binding(${3 * i + 2}) var<storage, read> g${i} : array<f32>;`).join('');
  const updates = range.map((i) => `
  if (j < uniforms.n${i}) {
    let n = uniforms.n${i};
    let gi = g${i}[j];
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

interface Internals {
  device: GPUDevice;
  tensorMap: { get(dataId: object): { refCount: number; resource: unknown; values: unknown } };
  uploadToGPU(dataId: object): void;
  incRef(dataId: object): void;
  recordAndSubmit(program: object, output: tf.TensorInfo, inputs: tf.TensorInfo[], uniforms: { type: string; data: number[] }[]): void;
}

const pipelines = new WeakMap<GPUDevice, Map<number, GPUComputePipeline>>();

function pipelineFor(device: GPUDevice, k: number): GPUComputePipeline {
  let byCount = pipelines.get(device);
  if (!byCount) { byCount = new Map(); pipelines.set(device, byCount); }
  let pipeline = byCount.get(k);
  if (!pipeline) {
    pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: shaderCode(k) }), entryPoint: 'main' } });
    byCount.set(k, pipeline);
  }
  return pipeline;
}

const flatInfo = (info: tf.TensorInfo, n: number): tf.TensorInfo => ({ dataId: info.dataId, shape: [n], dtype: 'float32' });

/** One in-place dispatch for `chunk` (every item eligible). */
function runChunk(backend: Internals, chunk: Item[], attrs: GroupAttrs): void {
  const total = chunk.reduce((a, it) => a + it.n, 0);
  const program = {
    resclName: 'resclAdamGroup',
    pipeline: pipelineFor(backend.device, chunk.length),
    dispatch: [Math.ceil(total / WORKGROUP), 1, 1],
    // Not a pixels op: tfjs only reads this to send the output's strides as the sole built-in uniform.
    pixelsOpType: 0,
    size: false,
  };
  const buffers = chunk.flatMap((it) => [flatInfo(it.value, it.n), flatInfo(it.moments, 2 * it.n), flatInfo(it.gradient, it.n)]);
  const uniforms = [...chunk.map((it) => ({ type: 'int32', data: [it.n] })), ...FLOATS.map((f) => ({ type: 'float32', data: [attrs[f]] }))];
  backend.recordAndSubmit(program, buffers[0], buffers.slice(1), uniforms);
}

/** The group kernel on webgpu: in place where it may be, chunked to the device's storage-buffer limit. */
export function adamGroupWebGPU(): tf.KernelFunc {
  const outOfPlace = adamUpdateWebGPU();
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const attrs = args.attrs as unknown as GroupAttrs;
    const backend = args.backend as unknown as Internals;
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
        && backend.tensorMap.get(it.value.dataId).refCount === 1 && backend.tensorMap.get(it.moments.dataId).refCount === 1;
      if (!ok) {
        outputs[i] = outOfPlace(single(args, it) as never) as tf.TensorInfo[];
        continue;
      }
      for (const info of [it.value, it.moments, it.gradient]) backend.uploadToGPU(info.dataId);
      if (chunk.length === perChunk || Math.ceil((chunkSize + it.n) / WORKGROUP) > MAX_WORKGROUPS) flush();
      chunk.push(it);
      chunkSize += it.n;
      for (const info of [it.value, it.moments]) {
        backend.tensorMap.get(info.dataId).values = null; // a cached read-back would now be stale
        backend.incRef(info.dataId);
      }
      outputs[i] = [{ dataId: it.value.dataId, shape: it.value.shape, dtype: 'float32' }, { dataId: it.moments.dataId, shape: it.moments.shape, dtype: 'float32' }];
    }
    flush();
    return outputs.flat();
  };
}
