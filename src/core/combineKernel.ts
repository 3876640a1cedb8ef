/**
 * The combination `y = (1 + α_s) ⊙ z_s + α_t ⊙ z_t`, optionally followed by ReLU (combine.ts's
 * `combineUnit`), through two kernels a backend may provide (src/kernels registers them on webgpu);
 * without them `combineUnit` runs its tfjs-op composite. Core names the kernels and owns the
 * gradient (registered below, so tfjs's autodiff asks only for the gradients a step needs: no ∂z_s
 * where nothing upstream of z_s trains, e.g. the first unit).
 *
 * z_s, z_t [..., C] (channels last, M = size / C positions), α_s, α_t [C], all float32; attrs
 * { relu }:
 *   COMBINE_KERNEL       inputs { zs, zt, alphaSource, alphaTarget } → [y (z's shape)],
 *                        y = c, or max(0, c) with relu, where c = (1 + α_s) ⊙ z_s + α_t ⊙ z_t
 *   COMBINE_GRAD_KERNEL  inputs { dy, y, zs, zt, alphaSource, alphaTarget }, attrs { relu, output }
 *                        → [the one gradient `output` names], with g = dy ⊙ (y > 0) under relu, else dy:
 *                        zs: g ⊙ (1 + α_s); zt: g ⊙ α_t; alphaSource: Σ g ⊙ z_s; alphaTarget: Σ g ⊙ z_t
 *                        (Σ over the M positions of each channel)
 */
import * as tf from '@tensorflow/tfjs';

export const COMBINE_KERNEL = 'ResclCombine';
export const COMBINE_GRAD_KERNEL = 'ResclCombineGrad';

/** Which gradient one COMBINE_GRAD_KERNEL call returns (the name of the forward input). */
export type CombineGradOutput = 'zs' | 'zt' | 'alphaSource' | 'alphaTarget';
/** Attributes of COMBINE_KERNEL (and, with `output`, of COMBINE_GRAD_KERNEL). */
export interface CombineAttrs { relu: boolean }
export interface CombineGradAttrs extends CombineAttrs { output: CombineGradOutput }

/** Whether the active backend has both combination kernels. */
export function hasCombineKernels(): boolean {
  const backend = tf.getBackend();
  return !!tf.getKernel(COMBINE_KERNEL, backend) && !!tf.getKernel(COMBINE_GRAD_KERNEL, backend);
}

tf.registerGradient({
  kernelName: COMBINE_KERNEL,
  inputsToSave: ['zs', 'zt', 'alphaSource', 'alphaTarget'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [zs, zt, alphaSource, alphaTarget, y] = saved;
    const { relu } = attrs as unknown as CombineAttrs;
    const grad = (output: CombineGradOutput) => () => {
      const gradAttrs: CombineGradAttrs = { relu, output };
      return tf.engine().runKernel(COMBINE_GRAD_KERNEL, { dy: dy as tf.Tensor, y, zs, zt, alphaSource, alphaTarget }, gradAttrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    };
    return { zs: grad('zs'), zt: grad('zt'), alphaSource: grad('alphaSource'), alphaTarget: grad('alphaTarget') };
  },
});

/** The combination (then ReLU when `relu`) through the kernels, differentiable in all four inputs. */
export function combineKernels(zs: tf.Tensor, zt: tf.Tensor, alphaSource: tf.Tensor, alphaTarget: tf.Tensor, relu = false): tf.Tensor {
  const attrs: CombineAttrs = { relu };
  return tf.engine().runKernel(COMBINE_KERNEL, { zs, zt, alphaSource, alphaTarget }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
