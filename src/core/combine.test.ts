import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectArraysClose, finiteDifferenceCheck } from '../testing/tensors';
import { ALPHA_SOURCE_INIT, ALPHA_TARGET_INIT, buildCombined, combineUnit, disposeCombinedAlphas, forwardCombined } from './combine';
import { addHead, buildNet, disposeNet, plainUnitEvaluator, predict, type Net } from './nets';

function pair(kind: 'mlp' | 'conv4'): { s: Net; t: Net } {
  const s = buildNet(kind, 1);
  addHead(s, 'a', 4, 1);
  const t = buildNet(kind, 2);
  addHead(t, 'a', 4, 2);
  addHead(t, 'b', 3, 3);
  for (const net of [s, t]) {
    for (const u of net.units.values()) {
      if (u.bn) {
        u.bn.movingMean.assign(tf.randomUniform([u.spec.outChannels], -0.3, 0.3, 'float32', 5));
        u.bn.movingVariance.assign(tf.randomUniform([u.spec.outChannels], 0.5, 1.5, 'float32', 6));
      }
    }
  }
  return { s, t };
}

describe('combination layer', () => {
  it('computes (1+α_s)·z_s + α_t·z_t per channel', () => {
    const { s, t } = pair('conv4');
    const c = buildCombined(s, t);
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 3);
    c.alphaSource.get('conv1')!.assign(tf.linspace(-1, 0.5, 32));
    c.alphaTarget.get('conv1')!.assign(tf.linspace(0.9, -0.4, 32));
    const got = combineUnit(c, 'conv1', x);
    const zs = plainUnitEvaluator(s)('conv1', x);
    const zt = plainUnitEvaluator(t)('conv1', x);
    const want = tf.add(tf.mul(tf.add(c.alphaSource.get('conv1')!, 1), zs), tf.mul(c.alphaTarget.get('conv1')!, zt));
    expectArraysClose(got.dataSync(), want.dataSync());
    tf.dispose([x, got, zs, zt, want]);
    disposeCombinedAlphas(c);
    disposeNet(s); disposeNet(t);
  });

  it('starts at α_s = −0.5, α_t = +0.5, and equals the source network when α = 0', () => {
    const { s, t } = pair('mlp');
    const c = buildCombined(s, t);
    expect(c.alphaSource.get('fc1')!.dataSync()[0]).toBe(ALPHA_SOURCE_INIT);
    expect(c.alphaTarget.get('fc2')!.dataSync()[3]).toBe(ALPHA_TARGET_INIT);
    for (const v of [...c.alphaSource.values(), ...c.alphaTarget.values()]) v.assign(tf.zerosLike(v));
    const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    const combined = forwardCombined(c, x);
    const plain = predict(s, x);
    expectArraysClose(combined[0].dataSync(), plain[0].dataSync());
    tf.dispose([x, ...combined, ...plain]);
    disposeCombinedAlphas(c);
    disposeNet(s); disposeNet(t);
  });

  it('passes a finite-difference gradient check for α_s, α_t and θ_t', () => {
    const { s, t } = pair('mlp');
    const c = buildCombined(s, t);
    for (const v of c.alphaSource.values()) v.assign(tf.randomUniform(v.shape, -1, 0.5, 'float32', 8));
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 9) as tf.Tensor4D;
    const f = () => tf.tidy(() => {
      const [old, fresh] = forwardCombined(c, x);
      return tf.add(tf.mean(tf.square(old)), tf.mean(tf.sin(fresh))) as tf.Scalar;
    });
    const errors = [
      finiteDifferenceCheck(f, c.alphaSource.get('fc2')!, 8, 1e-3),
      finiteDifferenceCheck(f, c.alphaTarget.get('fc1')!, 8, 1e-3),
      finiteDifferenceCheck(f, t.units.get('fc2')!.kernel!, 8, 1e-3),
    ];
    expect(Math.max(...errors), `relative errors ${errors}`).toBeLessThan(2e-2);
    x.dispose();
    disposeCombinedAlphas(c);
    disposeNet(s); disposeNet(t);
  });

  it('refuses networks that do not fit together', () => {
    const s = buildNet('mlp', 1);
    addHead(s, 'a', 4, 1);
    const t = buildNet('conv4', 1);
    expect(() => buildCombined(s, t)).toThrow(/cannot combine/);
    const t2 = buildNet('mlp', 1);
    expect(() => buildCombined(s, t2)).toThrow(/one head more/);
    [s, t, t2].forEach(disposeNet);
  });
});
