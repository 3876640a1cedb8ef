/**
 * Adam with one fused kernel per variable and step, in place of tfjs's `tf.train.adam`, which runs
 * ~14 kernels per variable and 4 more per step (mul, add, square, div, sqrt, ...). On a GPU a
 * training step is bound by per-kernel dispatch overhead, so this is where most of them go.
 *
 * The kernel (`ADAM_KERNEL`) is registered per backend by src/kernels (core never imports it);
 * where it is not registered (`--stock`, webgl, plain tfjs) `createAdam` returns tfjs's own
 * optimiser, so both paths share one interface (`AdamOptimizerLike`).
 *
 * Math (tfjs 4.22's AdamOptimizer, step t = 1, 2, ...; g the gradient, θ the variable):
 *   g ← g + λ_dec·θ + λ_1·(θ > 0 ? 1 : −1)   (folded weight decay `decay` and L1 `l1` below; 0 when not folded)
 *   m_t = β1·m_{t−1} + (1−β1)·g
 *   v_t = β2·v_{t−1} + (1−β2)·g²
 *   θ_t = θ_{t−1} + (−lr) · (m_t / (1−β1^t)) / (√(v_t / (1−β2^t)) + ε)
 * with β1 = 0.9, β2 = 0.999, ε = the backend's `epsilon()` (1e-7 in float32) and m_0 = v_0 = 0.
 * tfjs computes every operation in float32, including the running products β^t (a float32
 * variable multiplied by β each step); the constants passed to the kernel are rounded the same
 * way (`Math.fround`), so a float32 kernel doing the operations in tfjs's order gives tfjs's numbers.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Name of the fused Adam kernel (tf.registerKernel). Inputs `{ value, moments, gradient }`:
 * value θ [...shape] (n elements), moments [2, n] = [m; v] (flat, row 0 the first moment),
 * gradient g [...shape]; attrs `AdamUpdateAttrs`. Outputs `[newValue [...shape], newMoments [2, n]]`,
 * all float32. Implementations: src/kernels (registered on cpu and webgpu; a wasm one exists but is
 * not registered, tfjs-wasm's own Adam being faster there).
 */
export const ADAM_KERNEL = 'ResclAdamUpdate';

/**
 * Name of the group Adam kernel: every variable of one `applyGradients` call in one kernel call
 * (on webgpu a dispatch per few variables instead of two per variable). Inputs `value<i>`,
 * `moments<i>`, `gradient<i>` for i < `count` (each as for ADAM_KERNEL); attrs `AdamUpdateAttrs`
 * plus `count`, `decays` and `l1s` (number[count], variable i's `decay` and `l1`; `decay`, `l1` themselves unused); outputs `[value0', moments0', value1', moments1', ...]`, the same numbers as
 * ADAM_KERNEL per variable. The kernel may update in place: its outputs may be its inputs' own
 * data, so the caller must use the outputs and no longer the inputs. Registered by src/kernels
 * on cpu and webgpu; `FusedAdam` uses it where registered, else ADAM_KERNEL per variable.
 */
export const ADAM_GROUP_KERNEL = 'ResclAdamGroupUpdate';

/**
 * The fused kernel's attributes: every constant of one Adam step, already rounded to float32 as
 * tfjs rounds them (`Math.fround`), so the kernel does no arithmetic on them in float64.
 * A float32 kernel computes, per element i (each operation rounded to float32, in this order):
 *   g ← g + (decay·θ) when decay ≠ 0;  g ← g + (θ > 0 ? l1 : −l1) when l1 ≠ 0
 *   m' = beta1·m + oneMinusBeta1·g;  v' = beta2·v + oneMinusBeta2·(g·g)
 *   θ' = ((m'/biasCorrection1) / (√(v'/biasCorrection2) + epsilon))·negLearningRate + θ
 */
