/**
 * The ResCL combination on webgpu (`COMBINE_KERNEL`, `COMBINE_GRAD_KERNEL`, math in
 * src/core/combineKernel.ts): forward 1 program (ReLU included when asked), each gradient 1 program
 * (∂z_s, ∂z_t elementwise; ∂α_s, ∂α_t one invocation per channel, compensated sums as in
 * batchNorm.ts), the ReLU mask folded into each, instead of tfjs's ~4 forward and ~8 backward
 * kernels plus ReLU's 1 forward and 2 backward.
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { CombineAttrs, CombineGradAttrs, CombineGradOutput } from '../core/combineKernel';
import type { KernelArgs } from './compose';
import { channelSum, flat, runFlat, type FlatUniform } from './flatProgram';

const forwardBody = (relu: boolean) => `
        let c = index % uniforms.channels;
        let v = (alphaSource[c] + 1.0) * zs[index] + alphaTarget[c] * zt[index];
        setOutputAtIndex(index, ${relu ? 'max(v, 0.0)' : 'v'});`;
/** WGSL for g at element `i`: dy masked by ReLU's gate when the forward applied ReLU. */
const gradAt = (i: string, relu: boolean) => (relu ? `select(0.0, dy[${i}], y[${i}] > 0.0)` : `dy[${i}]`);
const GRAD_BODIES: Record<CombineGradOutput, (relu: boolean) => string> = {
  zs: (relu) => `
        let c = index % uniforms.channels;
        setOutputAtIndex(index, ${gradAt('index', relu)} * (alphaSource[c] + 1.0));`,
  zt: (relu) => `
        let c = index % uniforms.channels;
        setOutputAtIndex(index, ${gradAt('index', relu)} * alphaTarget[c]);`,
  alphaSource: (relu) => `
        let c = index;
        ${channelSum(`${gradAt('at', relu)} * zs[at]`)}
        setOutputAtIndex(index, sum);`,
  alphaTarget: (relu) => `
        let c = index;
        ${channelSum(`${gradAt('at', relu)} * zt[at]`)}
        setOutputAtIndex(index, sum);`,
};
/** The inputs each gradient's program reads besides dy (and y under ReLU). */
const GRAD_READS: Record<CombineGradOutput, 'alphaSource' | 'alphaTarget' | 'zs' | 'zt'> = { zs: 'alphaSource', zt: 'alphaTarget', alphaSource: 'zs', alphaTarget: 'zt' };
const GRAD_KEYS: Record<CombineGradOutput, string> = { zs: 'resclCombineDzs', zt: 'resclCombineDzt', alphaSource: 'resclCombineDAlphaS', alphaTarget: 'resclCombineDAlphaT' };

function check(z: tf.TensorInfo, tensors: tf.TensorInfo[], kernel: string): { channels: number; size: number; uniforms: FlatUniform[] } {
  const channels = z.shape[z.shape.length - 1];
  const size = z.shape.reduce((a, b) => a * b, 1);
  if (tensors.some((t) => t.dtype !== 'float32') || z.shape.length < 1 || channels < 1) {
    throw new Error(`${kernel}: expected float32 z [..., C] and α [C]; got z ${z.dtype} [${z.shape}]`);
  }
  return { channels, size, uniforms: [{ name: 'channels', type: 'i32', value: channels }, { name: 'positions', type: 'i32', value: size / channels }] };
}

/** y = (1 + α_s) ⊙ z_s + α_t ⊙ z_t, then ReLU when `relu`, in one program. */
export function combineWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { zs, zt, alphaSource, alphaTarget } = args.inputs;
    const { relu } = args.attrs as unknown as CombineAttrs;
    const { size, uniforms } = check(zs, [zs, zt, alphaSource, alphaTarget], 'ResclCombine');
    const backend = args.backend as unknown as WebGPUBackend;
    const y = runFlat(backend, relu ? 'resclCombineRelu' : 'resclCombine', [['zs', flat(zs, size)], ['zt', flat(zt, size)], ['alphaSource', alphaSource], ['alphaTarget', alphaTarget]], uniforms, [size], forwardBody(relu));
    return { ...y, shape: zs.shape };
  };
}

/** One of ∂z_s, ∂z_t, ∂α_s, ∂α_t (attrs.output) in one program. */
export function combineGradWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { dy, y, zs, zt, alphaSource, alphaTarget } = args.inputs;
    const { relu, output } = args.attrs as unknown as CombineGradAttrs;
    if (!(output in GRAD_BODIES)) throw new Error(`ResclCombineGrad: unknown output '${String(output)}'`);
    const { channels, size, uniforms } = check(zs, [dy, y, zs, zt, alphaSource, alphaTarget], 'ResclCombineGrad');
    const backend = args.backend as unknown as WebGPUBackend;
    const read = GRAD_READS[output];
    const all: Record<string, tf.TensorInfo> = { zs: flat(zs, size), zt: flat(zt, size), alphaSource, alphaTarget };
    const inputs: [string, tf.TensorInfo][] = [['dy', flat(dy, size)], ...(relu ? [['y', flat(y, size)] as [string, tf.TensorInfo]] : []), [read, all[read]]];
    const perChannel = output === 'alphaSource' || output === 'alphaTarget';
    const out = runFlat(backend, `${GRAD_KEYS[output]}${relu ? 'Relu' : ''}`, inputs, uniforms, [perChannel ? channels : size], GRAD_BODIES[output](relu));
    return perChannel ? out : { ...out, shape: zs.shape };
  };
}
