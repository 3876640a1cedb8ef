/**
 * Networks from a serialisable spec: `mlp`, `conv4`, `resnet8`.
 *
 * (Over 400 lines: the specs, building, the unit evaluators with batch norm's written-out
 * gradients and the topology runner share the Net types; splitting BN into its own module is the
 * next cut, issue #11.)
 *
 * A network is a *topology* (a small graph of nodes: units, pooling, flatten, residual blocks) plus
 * *units* (the layers that own weights) plus one *head* per task. The same topology serves the plain
 * network, the combined network (`combine.ts`, where every unit has two branches) and the folded one
 * (`fold.ts`): only the way a unit is evaluated changes. Tensors are channels-last (NHWC).
 *
 * A unit computes, for input x and output channels C:
 *     z = op(x) (+ b)            op: conv (kernel [k,k,Cin,C]), dense (kernel [Cin,C]) or
 *                                 affine (per-channel scale [C], or the identity when it has none)
 *     y = BN(z)  if the unit has BatchNorm:  γ ⊙ (z − μ) / √(σ² + ε) + β
 * and the node that holds it applies ReLU afterwards when `relu` is set, so a combination placed on
 * the unit output always sits before the non-linearity (docs/METHOD.md).
 */
import * as tf from '@tensorflow/tfjs';
import {
  batchNormInferenceGradKernel, batchNormTrainingKernels, hasBatchNormInferenceGradKernel, hasBatchNormTrainingKernels,
  hasMovingAverageKernel, movingAverageKernel,
} from './batchNormKernel';
import { denseKernel, denseReluKernels, hasDenseKernel, hasDenseReluKernels } from './denseKernel';
import { bias as initBias, headKernel, trunkKernel, type InitScheme } from './init';
import { globalAvgPool } from './poolKernel';
import type { NetKind } from './names';
import { IMAGE_SIZE } from './types';

export { NET_KINDS, type NetKind } from './names';

/** BatchNorm epsilon (Keras' and the PyTorch peer's value). */
export const BN_EPSILON = 1e-3;
/** BatchNorm running-statistics momentum: running ← m·running + (1−m)·batch. */
export const BN_MOMENTUM = 0.9;

export type UnitOp = 'conv' | 'dense' | 'affine';

/** Static description of a unit (what a serialised network stores next to its weights). */
export interface UnitSpec {
  id: string;
  op: UnitOp;
  inChannels: number;
  outChannels: number;
  /** conv only */
  kernelSize?: number;
  /** conv only */
  stride?: number;
}

/** Batch-normalisation parameters of one unit: γ, β trainable; μ, σ² running statistics. All [C]. */
export interface BatchNormParams {
  gamma: tf.Variable;
  beta: tf.Variable;
  movingMean: tf.Variable;
  movingVariance: tf.Variable;
}

/**
 * The weights of one unit. `kernel` is [k,k,Cin,C] (conv), [Cin,C] (dense) or [C] (affine scale;
 * absent for a BN-only unit of a pre-activation block); `bias` [C] or absent; `bn` or absent.
 */
export interface UnitParams {
  spec: UnitSpec;
  kernel?: tf.Variable;
  bias?: tf.Variable;
  bn?: BatchNormParams;
}

/** One classifier head: logits = features · kernel + bias; kernel [F, numClasses]. */
export interface HeadParams {
  taskId: string;
  numClasses: number;
  kernel: tf.Variable;
  bias: tf.Variable;
}

/** Topology nodes. `unit` nodes name a unit; a pre-activation block is spelled out explicitly. */
export type TopologyNode =
  | { type: 'unit'; unit: string; relu: boolean }
  | { type: 'maxpool' }
  | { type: 'flatten' }
  | { type: 'globalAvgPool' }
  | {
      /**
       * Pre-activation residual unit (He et al. 2016):
       *   u = ReLU(preBN(x)); h = ReLU(conv1(u)) [conv1 carries the block's middle BN];
       *   y = conv2(h) + (shortcut ? shortcut(u) : x)
       */
      type: 'preactBlock';
      preBN: string;
      conv1: string;
      conv2: string;
      shortcut: string | null;
    };

