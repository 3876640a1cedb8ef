import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeResident, makeResident } from '../core/batches';
import type { NetKind } from '../core/names';
import { addHead, buildNet, disposeNet } from '../core/nets';
import { trainSource, type StageOptions } from '../core/train';
import { syntheticTask } from '../testing/synthetic';
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
