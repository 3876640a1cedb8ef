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
 *   COMBINE_GRADS_KERNEL the same inputs, attrs { relu, outputs } → several of those gradients from
 *                        one program: outputs 'inputs' → [∂z_s, ∂z_t]; 'alphas' → [∂α_s, ∂α_t];
 *                        'targetAndAlphas' → [∂z_t, ∂α_s, ∂α_t] (the unit whose input is the data).
 *
 * The gradient asks COMBINE_GRADS_KERNEL for what a combine-stage step needs, when the forward
 * was told (`sourceGrad`) whether ∂z_s is wanted: 1 program without ∂z_s, 2 with it. tfjs's
 * autodiff calls the gradient once per node and then one thunk per input it needs; the grouped
 * gradients are made in the gradient function itself, inside tfjs's backward scope, so one that no
 * thunk hands out is disposed with that scope. A gradient the forward did not announce (∂z_s with
 * sourceGrad false) still comes, from its own COMBINE_GRAD_KERNEL call.
 */
import * as tf from '@tensorflow/tfjs';

export const COMBINE_KERNEL = 'ResclCombine';
export const COMBINE_GRAD_KERNEL = 'ResclCombineGrad';
export const COMBINE_GRADS_KERNEL = 'ResclCombineGrads';

/** Which gradient one COMBINE_GRAD_KERNEL call returns (the name of the forward input). */
export type CombineGradOutput = 'zs' | 'zt' | 'alphaSource' | 'alphaTarget';
/** Which gradients one COMBINE_GRADS_KERNEL call returns, in this order: */
export const COMBINE_GRAD_GROUPS = {
  inputs: ['zs', 'zt'],
  alphas: ['alphaSource', 'alphaTarget'],
  targetAndAlphas: ['zt', 'alphaSource', 'alphaTarget'],
} as const satisfies Record<string, readonly CombineGradOutput[]>;
export type CombineGradGroup = keyof typeof COMBINE_GRAD_GROUPS;
/** Attributes of COMBINE_KERNEL (`sourceGrad`: whether ∂z_s will be asked for) and of the gradient kernels. */
export interface CombineAttrs { relu: boolean; sourceGrad?: boolean }
export interface CombineGradAttrs { relu: boolean; output: CombineGradOutput }
export interface CombineGradsAttrs { relu: boolean; outputs: CombineGradGroup }

/** Whether the active backend has the combination kernels. */
export function hasCombineKernels(): boolean {
  const backend = tf.getBackend();
  return [COMBINE_KERNEL, COMBINE_GRAD_KERNEL, COMBINE_GRADS_KERNEL].every((k) => !!tf.getKernel(k, backend));
}

tf.registerGradient({
  kernelName: COMBINE_KERNEL,
  inputsToSave: ['zs', 'zt', 'alphaSource', 'alphaTarget'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [zs, zt, alphaSource, alphaTarget, y] = saved;
    const { relu, sourceGrad = true } = attrs as unknown as CombineAttrs;
    const inputs = { dy: dy as tf.Tensor, y, zs, zt, alphaSource, alphaTarget };
    const single = (output: CombineGradOutput) => () => {
      const gradAttrs: CombineGradAttrs = { relu, output };
      return tf.engine().runKernel(COMBINE_GRAD_KERNEL, inputs, gradAttrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    };
    const grads: Partial<Record<CombineGradOutput, tf.Tensor>> = {};
    for (const group of sourceGrad ? (['inputs', 'alphas'] as const) : (['targetAndAlphas'] as const)) {
      const gradsAttrs: CombineGradsAttrs = { relu, outputs: group };
      const outs = tf.engine().runKernel(COMBINE_GRADS_KERNEL, inputs, gradsAttrs as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
      COMBINE_GRAD_GROUPS[group].forEach((name, i) => { grads[name] = outs[i]; });
    }
    const grad = (output: CombineGradOutput) => {
      const made = grads[output];
      return made ? () => made : single(output);
    };
    return { zs: grad('zs'), zt: grad('zt'), alphaSource: grad('alphaSource'), alphaTarget: grad('alphaTarget') };
  },
});

/**
 * The combination (then ReLU when `relu`) through the kernels, differentiable in all four inputs;
 * `sourceGrad` false announces that no gradient w.r.t. z_s will be asked for (x is the data).
 */
export function combineKernels(zs: tf.Tensor, zt: tf.Tensor, alphaSource: tf.Tensor, alphaTarget: tf.Tensor, relu = false, sourceGrad = true): tf.Tensor {
  const attrs: CombineAttrs = { relu, sourceGrad };
  return tf.engine().runKernel(COMBINE_KERNEL, { zs, zt, alphaSource, alphaTarget }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
