/**
 * Batch norm in training mode through two kernels a backend may provide (src/kernels registers
 * them on webgpu); `nets.ts`'s `batchNormTraining` uses them where both are registered, else its
 * own tfjs-op composite. Core stays backend-free: it only names the kernels.
 *
 * x [..., C] (channels last), M = x.size / C positions per channel, all float32:
 *   BN_TRAINING_KERNEL       inputs { x, gamma [C], beta [C] }, attrs { epsilon, relu }
 *                            outputs [y (x's shape), mean μ [C], variance σ² [C]]
 *                            μ = (1/M) Σ x,  σ² = (1/M) Σ (x − μ)²,  b = (x − μ)·(1/√(σ² + ε))·γ + β,
 *                            y = b, or max(0, b) with relu (the topology's ReLU after the unit)
 *   BN_TRAINING_GRAD_KERNEL  inputs { dy, x, mean, variance, gamma, and y with relu }, attrs { epsilon, relu }
 *                            outputs [∂x, ∂γ [C], ∂β [C]] with x̂ = (x − μ)/√(σ² + ε) and g = dy,
 *                            or dy ⊙ (y > 0) with relu:
 *                            ∂β = Σ g,  ∂γ = Σ g ⊙ x̂,  ∂x = γ/(M·√(σ² + ε)) ⊙ (M·g − ∂β − x̂ ⊙ ∂γ)
 *   BN_INFERENCE_GRAD_KERNEL the gradient of inference-mode BN (μ, σ² the running statistics, constants):
 *                            inputs { dy, x, mean, variance, gamma }, attrs { epsilon, frozen }
 *                            outputs [∂x = dy ⊙ γ/√(σ² + ε), ∂γ = Σ dy ⊙ x̂, ∂β = Σ dy], or only [∂x]
 *                            when `frozen` (then x and mean are not read and may be left out)
 */
import * as tf from '@tensorflow/tfjs';

export const BN_TRAINING_KERNEL = 'ResclBatchNormTraining';
export const BN_TRAINING_GRAD_KERNEL = 'ResclBatchNormTrainingGrad';
export const BN_INFERENCE_GRAD_KERNEL = 'ResclBatchNormInferenceGrad';
/**
 * Running averages of a list of pairs: inputs running<i>, batch<i> [C] for i < count, attrs
 * { momentum, rest, count } (momentum m and rest = 1 − m, float32 as tfjs rounds them); outputs
 * [running_i · m + batch_i · rest] in input order. May update in place: use the outputs, not the inputs.
 */
export const MOVING_AVERAGE_KERNEL = 'ResclMovingAverage';

/** Whether the active backend has MOVING_AVERAGE_KERNEL. */
export function hasMovingAverageKernel(): boolean {
  return !!tf.getKernel(MOVING_AVERAGE_KERNEL, tf.getBackend());
}

/** running ← m·running + (1 − m)·batch for every pair, through MOVING_AVERAGE_KERNEL (one call). */
export function movingAverageKernel(pairs: { running: tf.Variable; batch: tf.Tensor }[], momentum: number): void {
  if (pairs.length === 0) return;
  const inputs: tf.NamedTensorMap = {};
  pairs.forEach(({ running, batch }, i) => { inputs[`running${i}`] = running; inputs[`batch${i}`] = batch; });
  const attrs = { momentum: Math.fround(momentum), rest: Math.fround(1 - momentum), count: pairs.length };
  const out = tf.engine().runKernel(MOVING_AVERAGE_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  (Array.isArray(out) ? out : [out]).forEach((t, i) => { pairs[i].running.assign(t); t.dispose(); });
}

/** Whether the active backend has the inference-mode BN gradient kernel. */
export function hasBatchNormInferenceGradKernel(): boolean {
  return !!tf.getKernel(BN_INFERENCE_GRAD_KERNEL, tf.getBackend());
}

/**
 * Inference-mode BN gradient through BN_INFERENCE_GRAD_KERNEL: [∂x] when `x` is null (frozen γ, β),
 * else [∂x, ∂γ, ∂β]. Call it inside a gradient function.
 */
export function batchNormInferenceGradKernel(
  dy: tf.Tensor, x: tf.Tensor | null, mean: tf.Tensor, variance: tf.Tensor, gamma: tf.Tensor, epsilon: number,
): tf.Tensor[] {
  const frozen = x === null;
  const inputs: tf.NamedTensorMap = frozen ? { dy, variance, gamma } : { dy, x, mean, variance, gamma };
  const out = tf.engine().runKernel(BN_INFERENCE_GRAD_KERNEL, inputs, { epsilon, frozen } as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}

/** Whether the active backend has both batch-norm training kernels. */
export function hasBatchNormTrainingKernels(): boolean {
  const backend = tf.getBackend();
  return !!tf.getKernel(BN_TRAINING_KERNEL, backend) && !!tf.getKernel(BN_TRAINING_GRAD_KERNEL, backend);
}

/**
 * BN training forward (then ReLU when `relu`) through the kernels, differentiable in z, γ, β.
 * `onMoments` receives the batch moments μ, σ² [C] (not on the gradient tape; the callee keeps or
 * disposes them).
 */
export function batchNormTrainingKernels(
  z: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number,
  onMoments: (mean: tf.Tensor, variance: tf.Tensor) => void, relu = false,
): tf.Tensor {
  const attrs = { epsilon, relu } as unknown as tf.NamedAttrMap;
  const op = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, g: tf.Tensor | tf.GradSaveFunc, b: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const [y, mean, variance] = tf.engine().runKernel(BN_TRAINING_KERNEL, { x: x as tf.Tensor, gamma: g as tf.Tensor, beta: b as tf.Tensor }, attrs) as tf.Tensor[];
    onMoments(mean, variance);
    (save as tf.GradSaveFunc)([x as tf.Tensor, mean, variance, g as tf.Tensor, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, mu, sigma2, gs, ys] = saved;
        return tf.engine().runKernel(BN_TRAINING_GRAD_KERNEL, { dy, x: xs, mean: mu, variance: sigma2, gamma: gs, ...(relu ? { y: ys } : {}) }, attrs) as tf.Tensor[];
      },
    };
  });
  return op(z, gamma, beta);
}
