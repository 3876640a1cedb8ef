/**
 * The dense unit with bias and ReLU on webgpu (`DENSE_RELU_KERNEL`, `RELU_BIAS_GRAD_KERNEL`, math in
 * src/core/denseKernel.ts): forward is tfjs-webgpu's own _FusedMatMul with bias and ReLU (one
 * program instead of matMul, add, relu); backward's ReLU mask and bias gradient are two programs
 * (tfjs: step, mul, sum).
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { call, type KernelArgs } from './compose';
import { channelSum, runFlat, type FlatUniform } from './flatProgram';

/** y = relu(x · W + b) as one tfjs _FusedMatMul program. */
export function denseReluWebGPU(backendName: string): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { x, kernel, bias } = args.inputs;
    return call(backendName, tf._FusedMatMul, args.backend, { a: x, b: kernel, bias }, { transposeA: false, transposeB: false, activation: 'relu' });
  };
}

const DZ_BODY = `
        setOutputAtIndex(index, select(0.0, dy[index], y[index] > 0.0));`;
const DB_BODY = `
        let c = index;
        ${channelSum('select(0.0, dy[at], y[at] > 0.0)')}
        setOutputAtIndex(index, sum);`;

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
