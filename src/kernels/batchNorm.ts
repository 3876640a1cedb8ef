/**
 * Batch norm in training mode on webgpu (`BN_TRAINING_KERNEL`, `BN_TRAINING_GRAD_KERNEL`,
 * src/core/batchNormKernel.ts has the math): 3 programs forward (μ, σ², y) and 3 backward (∂β, ∂γ,
 * ∂x) instead of the ~6 forward and ~13 backward tfjs kernels of the core's composite; and
 * inference mode's gradient (`BN_INFERENCE_GRAD_KERNEL`) in 1 program (frozen) or 3.
 *
 * Channels last: element i of x is channel i mod C, M = size / C positions per channel. The
 * per-channel sums run one invocation per channel over its M positions, compensated (Kahan), in
 * one fixed order: few dispatches, but only C threads; at batch 128 a 28x28 layer is M ≈ 100k
 * loads per thread (not yet timed on a GPU, see docs/PERFORMANCE.md).
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelArgs } from './compose';
import { channelSum, flat, runFlat, type FlatUniform } from './flatProgram';

const MEAN_BODY = `
        let c = index;
        ${channelSum('x[at]')}
        setOutputAtIndex(index, sum / f32(uniforms.positions));`;

const VARIANCE_BODY = `
        let c = index;
        let mu = mean[c];
        ${channelSum('(x[at] - mu) * (x[at] - mu)')}
        setOutputAtIndex(index, sum / f32(uniforms.positions));`;

const normalizeBody = (relu: boolean) => `
        let c = index % uniforms.channels;
        let v = (x[index] - mean[c]) * inverseSqrt(variance[c] + uniforms.epsilon) * gamma[c] + beta[c];
        setOutputAtIndex(index, ${relu ? 'max(v, 0.0)' : 'v'});`;

const DBETA_BODY = `
        let c = index;
        ${channelSum('dy[at]')}
        setOutputAtIndex(index, sum);`;

const DGAMMA_BODY = `
        let c = index;
        let mu = mean[c];
        let inv = inverseSqrt(variance[c] + uniforms.epsilon);
        ${channelSum('dy[at] * ((x[at] - mu) * inv)')}
        setOutputAtIndex(index, sum);`;

const DX_BODY = `
        let c = index % uniforms.channels;
        let inv = inverseSqrt(variance[c] + uniforms.epsilon);
        let m = f32(uniforms.positions);
        let normalized = (x[index] - mean[c]) * inv;
        let scale = (gamma[c] * inv) / m;
        setOutputAtIndex(index, ((dy[index] * m - dBeta[c]) - normalized * dGamma[c]) * scale);`;

/** ReLU's gate on the incoming gradient: dy where the forward output y > 0, else 0. */
const RELU_GATE_BODY = `
        setOutputAtIndex(index, select(0.0, dy[index], y[index] > 0.0));`;

interface Shape { channels: number; size: number; uniforms: FlatUniform[] }

function shapeOf(x: tf.TensorInfo, tensors: tf.TensorInfo[], epsilon: number, kernel: string): Shape {
  const channels = x.shape[x.shape.length - 1];
  const size = x.shape.reduce((a, b) => a * b, 1);
  if (x.shape.length < 2 || tensors.some((t) => t.dtype !== 'float32') || channels < 1) {
    throw new Error(`${kernel}: expected float32 x [..., C] and float32 parameters; got x ${x.dtype} [${x.shape}]`);
  }
  const uniforms: FlatUniform[] = [
    { name: 'channels', type: 'i32', value: channels }, { name: 'positions', type: 'i32', value: size / channels },
    { name: 'epsilon', type: 'f32', value: epsilon },
  ];
  return { channels, size, uniforms };
}

