/**
 * In-place updates on tfjs-webgpu, for kernels that update state (Adam, running averages): our
 * own WGSL pipeline with read_write bindings, dispatched through tfjs's `recordAndSubmit` so it is
 * ordered with tfjs's programs, counted (deviceWork.ts) and profiled like them. A kernel may
 * write a tensor's buffer only when it holds the sole reference (`exclusive`): a cloned variable
 * shares its buffer with the original until it is first assigned. The updated tensor is returned
 * as a new reference to the same data (`inPlaceOutput`, as tfjs's Reshape does).
 */
import * as tf from '@tensorflow/tfjs';

/** The tfjs-webgpu backend internals this uses (tfjs 4.22). */
export interface WebGPUInternals {
  device: GPUDevice;
  tensorMap: { get(dataId: object): { refCount: number; resource: unknown; values: unknown } };
  uploadToGPU(dataId: object): void;
  incRef(dataId: object): void;
  recordAndSubmit(program: object, output: tf.TensorInfo, inputs: tf.TensorInfo[], uniforms: { type: string; data: number[] }[]): void;
  makeTensorInfo(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

/** tfjs's limit on workgroups per dimension. */
export const MAX_WORKGROUPS = 65535;
export const IN_PLACE_WORKGROUP = 64;

/** Whether `info`'s buffer is referenced only once (so it may be written in place). */
export function exclusive(backend: WebGPUInternals, info: tf.TensorInfo): boolean {
  return backend.tensorMap.get(info.dataId).refCount === 1;
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** The compiled pipeline of `code` (once per device and key). */
export function pipelineFor(device: GPUDevice, key: string, code: () => string): GPUComputePipeline {
  let byKey = pipelines.get(device);
  if (!byKey) { byKey = new Map(); pipelines.set(device, byKey); }
  let pipeline = byKey.get(key);
  if (!pipeline) {
    pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: code() }), entryPoint: 'main' } });
    byKey.set(key, pipeline);
  }
  return pipeline;
}

/**
 * Dispatches `pipeline` over `invocations` threads (workgroups of IN_PLACE_WORKGROUP) with
 * `buffers` at bindings 0.. (flat float32 views) and the uniforms after them. The WGSL struct
 * starts with one i32 (tfjs's output-strides slot, unused) followed by `uniforms` in order.
 */
export function dispatchInPlace(
  backend: WebGPUInternals, name: string, pipeline: GPUComputePipeline, buffers: tf.TensorInfo[], invocations: number,
  uniforms: { type: 'int32' | 'float32'; data: number[] }[],
): void {
  for (const b of buffers) backend.uploadToGPU(b.dataId);
  const views = buffers.map((b) => ({ dataId: b.dataId, shape: [b.shape.reduce((x, y) => x * y, 1)], dtype: 'float32' as const }));
  // Not a pixels op: tfjs only reads pixelsOpType to send the output's strides as the sole built-in uniform.
  const program = { resclName: name, pipeline, dispatch: [Math.ceil(invocations / IN_PLACE_WORKGROUP), 1, 1], pixelsOpType: 0, size: false };
  backend.recordAndSubmit(program, views[0], views.slice(1), uniforms);
}

/**
 * `info` as the output of an in-place update: a new reference to its data; any cached read-back
 * dropped. Uploads first: a tensor still on the host (`tf.zeros` moments, a BN running variance of
 * ones) would otherwise lose its values here and be given a pooled buffer holding another
 * tensor's old data when the dispatch uploads it (a fresh buffer is zeroed, so this hid until the
 * pool had a buffer of that size: conv4's Adam diverged at step 2 after other kernels ran).
 */
export function inPlaceOutput(backend: WebGPUInternals, info: tf.TensorInfo): tf.TensorInfo {
  backend.uploadToGPU(info.dataId);
  backend.tensorMap.get(info.dataId).values = null;
  backend.incRef(info.dataId);
  return { dataId: info.dataId, shape: info.shape, dtype: info.dtype };
}

/**
 * A program with several outputs (tfjs's programs have one): fresh float32 tensors of
 * `outputShapes`, bound read_write at bindings 0.. in that order, then `inputs` (read) and the
 * uniforms, as `dispatchInPlace` binds them. The program must write every element of every output.
 * In tfjs's compile-only mode (the pipeline warm-up's dry run) the pipeline is compiled and
 * nothing is dispatched: the outputs are left unwritten, as a dry run's are.
 */
export function dispatchWithOutputs(
  backend: WebGPUInternals, name: string, pipeline: GPUComputePipeline, outputShapes: number[][], inputs: tf.TensorInfo[], invocations: number,
  uniforms: { type: 'int32' | 'float32'; data: number[] }[],
): tf.TensorInfo[] {
  const outputs = outputShapes.map((shape) => backend.makeTensorInfo(shape, 'float32'));
  if (tf.env().getBool('WEBGPU_ENGINE_COMPILE_ONLY')) {
    for (const o of outputs) backend.uploadToGPU(o.dataId);
    return outputs;
  }
  dispatchInPlace(backend, name, pipeline, [...outputs, ...inputs], invocations, uniforms);
  return outputs;
}

/**
 * WGSL for `dispatchWithOutputs`'s layout: `outputs` read_write at bindings 0.., then `inputs` read,
 * then the uniform struct (declared by the caller as `Uniforms`), all f32 arrays.
 */
export function outputsThenInputs(outputs: readonly string[], inputs: readonly string[]): string {
  return [
    ...outputs.map((o, i) => `@group(0) @binding(${i}) var<storage, read_write> ${o} : array<f32>;`),
    ...inputs.map((name, i) => `@group(0) @binding(${outputs.length + i}) var<storage, read> ${name} : array<f32>;`),
    `@group(0) @binding(${outputs.length + inputs.length}) var<uniform> uniforms : Uniforms;`,
  ].join('\n');
}
