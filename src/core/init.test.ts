import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseInitScheme } from './init';
import { addHead, buildNet, disposeNet } from './nets';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const values = async (v: tf.Tensor) => Array.from(await v.data());

describe('weight initialisation schemes', () => {
  it("'he' (the default) draws exactly what the lab drew before the setting existed", async () => {
    const before = tf.memory().numTensors;
    const net = buildNet('mlp', 3);
    const explicit = buildNet('mlp', 3, 1, 'he');
    addHead(net, 'a', 10, 3);
    const l1 = net.units.get('fc1');
    expect(l1?.kernel).toBeDefined();
    const expected = tf.randomNormal([784, 400], 0, Math.sqrt(2 / 784), 'float32', 3000);
    expect(await values(l1!.kernel!)).toEqual(await values(expected));
    expect(await values(explicit.units.get('fc1')!.kernel!)).toEqual(await values(expected));
    expect((await values(l1!.bias!)).every((b) => b === 0)).toBe(true);
    const limit = Math.sqrt(6 / (400 + 10));
    const glorot = tf.randomUniform([400, 10], -limit, limit, 'float32', 3 * 7919);
    expect(await values(net.heads[0].kernel)).toEqual(await values(glorot));
    expect((await values(net.heads[0].bias)).every((b) => b === 0)).toBe(true);
    tf.dispose([expected, glorot]);
    disposeNet(net);
    disposeNet(explicit);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("'torch-default' draws kernels and biases from U(±1/√fan_in), heads included", async () => {
    const net = buildNet('conv4', 1, 0.25, 'torch-default');
    addHead(net, 'a', 10, 1, 'torch-default');
    const conv = [...net.units.values()].find((u) => u.spec.op === 'conv' && u.spec.inChannels > 1)!;
    const fanIn = 9 * conv.spec.inChannels;
    const w = await values(conv.kernel!);
    const bound = 1 / Math.sqrt(fanIn);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    expect(std).toBeGreaterThan(0.8 * bound / Math.sqrt(3));
    expect(std).toBeLessThan(1.2 * bound / Math.sqrt(3));
    const head = await values(net.heads[0].kernel);
    const headBias = await values(net.heads[0].bias);
    const headBound = 1 / Math.sqrt(net.featureSize);
    expect(Math.max(...head.map(Math.abs))).toBeLessThanOrEqual(headBound);
    expect(headBias.some((b) => b !== 0)).toBe(true);
    expect(Math.max(...headBias.map(Math.abs))).toBeLessThanOrEqual(headBound);
    // the mlp's dense units have biases: drawn, not zero, and not the kernel's own first draws
    const mlp = buildNet('mlp', 1, 0.25, 'torch-default');
    const fc = mlp.units.get('fc1')!;
    const b = await values(fc.bias!);
    expect(b.some((x) => x !== 0)).toBe(true);
    expect(Math.max(...b.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(784));
    expect(b.slice(0, 5)).not.toEqual((await values(fc.kernel!)).slice(0, 5));
    disposeNet(net);
    disposeNet(mlp);
  });

  it('parseInitScheme names the choices on bad input', () => {
    expect(parseInitScheme('torch-default')).toBe('torch-default');
    expect(() => parseInitScheme('xavier')).toThrow(/he, torch-default.*"xavier"/);
    expect(() => parseInitScheme(3)).toThrow(/init must be one of/);
  });
});