/** A network: trunk units wired by a topology, plus one head per task (in task order). */
export interface Net {
  kind: NetKind;
  topology: TopologyNode[];
  units: Map<string, UnitParams>;
  heads: HeadParams[];
  /** Width of the trunk's output features (input width of every head). */
  featureSize: number;
  /** Channel multiplier the net was built with (1 = the standard architecture). */
  width: number;
}

/**
 * How the trunk should evaluate one unit (plain, combined, ...): returns the unit's pre-ReLU output.
 * `withRelu`, when present, may return the unit's output after ReLU in one fused op (null: it
 * cannot for this unit, and the topology applies ReLU itself). `dataInput` is true when x is the
 * network's input (reshaped or pooled, no unit upstream): nothing upstream of x trains, so an
 * evaluator may skip what only ∂x would need.
 */
export type UnitEvaluator = ((unitId: string, x: tf.Tensor, dataInput?: boolean) => tf.Tensor) & {
  withRelu?: (unitId: string, x: tf.Tensor, dataInput?: boolean) => tf.Tensor | null;
};

let variableCounter = 0;
/**
 * Unique tfjs variable names (tfjs refuses two variables with the same name). The `@rescl`
 * suffix keeps them apart from tfjs-layers' own `<layer>/kernel_<n>` names when a net is exported.
 */
function uniqueName(base: string): string {
  variableCounter += 1;
  return `${base}@rescl${variableCounter}`;
}

/** Creates a named variable from a tensor (takes ownership of `value`). */
export function makeVariable(value: tf.Tensor, name: string, trainable = true): tf.Variable {
  const v = tf.variable(value, trainable, uniqueName(name));
  value.dispose();
  return v;
}

interface ArchitectureSpec {
  topology: TopologyNode[];
  units: (UnitSpec & { bias: boolean; bn: boolean })[];
  featureSize: number;
}

/** The fixed architectures. Kept as data so the same spec drives building, folding and export. */
export function architecture(kind: NetKind, width = 1): ArchitectureSpec {
  // width scales every hidden layer (tests use tiny nets: tfjs-cpu trains full-size convs slowly)
  const w = (channels: number) => Math.max(1, Math.round(channels * width));
  switch (kind) {
    case 'mlp':
      return {
        topology: [
          { type: 'flatten' },
          { type: 'unit', unit: 'fc1', relu: true },
          { type: 'unit', unit: 'fc2', relu: true },
        ],
        units: [
          { id: 'fc1', op: 'dense', inChannels: IMAGE_SIZE * IMAGE_SIZE, outChannels: w(400), bias: true, bn: false },
          { id: 'fc2', op: 'dense', inChannels: w(400), outChannels: w(400), bias: true, bn: false },
        ],
        featureSize: w(400),
      };
    case 'conv4': {
      const convs: [string, number, number][] = [['conv1', 1, w(32)], ['conv2', w(32), w(32)], ['conv3', w(32), w(64)], ['conv4', w(64), w(64)]];
      return {
        topology: [
          { type: 'unit', unit: 'conv1', relu: true },
          { type: 'unit', unit: 'conv2', relu: true },
          { type: 'maxpool' },
          { type: 'unit', unit: 'conv3', relu: true },
          { type: 'unit', unit: 'conv4', relu: true },
          { type: 'maxpool' },
          { type: 'flatten' },
          { type: 'unit', unit: 'fc1', relu: true },
        ],
        units: [
          ...convs.map(([id, cin, cout]) => ({ id, op: 'conv' as const, inChannels: cin, outChannels: cout, kernelSize: 3, stride: 1, bias: false, bn: true })),
          { id: 'fc1', op: 'dense', inChannels: 7 * 7 * w(64), outChannels: w(256), bias: false, bn: true },
        ],
        featureSize: w(256),
      };
    }
    case 'resnet8': {
      // stem conv 16 → 3 pre-activation blocks (16, 32/2, 64/2) → BN → ReLU → global average pool.
      const conv = (id: string, cin: number, cout: number, k: number, stride: number, bn: boolean) =>
        ({ id, op: 'conv' as const, inChannels: cin, outChannels: cout, kernelSize: k, stride, bias: false, bn });
      const affine = (id: string, c: number) => ({ id, op: 'affine' as const, inChannels: c, outChannels: c, bias: false, bn: true });
      return {
        topology: [
          { type: 'unit', unit: 'stem', relu: false },
          { type: 'preactBlock', preBN: 'b1_bn', conv1: 'b1_conv1', conv2: 'b1_conv2', shortcut: null },
          { type: 'preactBlock', preBN: 'b2_bn', conv1: 'b2_conv1', conv2: 'b2_conv2', shortcut: 'b2_short' },
          { type: 'preactBlock', preBN: 'b3_bn', conv1: 'b3_conv1', conv2: 'b3_conv2', shortcut: 'b3_short' },
          { type: 'unit', unit: 'final_bn', relu: true },
          { type: 'globalAvgPool' },
        ],
        units: [
          conv('stem', 1, w(16), 3, 1, false),
          affine('b1_bn', w(16)), conv('b1_conv1', w(16), w(16), 3, 1, true), conv('b1_conv2', w(16), w(16), 3, 1, false),
          affine('b2_bn', w(16)), conv('b2_conv1', w(16), w(32), 3, 2, true), conv('b2_conv2', w(32), w(32), 3, 1, false), conv('b2_short', w(16), w(32), 1, 2, false),
          affine('b3_bn', w(32)), conv('b3_conv1', w(32), w(64), 3, 2, true), conv('b3_conv2', w(64), w(64), 3, 1, false), conv('b3_short', w(32), w(64), 1, 2, false),
          affine('final_bn', w(64)),
        ],
        featureSize: w(64),
      };
    }
  }
}

