/**
 * The ResCL combination on webgpu (`COMBINE_KERNEL`, `COMBINE_GRAD_KERNEL`, math in
 * src/core/combineKernel.ts): forward 1 program, backward 4 (∂z_s, ∂z_t elementwise; ∂α_s, ∂α_t
 * one invocation per channel, compensated sums as in batchNorm.ts) instead of tfjs's ~4 forward
 * and ~8 backward kernels.
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelArgs } from './compose';
import { channelSum, flat, runFlat, type FlatUniform } from './flatProgram';

const FORWARD_BODY = `
        let c = index % uniforms.channels;
        setOutputAtIndex(index, (alphaSource[c] + 1.0) * zs[index] + alphaTarget[c] * zt[index]);`;
const DZS_BODY = `
        let c = index % uniforms.channels;
        setOutputAtIndex(index, dy[index] * (alphaSource[c] + 1.0));`;
const DZT_BODY = `
        let c = index % uniforms.channels;
        setOutputAtIndex(index, dy[index] * alphaTarget[c]);`;
const dAlphaBody = (z: string) => `
        let c = index;
        ${channelSum(`dy[at] * ${z}[at]`)}
        setOutputAtIndex(index, sum);`;

function check(z: tf.TensorInfo, tensors: tf.TensorInfo[], kernel: string): { channels: number; size: number; uniforms: FlatUniform[] } {
  const channels = z.shape[z.shape.length - 1];
  const size = z.shape.reduce((a, b) => a * b, 1);
  if (tensors.some((t) => t.dtype !== 'float32') || z.shape.length < 1 || channels < 1) {
    throw new Error(`${kernel}: expected float32 z [..., C] and α [C]; got z ${z.dtype} [${z.shape}]`);
  }
  return { channels, size, uniforms: [{ name: 'channels', type: 'i32', value: channels }, { name: 'positions', type: 'i32', value: size / channels }] };
}

/** y = (1 + α_s) ⊙ z_s + α_t ⊙ z_t in one program. */
export function combineWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { zs, zt, alphaSource, alphaTarget } = args.inputs;
    const { size, uniforms } = check(zs, [zs, zt, alphaSource, alphaTarget], 'ResclCombine');
    const backend = args.backend as unknown as WebGPUBackend;
    const y = runFlat(backend, 'resclCombine', [['zs', flat(zs, size)], ['zt', flat(zt, size)], ['alphaSource', alphaSource], ['alphaTarget', alphaTarget]], uniforms, [size], FORWARD_BODY);
    return { ...y, shape: zs.shape };
  };
}

/** [∂z_s, ∂z_t, ∂α_s, ∂α_t] in four programs. */
export function combineGradWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { dy, zs, zt, alphaSource, alphaTarget } = args.inputs;
    const { channels, size, uniforms } = check(zs, [dy, zs, zt, alphaSource, alphaTarget], 'ResclCombineGrad');
    const backend = args.backend as unknown as WebGPUBackend;
    const dys = flat(dy, size);
    const dzs = runFlat(backend, 'resclCombineDzs', [['dy', dys], ['alphaSource', alphaSource]], uniforms, [size], DZS_BODY);
    const dzt = runFlat(backend, 'resclCombineDzt', [['dy', dys], ['alphaTarget', alphaTarget]], uniforms, [size], DZT_BODY);
    const dAlphaSource = runFlat(backend, 'resclCombineDAlphaS', [['dy', dys], ['zs', flat(zs, size)]], uniforms, [channels], dAlphaBody('zs'));
    const dAlphaTarget = runFlat(backend, 'resclCombineDAlphaT', [['dy', dys], ['zt', flat(zt, size)]], uniforms, [channels], dAlphaBody('zt'));
    return [{ ...dzs, shape: zs.shape }, { ...dzt, shape: zs.shape }, dAlphaSource, dAlphaTarget];
  };
}
