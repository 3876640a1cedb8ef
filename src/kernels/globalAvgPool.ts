/**
 * Global average pooling on webgpu (`GLOBAL_AVG_POOL_KERNEL`, `GLOBAL_AVG_POOL_GRAD_KERNEL`, math in
 * src/core/poolKernel.ts): forward one invocation per (n, c) adding its H·W positions in tfjs's
 * order (a different order moved resnet8's combine stage 1e-3 off the stock path in 20 steps: its
 * student starts equal to its teachers, see distillation.ts); backward one invocation per element
 * of ∂x, tfjs's dy / (H·W).
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { GlobalAvgPoolGradAttrs } from '../core/poolKernel';
import type { KernelArgs } from './compose';
import { flat, REDUCE_THREADS, runFlat, treeSum } from './flatProgram';

/** tfjs's Mean (transpose to [N, C, H·W], then its ReduceProgram's sum order, ÷ H·W), to the bit for H·W < 4096. */
const FORWARD_BODY = `
        let n = index / uniforms.channels;
        let c = index % uniforms.channels;
        accClear();
        for (var p = 0; p < uniforms.positions; p++) {
          acc[p % ${REDUCE_THREADS}] = acc[p % ${REDUCE_THREADS}] + x[(n * uniforms.positions + p) * uniforms.channels + c];
        }
        setOutputAtIndex(index, accFinish(uniforms.positions) / f32(uniforms.positions));`;

const GRAD_BODY = `
        let c = index % uniforms.channels;
        let n = index / (uniforms.positions * uniforms.channels);
        setOutputAtIndex(index, dy[n * uniforms.channels + c] / f32(uniforms.positions));`;

/** y [N, C] = mean of x [N, H, W, C] over H, W, in one program. */
export function globalAvgPoolWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { x } = args.inputs;
    if (x.shape.length !== 4 || x.dtype !== 'float32') throw new Error(`ResclGlobalAvgPool: expected float32 x [N, H, W, C]; got ${x.dtype} [${x.shape}]`);
    const [n, h, w, c] = x.shape;
    const backend = args.backend as unknown as WebGPUBackend;
    const y = runFlat(backend, 'resclGlobalAvgPool', [['x', flat(x, n * h * w * c)]],
      [{ name: 'channels', type: 'i32', value: c }, { name: 'positions', type: 'i32', value: h * w }], [n * c], FORWARD_BODY, treeSum('acc'));
    return { ...y, shape: [n, c] };
  };
}

/** ∂x [N, H, W, C] = dy [N, C] / (H·W) broadcast over H, W, in one program. */
export function globalAvgPoolGradWebGPU(): tf.KernelFunc {
  return (raw) => {
    const args = raw as unknown as KernelArgs;
    const { dy } = args.inputs;
    const { height, width } = args.attrs as unknown as GlobalAvgPoolGradAttrs;
    if (dy.shape.length !== 2 || dy.dtype !== 'float32' || !(height >= 1 && width >= 1)) {
      throw new Error(`ResclGlobalAvgPoolGrad: expected float32 dy [N, C] and height, width ≥ 1; got ${dy.dtype} [${dy.shape}], ${height}x${width}`);
    }
    const [n, c] = dy.shape;
    const backend = args.backend as unknown as WebGPUBackend;
    const dx = runFlat(backend, 'resclGlobalAvgPoolGrad', [['dy', dy]],
      [{ name: 'channels', type: 'i32', value: c }, { name: 'positions', type: 'i32', value: height * width }], [n * height * width * c], GRAD_BODY);
    return { ...dx, shape: [n, height, width, c] };
  };
}
