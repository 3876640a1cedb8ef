/**
 * Loss terms (scalars). Logits are [N, K]; labels are int32 [N].
 * None of these functions call tidy: use them inside a tidy or a gradient function.
 */
import * as tf from '@tensorflow/tfjs';

/** Knowledge-distillation temperature (lab choice: LwF's value). */
export const KD_TEMPERATURE = 2;

/**
 * Name of the fused softmax cross-entropy kernel (tf.registerKernel; src/kernels registers it on
 * webgpu). Inputs `{ logits [N, K] float32, labels [N] int32 }`, no attrs; outputs
 * `[loss [] = −(1/N) Σ_r log softmax(z_r)[y_r], ∂loss/∂logits [N, K] = (softmax(z) − onehot(y)) / N]`.
 * Where it is not registered `crossEntropy` runs `crossEntropyComposite`.
 */
export const SOFTMAX_CROSS_ENTROPY_KERNEL = 'ResclSoftmaxCrossEntropy';

/**
 * Cross-entropy: mean over the batch of −log softmax(z)[y]. logits [N, K], labels int32 [N].
 * Through `SOFTMAX_CROSS_ENTROPY_KERNEL` where the backend has it (the gradient comes with the
 * forward: backward is one multiply by the incoming scalar), else `crossEntropyComposite`.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  if (!tf.getKernel(SOFTMAX_CROSS_ENTROPY_KERNEL, tf.getBackend())) return crossEntropyComposite(logits, labels);
  const op = tf.customGrad((z: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const [loss, dz] = tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY_KERNEL, { logits: z as tf.Tensor, labels }, {}) as tf.Tensor[];
    (save as tf.GradSaveFunc)([dz]);
    return { value: loss, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]) };
  });
  return op(logits) as tf.Scalar;
}

/** Cross-entropy from tfjs ops (logSoftmax, oneHot, ...), differentiated by tfjs's autodiff. */
export function crossEntropyComposite(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const k = logits.shape[1];
  const logp = tf.logSoftmax(logits);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels, k), logp), 1))) as tf.Scalar;
}

/**
 * Name of the fused distillation kernel (src/kernels registers it on webgpu). Inputs
 * `{ teacher ŷ [N, K] float32, student z [N, K] float32 }`, attrs `{ temperature T }`; outputs
 * `[KD [] = T² · (1/N) Σ_r Σ_k q_rk (log q_rk − log p_rk), ∂KD/∂z [N, K] = (T/N) · (p − q)]` with
 * q = softmax(ŷ/T), p = softmax(z/T). Where it is not registered `distillation` runs the composite.
 */
export const DISTILLATION_KERNEL = 'ResclDistillation';

/**
 * Knowledge distillation KD(ŷ, z) = T² · KL(softmax(ŷ/T) ‖ softmax(z/T)), mean over the batch.
 * teacherLogits ŷ [N, K] (constant), studentLogits z [N, K]. Through `DISTILLATION_KERNEL` where
 * the backend has it (the gradient comes with the forward), else `distillationComposite`.
 */
export function distillation(teacherLogits: tf.Tensor2D, studentLogits: tf.Tensor2D, temperature = KD_TEMPERATURE): tf.Scalar {
  if (!tf.getKernel(DISTILLATION_KERNEL, tf.getBackend())) return distillationComposite(teacherLogits, studentLogits, temperature);
  const op = tf.customGrad((z: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const [loss, dz] = tf.engine().runKernel(DISTILLATION_KERNEL, { teacher: teacherLogits, student: z as tf.Tensor }, { temperature }) as tf.Tensor[];
    (save as tf.GradSaveFunc)([dz]);
    return { value: loss, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]) };
  });
  return op(studentLogits) as tf.Scalar;
}

/** Distillation from tfjs ops (logSoftmax, exp, ...), differentiated by tfjs's autodiff. */
export function distillationComposite(teacherLogits: tf.Tensor2D, studentLogits: tf.Tensor2D, temperature = KD_TEMPERATURE): tf.Scalar {
  const logq = tf.logSoftmax(tf.div(teacherLogits, temperature));
  const q = tf.exp(logq);
  const logp = tf.logSoftmax(tf.div(studentLogits, temperature));
  const kl = tf.sum(tf.mul(q, tf.sub(logq, logp)), 1);
  return tf.mul(tf.mean(kl), temperature * temperature);
}

/** L1 decay ‖α‖₁ summed over every given coefficient vector. */
export function l1(tensors: readonly tf.Tensor[]): tf.Scalar {
  return sumAll(tensors.map((t) => tf.sum(tf.abs(t))));
}

