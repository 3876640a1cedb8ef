/**
 * `MOVING_AVERAGE_KERNEL` (src/core/batchNormKernel.ts): running_i' = running_i · m + batch_i · rest
 * for every pair. webgpu: in place (inPlace.ts), one dispatch per ⌊storage buffers / 2⌋ pairs
 * (BN running statistics: 2 pairs per BN layer, ~6 tfjs kernels each before); a pair whose running
 * buffer is shared goes through one out-of-place program.
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelArgs } from './compose';
import { flat, runFlat } from './flatProgram';
import { dispatchInPlace, exclusive, IN_PLACE_WORKGROUP, inPlaceOutput, MAX_WORKGROUPS, pipelineFor, type WebGPUInternals } from './inPlace';

interface Attrs { momentum: number; rest: number; count: number }
interface Pair { running: tf.TensorInfo; batch: tf.TensorInfo; n: number }

function shaderCode(k: number): string {
  const range = Array.from({ length: k }, (_, i) => i);
  const bindings = range.map((i) => `
@group(0) @binding(${2 * i}) var<storage, read_write> running${i} : array<f32>;
@group(0) @binding(${2 * i + 1}) var<storage, read> batch${i} : array<f32>;`).join('');
  const updates = range.map((i) => `
  if (j < uniforms.n${i}) { running${i}[j] = running${i}[j] * uniforms.momentum + batch${i}[j] * uniforms.rest; return; }
  j = j - uniforms.n${i};`).join('');
  return `
struct Uniforms {
  pad : i32,
  ${range.map((i) => `n${i} : i32,`).join(' ')}
  momentum : f32,
  rest : f32,
};
${bindings}
@group(0) @binding(${2 * k}) var<uniform> uniforms : Uniforms;

@compute @workgroup_size(${IN_PLACE_WORKGROUP}, 1, 1)
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
  var j = i32(gid.x);${updates}
}`;
}

const OUT_OF_PLACE_BODY = `setOutputAtIndex(index, running[index] * uniforms.momentum + batch[index] * uniforms.rest);`;

/** The kernel on webgpu. */
export function movingAverageWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const attrs = args.attrs as unknown as Attrs;
    const backend = args.backend as unknown as WebGPUInternals;
    const pairs: Pair[] = Array.from({ length: attrs.count }, (_, i) => {
      const running = args.inputs[`running${i}`];
      return { running, batch: args.inputs[`batch${i}`], n: running.shape.reduce((a, b) => a * b, 1) };
    });
    const perChunk = Math.max(1, Math.floor(backend.device.limits.maxStorageBuffersPerShaderStage / 2));
    const floats = [{ type: 'float32' as const, data: [attrs.momentum] }, { type: 'float32' as const, data: [attrs.rest] }];
    let chunk: Pair[] = [];
    const flush = () => {
      if (chunk.length === 0) return;
      const k = chunk.length;
      const pipeline = pipelineFor(backend.device, `resclMovingAverage${k}`, () => shaderCode(k));
      dispatchInPlace(backend, 'resclMovingAverage', pipeline, chunk.flatMap((p) => [p.running, p.batch]),
        chunk.reduce((a, p) => a + p.n, 0), [...chunk.map((p) => ({ type: 'int32' as const, data: [p.n] })), ...floats]);
      chunk = [];
    };
    const outputs = pairs.map((p) => {
      const ok = p.running.dtype === 'float32' && p.batch.dtype === 'float32' && p.n > 0
        && p.batch.shape.reduce((a, b) => a * b, 1) === p.n && exclusive(backend, p.running)
        && Math.ceil(p.n * perChunk / IN_PLACE_WORKGROUP) <= MAX_WORKGROUPS;
      if (!ok) {
        const out = runFlat(args.backend as unknown as WebGPUBackend, 'resclMovingAverageCopy', [['running', flat(p.running, p.n)], ['batch', flat(p.batch, p.n)]],
          [{ name: 'momentum', type: 'f32', value: attrs.momentum }, { name: 'rest', type: 'f32', value: attrs.rest }], [p.n], OUT_OF_PLACE_BODY);
        return { ...out, shape: p.running.shape };
      }
      if (chunk.length === perChunk) flush();
      chunk.push(p);
      return inPlaceOutput(backend, p.running);
    });
    flush();
    return outputs;
  };
}