/** Creates the BN parameters of a unit with C channels: γ = 1, β = 0, μ = 0, σ² = 1. */
function createBatchNorm(id: string, channels: number): BatchNormParams {
  return {
    gamma: makeVariable(tf.ones([channels]), `${id}/bn_gamma`),
    beta: makeVariable(tf.zeros([channels]), `${id}/bn_beta`),
    movingMean: makeVariable(tf.zeros([channels]), `${id}/bn_mean`, false),
    movingVariance: makeVariable(tf.ones([channels]), `${id}/bn_var`, false),
  };
}

/**
 * Builds a freshly initialised trunk (no heads yet; add them with `addHead`).
 * Weights per `init` (init.ts; default 'he': He-normal kernels, biases 0); BN γ=1, β=0, μ=0, σ²=1.
 * Deterministic for a given seed. `width` scales every hidden layer's channel count (1 = the architectures above).
 */
export function buildNet(kind: NetKind, seed: number, width = 1, init: InitScheme = 'he'): Net {
  const arch = architecture(kind, width);
  const units = new Map<string, UnitParams>();
  arch.units.forEach((u, index) => {
    const { bias, bn, ...spec } = u;
    const params: UnitParams = { spec };
    const k = spec.kernelSize ?? 3;
    const fanIn = spec.op === 'conv' ? k * k * spec.inChannels : spec.inChannels;
    if (spec.op === 'conv') {
      params.kernel = makeVariable(trunkKernel(init, [k, k, spec.inChannels, spec.outChannels], fanIn, seed * 1000 + index), `${spec.id}/kernel`);
    } else if (spec.op === 'dense') {
      params.kernel = makeVariable(trunkKernel(init, [spec.inChannels, spec.outChannels], fanIn, seed * 1000 + index), `${spec.id}/kernel`);
    }
    if (bias) params.bias = makeVariable(initBias(init, spec.outChannels, fanIn, seed * 1000 + index), `${spec.id}/bias`);
    if (bn) params.bn = createBatchNorm(spec.id, spec.outChannels);
    units.set(spec.id, params);
  });
  return { kind, topology: arch.topology, units, heads: [], featureSize: arch.featureSize, width };
}

/**
 * Appends a new head for `taskId`: kernel [F, numClasses], bias [numClasses], per `init` (init.ts;
 * default 'he': Glorot-uniform kernel, bias 0). Returns the new head.
 */
export function addHead(net: Net, taskId: string, numClasses: number, seed: number, init: InitScheme = 'he'): HeadParams {
  if (net.heads.some((h) => h.taskId === taskId)) throw new Error(`net already has a head for task '${taskId}'`);
  const headSeed = seed * 7919 + net.heads.length;
  const head: HeadParams = {
    taskId,
    numClasses,
    kernel: makeVariable(headKernel(init, net.featureSize, numClasses, headSeed), `head_${taskId}/kernel`),
    bias: makeVariable(initBias(init, numClasses, net.featureSize, headSeed), `head_${taskId}/bias`),
  };
  net.heads.push(head);
  return head;
}

