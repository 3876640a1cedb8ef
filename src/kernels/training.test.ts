import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeResident, makeResident } from '../core/batches';
import { buildCombined, disposeCombinedAlphas } from '../core/combine';
import type { NetKind } from '../core/names';
import { addHead, buildNet, cloneNet, disposeNet } from '../core/nets';
import { ADAM_KERNEL } from '../core/optimizer';
import { trainCombined, trainFinetune, trainSource, type StageOptions, type StageProgress } from '../core/train';
import { syntheticTask } from '../testing/synthetic';
import { useAdamKernel } from './adamCheck';
import { registerFastKernels, restoreStockKernels } from './register';
import { setupWasmForTests } from './testing';

const STEPS = 4;
const opts: StageOptions = { epochs: 10, batchSize: 8, learningRate: 3e-3, weightDecay: 1e-4, seed: 1, reportIntervalMs: 0, maxSteps: STEPS };

/** Losses of the first STEPS source-training steps of a fresh, seeded net on `backendName`. */
async function losses(backendName: string, stock: boolean, kind: NetKind, width: number): Promise<number[]> {
  await tf.setBackend(backendName);
  if (stock) restoreStockKernels(backendName); else registerFastKernels(backendName);
  const data = makeResident(syntheticTask('a', 4, 1, false, 32, 8).train);
  const net = buildNet(kind, 1, width);
  addHead(net, 'a', 4, 1);
  const out: number[] = [];
  for await (const p of trainSource(net, 'a', data, opts)) if (p.lossFresh) out.push(p.loss);
  disposeNet(net);
  disposeResident(data);
  return out;
}

function expectSameLosses(actual: number[], expected: number[], label: string): void {
  expect(actual.length, label).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    expect(Math.abs(actual[i] - expected[i]), `${label} step ${i + 1}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(expected[i])));
  }
}

const wasmOk = await setupWasmForTests();

afterAll(async () => {
  restoreStockKernels('cpu');
  if (wasmOk) restoreStockKernels('wasm');
  await tf.setBackend('cpu');
});

describe('a training run gives the same losses with and without the new kernels (≤ 1e-3)', () => {
  for (const [kind, width] of [['conv4', 0.125], ['resnet8', 0.25]] as [NetKind, number][]) {
    it(`${kind} (width ${width}): cpu stock = cpu fast${wasmOk ? ' = wasm fast' : ''}`, async () => {
      const reference = await losses('cpu', true, kind, width);
      expect(reference.length).toBe(STEPS);
      expect(reference.every(Number.isFinite)).toBe(true);
      expectSameLosses(await losses('cpu', false, kind, width), reference, `${kind} cpu fast`);
      if (wasmOk) expectSameLosses(await losses('wasm', false, kind, width), reference, `${kind} wasm fast`);
    });
  }
});

/**
 * Losses of every step of an mlp pipeline on `backendName`: source training, fine-tuning (head
 * warm-up, then all) and the combined stage (two Adam groups: α and θ_t), `steps` steps each. With
 * `stock` the optimiser is tfjs's Adam (ours is not registered), else the fused kernel (also on
 * wasm, where registerFastKernels leaves it out).
 */
async function pipelineLosses(backendName: string, stock: boolean, steps: number): Promise<number[]> {
  await tf.setBackend(backendName);
  let undo = () => {};
  if (stock) restoreStockKernels(backendName); else undo = useAdamKernel(backendName);
  expect(tf.getKernel(ADAM_KERNEL, backendName) !== undefined, `${ADAM_KERNEL} registered on ${backendName}`).toBe(!stock);
  const a = makeResident(syntheticTask('a', 4, 1, false, 64, 8).train);
  const b = makeResident(syntheticTask('b', 3, 2, true, 64, 8).train);
  const o = { ...opts, maxSteps: steps };
  const out: number[] = [];
  const collect = async (stage: AsyncGenerator<StageProgress, void, undefined>) => {
    for await (const p of stage) if (p.lossFresh) out.push(p.loss);
  };
  const source = buildNet('mlp', 1, 0.25);
  addHead(source, 'a', 4, 1);
  await collect(trainSource(source, 'a', a, o));
  const target = cloneNet(source);
  addHead(target, 'b', 3, 2);
  await collect(trainFinetune(target, 'b', b, { ...o, headWarmupSteps: 2 }));
  const c = buildCombined(source, target);
  await collect(trainCombined(c, b, { ...o, lambda: 1e-3, alphaLearningRate: 1e-2, targetBatchNorm: 'inference' }));
  disposeCombinedAlphas(c);
  disposeNet(target);
  disposeNet(source);
  disposeResident(a);
  disposeResident(b);
  undo();
  return out;
}

describe(`an mlp pipeline gives the same losses with the fused Adam (${ADAM_KERNEL}) as with tfjs's (≤ 1e-3)`, () => {
  const STAGE_STEPS = 10;
  it(`source, fine-tune, combine, ${STAGE_STEPS} steps each: cpu tfjs Adam = cpu fused${wasmOk ? ' = wasm fused' : ''}`, async () => {
    const reference = await pipelineLosses('cpu', true, STAGE_STEPS);
    expect(reference.length).toBe(3 * STAGE_STEPS);
    expect(reference.every(Number.isFinite)).toBe(true);
    expectSameLosses(await pipelineLosses('cpu', false, STAGE_STEPS), reference, 'mlp cpu fused');
    if (wasmOk) expectSameLosses(await pipelineLosses('wasm', false, STAGE_STEPS), reference, 'mlp wasm fused');
  });
});
