import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { syntheticTask } from '../testing/synthetic';
import { expectNoTensorLeak } from '../testing/tensors';
import { disposeResident, makeResident } from './batches';
import { buildCombined, disposeCombinedAlphas } from './combine';
import { crossEntropy, distillation } from './losses';
import { addHead, buildNet, cloneNet, disposeNet } from './nets';
import {
  computeFisher, evaluateAccuracy, ewcParameters, plainForward, runToEnd, trainCombined, trainEwc, trainFeatureExtraction,
  trainFinetune, trainJoint, trainLwf, trainSource, type StageOptions, type StageProgress,
} from './train';

const opts: StageOptions = { epochs: 2, batchSize: 32, learningRate: 3e-3, weightDecay: 1e-4, seed: 1, reportIntervalMs: 0 };

describe('losses', () => {
  it('cross-entropy of uniform logits is log K; KD of identical logits is 0', () => {
    const z = tf.zeros([3, 5]) as tf.Tensor2D;
    expect(crossEntropy(z, tf.tensor1d([0, 1, 4], 'int32')).dataSync()[0]).toBeCloseTo(Math.log(5), 5);
    const logits = tf.randomNormal([4, 5], 0, 2, 'float32', 1) as tf.Tensor2D;
    expect(distillation(logits, logits).dataSync()[0]).toBeCloseTo(0, 5);
    expect(distillation(logits, tf.zeros([4, 5]) as tf.Tensor2D).dataSync()[0]).toBeGreaterThan(0);
  });
});

