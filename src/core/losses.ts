/**
 * Loss terms (scalars). Logits are [N, K]; labels are int32 [N].
 * None of these functions call tidy: use them inside a tidy or a gradient function.
 */
import * as tf from '@tensorflow/tfjs';

/** Knowledge-distillation temperature (lab choice: LwF's value). */
export const KD_TEMPERATURE = 2;

/**
 * Names of the fused softmax cross-entropy kernels (tf.registerKernel; src/kernels registers them on
 * webgpu). The loss: inputs `{ logits z [N, K] float32, labels y [N] int32 }`, no attrs; output
 * `[loss [] = −(1/N) Σ_r log softmax(z_r)[y_r]]`. Its gradient (registered below, so tfjs runs it
 * only in a backward pass): inputs `{ dy [] float32, logits, labels }`; output
 * `[∂loss/∂z [N, K] = dy · (softmax(z) − onehot(y)) / N]`.
 * Where they are not registered `crossEntropy` runs `crossEntropyComposite`.
 */
export const SOFTMAX_CROSS_ENTROPY_KERNEL = 'ResclSoftmaxCrossEntropy';
export const SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL = 'ResclSoftmaxCrossEntropyGrad';

tf.registerGradient({
  kernelName: SOFTMAX_CROSS_ENTROPY_KERNEL,
  inputsToSave: ['logits', 'labels'],
  gradFunc: (dy, saved) => ({
    logits: () => tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL, { dy: dy as tf.Tensor, logits: saved[0], labels: saved[1] }, {}) as tf.Tensor,
  }),
});

const hasKernels = (...names: string[]) => names.every((name) => !!tf.getKernel(name, tf.getBackend()));

/**
 * Cross-entropy: mean over the batch of −log softmax(z)[y]. logits [N, K], labels int32 [N].
 * Through `SOFTMAX_CROSS_ENTROPY_KERNEL` where the backend has it (one program forward, one
 * backward), else `crossEntropyComposite`.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  if (!hasKernels(SOFTMAX_CROSS_ENTROPY_KERNEL, SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL)) return crossEntropyComposite(logits, labels);
  return tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY_KERNEL, { logits, labels }, {}) as tf.Scalar;
}

/** Cross-entropy from tfjs ops (logSoftmax, oneHot, ...), differentiated by tfjs's autodiff. */
export function crossEntropyComposite(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const k = logits.shape[1];
  const logp = tf.logSoftmax(logits);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels, k), logp), 1))) as tf.Scalar;
}

/**
 * Names of the fused distillation kernels (src/kernels registers them on webgpu). The loss: inputs
 * `{ teacher [N, K'] float32, student z [N, K] float32, base? [] float32 }`, attrs `{ temperature T, teacherOffset? }`
 * (ŷ = the teacher's columns teacherOffset .. teacherOffset + K − 1, default 0, K' ≥ offset + K); output
 * `[base + KD [] ]`, KD = T² · (1/N) Σ_r Σ_k q_rk (log q_rk − log p_rk), with q = softmax(ŷ/T), p = softmax(z/T)
 * (`base`, when given, is added last: a sum of terms without an AddN dispatch; its gradient is dy).
 * Its gradient in z (registered below; ŷ is a constant: recorded teacher logits): inputs
 * `{ dy [] float32, teacher, student }`, same attrs; output `[∂KD/∂z [N, K] = dy · (T/N) · (p − q)]`.
 * Where they are not registered `distillation` runs the composite.
 */
export const DISTILLATION_KERNEL = 'ResclDistillation';
/** Attributes of DISTILLATION_KERNEL and its gradient. */
export interface DistillationAttrs { temperature: number; teacherOffset?: number }
export const DISTILLATION_GRAD_KERNEL = 'ResclDistillationGrad';

tf.registerGradient({
  kernelName: DISTILLATION_KERNEL,
  inputsToSave: ['teacher', 'student'],
  gradFunc: (dy, saved, attrs) => ({
    student: () => tf.engine().runKernel(DISTILLATION_GRAD_KERNEL, { dy: dy as tf.Tensor, teacher: saved[0], student: saved[1] }, attrs) as tf.Tensor,
    base: () => (dy as tf.Tensor).clone(),
  }),
});

/**
 * Knowledge distillation KD(ŷ, z) = T² · KL(softmax(ŷ/T) ‖ softmax(z/T)), mean over the batch.
 * teacherLogits ŷ [N, K] (constant), studentLogits z [N, K]. Through `DISTILLATION_KERNEL` where
 * the backend has it (one program forward, one backward), else `distillationComposite`.
 */
