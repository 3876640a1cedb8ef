import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectArraysClose, expectNoTensorLeak } from '../testing/tensors';
import {
  applyBatchNormUpdates, batchNormInference, batchNormInferenceAutodiff, batchNormTraining, batchNormTrainingAutodiff, makeVariable,
  type BatchNormParams, type BatchNormUpdate,
} from './nets';

function randomBn(channels: number, seed: number): BatchNormParams {
  return {
    gamma: makeVariable(tf.randomUniform([channels], 0.5, 1.5, 'float32', seed), 'bn_gamma'),
    beta: makeVariable(tf.randomUniform([channels], -0.5, 0.5, 'float32', seed + 1), 'bn_beta'),
    movingMean: makeVariable(tf.zeros([channels]), 'bn_mean', false),
    movingVariance: makeVariable(tf.ones([channels]), 'bn_var', false),
  };
}

type BnForward = (bn: BatchNormParams, z: tf.Tensor, updates: BatchNormUpdate[]) => tf.Tensor;

/** y, ∂z, ∂γ, ∂β of L = Σ w ⊙ BN(z) (w random, so every output position matters differently). */
function valueAndGrads(forward: BnForward, bn: BatchNormParams, z: tf.Variable, weights: tf.Tensor) {
  const updates: BatchNormUpdate[] = [];
  const result = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(bn, z, updates), weights)) as tf.Scalar, [z, bn.gamma, bn.beta]);
    return {
      value: value.dataSync()[0],
      dz: grads[z.name].dataSync().slice(),
      dGamma: grads[bn.gamma.name].dataSync().slice(),
      dBeta: grads[bn.beta.name].dataSync().slice(),
    };
  });
  const moments = { mean: updates[0].mean.dataSync().slice(), variance: updates[0].variance.dataSync().slice() };
  for (const u of updates) { u.mean.dispose(); u.variance.dispose(); }
  return { ...result, ...moments, updates: updates.length };
}

describe('batchNormTraining: closed-form gradient', () => {
  for (const shape of [[7, 5], [1, 3], [3, 5, 4, 6], [2, 3, 3, 1]]) {
    it(`equals tfjs autodiff through tf.moments + tf.batchNorm for z ${JSON.stringify(shape)}`, () => {
      const bn = randomBn(shape[shape.length - 1], 3);
      const z = tf.variable(tf.randomNormal(shape, 0.3, 2, 'float32', 5));
      const weights = tf.randomNormal(shape, 0, 1, 'float32', 7);
      const ours = valueAndGrads(batchNormTraining, bn, z, weights);
      const reference = valueAndGrads(batchNormTrainingAutodiff, bn, z, weights);
      expect(ours.updates).toBe(1);
      expect(ours.value).toBeCloseTo(reference.value, 4);
      expectArraysClose(ours.mean, reference.mean, 1e-6, 1e-7);
      expectArraysClose(ours.variance, reference.variance, 1e-6, 1e-7);
      expectArraysClose(ours.dz, reference.dz, 1e-3, 1e-5);
      expectArraysClose(ours.dGamma, reference.dGamma, 1e-4, 1e-5);
      expectArraysClose(ours.dBeta, reference.dBeta, 1e-4, 1e-5);
      // the batch statistics really flow into ∂z: a BN gradient that ignored them (γ/σ ⊙ dy alone) would differ
      const naive = tf.tidy(() => tf.mul(weights, tf.div(bn.gamma, tf.sqrt(tf.add(tf.tensor1d(reference.variance), 1e-3)))).dataSync());
      expect(() => expectArraysClose(ours.dz, naive, 1e-3, 1e-5)).toThrow();
      tf.dispose([z, weights, bn.gamma, bn.beta, bn.movingMean, bn.movingVariance]);
    });
  }

  it('uses fewer kernels than autodiff for a conv-shaped BN step', async () => {
    const bn = randomBn(8, 1);
    const z = tf.variable(tf.randomNormal([4, 6, 6, 8], 0, 1, 'float32', 2));
    const weights = tf.randomNormal([4, 6, 6, 8], 0, 1, 'float32', 3);
    const count = async (forward: BnForward) => (await tf.profile(() => { valueAndGrads(forward, bn, z, weights); })).kernels.length;
    const ours = await count(batchNormTraining);
    const reference = await count(batchNormTrainingAutodiff);
    expect(ours).toBeLessThan(reference);
    tf.dispose([z, weights, bn.gamma, bn.beta, bn.movingMean, bn.movingVariance]);
  });

  it('leaks no tensors, and its running-statistics update still applies', async () => {
    const bn = randomBn(4, 9);
    const z = tf.variable(tf.randomNormal([6, 4], 2, 1, 'float32', 4));
    await expectNoTensorLeak(() => {
      const updates: BatchNormUpdate[] = [];
      tf.tidy(() => { tf.variableGrads(() => tf.sum(batchNormTraining(bn, z, updates)) as tf.Scalar, [z, bn.gamma]).value.dispose(); });
      applyBatchNormUpdates(updates);
    });
    expect(bn.movingMean.dataSync()[0]).toBeGreaterThan(0.2); // moved toward the batch mean (~2)
    tf.dispose([z, bn.gamma, bn.beta, bn.movingMean, bn.movingVariance]);
  });
});