/** [y, μ, σ²] on webgpu in 3 programs. */
export function batchNormTrainingWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { x, gamma, beta } = args.inputs;
    const { epsilon, relu } = args.attrs as { epsilon: number; relu?: boolean };
    const { channels, size, uniforms } = shapeOf(x, [x, gamma, beta], epsilon, 'ResclBatchNormTraining');
    const backend = args.backend as unknown as WebGPUBackend;
    const xs = flat(x, size);
    const mean = runFlat(backend, 'resclBnMean', [['x', xs]], uniforms, [channels], MEAN_BODY);
    const variance = runFlat(backend, 'resclBnVariance', [['x', xs], ['mean', mean]], uniforms, [channels], VARIANCE_BODY);
    const y = runFlat(backend, relu ? 'resclBnNormalizeRelu' : 'resclBnNormalize', [['x', xs], ['mean', mean], ['variance', variance], ['gamma', gamma], ['beta', beta]], uniforms, [size], normalizeBody(!!relu));
    return [{ ...y, shape: x.shape }, mean, variance];
  };
}

const INFERENCE_DX_BODY = `
        let c = index % uniforms.channels;
        setOutputAtIndex(index, dy[index] * (gamma[c] * inverseSqrt(variance[c] + uniforms.epsilon)));`;

/**
 * Inference-mode BN gradient on webgpu: ∂x in one program, and unless frozen ∂γ, ∂β (the same
 * per-channel sums as training's, over the running statistics): 1 or 3 programs.
 */
export function batchNormInferenceGradWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { dy, x, mean, variance, gamma } = args.inputs;
    const attrs = args.attrs as { epsilon: number; frozen: boolean };
    const { channels, size, uniforms } = shapeOf(dy, [dy, variance, gamma], attrs.epsilon, 'ResclBatchNormInferenceGrad');
    const backend = args.backend as unknown as WebGPUBackend;
    const dys = flat(dy, size);
    const dx = runFlat(backend, 'resclBnInferenceDx', [['dy', dys], ['variance', variance], ['gamma', gamma]], uniforms, [size], INFERENCE_DX_BODY);
    if (attrs.frozen) return [{ ...dx, shape: dy.shape }];
    const dBeta = runFlat(backend, 'resclBnDBeta', [['dy', dys]], uniforms, [channels], DBETA_BODY);
    const dGamma = runFlat(backend, 'resclBnDGamma', [['dy', dys], ['x', flat(x, size)], ['mean', mean], ['variance', variance]], uniforms, [channels], DGAMMA_BODY);
    return [{ ...dx, shape: dy.shape }, dGamma, dBeta];
  };
}

/**
 * [∂x, ∂γ, ∂β] on webgpu in 3 programs, after ReLU's gate on dy as a 4th with relu (the gate cannot
 * ride along: ∂x's program already binds the default limit of 8 storage buffers).
 */
export function batchNormTrainingGradWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { dy, x, mean, variance, gamma, y } = args.inputs;
    const { epsilon, relu } = args.attrs as { epsilon: number; relu?: boolean };
    if (relu && !y) throw new Error('ResclBatchNormTrainingGrad: relu needs the forward output y');
    const { channels, size, uniforms } = shapeOf(x, [dy, x, mean, variance, gamma], epsilon, 'ResclBatchNormTrainingGrad');
    const backend = args.backend as unknown as WebGPUBackend;
    const xs = flat(x, size);
    const gated = relu ? runFlat(backend, 'resclBnReluGate', [['dy', flat(dy, size)], ['y', flat(y, size)]], uniforms, [size], RELU_GATE_BODY) : null;
    const dys = gated ?? flat(dy, size);
    const dBeta = runFlat(backend, 'resclBnDBeta', [['dy', dys]], uniforms, [channels], DBETA_BODY);
    const dGamma = runFlat(backend, 'resclBnDGamma', [['dy', dys], ['x', xs], ['mean', mean], ['variance', variance]], uniforms, [channels], DGAMMA_BODY);
    const dx = runFlat(backend, 'resclBnDx',
      [['dy', dys], ['x', xs], ['mean', mean], ['variance', variance], ['gamma', gamma], ['dBeta', dBeta], ['dGamma', dGamma]], uniforms, [size], DX_BODY);
    if (gated) backend.disposeData(gated.dataId);
    return [{ ...dx, shape: x.shape }, dGamma, dBeta];
  };
}