/** Index of the head for a task; throws a clear error if the network has none. */
export function headIndex(net: Net, taskId: string): number {
  const i = net.heads.findIndex((h) => h.taskId === taskId);
  if (i < 0) throw new Error(`net has no head for task '${taskId}' (heads: ${net.heads.map((h) => h.taskId).join(', ') || 'none'})`);
  return i;
}

/** Every variable of a unit, in a fixed order. */
export function unitVariables(u: UnitParams): tf.Variable[] {
  const vs: tf.Variable[] = [];
  if (u.kernel) vs.push(u.kernel);
  if (u.bias) vs.push(u.bias);
  if (u.bn) vs.push(u.bn.gamma, u.bn.beta, u.bn.movingMean, u.bn.movingVariance);
  return vs;
}

/** Trainable trunk variables: kernels, biases, BN γ and β (running statistics excluded). */
export function trunkTrainableVariables(net: Net): tf.Variable[] {
  const vs: tf.Variable[] = [];
  for (const u of net.units.values()) {
    if (u.kernel) vs.push(u.kernel);
    if (u.bias) vs.push(u.bias);
    if (u.bn) vs.push(u.bn.gamma, u.bn.beta);
  }
  return vs;
}

/** Kernels only (trunk and heads): what weight decay (λ_dec/2)‖θ‖² applies to. */
export function decayedVariables(net: Net, heads: readonly HeadParams[] = net.heads): tf.Variable[] {
  const vs: tf.Variable[] = [];
  for (const u of net.units.values()) if (u.kernel && u.spec.op !== 'affine') vs.push(u.kernel);
  for (const h of heads) vs.push(h.kernel);
  return vs;
}

/** Deep copy of a network: new variables with the same values (heads included). */
export function cloneNet(net: Net): Net {
  const copy = (v: tf.Variable, name: string) => makeVariable(v.clone(), name, v.trainable);
  const units = new Map<string, UnitParams>();
  for (const [id, u] of net.units) {
    units.set(id, {
      spec: { ...u.spec },
      kernel: u.kernel && copy(u.kernel, `${id}/kernel`),
      bias: u.bias && copy(u.bias, `${id}/bias`),
      bn: u.bn && {
        gamma: copy(u.bn.gamma, `${id}/bn_gamma`),
        beta: copy(u.bn.beta, `${id}/bn_beta`),
        movingMean: copy(u.bn.movingMean, `${id}/bn_mean`),
        movingVariance: copy(u.bn.movingVariance, `${id}/bn_var`),
      },
    });
  }
  const heads = net.heads.map((h) => ({ ...h, kernel: copy(h.kernel, `head_${h.taskId}/kernel`), bias: copy(h.bias, `head_${h.taskId}/bias`) }));
  return { kind: net.kind, topology: net.topology, units, heads, featureSize: net.featureSize, width: net.width };
}

/** Disposes every variable of a network. */
export function disposeNet(net: Net): void {
  for (const u of net.units.values()) for (const v of unitVariables(u)) v.dispose();
  for (const h of net.heads) { h.kernel.dispose(); h.bias.dispose(); }
}

/** Number of scalars in a network: trunk (incl. BN statistics) plus heads. */
export function countParams(net: Net): number {
  let n = 0;
  for (const u of net.units.values()) for (const v of unitVariables(u)) n += v.size;
  for (const h of net.heads) n += h.kernel.size + h.bias.size;
  return n;
}

/** The linear part of a unit: op(x) + b, with x [N,H,W,Cin] (conv) or [N,Cin] (dense, affine on any rank). */
export function applyUnitLinear(u: UnitParams, x: tf.Tensor): tf.Tensor {
  if (u.spec.op === 'dense' && u.kernel && u.bias) return dense(x, u.kernel, u.bias);
  let z: tf.Tensor;
  switch (u.spec.op) {
    case 'conv':
      z = tf.conv2d(x as tf.Tensor4D, u.kernel as tf.Tensor4D, u.spec.stride ?? 1, 'same');
      break;
    case 'dense':
      z = tf.matMul(x as tf.Tensor2D, u.kernel as tf.Tensor2D);
      break;
    case 'affine':
      z = u.kernel ? tf.mul(x, u.kernel) : x;
      break;
  }
  return u.bias ? tf.add(z, u.bias) : z;
}