export function distillation(teacherLogits: tf.Tensor2D, studentLogits: tf.Tensor2D, temperature = KD_TEMPERATURE): tf.Scalar {
  if (!hasKernels(DISTILLATION_KERNEL, DISTILLATION_GRAD_KERNEL)) return distillationComposite(teacherLogits, studentLogits, temperature);
  return tf.engine().runKernel(DISTILLATION_KERNEL, { teacher: teacherLogits, student: studentLogits }, { temperature }) as tf.Scalar;
}

/**
 * One term of `distillationSum`: KD(ŷ, z) with ŷ = `teacher`'s columns from `teacherOffset` (default
 * 0), as many as z has: teacher [N, K' ≥ offset + K], student z [N, K].
 */
export interface DistillationTerm { teacher: tf.Tensor2D; student: tf.Tensor2D; teacherOffset?: number }

/**
 * Σ_i KD(ŷ_i, z_i) over the terms: where the kernel is registered, a chain of kernels each adding
 * the previous sum (`base`), in the order of `terms`, so the terms' AddN is no dispatch of its own
 * (the same float32 sum as `sumAll` for ≤ 4 terms), each reading its teacher's columns in place
 * (one gather of every head's teacher logits, no slices); elsewhere slices and `distillation`.
 */
export function distillationSum(terms: readonly DistillationTerm[], temperature = KD_TEMPERATURE): tf.Scalar {
  if (!hasKernels(DISTILLATION_KERNEL, DISTILLATION_GRAD_KERNEL)) {
    return sumAll(terms.map(({ teacher, student, teacherOffset = 0 }) => distillation(
      teacher.shape[1] === student.shape[1] && teacherOffset === 0 ? teacher : tf.slice(teacher, [0, teacherOffset], [-1, student.shape[1]]), student, temperature)));
  }
  let sum: tf.Scalar | null = null;
  for (const { teacher, student, teacherOffset = 0 } of terms) {
    const inputs: tf.NamedTensorMap = sum ? { teacher, student, base: sum } : { teacher, student };
    const attrs: DistillationAttrs = { temperature, teacherOffset };
    sum = tf.engine().runKernel(DISTILLATION_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Scalar;
  }
  return sum ?? tf.scalar(0);
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

/** base + scale · Σ|x|^p through the kernel (inputs x0.., `base` when given). */
function scaledPowerSum(tensors: readonly tf.Tensor[], scale: number, power: 1 | 2, base?: tf.Scalar): tf.Scalar {
  const inputs: tf.NamedTensorMap = {};
  tensors.forEach((t, i) => { inputs[`x${i}`] = t; });
  if (base) inputs.base = base;
  return tf.engine().runKernel(SCALED_POWER_SUM_KERNEL, inputs, { count: tensors.length, scale, power, hasBase: !!base }) as tf.Scalar;
}

/** `base` + `term`, or just `term` without a base. */
const plus = (base: tf.Scalar | undefined, term: tf.Scalar): tf.Scalar => (base ? tf.add(base, term) as tf.Scalar : term);

/**
 * The value of `weightDecay(tensors, λ_dec)` = (λ_dec / 2) Σ‖θ‖², plus `base` when given (a loss
 * being reported), whose decay gradient the optimiser adds itself (`NamedGradient.decay`); not
 * differentiable where the kernel runs (call it outside the gradient tape). Through
 * SCALED_POWER_SUM_KERNEL where registered (base included: one program).
 */
export function weightDecayValue(tensors: readonly tf.Tensor[], lambdaDecay: number, base?: tf.Scalar): tf.Scalar {
  if (lambdaDecay === 0 || tensors.length === 0 || !canFoldPenalties()) return plus(base, weightDecay(tensors, lambdaDecay));
  return scaledPowerSum(tensors, lambdaDecay / 2, 2, base);
}

/**
 * The value of λ·‖α‖₁ (`tf.mul(l1(tensors), λ)`), plus `base` when given, for reporting a loss whose
 * L1 gradient λ·step(α) (tfjs's: +λ where α > 0, else −λ) the optimiser adds itself
 * (`NamedGradient.l1`); not differentiable where the kernel runs. Through SCALED_POWER_SUM_KERNEL
 * where registered.
 */
export function l1Value(tensors: readonly tf.Tensor[], lambda: number, base?: tf.Scalar): tf.Scalar {
  if (lambda === 0 || tensors.length === 0 || !canFoldPenalties()) return plus(base, tf.mul(l1(tensors), lambda) as tf.Scalar);
  return scaledPowerSum(tensors, lambda, 1, base);
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
