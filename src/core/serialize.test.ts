import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sourceAndTarget } from '../testing/nets';
import { expectArraysClose } from '../testing/tensors';
import { buildCombined, disposeCombinedAlphas } from './combine';
import { foldCombined } from './fold';
import { addHead, buildNet, countParams, disposeNet, predict, type Net } from './nets';
import { deserializeNet, serializeNet, serializedBytes } from './serialize';

async function expectSameOutputs(a: Net, b: Net): Promise<void> {
  const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const ya = predict(a, x);
  const yb = predict(b, x);
  for (let i = 0; i < ya.length; i++) expectArraysClose(await yb[i].data(), await ya[i].data(), 0, 0);
  tf.dispose([x, ...ya, ...yb]);
}

describe('serializeNet / deserializeNet', () => {
  it.each([['mlp', 1], ['conv4', 0.125], ['resnet8', 0.25]] as const)('round-trips a %s (width %s) exactly, structured-clone safe', async (kind, width) => {
    const net = buildNet(kind, 2, width);
    addHead(net, 'a', 4, 1);
    addHead(net, 'b', 3, 2);
    const before = tf.memory().numTensors;
    const plain = structuredClone(await serializeNet(net));
    expect(tf.memory().numTensors).toBe(before);
    const back = deserializeNet(plain);
    expect(back.heads.map((h) => h.taskId)).toEqual(['a', 'b']);
    expect(countParams(back)).toBe(countParams(net));
    expect(serializedBytes(plain)).toBe(countParams(net) * 4);
    expect(back.topology).toEqual(net.topology);
    expect([...back.units.values()].filter((u) => u.bn).every((u) => !u.bn?.movingMean.trainable)).toBe(true);
    await expectSameOutputs(net, back);
    disposeNet(net);
    disposeNet(back);
  });

  it('round-trips a folded network (biases, no BN)', async () => {
    const { source: s, target: t } = sourceAndTarget('conv4', 0.125, { a: 4, b: 2 }, { a: 1, b: 3 });
    const c = buildCombined(s, t);
    const folded = foldCombined(c);
    const back = deserializeNet(await serializeNet(folded));
    await expectSameOutputs(folded, back);
    [s, t, folded, back].forEach(disposeNet);
    disposeCombinedAlphas(c);
  });

  it('refuses corrupt records without creating variables', async () => {
    const net = buildNet('mlp', 1, 0.05);
    addHead(net, 'a', 2, 1);
    const plain = await serializeNet(net);
    disposeNet(net);
    const before = tf.memory().numTensors;
    expect(() => deserializeNet({ ...plain, format: 'x' } as never)).toThrow(/not a rescl-net/);
    const bad = structuredClone(plain);
    bad.heads[0].bias.data = new Float32Array([1, Number.NaN]);
    expect(() => deserializeNet(bad)).toThrow(/non-finite/);
    const short = structuredClone(plain);
    short.units[0].kernel = { shape: [784, 20], data: new Float32Array(3) };
    expect(() => deserializeNet(short)).toThrow(/has 3 values/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