/**
 * BN in inference mode: y = γ ⊙ (z − μ) / √(σ² + ε) + β per channel (last axis), with the running
 * statistics μ, σ². z: [N, H, W, C] or [N, C] → y of the same shape.
 *
 * Its gradient is written out (tfjs's FusedBatchNorm gradient runs ~10 kernels, four of them over
 * the whole activation, even when only ∂z is needed). With s = γ/√(σ² + ε) and x̂ = (z − μ)/√(σ² + ε):
 *   ∂z = dy ⊙ s;   and unless `frozen`: ∂γ = Σ dy ⊙ x̂,  ∂β = Σ dy  (sums over every axis but the last).
 * `frozen`: γ and β are constants here (a frozen branch such as net_s in the combination stage), so
 * only ∂z is computed. The gradient runs as one kernel where the backend has it (batchNormKernel.ts).
 */
export function batchNormInference(bn: BatchNormParams, z: tf.Tensor, frozen = false): tf.Tensor {
  const forward = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor =>
    tf.batchNorm(x, bn.movingMean, bn.movingVariance, beta as tf.Tensor1D, gamma as tf.Tensor1D, BN_EPSILON);
  const inverseStd = (): tf.Tensor => tf.rsqrt(tf.add(bn.movingVariance, BN_EPSILON));
  if (frozen) {
    const op = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc) => ({
      value: forward(x as tf.Tensor, bn.gamma, bn.beta),
      gradFunc: (dy: tf.Tensor) => (hasBatchNormInferenceGradKernel()
        ? [batchNormInferenceGradKernel(dy, null, bn.movingMean, bn.movingVariance, bn.gamma, BN_EPSILON)[0]]
        : [tf.mul(dy, tf.mul(bn.gamma, inverseStd()))]),
    }));
    return op(z);
  }
  const axes = z.shape.map((_, i) => i).slice(0, -1);
  const op = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, gamma: tf.Tensor | tf.GradSaveFunc, beta: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    (save as tf.GradSaveFunc)([x as tf.Tensor, gamma as tf.Tensor]);
    return {
      value: forward(x as tf.Tensor, gamma as tf.Tensor, beta as tf.Tensor),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, g] = saved;
        if (hasBatchNormInferenceGradKernel()) return batchNormInferenceGradKernel(dy, xs, bn.movingMean, bn.movingVariance, g, BN_EPSILON);
        const inv = inverseStd();
        const normalized = tf.mul(tf.sub(xs, bn.movingMean), inv);
        return [tf.mul(dy, tf.mul(g, inv)), tf.sum(tf.mul(dy, normalized), axes), tf.sum(dy, axes)];
      },
    };
  });
  return op(z, bn.gamma, bn.beta);
}

/** tfjs's own BN inference op, differentiated by autodiff (the reference the tests compare with). */
export function batchNormInferenceAutodiff(bn: BatchNormParams, z: tf.Tensor): tf.Tensor {
  return tf.batchNorm(z, bn.movingMean, bn.movingVariance, bn.beta, bn.gamma, BN_EPSILON);
}

/**
 * BN in training mode through the backend's kernels (batchNormKernel.ts), then ReLU when `relu`
 * (fused into the same programs: the topology's ReLU after a BN unit); null where the backend has
 * no such kernels (the caller then runs `batchNormTraining` and tf.relu). Records the batch moments
 * in `pendingUpdates` as `batchNormTraining` does.
 */
export function batchNormTrainingRelu(bn: BatchNormParams, z: tf.Tensor, pendingUpdates: BatchNormUpdate[], relu = true): tf.Tensor | null {
  if (!hasBatchNormTrainingKernels() || z.dtype !== 'float32') return null;
  return batchNormTrainingKernels(z, bn.gamma, bn.beta, BN_EPSILON, (mean, variance) => {
    pendingUpdates.push({ bn, mean: tf.keep(mean), variance: tf.keep(variance) });
  }, relu);
}