describe('batchNormInference: written-out gradient', () => {
  for (const shape of [[5, 3], [2, 4, 3, 6]]) {
    it(`equals autodiff through tf.batchNorm for z ${JSON.stringify(shape)} (trainable γ, β) and when frozen (∂z only)`, () => {
      const channels = shape[shape.length - 1];
      const bn = randomBn(channels, 11);
      bn.movingMean.assign(tf.randomNormal([channels], 0, 1, 'float32', 12));
      bn.movingVariance.assign(tf.randomUniform([channels], 0.2, 3, 'float32', 13));
      const z = tf.variable(tf.randomNormal(shape, 0, 2, 'float32', 14));
      const weights = tf.randomNormal(shape, 0, 1, 'float32', 15);
      const grads = (forward: (zz: tf.Tensor) => tf.Tensor, vars: tf.Variable[]) => tf.tidy(() => {
        const { value, grads: g } = tf.variableGrads(() => tf.sum(tf.mul(forward(z), weights)) as tf.Scalar, vars);
        return [value.dataSync()[0], ...vars.map((v) => g[v.name].dataSync().slice())] as [number, ...Float32Array[]];
      });
      const all = [z, bn.gamma, bn.beta];
      const [value, dz, dGamma, dBeta] = grads((zz) => batchNormInference(bn, zz), all);
      const [refValue, refDz, refGamma, refBeta] = grads((zz) => batchNormInferenceAutodiff(bn, zz), all);
      expect(value).toBeCloseTo(refValue, 4);
      expectArraysClose(dz, refDz, 1e-4, 1e-6);
      expectArraysClose(dGamma, refGamma, 1e-4, 1e-5);
      expectArraysClose(dBeta, refBeta, 1e-4, 1e-5);
      const [frozenValue, frozenDz] = grads((zz) => batchNormInference(bn, zz, true), [z]);
      expect(frozenValue).toBeCloseTo(refValue, 4);
      expectArraysClose(frozenDz, refDz, 1e-4, 1e-6);
      // frozen really means constant γ, β: asking for their gradient through it fails
      expect(() => grads((zz) => batchNormInference(bn, zz, true), [z, bn.gamma])).toThrow();
      tf.dispose([z, weights, bn.gamma, bn.beta, bn.movingMean, bn.movingVariance]);
    });
  }

  it('leaks no tensors', async () => {
    const bn = randomBn(3, 21);
    const z = tf.variable(tf.randomNormal([4, 2, 2, 3], 0, 1, 'float32', 22));
    await expectNoTensorLeak(() => {
      tf.tidy(() => {
        tf.variableGrads(() => tf.sum(batchNormInference(bn, z)) as tf.Scalar, [z, bn.gamma, bn.beta]).value.dispose();
        tf.variableGrads(() => tf.sum(batchNormInference(bn, z, true)) as tf.Scalar, [z]).value.dispose();
      });
    });
    tf.dispose([z, bn.gamma, bn.beta, bn.movingMean, bn.movingVariance]);
  });
});
