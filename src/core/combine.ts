/**
 * The combination layer and the combined network net_c (docs/METHOD.md, "The combination layer").
 *
 * Every unit ℓ of the trunk is doubled into a source branch (frozen, from net_s) and a target
 * branch (trainable, from net_t). Both branches see the same input x (the combined features of the
 * layer below) and are mixed per output channel before the non-linearity:
 *
 *     z_s = unit_s(x)   z_t = unit_t(x)          (unit = conv/dense/affine, then its own BN if any)
 *     y   = (1 + α_s) ⊙ z_s + α_t ⊙ z_t          α_s, α_t ∈ R^C, broadcast over the last (channel) axis
 *
 * The topology then applies ReLU, pooling and residual additions exactly as in the plain network.
 * Heads are not combined: the heads of earlier tasks come from net_s, the new head from net_t.
 */
import * as tf from '@tensorflow/tfjs';
import { combineKernels, hasCombineKernels } from './combineKernel';
import {
  applyHead, applyUnitLinear, batchNormInference, batchNormTraining, makeVariable, runTopology,
  type BatchNormUpdate, type HeadParams, type Net, type UnitEvaluator, type UnitParams,
} from './nets';

/** Initial coefficients: every layer starts at ½·source + ½·target. */
export const ALPHA_SOURCE_INIT = -0.5;
export const ALPHA_TARGET_INIT = 0.5;

/** How BN_t behaves during combined training (lab choice; BN_s is always in inference mode). */
export type TargetBatchNormMode = 'inference' | 'train';

/** net_c: the two branches plus per-unit, per-channel coefficients α_s, α_t (each [C]). */
export interface CombinedNet {
  /** net_s: frozen trunk and the heads of all earlier tasks. */
  source: Net;
  /** net_t: trainable trunk; its last head is the new task's head. */
  target: Net;
  alphaSource: Map<string, tf.Variable>;
  alphaTarget: Map<string, tf.Variable>;
}

/**
 * Builds net_c from net_s and net_t (takes ownership of neither). Unit ids and shapes must match.
 * α_s = −0.5, α_t = +0.5 for every channel of every unit.
 */
export function buildCombined(source: Net, target: Net): CombinedNet {
  if (source.kind !== target.kind) throw new Error(`cannot combine a ${source.kind} with a ${target.kind}`);
  if (target.heads.length !== source.heads.length + 1) {
    throw new Error(`net_t must have exactly one head more than net_s (got ${target.heads.length} vs ${source.heads.length})`);
  }
  const alphaSource = new Map<string, tf.Variable>();
  const alphaTarget = new Map<string, tf.Variable>();
  for (const [id, u] of source.units) {
    const t = target.units.get(id);
    if (!t || t.spec.outChannels !== u.spec.outChannels) throw new Error(`unit '${id}' differs between net_s and net_t`);
    alphaSource.set(id, makeVariable(tf.fill([u.spec.outChannels], ALPHA_SOURCE_INIT), `alpha_s/${id}`));
    alphaTarget.set(id, makeVariable(tf.fill([u.spec.outChannels], ALPHA_TARGET_INIT), `alpha_t/${id}`));
  }
  return { source, target, alphaSource, alphaTarget };
}

/** All α variables (α_s then α_t, unit order). */
export function alphaVariables(c: CombinedNet): tf.Variable[] {
  return [...c.alphaSource.values(), ...c.alphaTarget.values()];
}

/** The trainable target parameters θ_t of the combined stage: trunk (no BN statistics) + new head. */
export function combinedTargetVariables(c: CombinedNet): tf.Variable[] {
  const vs: tf.Variable[] = [];
  for (const u of c.target.units.values()) {
    if (u.kernel) vs.push(u.kernel);
    if (u.bias) vs.push(u.bias);
    if (u.bn) vs.push(u.bn.gamma, u.bn.beta);
  }
  const head = newHead(c);
  vs.push(head.kernel, head.bias);
  return vs;
}

/** The new task's head (net_t's last). */
export function newHead(c: CombinedNet): HeadParams {
  return c.target.heads[c.target.heads.length - 1];
}

/** The heads of net_c in task order: net_s's heads, then net_t's new head. */
export function combinedHeads(c: CombinedNet): HeadParams[] {
  return [...c.source.heads, newHead(c)];
}