/**
 * BN in training mode: normalises with the batch moments over every axis but the last, and
 * schedules the running-statistics update (returned, applied by the caller after the step, since a
 * variable must not change inside a gradient computation).
 *
 * z: [N, H, W, C] or [N, C] → y of the same shape. Forward: μ, σ² = batch moments over the M = N·H·W
 * positions of each channel, x̂ = (z − μ)/√(σ² + ε), y = γ ⊙ x̂ + β. The gradient is the closed form
 * (one custom op instead of tfjs's autodiff through tf.moments and FusedBatchNorm's gradient, which
 * runs ~3x the kernels — each one a GPU dispatch):
 *   ∂β = Σ dy,   ∂γ = Σ dy ⊙ x̂,   ∂z = γ/(M·√(σ² + ε)) ⊙ (M·dy − ∂β − x̂ ⊙ ∂γ)   (sums over the M positions)
 * Where the backend has the batch-norm training kernels (batchNormKernel.ts; src/kernels on webgpu)
 * the same math runs as 3 forward and 3 backward programs instead of these ops.
 * It equals autodiff's up to float rounding (batchNorm.test.ts and combineBatchNorm.test.ts compare it with
 * `batchNormTrainingAutodiff`).
 */
export function batchNormTraining(bn: BatchNormParams, z: tf.Tensor, pendingUpdates: BatchNormUpdate[]): tf.Tensor {
  const fused = batchNormTrainingRelu(bn, z, pendingUpdates, false);
  if (fused) return fused;
  const axes = z.shape.map((_, i) => i).slice(0, -1);
  const positions = z.size / z.shape[z.shape.length - 1];
  const op = tf.customGrad((input: tf.Tensor | tf.GradSaveFunc, gamma: tf.Tensor | tf.GradSaveFunc, beta: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const x = input as tf.Tensor;
    const { mean, variance } = tf.moments(x, axes);
    // The kept moments only feed `assign` after the step, which the gradient tape never sees.
    pendingUpdates.push({ bn, mean: tf.keep(mean), variance: tf.keep(variance) });
    (save as tf.GradSaveFunc)([x, mean, variance, gamma as tf.Tensor]);
    return {
      value: tf.batchNorm(x, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, BN_EPSILON),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, mu, sigma2, g] = saved;
        const inverseStd = tf.rsqrt(tf.add(sigma2, BN_EPSILON));
        const normalized = tf.mul(tf.sub(xs, mu), inverseStd);
        const dBeta = tf.sum(dy, axes);
        const dGamma = tf.sum(tf.mul(dy, normalized), axes);
        const scale = tf.div(tf.mul(g, inverseStd), positions);
        const inner = tf.sub(tf.sub(tf.mul(dy, positions), dBeta), tf.mul(normalized, dGamma));
        return [tf.mul(inner, scale), dGamma, dBeta];
      },
    };
  });
  return op(z, bn.gamma, bn.beta);
}

/** The same BN training forward differentiated by tfjs's autodiff: the reference the tests compare with. */
export function batchNormTrainingAutodiff(bn: BatchNormParams, z: tf.Tensor, pendingUpdates: BatchNormUpdate[]): tf.Tensor {
  const axes = z.shape.map((_, i) => i).slice(0, -1);
  const { mean, variance } = tf.moments(z, axes);
  pendingUpdates.push({ bn, mean: tf.keep(mean), variance: tf.keep(variance) });
  return tf.batchNorm(z, mean, variance, bn.beta, bn.gamma, BN_EPSILON);
}

/** A running-statistics update collected during a training forward pass. */
export interface BatchNormUpdate { bn: BatchNormParams; mean: tf.Tensor; variance: tf.Tensor }

/** Applies and disposes collected BN updates: running ← m·running + (1−m)·batch. */
export function applyBatchNormUpdates(updates: BatchNormUpdate[]): void {
  if (hasMovingAverageKernel()) {
    movingAverageKernel(updates.flatMap((u) => [{ running: u.bn.movingMean, batch: u.mean }, { running: u.bn.movingVariance, batch: u.variance }]), BN_MOMENTUM);
  } else tf.tidy(() => {
    for (const { bn, mean, variance } of updates) {
      bn.movingMean.assign(tf.add(tf.mul(bn.movingMean, BN_MOMENTUM), tf.mul(mean, 1 - BN_MOMENTUM)));
      bn.movingVariance.assign(tf.add(tf.mul(bn.movingVariance, BN_MOMENTUM), tf.mul(variance, 1 - BN_MOMENTUM)));
    }
  });
  for (const u of updates) { u.mean.dispose(); u.variance.dispose(); }
  updates.length = 0;
}

