/**
 * The dense unit with bias, with or without ReLU, on webgpu (`DENSE_KERNEL`, `DENSE_RELU_KERNEL`,
 * `BIAS_GRAD_KERNEL`, `RELU_BIAS_GRAD_KERNEL`, math in src/core/denseKernel.ts): forward is
 * tfjs-webgpu's own _FusedMatMul with bias (and ReLU): one program instead of matMul, add (, relu);
 * the bias gradient is one program (tfjs: transpose, sum), with ReLU's mask one more (tfjs: step, mul).
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { call, type KernelArgs } from './compose';
import { channelSum, runFlat, type FlatUniform } from './flatProgram';

/** y = x · W + b, or relu(x · W + b), as one tfjs _FusedMatMul program. */
function fusedDense(backendName: string, activation: 'linear' | 'relu'): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { x, kernel, bias } = args.inputs;
    return call(backendName, tf._FusedMatMul, args.backend, { a: x, b: kernel, bias }, { transposeA: false, transposeB: false, activation });
  };
}

/** y = x · W + b as one program (DENSE_KERNEL). */
export const denseWebGPU = (backendName: string): tf.KernelFunc => fusedDense(backendName, 'linear');
/** y = relu(x · W + b) as one program (DENSE_RELU_KERNEL). */
export const denseReluWebGPU = (backendName: string): tf.KernelFunc => fusedDense(backendName, 'relu');

const DZ_BODY = `
        setOutputAtIndex(index, select(0.0, dy[index], y[index] > 0.0));`;
const DB_BODY = `
        let c = index;
        ${channelSum('select(0.0, dy[at], y[at] > 0.0)')}
        setOutputAtIndex(index, sum);`;

const BIAS_BODY = `
        let c = index;
        ${channelSum('dy[at]')}
        setOutputAtIndex(index, sum);`;

/** ∂b = Σ_n dy in one program (tfjs's sum over axis 0 is a transpose and a reduction). */
export function biasGradWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { dy } = args.inputs;
    if (dy.dtype !== 'float32' || dy.shape.length !== 2) throw new Error(`ResclBiasGrad: expected float32 dy [N, C]; got ${dy.dtype} [${dy.shape}]`);
    const [rows, channels] = dy.shape;
    const uniforms: FlatUniform[] = [{ name: 'channels', type: 'i32', value: channels }, { name: 'positions', type: 'i32', value: rows }];
    return runFlat(args.backend as unknown as WebGPUBackend, 'resclBiasGrad', [['dy', dy]], uniforms, [channels], BIAS_BODY);
  };
}

/** [∂z = dy ⊙ (y > 0), ∂b = Σ_n ∂z] in two programs. */
export function reluBiasGradWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { dy, y } = args.inputs;
    if (dy.dtype !== 'float32' || y.dtype !== 'float32' || dy.shape.length !== 2) {
      throw new Error(`ResclReluBiasGrad: expected float32 dy, y [N, C]; got ${dy.dtype} [${dy.shape}], ${y.dtype} [${y.shape}]`);
    }
    const [rows, channels] = dy.shape;
    const backend = args.backend as unknown as WebGPUBackend;
    const uniforms: FlatUniform[] = [{ name: 'channels', type: 'i32', value: channels }, { name: 'positions', type: 'i32', value: rows }];
    const inputs: [string, tf.TensorInfo][] = [['dy', dy], ['y', y]];
    const dz = runFlat(backend, 'resclReluMask', inputs, uniforms, [rows, channels], DZ_BODY);
    const db = runFlat(backend, 'resclReluBiasGrad', inputs, uniforms, [channels], DB_BODY);
    return [dz, db];
  };
}