/**
 * Name of the scaled power-sum kernel: inputs `x<i>` for i < `count` (float32, any shapes), attrs
 * `{ count, scale, power }` (power 1 or 2); output a float32 scalar scale · Σ_i Σ_j |x_ij|^power (no
 * gradient: it gives the value of a penalty whose gradient the optimiser folds in,
 * `weightDecayValue`, `l1Value`). Registered by src/kernels on webgpu (one dispatch per few tensors
 * instead of 2 per tensor + a sum + a mul).
 */
export const SCALED_POWER_SUM_KERNEL = 'ResclScaledPowerSum';

function scaledPowerSum(tensors: readonly tf.Tensor[], scale: number, power: 1 | 2): tf.Scalar {
  const inputs: tf.NamedTensorMap = {};
  tensors.forEach((t, i) => { inputs[`x${i}`] = t; });
  return tf.engine().runKernel(SCALED_POWER_SUM_KERNEL, inputs, { count: tensors.length, scale, power }) as tf.Scalar;
}

/**
 * The value of `weightDecay(tensors, λ_dec)` = (λ_dec / 2) Σ‖θ‖², for reporting a loss whose decay
 * gradient the optimiser adds itself (`NamedGradient.decay`); not differentiable where the kernel
 * runs (call it outside the gradient tape). Through SCALED_SUM_OF_SQUARES_KERNEL where registered.
 */
export function weightDecayValue(tensors: readonly tf.Tensor[], lambdaDecay: number): tf.Scalar {
  if (lambdaDecay === 0 || tensors.length === 0 || !canFoldPenalties()) return weightDecay(tensors, lambdaDecay);
  return scaledPowerSum(tensors, lambdaDecay / 2, 2);
}

/**
 * The value of λ·‖α‖₁ (`tf.mul(l1(tensors), λ)`), for reporting a loss whose L1 gradient
 * λ·step(α) (tfjs's: +λ where α > 0, else −λ) the optimiser adds itself (`NamedGradient.l1`); not
 * differentiable where the kernel runs. Through SCALED_POWER_SUM_KERNEL where registered.
 */
export function l1Value(tensors: readonly tf.Tensor[], lambda: number): tf.Scalar {
  if (lambda === 0 || tensors.length === 0 || !canFoldPenalties()) return tf.mul(l1(tensors), lambda);
  return scaledPowerSum(tensors, lambda, 1);
}

/**
 * Whether `weightDecayValue` and `l1Value` run their fused kernel on the current backend (then a
 * training loop may fold those penalties' gradients into Adam).
 */
export function canFoldPenalties(): boolean {
  return tf.getKernel(SCALED_POWER_SUM_KERNEL, tf.getBackend()) != null;
}

/** Weight decay (λ_dec / 2) Σ‖θ‖² over the given tensors. */
export function weightDecay(tensors: readonly tf.Tensor[], lambdaDecay: number): tf.Scalar {
  if (lambdaDecay === 0 || tensors.length === 0) return tf.scalar(0);
  return tf.mul(sumAll(tensors.map((t) => tf.sum(tf.square(t)))), lambdaDecay / 2);
}

/**
 * EWC penalty (λ_ewc / 2) Σ_i F_i (θ_i − θ*_i)², with F the diagonal Fisher and θ* the anchor,
 * each list aligned with `params`.
 */
export function ewcPenalty(params: readonly tf.Tensor[], anchors: readonly tf.Tensor[], fisher: readonly tf.Tensor[], lambdaEwc: number): tf.Scalar {
  if (lambdaEwc === 0 || params.length === 0) return tf.scalar(0);
  return tf.mul(sumAll(params.map((p, i) => tf.sum(tf.mul(fisher[i], tf.square(tf.sub(p, anchors[i])))))), lambdaEwc / 2);
}

/**
 * Sum of scalars in chunks of at most 4 (an AddN of 8+ tensors exceeds tfjs-webgpu's default
 * storage-buffer limit and silently returns garbage).
 */
export function sumAll(scalars: readonly tf.Tensor[]): tf.Scalar {
  if (scalars.length === 0) return tf.scalar(0);
  let parts = [...scalars];
  while (parts.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < parts.length; i += 4) {
      const chunk = parts.slice(i, i + 4);
      next.push(chunk.length === 1 ? chunk[0] : tf.addN(chunk));
    }
    parts = next;
  }
  return parts[0] as tf.Scalar;
}
