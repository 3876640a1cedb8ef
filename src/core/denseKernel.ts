/**
 * A dense unit with bias followed by ReLU, `y = relu(x · W + b)`, through two kernels a backend may
 * provide (src/kernels registers them on webgpu); `nets.ts`'s plain evaluator uses them for such
 * units where registered, else runs matMul, add and relu as tfjs ops. Core only names the kernels.
 *
 *   DENSE_RELU_KERNEL      inputs { x [N, Cin], kernel W [Cin, C], bias b [C] } → [y [N, C]]
 *   RELU_BIAS_GRAD_KERNEL  inputs { dy [N, C], y [N, C] } → [∂z = dy ⊙ (y > 0) [N, C], ∂b = Σ_n ∂z [C]]
 * and the rest of the gradient as tfjs matMuls: ∂x = ∂z · Wᵀ, ∂W = xᵀ · ∂z.
 */
import * as tf from '@tensorflow/tfjs';

export const DENSE_RELU_KERNEL = 'ResclDenseRelu';
export const RELU_BIAS_GRAD_KERNEL = 'ResclReluBiasGrad';

/** Whether the active backend has both kernels. */
export function hasDenseReluKernels(): boolean {
  const backend = tf.getBackend();
  return !!tf.getKernel(DENSE_RELU_KERNEL, backend) && !!tf.getKernel(RELU_BIAS_GRAD_KERNEL, backend);
}

/** relu(x · W + b) through the kernels, differentiable in x, W and b. */
export function denseReluKernels(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const op = tf.customGrad((xi: tf.Tensor | tf.GradSaveFunc, w: tf.Tensor | tf.GradSaveFunc, b: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const y = tf.engine().runKernel(DENSE_RELU_KERNEL, { x: xi as tf.Tensor, kernel: w as tf.Tensor, bias: b as tf.Tensor }, {}) as tf.Tensor;
    (save as tf.GradSaveFunc)([xi as tf.Tensor, w as tf.Tensor, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws, ys] = saved;
        const [dz, db] = tf.engine().runKernel(RELU_BIAS_GRAD_KERNEL, { dy, y: ys }, {}) as tf.Tensor[];
        return [tf.matMul(dz, ws, false, true), tf.matMul(xs, dz, true, false), db];
      },
    };
  });
  return op(x, kernel, bias) as tf.Tensor2D;
}