describe('training stages', () => {
  const taskA = syntheticTask('a', 4, 1);
  const taskB = syntheticTask('b', 3, 5, true);

  it('source training reduces the loss, reports progress with an ETA, and learns the task', async () => {
    const data = makeResident(taskA.train);
    const test = makeResident(taskA.test);
    const net = buildNet('mlp', 1);
    addHead(net, 'a', 4, 1);
    const reports: StageProgress[] = [];
    for await (const p of trainSource(net, 'a', data, opts)) reports.push(p);
    expect(reports.length).toBe(16);
    expect(reports[reports.length - 1].done).toBe(true);
    expect(reports[reports.length - 1].loss).toBeLessThan(reports[0].loss);
    expect(reports[3].etaMs).toBeGreaterThan(0);
    expect(await evaluateAccuracy(plainForward(net), 0, test)).toBeGreaterThan(0.9);
    disposeNet(net);
    disposeResident(data);
    disposeResident(test);
  });

  it('yieldEveryStep: a report per step, the loss read only when due (and at the first step)', async () => {
    const data = makeResident(taskA.train);
    const net = buildNet('mlp', 1, 0.25);
    addHead(net, 'a', 4, 1);
    const reports: StageProgress[] = [];
    for await (const p of trainSource(net, 'a', data, { ...opts, reportIntervalMs: 60_000, yieldEveryStep: true })) reports.push(p);
    expect(reports.map((r) => r.step)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(reports.map((r) => r.lossFresh)).toEqual([true, ...Array(14).fill(false), true]);
    expect(reports.every((r) => Number.isFinite(r.loss))).toBe(true);
    disposeNet(net);
    disposeResident(data);
  });

  it('stops cleanly when the consumer stops, and leaks no tensors', async () => {
    const data = makeResident(taskA.train);
    const net = buildNet('conv4', 1, 0.125);
    addHead(net, 'a', 4, 1);
    await expectNoTensorLeak(async () => {
      let steps = 0;
      for await (const p of trainSource(net, 'a', data, { ...opts, batchSize: 8 })) {
        steps = p.step;
        if (p.step === 2) break;
      }
      expect(steps).toBe(2);
    });
    disposeNet(net);
    disposeResident(data);
  });

  it('BN running statistics move during source training of conv4', async () => {
    const data = makeResident(taskA.train);
    const net = buildNet('conv4', 1, 0.125);
    addHead(net, 'a', 4, 1);
    await runToEnd(trainSource(net, 'a', data, { ...opts, batchSize: 16, maxSteps: 3 }));
    const mean = net.units.get('conv1')!.bn!.movingMean.dataSync();
    expect(Math.max(...Array.from(mean).map(Math.abs))).toBeGreaterThan(0);
    disposeNet(net);
    disposeResident(data);
  });

  it('baseline BN statistics: fine-tune, LwF, EWC keep the source\'s running statistics with \'frozen-source\' (γ, β and kernels still train) and move them with \'batch\'', async () => {
    const a = makeResident(taskA.train);
    const b = makeResident(taskB.train);
    const source = buildNet('conv4', 1, 0.125);
    addHead(source, 'a', 4, 1);
    await runToEnd(trainSource(source, 'a', a, { ...opts, batchSize: 16, maxSteps: 2 }));
    const stats = (n: typeof source) => [...n.units.values()].flatMap((u) => (u.bn ? [...u.bn.movingMean.dataSync(), ...u.bn.movingVariance.dataSync()] : []));
    const trained = (n: typeof source) => [...n.units.values()].flatMap((u) => [...u.kernel!.dataSync(), ...(u.bn ? u.bn.gamma.dataSync() : [])]);
    const sourceStats = stats(source);
    const sourceWeights = trained(source);
    const small = { ...opts, batchSize: 16, maxSteps: 3, headWarmupSteps: 0 };
    const fisher = computeFisher(source, 'a', a, 4, 1);
    const anchors = ewcParameters(source).map((v) => v.clone());
    for (const batchNorm of ['frozen-source', 'batch'] as const) {
      const runs: [string, (net: typeof source) => AsyncGenerator<StageProgress, void, undefined>][] = [
        ['ft', (net) => trainFinetune(net, 'b', b, { ...small, batchNorm })],
        ['lwf', (net) => trainLwf(net, 'b', b, { ...small, batchNorm, lambdaOld: 1 })],
        ['ewc', (net) => trainEwc(net, 'b', b, { fisher, anchors }, { ...small, batchNorm, lambdaEwc: 10 })],
      ];
      for (const [name, train] of runs) {
        const net = cloneNet(source);
        addHead(net, 'b', 3, 2);
        await runToEnd(train(net));
        const moved = stats(net).some((x, i) => x !== sourceStats[i]);
        expect(moved, `${name} ${batchNorm}: running statistics ${moved ? 'moved' : 'kept'}`).toBe(batchNorm === 'batch');
        expect(trained(net).some((x, i) => x !== sourceWeights[i]), `${name} ${batchNorm}: kernels and γ train`).toBe(true);
        disposeNet(net);
      }
    }
    tf.dispose([...fisher, ...anchors]);
    disposeNet(source);
    disposeResident(a);
    disposeResident(b);
  }, 120_000); // conv4 on the cpu backend: ~15 s alone

  it('every stage and baseline runs a full pipeline without leaking tensors', async () => {
    const a = makeResident(taskA.train);
    const b = makeResident(taskB.train);
    const source = buildNet('mlp', 1);
    addHead(source, 'a', 4, 1);
    await runToEnd(trainSource(source, 'a', a, opts));
    const small = { ...opts, maxSteps: 4, headWarmupSteps: 2 };
    await expectNoTensorLeak(async () => {
      const target = cloneNet(source);
      addHead(target, 'b', 3, 2);
      await runToEnd(trainFinetune(target, 'b', b, small));
      const c = buildCombined(source, target);
      const last = await runToEnd(trainCombined(c, b, { ...small, lambda: () => 1e-3, alphaLearningRate: 1e-2, targetBatchNorm: 'inference' }));
      expect(last?.stage).toBe('combine');
      disposeCombinedAlphas(c);
      disposeNet(target);

      const fe = cloneNet(source);
      addHead(fe, 'b', 3, 2);
      await runToEnd(trainFeatureExtraction(fe, 'b', b, small));
      disposeNet(fe);

      const lwf = cloneNet(source);
      addHead(lwf, 'b', 3, 2);
      await runToEnd(trainLwf(lwf, 'b', b, { ...small, lambdaOld: 1 }));
      disposeNet(lwf);

      const fisher = computeFisher(source, 'a', a, 8, 1);
      const anchors = [...source.units.values()].flatMap((u) => [u.kernel!, u.bias!]).concat(source.heads.flatMap((h) => [h.kernel, h.bias])).map((v) => v.clone());
      const ewc = cloneNet(source);
      addHead(ewc, 'b', 3, 2);
      await runToEnd(trainEwc(ewc, 'b', b, { fisher, anchors }, { ...small, lambdaEwc: 10 }));
      tf.dispose([...fisher, ...anchors]);
      disposeNet(ewc);

      const joint = buildNet('mlp', 3);
      addHead(joint, 'a', 4, 1);
      addHead(joint, 'b', 3, 2);
      await runToEnd(trainJoint(joint, ['a', 'b'], [a, b], small));
      disposeNet(joint);
    });
    disposeNet(source);
    disposeResident(a);
    disposeResident(b);
  }, 240_000); // six stages on the cpu backend: ~55 s alone on a 2-core machine, more under load

  it('feature extraction keeps the source trunk exactly', async () => {
    const a = makeResident(taskA.train);
    const b = makeResident(taskB.train);
    const net = buildNet('conv4', 1, 0.125);
    addHead(net, 'a', 4, 1);
    addHead(net, 'b', 3, 2);
    const before = net.units.get('conv2')!.kernel!.dataSync().slice();
    const meanBefore = net.units.get('conv2')!.bn!.movingMean.dataSync().slice();
    await runToEnd(trainFeatureExtraction(net, 'b', b, { ...opts, batchSize: 16, maxSteps: 2 }));
    expect(Array.from(net.units.get('conv2')!.kernel!.dataSync())).toEqual(Array.from(before));
    expect(Array.from(net.units.get('conv2')!.bn!.movingMean.dataSync())).toEqual(Array.from(meanBefore));
    disposeNet(net);
    disposeResident(a);
    disposeResident(b);
  });

  it('live λ: the combined stage reads λ at every step', async () => {
    const a = makeResident(taskA.train);
    const b = makeResident(taskB.train);
    const source = buildNet('mlp', 1);
    addHead(source, 'a', 4, 1);
    const target = cloneNet(source);
    addHead(target, 'b', 3, 2);
    const c = buildCombined(source, target);
    const seen: number[] = [];
    let lambda = 0;
    for await (const p of trainCombined(c, b, { ...opts, lambda: () => { seen.push(lambda); return lambda; }, alphaLearningRate: 1e-2, targetBatchNorm: 'inference', maxSteps: 4 })) {
      if (p.step === 2) lambda = 0.5;
    }
    expect(seen.slice(0, 2)).toEqual([0, 0]);
    expect(seen.slice(2)).toEqual([0.5, 0.5]);
    disposeCombinedAlphas(c);
    disposeNet(source); disposeNet(target);
    disposeResident(a); disposeResident(b);
  });
});