function branchOutput(u: UnitParams, x: tf.Tensor, bnTraining: boolean, updates: BatchNormUpdate[], frozen: boolean): tf.Tensor {
  const z = applyUnitLinear(u, x);
  if (!u.bn) return z;
  return bnTraining ? batchNormTraining(u.bn, z, updates) : batchNormInference(u.bn, z, frozen);
}

/**
 * The combination of one unit: (1 + α_s) ⊙ unit_s(x) + α_t ⊙ unit_t(x), then ReLU when `relu`
 * (the topology's own ReLU, fused into the combination kernel where the backend has it).
 * x: [N, H, W, Cin] or [N, Cin]; result: [N, H', W', C] or [N, C]. `dataInput`: x is the network's
 * input (runTopology's flag), so no gradient flows to x and the kernels skip ∂z_s.
 */
export function combineUnit(
  c: CombinedNet, unitId: string, x: tf.Tensor,
  targetBatchNorm: TargetBatchNormMode = 'inference', updates: BatchNormUpdate[] = [], relu = false, dataInput = false,
): tf.Tensor {
  const us = c.source.units.get(unitId);
  const ut = c.target.units.get(unitId);
  const as = c.alphaSource.get(unitId);
  const at = c.alphaTarget.get(unitId);
  if (!us || !ut || !as || !at) throw new Error(`unknown unit '${unitId}'`);
  // θ_s and BN_s are frozen in the combination stage: no gradient for the source BN's γ, β.
  const zs = branchOutput(us, x, false, updates, true);
  const zt = branchOutput(ut, x, targetBatchNorm === 'train', updates, false);
  // one forward program and one per needed gradient where the backend has the kernels (combineKernel.ts)
  // (∂z_s is wanted only where x depends on a unit upstream: θ_s is frozen)
  if (hasCombineKernels() && zs.dtype === 'float32' && zt.dtype === 'float32') return combineKernels(zs, zt, as, at, relu, !dataInput);
  const y = tf.add(tf.mul(tf.add(as, 1), zs), tf.mul(at, zt));
  return relu ? tf.relu(y) : y;
}

/**
 * Unit evaluator of net_c, for `runTopology`; its `withRelu` fuses the topology's ReLU into the
 * combination kernel where the backend has it (else null: the topology applies tf.relu).
 */
export function combinedUnitEvaluator(c: CombinedNet, targetBatchNorm: TargetBatchNormMode = 'inference', updates: BatchNormUpdate[] = []): UnitEvaluator {
  const evaluate: UnitEvaluator = (unitId, x, dataInput) => combineUnit(c, unitId, x, targetBatchNorm, updates, false, dataInput);
  evaluate.withRelu = (unitId, x, dataInput) => (hasCombineKernels() ? combineUnit(c, unitId, x, targetBatchNorm, updates, true, dataInput) : null);
  return evaluate;
}

/**
 * Forward pass of net_c: x [N, 28, 28, 1] → logits of every head in task order
 * (earlier tasks through net_s's heads, the new task through net_t's head), each [N, classes].
 * Not wrapped in tidy: call it inside a tidy or a gradient function.
 */
export function forwardCombined(
  c: CombinedNet, x: tf.Tensor4D, targetBatchNorm: TargetBatchNormMode = 'inference', updates: BatchNormUpdate[] = [],
): tf.Tensor2D[] {
  const features = runTopology(c.source.topology, x, combinedUnitEvaluator(c, targetBatchNorm, updates));
  return combinedHeads(c).map((h) => applyHead(h, features));
}

/** Inference-mode logits of net_c for every head (tidy). */
export function predictCombined(c: CombinedNet, x: tf.Tensor4D): tf.Tensor2D[] {
  return tf.tidy(() => forwardCombined(c, x));
}

/** Disposes the α variables (not the two branch networks, which the caller owns). */
export function disposeCombinedAlphas(c: CombinedNet): void {
  for (const v of alphaVariables(c)) v.dispose();
}

/** Summary of every unit's α: per-unit values read back as plain arrays (for histograms and tests). */
export async function readAlphas(c: CombinedNet): Promise<{ unit: string; alphaSource: Float32Array; alphaTarget: Float32Array }[]> {
  const out = [];
  for (const [unit, as] of c.alphaSource) {
    const at = c.alphaTarget.get(unit);
    if (!at) continue;
    out.push({ unit, alphaSource: (await as.data()) as Float32Array, alphaTarget: (await at.data()) as Float32Array });
  }
  return out;
}
