import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { randomizeAlphas, randomizeNet } from '../testing/nets';
import { expectArraysClose } from '../testing/tensors';
import { buildCombined, disposeCombinedAlphas, predictCombined } from './combine';
import { checkFold, foldCombined, modelArtifacts, modelJson, toLayersModel } from './fold';
import { addHead, buildNet, cloneNet, countParams, disposeNet, predict, type Net, type NetKind } from './nets';

function makePair(kind: NetKind): { source: Net; target: Net } {
  const source = buildNet(kind, 1);
  addHead(source, 'a', 10, 1);
  randomizeNet(source, 100);
  const target = buildNet(kind, 2);
  addHead(target, 'a', 10, 2);
  addHead(target, 'b', 5, 3);
  randomizeNet(target, 200);
  return { source, target };
}

const inputs = (n: number, seed: number) => tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', seed) as tf.Tensor4D;

describe('folding net_c', () => {
  for (const kind of ['mlp', 'conv4', 'resnet8'] as const) {
    it(`is exact for ${kind} with random BN statistics and random α`, async () => {
      const { source, target } = makePair(kind);
      const c = buildCombined(source, target);
      randomizeAlphas(c, 300);
      const folded = foldCombined(c);
      const x = inputs(8, 7);
      const report = await checkFold(c, folded, x);
      expect(report.logitScale).toBeGreaterThan(0.1);
      expect(report.maxAbsDiff).toBeLessThanOrEqual(1e-4 * Math.max(1, report.logitScale));
      // folded = source + new head (BN statistics of the source fold into biases, so count trunk shapes)
      const newHeadSize = target.heads[1].kernel.size + target.heads[1].bias.size;
      const foldedTrunk = report.paramCount.folded - newHeadSize - (source.heads[0].kernel.size + source.heads[0].bias.size);
      expect(report.paramCount.folded).toBe(countParams(folded));
      expect(foldedTrunk).toBeLessThanOrEqual(report.paramCount.source);
      expect(report.paramCount.combined).toBeGreaterThan(2 * foldedTrunk);
      // heads in task order
      expect(folded.heads.map((h) => h.taskId)).toEqual(['a', 'b']);
      x.dispose();
      disposeCombinedAlphas(c);
      [source, target, folded].forEach(disposeNet);
    });
  }

  it('the folded conv4 has exactly the source architecture plus the new head (no BN, with bias)', () => {
    const { source, target } = makePair('conv4');
    const c = buildCombined(source, target);
    const folded = foldCombined(c);
    // A BN-free conv4 with biases: kernels + biases of every unit.
    let trunkWeights = 0;
    for (const u of source.units.values()) trunkWeights += (u.kernel?.size ?? 0) + u.spec.outChannels;
    const heads = folded.heads.reduce((n, h) => n + h.kernel.size + h.bias.size, 0);
    expect(countParams(folded)).toBe(trunkWeights + heads);
    for (const u of folded.units.values()) expect(u.bn).toBeUndefined();
    disposeCombinedAlphas(c);
    [source, target, folded].forEach(disposeNet);
  });

  it('chains over three tasks: the folded net is the next source and folding stays exact', async () => {
    const { source, target } = makePair('conv4');
    const c1 = buildCombined(source, target);
    randomizeAlphas(c1, 400);
    const folded1 = foldCombined(c1);
    const target2 = cloneNet(folded1);
    addHead(target2, 'c', 3, 9);
    randomizeNet(target2, 500);
    for (const u of target2.units.values()) if (u.kernel) u.kernel.assign(tf.mul(u.kernel, tf.randomUniform(u.kernel.shape, 0.5, 1.5, 'float32', 11)));
    const c2 = buildCombined(folded1, target2);
    randomizeAlphas(c2, 600);
    const folded2 = foldCombined(c2);
    const x = inputs(6, 8);
    const report = await checkFold(c2, folded2, x);
    expect(report.maxAbsDiff).toBeLessThanOrEqual(1e-4 * Math.max(1, report.logitScale));
    expect(folded2.heads.map((h) => h.taskId)).toEqual(['a', 'b', 'c']);
    expect(countParams(folded2)).toBe(countParams(folded1) + target2.heads[2].kernel.size + target2.heads[2].bias.size);
    // the heads of earlier tasks still see the function they saw through net_c
    const viaCombined = predictCombined(c2, x);
    const viaFolded = predict(folded2, x);
    for (let h = 0; h < 3; h++) expectArraysClose(viaFolded[h].dataSync(), viaCombined[h].dataSync(), 1e-4, 1e-4);
    tf.dispose([x, ...viaCombined, ...viaFolded]);
    disposeCombinedAlphas(c1);
    disposeCombinedAlphas(c2);
    [source, target, folded1, target2, folded2].forEach(disposeNet);
  });
});

describe('export as a tfjs LayersModel', () => {
  for (const kind of ['mlp', 'conv4', 'resnet8'] as const) {
    it(`${kind}: stock tf.loadLayersModel reads it and gives the folded logits`, async () => {
      const { source, target } = makePair(kind);
      const c = buildCombined(source, target);
      randomizeAlphas(c, 700);
      const folded = foldCombined(c);
      const model = toLayersModel(folded);
      const artifacts = await modelArtifacts(model);
      // round-trip through the JSON text a file would hold
      const json = JSON.parse(JSON.stringify(modelJson(artifacts))) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
      const loaded = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: artifacts.weightData,
      }));
      expect(loaded.outputNames.map((n) => n.split('/')[0])).toEqual(['head_a', 'head_b']);
      const x = inputs(5, 9);
      const expected = predict(folded, x);
      const got = loaded.predict(x) as tf.Tensor[];
      for (let h = 0; h < 2; h++) expectArraysClose(got[h].dataSync(), expected[h].dataSync(), 1e-4, 1e-4);
      expect(loaded.countParams()).toBe(countParams(folded));
      tf.dispose([x, ...expected, ...got]);
      model.dispose();
      loaded.dispose();
      disposeCombinedAlphas(c);
      [source, target, folded].forEach(disposeNet);
    });
  }

  it('refuses a network that still has BatchNorm', () => {
    const net = buildNet('conv4', 1);
    addHead(net, 'a', 10, 1);
    expect(() => toLayersModel(net)).toThrow(/still has BatchNorm/);
    disposeNet(net);
  });
});
