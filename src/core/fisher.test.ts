import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { syntheticTask } from '../testing/synthetic';
import { expectArraysClose } from '../testing/tensors';
import { disposeResident, makeResident } from './batches';
import { addHead, buildNet, disposeNet, plainUnitEvaluator, runTopology } from './nets';
import { computeFisher, ewcParameters } from './train';

/**
 * For the head (logits = f·W + b, p = softmax) the Fisher has a closed form, so a direct computation
 * checks the per-sample autodiff loop: with e_y the one-hot label,
 *   true:      F_b[i] = mean_n p_i (1 − p_i),          F_W[j,i] = mean_n f_j² p_i (1 − p_i)
 *   empirical: F_b[i] = mean_n (e_{y,i} − p_i)²,       F_W[j,i] = mean_n f_j² (e_{y,i} − p_i)²
 */
describe('diagonal Fisher on a tiny net', () => {
  it('matches the closed form of the head parameters, true and empirical', async () => {
    const task = syntheticTask('a', 3, 7, false, 12, 4);
    const data = makeResident(task.train);
    const net = buildNet('mlp', 5, 0.02);
    addHead(net, 'a', 3, 5);
    const before = tf.memory().numTensors;
    const [f, p, y] = tf.tidy(() => {
      const feats = runTopology(net.topology, data.x, plainUnitEvaluator(net, false, []));
      const logits = tf.add(tf.matMul(feats, net.heads[0].kernel), net.heads[0].bias);
      return [feats, tf.softmax(logits), tf.oneHot(data.y, 3).toFloat()];
    });
    const direct = tf.tidy(() => {
      const trueW = tf.mul(p, tf.sub(1, p));
      const empW = tf.square(tf.sub(y, p));
      const f2 = tf.square(f);
      const n = data.count;
      return {
        trueBias: tf.div(tf.sum(trueW, 0), n), trueKernel: tf.div(tf.matMul(f2, trueW, true, false), n),
        empBias: tf.div(tf.sum(empW, 0), n), empKernel: tf.div(tf.matMul(f2, empW, true, false), n),
      };
    });
    const params = ewcParameters(net);
    const bi = params.indexOf(net.heads[0].bias);
    const ki = params.indexOf(net.heads[0].kernel);
    const trueF = computeFisher(net, 'a', data, 1000, 1, 'true');
    const empF = computeFisher(net, 'a', data, 1000, 1, 'empirical');
    expectArraysClose(await trueF[bi].data(), await direct.trueBias.data(), 1e-5, 1e-4);
    expectArraysClose(await trueF[ki].data(), await direct.trueKernel.data(), 1e-5, 1e-4);
    expectArraysClose(await empF[bi].data(), await direct.empBias.data(), 1e-5, 1e-4);
    expectArraysClose(await empF[ki].data(), await direct.empKernel.data(), 1e-5, 1e-4);
    // the two differ (the net is untrained, its predictions are not the labels)
    const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(trueF[bi], empF[bi]))).dataSync()[0]);
    expect(gap).toBeGreaterThan(1e-3);
    // every trunk parameter gets a Fisher of its shape, non-negative
    for (let i = 0; i < params.length; i++) {
      expect(trueF[i].shape).toEqual(params[i].shape);
      expect(tf.tidy(() => tf.min(trueF[i]).dataSync()[0])).toBeGreaterThanOrEqual(0);
    }
    tf.dispose([...trueF, ...empF, f, p, y, ...Object.values(direct)]);
    expect(tf.memory().numTensors).toBe(before);
    disposeNet(net);
    disposeResident(data);
  });
});
