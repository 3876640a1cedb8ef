/**
 * A dense unit with bias, `y = x · W + b`, and with ReLU after it, `y = relu(x · W + b)`, through
 * kernels a backend may provide (src/kernels registers them on webgpu); `nets.ts` uses them for such
 * units and for the heads where registered, else runs matMul, add and relu as tfjs ops. Core names
 * the kernels and owns their gradients (registered below: tfjs asks only for the gradients a step
 * needs, so no ∂x of a first unit, whose input trains nothing).
 *
 *   DENSE_KERNEL           inputs { x [N, Cin], kernel W [Cin, C], bias b [C] } → [y = x · W + b [N, C]]
 *   BIAS_GRAD_KERNEL       inputs { dy [N, C] } → [∂b = Σ_n dy [C]]
 *   DENSE_RELU_KERNEL      inputs { x [N, Cin], kernel W [Cin, C], bias b [C] } → [y = relu(x · W + b) [N, C]]
 *   RELU_BIAS_GRAD_KERNEL  inputs { dy [N, C], y [N, C] } → [∂z = dy ⊙ (y > 0) [N, C], ∂b = Σ_n ∂z [C]]
 * and the rest of the gradient as tfjs matMuls: ∂x = ∂z · Wᵀ, ∂W = xᵀ · ∂z (∂z = dy without ReLU).
 */
import * as tf from '@tensorflow/tfjs';

export const DENSE_KERNEL = 'ResclDense';
export const BIAS_GRAD_KERNEL = 'ResclBiasGrad';
export const DENSE_RELU_KERNEL = 'ResclDenseRelu';
export const RELU_BIAS_GRAD_KERNEL = 'ResclReluBiasGrad';

/** Whether the active backend has both kernels of the linear dense unit. */
export function hasDenseKernel(): boolean {
  const backend = tf.getBackend();
  return !!tf.getKernel(DENSE_KERNEL, backend) && !!tf.getKernel(BIAS_GRAD_KERNEL, backend);
}

/** Whether the active backend has both kernels of the dense unit with ReLU. */
export function hasDenseReluKernels(): boolean {
  const backend = tf.getBackend();
  return !!tf.getKernel(DENSE_RELU_KERNEL, backend) && !!tf.getKernel(RELU_BIAS_GRAD_KERNEL, backend);
}

tf.registerGradient({
  kernelName: DENSE_KERNEL,
  inputsToSave: ['x', 'kernel'],
  gradFunc: (dy, saved) => {
    const [x, kernel] = saved;
    const dz = dy as tf.Tensor;
    return {
      x: () => tf.matMul(dz, kernel, false, true),
      kernel: () => tf.matMul(x, dz, true, false),
      bias: () => tf.engine().runKernel(BIAS_GRAD_KERNEL, { dy: dz }, {}) as tf.Tensor,
    };
  },
});

tf.registerGradient({
  kernelName: DENSE_RELU_KERNEL,
  inputsToSave: ['x', 'kernel'],
  outputsToSave: [true],
  // ∂z and ∂b now (every caller of this gradient needs ∂W, hence ∂z); ∂x = ∂z · Wᵀ and ∂W = xᵀ · ∂z
  // only when asked: tfjs asks for no ∂x of the first unit, whose input trains nothing.
  gradFunc: (dy, saved) => {
    const [x, kernel, y] = saved;
    const [dz, db] = tf.engine().runKernel(RELU_BIAS_GRAD_KERNEL, { dy: dy as tf.Tensor, y }, {}) as tf.Tensor[];
    return { x: () => tf.matMul(dz, kernel, false, true), kernel: () => tf.matMul(x, dz, true, false), bias: () => db };
  },
});

/** x · W + b through the kernel, differentiable in x, W and b. */
export function denseKernel(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.engine().runKernel(DENSE_KERNEL, { x, kernel, bias }, {}) as tf.Tensor2D;
}

/** relu(x · W + b) through the kernels, differentiable in x, W and b. */
export function denseReluKernels(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.engine().runKernel(DENSE_RELU_KERNEL, { x, kernel, bias }, {}) as tf.Tensor2D;
}