/**
 * Evaluator for a plain network. `training`: BN uses batch moments and records running-statistics
 * updates into `pendingUpdates`; otherwise BN uses the running statistics.
 */
export function plainUnitEvaluator(net: Net, training = false, pendingUpdates: BatchNormUpdate[] = []): UnitEvaluator {
  const unit = (unitId: string): UnitParams => {
    const u = net.units.get(unitId);
    if (!u) throw new Error(`unknown unit '${unitId}'`);
    return u;
  };
  const evaluate: UnitEvaluator = (unitId, x) => {
    const u = unit(unitId);
    const z = applyUnitLinear(u, x);
    if (!u.bn) return z;
    return training ? batchNormTraining(u.bn, z, pendingUpdates) : batchNormInference(u.bn, z);
  };
  // then ReLU, fused where the backend has the kernels: a dense unit with bias and no BN in one op
  // (denseKernel.ts); training-mode BN with the ReLU in its own programs (batchNormKernel.ts)
  evaluate.withRelu = (unitId, x) => {
    const u = unit(unitId);
    if (u.bn) return training && hasBatchNormTrainingKernels() ? batchNormTrainingRelu(u.bn, applyUnitLinear(u, x), pendingUpdates) : null;
    if (u.spec.op !== 'dense' || !u.kernel || !u.bias || x.rank !== 2 || x.dtype !== 'float32' || !hasDenseReluKernels()) return null;
    return denseReluKernels(x as tf.Tensor2D, u.kernel as tf.Tensor2D, u.bias as tf.Tensor1D);
  };
  return evaluate;
}

/**
 * Runs a topology: x [N, 28, 28, 1] → features [N, F]. `evalUnit` gives each unit's pre-ReLU
 * output; the topology applies ReLU, pooling, flatten and residual additions.
 */
export function runTopology(topology: readonly TopologyNode[], x: tf.Tensor, evalUnit: UnitEvaluator): tf.Tensor2D {
  // no unit has run yet: h is the data (reshaped or pooled)
  let dataInput = true;
  // relu(unit(h)), fused into one op where the evaluator can
  const unitRelu = (unit: string, h: tf.Tensor, fromData = false) => evalUnit.withRelu?.(unit, h, fromData) ?? tf.relu(evalUnit(unit, h, fromData));
  let h = x;
  for (const node of topology) {
    switch (node.type) {
      case 'unit':
        h = node.relu ? unitRelu(node.unit, h, dataInput) : evalUnit(node.unit, h, dataInput);
        dataInput = false;
        break;
      case 'maxpool':
        h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
        break;
      case 'flatten':
        h = tf.reshape(h, [h.shape[0], -1]);
        break;
      case 'globalAvgPool':
        h = globalAvgPool(h as tf.Tensor4D);
        break;
      case 'preactBlock': {
        const u = unitRelu(node.preBN, h, dataInput);
        dataInput = false;
        const inner = unitRelu(node.conv1, u);
        const body = evalUnit(node.conv2, inner);
        h = tf.add(body, node.shortcut ? evalUnit(node.shortcut, u) : h);
        break;
      }
    }
  }
  return h as tf.Tensor2D;
}

/** x · W + b: one fused op where the backend has it (denseKernel.ts), else matMul and add. */
function dense(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  if (x.rank === 2 && x.dtype === 'float32' && hasDenseKernel()) return denseKernel(x as tf.Tensor2D, kernel as tf.Tensor2D, bias as tf.Tensor1D);
  return tf.add(tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D), bias);
}

/** Logits of one head: features [N, F] → [N, numClasses]. */
export function applyHead(head: HeadParams, features: tf.Tensor2D): tf.Tensor2D {
  return dense(features, head.kernel, head.bias);
}

/**
 * Forward pass of a plain network in inference mode: x [N, 28, 28, 1] → logits of every head,
 * in head order.
 */
export function predict(net: Net, x: tf.Tensor4D): tf.Tensor2D[] {
  return tf.tidy(() => {
    const features = runTopology(net.topology, x, plainUnitEvaluator(net));
    return net.heads.map((h) => applyHead(h, features));
  });
}
