/**
 * The combination `y = (1 + α_s) ⊙ z_s + α_t ⊙ z_t` (combine.ts's `combineUnit`) through two
 * kernels a backend may provide (src/kernels registers them on webgpu); without them
 * `combineUnit` runs its tfjs-op composite. Core only names the kernels.
 *
 * z_s, z_t [..., C] (channels last, M = size / C positions), α_s, α_t [C], all float32:
 *   COMBINE_KERNEL       inputs { zs, zt, alphaSource, alphaTarget } → outputs [y (z's shape)]
 *   COMBINE_GRAD_KERNEL  inputs { dy, zs, zt, alphaSource, alphaTarget } →
 *                        outputs [∂z_s = dy ⊙ (1 + α_s), ∂z_t = dy ⊙ α_t, ∂α_s = Σ dy ⊙ z_s, ∂α_t = Σ dy ⊙ z_t]
 *                        (Σ over the M positions of each channel)
 */
import * as tf from '@tensorflow/tfjs';

export const COMBINE_KERNEL = 'ResclCombine';
export const COMBINE_GRAD_KERNEL = 'ResclCombineGrad';

/** Whether the active backend has both combination kernels. */
export function hasCombineKernels(): boolean {
  const backend = tf.getBackend();
  return !!tf.getKernel(COMBINE_KERNEL, backend) && !!tf.getKernel(COMBINE_GRAD_KERNEL, backend);
}

/** The combination through the kernels, differentiable in all four inputs. */
export function combineKernels(zs: tf.Tensor, zt: tf.Tensor, alphaSource: tf.Tensor, alphaTarget: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((s: tf.Tensor | tf.GradSaveFunc, t: tf.Tensor | tf.GradSaveFunc, as: tf.Tensor | tf.GradSaveFunc, at: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const inputs = { zs: s as tf.Tensor, zt: t as tf.Tensor, alphaSource: as as tf.Tensor, alphaTarget: at as tf.Tensor };
    (save as tf.GradSaveFunc)([inputs.zs, inputs.zt, inputs.alphaSource, inputs.alphaTarget]);
    return {
      value: tf.engine().runKernel(COMBINE_KERNEL, inputs, {}) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [zsSaved, ztSaved, asSaved, atSaved] = saved;
        return tf.engine().runKernel(COMBINE_GRAD_KERNEL, { dy, zs: zsSaved, zt: ztSaved, alphaSource: asSaved, alphaTarget: atSaved }, {}) as tf.Tensor[];
      },
    };
  });
  return op(zs, zt, alphaSource, alphaTarget);
}