export interface AdamUpdateAttrs {
  /** fround(β1) */
  beta1: number;
  /** fround(1 − β1), with 1 − β1 in float64 as tfjs computes it */
  oneMinusBeta1: number;
  /** fround(β2) */
  beta2: number;
  /** fround(1 − β2) */
  oneMinusBeta2: number;
  /** fround(1 − β1^t), β1^t a float32 running product */
  biasCorrection1: number;
  /** fround(1 − β2^t) */
  biasCorrection2: number;
  /** fround(ε) */
  epsilon: number;
  /** fround(−lr) */
  negLearningRate: number;
  /**
   * fround(λ_dec) of a weight decay (λ_dec/2)‖θ‖² folded into the update (g + λ_dec·θ, the gradient
   * tfjs's autodiff gives that term: ∂/∂θ = fround(λ_dec/2)·2θ, exact), or 0 for none.
   */
  decay: number;
  /**
   * fround(λ) of an L1 term λ‖θ‖₁ folded into the update: g + λ·step(θ), tfjs's gradient of
   * `tf.abs` (+λ where θ > 0, −λ where θ ≤ 0), or 0 for none.
   */
  l1: number;
}

/**
 * One variable's gradient for `applyGradients`: `decay` λ_dec folds (λ_dec/2)‖θ‖² in, `l1` λ folds
 * λ‖θ‖₁ in (only where `foldsDecay`).
 */
export interface NamedGradient { name: string; tensor: tf.Tensor; decay?: number; l1?: number }

/** What the training loop needs of an optimiser (a subset of tf.Optimizer). */
export interface AdamOptimizerLike {
  /** One Adam step for each (variable name, gradient) pair; the gradients are not disposed. */
  applyGradients(list: NamedGradient[]): void;
  /** whether `applyGradients` honours `decay` (the fused kernels); tfjs's own Adam does not */
  readonly foldsDecay: boolean;
  /** Frees the optimiser's state (moments). */
  dispose(): void;
  /** true when the fused kernel runs, false for tfjs's own Adam */
  readonly fused: boolean;
}

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;

const f32 = Math.fround;

/** One variable's part of a step. */
interface Work { name: string; value: tf.Variable; moments: tf.Tensor; gradient: tf.Tensor; decay: number; l1: number }

/**
 * Adam as tfjs computes it, with the moments of each variable packed as one [2, n] tensor and one
 * `ADAM_KERNEL` call per variable per step (no per-step scalar kernels: β^t is kept on the host).
 * Use `createAdam`; the class is exported for tests (`momentsOf`).
 */
export class FusedAdam implements AdamOptimizerLike {
  readonly fused = true;
  readonly foldsDecay = true;
  private readonly moments = new Map<string, tf.Tensor>();
  /** β1^t, β2^t as float32 running products (tfjs: scalar variables multiplied by β each step) */
  private accBeta1 = f32(ADAM_BETA1);
  private accBeta2 = f32(ADAM_BETA2);
  private readonly epsilon: number;

  constructor(private readonly learningRate: number) {
    this.epsilon = tf.backend().epsilon();
  }

