import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchPlan } from './batches';
import { addHead, buildNet, disposeNet, predict } from './nets';
import { deserializeNet, serializeNet } from './serialize';
import { batchOrder, traceFromJson, traceToJson } from './trace';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('stage trace export', () => {
  it('batchOrder is the batch plan trainingLoop iterates, cut at `steps`', () => {
    const order = batchOrder(300, 128, 2, 7, 5);
    const plan = [...batchPlan(300, 128, 2, 7)].slice(0, 5);
    expect(order.map((b) => Array.from(b))).toEqual(plan.map((p) => Array.from(p.indices)));
    expect(order.map((b) => b.length)).toEqual([128, 128, 44, 128, 128]);
  });

  it('round-trips weights and batch order exactly through JSON', async () => {
    const net = buildNet('conv4', 3, 0.125);
    addHead(net, 'a', 10, 3);
    const trace = {
      format: 'rescl-trace' as const, version: 1 as const, stage: 'source',
      nets: { net: await serializeNet(net) }, batches: batchOrder(50, 16, 1, 2), settings: { learningRate: 1e-3 },
      extra: { fisher: [{ shape: [2], data: new Float32Array([0.1, 3e-9]) }] },
    };
    const back = traceFromJson(traceToJson(trace));
    expect(back.batches).toEqual(trace.batches);
    expect(back.settings).toEqual(trace.settings);
    expect(back.extra).toEqual(trace.extra);
    const s = trace.nets.net;
    const r = back.nets.net;
    expect(r.units.map((u) => u.spec)).toEqual(s.units.map((u) => u.spec));
    s.units.forEach((u, i) => {
      expect(r.units[i].kernel?.data).toEqual(u.kernel?.data);
      expect(r.units[i].bn?.gamma.data).toEqual(u.bn?.gamma.data);
      expect(r.units[i].bn?.movingVariance.data).toEqual(u.bn?.movingVariance.data);
    });
    expect(r.heads[0].kernel.data).toEqual(s.heads[0].kernel.data);
    // the rebuilt net computes bit for bit what the original computes
    const copy = deserializeNet(r);
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const [a] = predict(net, x);
    const [b] = predict(copy, x);
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, a, b]);
    disposeNet(net);
    disposeNet(copy);
  });

  it("round-trips an mlp's drawn biases ('torch-default' init) and its head bias exactly", async () => {
    const net = buildNet('mlp', 2, 0.05, 'torch-default');
    addHead(net, 'a', 10, 2, 'torch-default');
    const s = await serializeNet(net);
    const r = traceFromJson(traceToJson({ format: 'rescl-trace', version: 1, stage: 'source', nets: { net: s }, batches: [], settings: {} })).nets.net;
    expect(s.units[0].bias?.data.some((b) => b !== 0)).toBe(true);
    s.units.forEach((u, i) => expect(r.units[i].bias?.data).toEqual(u.bias?.data));
    expect(r.heads[0].bias.data).toEqual(s.heads[0].bias.data);
    disposeNet(net);
  });

  it('refuses text that is not a trace', () => {
    expect(() => traceFromJson('{"format":"x"}')).toThrow(/rescl-trace/);
  });
});
