/**
 * The combination stage on networks with batch norm: net_s's BN runs as a frozen custom op (∂z
 * only), net_t's as a custom op in inference or training mode. Its gradients (α and θ_t, BN γ/β
 * included) must equal tfjs's autodiff through tf.moments / tf.batchNorm.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { randomizeAlphas, randomizeNet } from '../testing/nets';
import { expectArraysClose, expectNoTensorLeak } from '../testing/tensors';
import {
  alphaVariables, buildCombined, combinedHeads, combinedTargetVariables, disposeCombinedAlphas, forwardCombined,
  type CombinedNet, type TargetBatchNormMode,
} from './combine';
import {
  addHead, applyHead, applyUnitLinear, batchNormInferenceAutodiff, batchNormTrainingAutodiff, buildNet, cloneNet, disposeNet,
  runTopology, type BatchNormUpdate, type NetKind,
} from './nets';

/** forwardCombined with tfjs's own batch-norm ops, differentiated by autodiff (the reference). */
function forwardReference(c: CombinedNet, x: tf.Tensor4D, mode: TargetBatchNormMode, updates: BatchNormUpdate[]): tf.Tensor2D[] {
  const features = runTopology(c.source.topology, x, (unitId, input) => {
    const us = c.source.units.get(unitId);
    const ut = c.target.units.get(unitId);
    const as = c.alphaSource.get(unitId);
    const at = c.alphaTarget.get(unitId);
    if (!us || !ut || !as || !at) throw new Error(unitId);
    let zs = applyUnitLinear(us, input);
    if (us.bn) zs = batchNormInferenceAutodiff(us.bn, zs);
    let zt = applyUnitLinear(ut, input);
    if (ut.bn) zt = mode === 'train' ? batchNormTrainingAutodiff(ut.bn, zt, updates) : batchNormInferenceAutodiff(ut.bn, zt);
    return tf.add(tf.mul(tf.add(as, 1), zs), tf.mul(at, zt));
  });
  return combinedHeads(c).map((h) => applyHead(h, features));
}

function gradients(c: CombinedNet, forward: typeof forwardReference, x: tf.Tensor4D, mode: TargetBatchNormMode, vars: tf.Variable[]) {
  const updates: BatchNormUpdate[] = [];
  const out = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const logits = forward(c, x, mode, updates);
      // weights differ per logit, so each output position matters differently
      return tf.addN(logits.map((l, i) => tf.sum(tf.mul(l, tf.sin(tf.add(tf.range(0, l.size).reshape(l.shape), i)))))) as tf.Scalar;
    }, vars);
    return { value: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync().slice()) };
  });
  for (const u of updates) { u.mean.dispose(); u.variance.dispose(); }
  return out;
}

describe('combination stage on batch-norm networks: custom BN gradients = autodiff', () => {
  for (const [kind, width] of [['conv4', 0.125], ['resnet8', 0.25]] as [NetKind, number][]) {
    for (const mode of ['inference', 'train'] as TargetBatchNormMode[]) {
      it(`${kind} (width ${width}), target BN in ${mode} mode: α and θ_t gradients`, async () => {
        const source = buildNet(kind, 1, width);
        addHead(source, 'a', 5, 1);
        randomizeNet(source, 10);
        const target = cloneNet(source);
        addHead(target, 'b', 5, 2);
        randomizeNet(target, 50);
        const c = buildCombined(source, target);
        randomizeAlphas(c, 90);
        const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
        const vars = [...alphaVariables(c), ...combinedTargetVariables(c)];
        const ours = gradients(c, forwardCombined, x, mode, vars);
        const reference = gradients(c, forwardReference, x, mode, vars);
        expect(Math.abs(ours.value - reference.value)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(reference.value)));
        vars.forEach((_variable, i) => {
          const scale = Math.max(1e-3, ...Array.from(reference.grads[i], Math.abs));
          expectArraysClose(ours.grads[i], reference.grads[i], 1e-3, 1e-4 * scale);
        });
        // net_s stays frozen: its BN has no gradient through the combination
        const sourceBn = [...source.units.values()].find((u) => u.bn)?.bn;
        if (sourceBn) expect(() => gradients(c, forwardCombined, x, mode, [sourceBn.gamma])).toThrow();
        await expectNoTensorLeak(() => { gradients(c, forwardCombined, x, mode, vars); });
        x.dispose();
        disposeCombinedAlphas(c);
        disposeNet(target);
        disposeNet(source);
      });
    }
  }
});