  applyGradients(list: NamedGradient[]): void {
    const attrs: AdamUpdateAttrs = {
      beta1: f32(ADAM_BETA1), oneMinusBeta1: f32(1 - ADAM_BETA1),
      beta2: f32(ADAM_BETA2), oneMinusBeta2: f32(1 - ADAM_BETA2),
      biasCorrection1: f32(1 - this.accBeta1), biasCorrection2: f32(1 - this.accBeta2),
      epsilon: f32(this.epsilon), negLearningRate: f32(-this.learningRate), decay: 0, l1: 0,
    };
    const work: Work[] = [];
    for (const { name, tensor: gradient, decay = 0, l1 = 0 } of list) {
      const value = tf.engine().registeredVariables[name];
      if (!value) throw new Error(`adam: no variable named '${name}'`);
      let moments = this.moments.get(name);
      if (!moments) {
        moments = tf.keep(tf.zeros([2, value.size], 'float32'));
        this.moments.set(name, moments);
      }
      if (gradient == null) continue;
      if (value.dtype !== 'float32' || gradient.dtype !== 'float32' || gradient.size !== value.size) {
        throw new Error(`adam: '${name}' needs float32 value and gradient of one size, got ${value.dtype} [${value.shape}] and ${gradient.dtype} [${gradient.shape}]`);
      }
      work.push({ name, value, moments, gradient, decay: f32(decay), l1: f32(l1) });
    }
    const outputs = tf.getKernel(ADAM_GROUP_KERNEL, tf.getBackend())
      ? this.runGroup(work, attrs)
      : work.map(({ value, moments, gradient, decay, l1 }) => tf.engine().runKernel(
        ADAM_KERNEL, { value, moments, gradient }, { ...attrs, decay, l1 } as unknown as tf.NamedAttrMap) as tf.Tensor[]);
    work.forEach(({ name, value, moments }, i) => {
      const [newValue, newMoments] = outputs[i];
      value.assign(newValue);
      newValue.dispose();
      moments.dispose();
      this.moments.set(name, tf.keep(newMoments));
    });
    this.accBeta1 = f32(this.accBeta1 * f32(ADAM_BETA1));
    this.accBeta2 = f32(this.accBeta2 * f32(ADAM_BETA2));
  }

  /** One ADAM_GROUP_KERNEL call for every variable with a gradient: [θ', [m'; v']] per variable. */
  private runGroup(work: Work[], attrs: AdamUpdateAttrs): tf.Tensor[][] {
    if (work.length === 0) return [];
    const inputs: tf.NamedTensorMap = {};
    work.forEach(({ value, moments, gradient }, i) => {
      inputs[`value${i}`] = value;
      inputs[`moments${i}`] = moments;
      inputs[`gradient${i}`] = gradient;
    });
    const out = tf.engine().runKernel(ADAM_GROUP_KERNEL, inputs, { ...attrs, count: work.length, decays: work.map((w) => w.decay), l1s: work.map((w) => w.l1) } as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
    const flat = Array.isArray(out) ? out : [out];
    return work.map((_, i) => [flat[2 * i], flat[2 * i + 1]]);
  }

  /** The moments [m; v] [2, n] of variable `name` (owned by the optimiser), undefined before its first step. */
  momentsOf(name: string): tf.Tensor | undefined {
    return this.moments.get(name);
  }

  dispose(): void {
    for (const m of this.moments.values()) m.dispose();
    this.moments.clear();
  }
}

/**
 * An Adam optimiser with learning rate `learningRate` (β1 0.9, β2 0.999, ε the backend's epsilon):
 * the fused one when `ADAM_KERNEL` or `ADAM_GROUP_KERNEL` is registered on the current backend (`tf.getBackend()`), else
 * tfjs's `tf.train.adam`. Decided once, here; the moments persist across `applyGradients` calls
 * keyed by variable name (fused) or by position in the list (tfjs), so pass the same variables
 * in the same order every step.
 */
export function createAdam(learningRate: number): AdamOptimizerLike {
  if (tf.getKernel(ADAM_KERNEL, tf.getBackend()) || tf.getKernel(ADAM_GROUP_KERNEL, tf.getBackend())) return new FusedAdam(learningRate);
  const stock = tf.train.adam(learningRate, ADAM_BETA1, ADAM_BETA2);
  return {
    fused: false,
    foldsDecay: false,
    applyGradients: (list) => {
      if (list.some((g) => (g.decay ?? 0) !== 0 || (g.l1 ?? 0) !== 0)) throw new Error('adam: tfjs\'s own Adam cannot fold a weight decay or L1 term (foldsDecay is false)');
      stock.applyGradients(list.map(({ name, tensor }) => ({ name, tensor })));
    },
    dispose: () => stock.dispose(),
  };
}
