/**
 * WebGPU kernels against tfjs's cpu reference kernels, on Dawn (npm `webgpu`) in Node. Without a
 * GPU this runs on SwiftShader: correctness only, no timing. Skipped (with the reason) when no
 * WebGPU adapter can be had here.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeResident, makeResident } from '../core/batches';
import { addHead, buildNet, disposeNet } from '../core/nets';
import { trainSource } from '../core/train';
import { syntheticTask } from '../testing/synthetic';
import { ADAM_SHAPES, compareAdam } from './adamCheck';
import { countDeviceWork } from './deviceWork';
import { registerFastKernels, restoreStockKernels } from './register';
import { randomValues, relativeError, runKernelOn, type KernelCase } from './testing';
import { gpuErrors, setupWebGPU } from './webgpuTesting';

const unavailable = await setupWebGPU();

afterAll(async () => {
  if (!unavailable) restoreStockKernels('webgpu');
  await tf.setBackend('cpu');
});

async function expectMatches(c: KernelCase, label: string): Promise<void> {
  const ref = await runKernelOn('cpu', c, true);
  const got = await runKernelOn('webgpu', c, false);
  expect(gpuErrors, label).toEqual([]);
  expect(got.shape, label).toEqual(ref.shape);
  const err = relativeError(got.values, ref.values);
  expect(err, `${label}: rel. err ${err}`).toBeLessThanOrEqual(1e-4);
}

const v = (shape: number[], seed: number, relu = false) => {
  const values = randomValues(shape.reduce((a, b) => a * b, 1), seed);
  if (relu) for (let i = 0; i < values.length; i++) values[i] = Math.max(0, values[i]);
  return { shape, values };
};

describe.skipIf(unavailable !== null)(`webgpu kernels (SwiftShader here; ${unavailable ?? 'adapter found'})`, () => {
  it('Conv2DBackpropFilter in one program: batch 1, odd sizes, same/valid, strides 1 and 2, channel counts across 8-channel tiles, positions across 64-position rounds', async () => {
    const cases: [number, number, number, number, number, number, number, 'same' | 'valid'][] = [
      [1, 5, 5, 1, 2, 3, 1, 'same'], [3, 7, 6, 2, 3, 3, 2, 'same'], [2, 8, 8, 3, 4, 3, 1, 'valid'],
      [1, 9, 7, 2, 2, 2, 2, 'valid'], [4, 7, 7, 3, 2, 1, 1, 'same'], [2, 5, 7, 2, 3, 3, 2, 'valid'],
      [5, 12, 11, 9, 17, 3, 1, 'same'], [3, 14, 14, 8, 16, 3, 2, 'same'], [2, 6, 6, 17, 1, 2, 1, 'valid'],
    ];
    const counter = countDeviceWork();
    for (const [i, [n, h, w, ci, co, f, s, pad]] of cases.entries()) {
      const ho = pad === 'same' ? Math.ceil(h / s) : Math.ceil((h - f + 1) / s);
      const wo = pad === 'same' ? Math.ceil(w / s) : Math.ceil((w - f + 1) / s);
      await expectMatches({
        kernel: tf.Conv2DBackpropFilter,
        inputs: { x: v([n, h, w, ci], 10 + i), dy: v([n, ho, wo, co], 20 + i) },
        attrs: { strides: [s, s], pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [f, f, ci, co] },
      }, `n${n} ${h}x${w} ${ci}->${co} f${f} s${s} ${pad}`);
    }
    const work = counter?.read();
    counter?.restore();
    // one program per call, nothing else (no transposes, no im2col)
    if (work) expect(work.byProgram).toEqual({ resclConvFilterGrad: cases.length });
  });

  it('MaxPoolGrad: 2x2/2, 3x3/2 same, 3x3/1, odd sizes, ReLU ties', async () => {
    const cases: [number, number, number, number, number, number, 'same' | 'valid', boolean][] = [
      [2, 8, 8, 3, 2, 2, 'valid', false], [1, 7, 5, 2, 2, 2, 'valid', true], [3, 7, 7, 2, 3, 2, 'same', false],
      [1, 6, 9, 4, 3, 1, 'valid', true], [2, 5, 5, 1, 2, 2, 'same', true],
    ];
    for (const [i, [n, h, w, ch, f, s, pad, ties]] of cases.entries()) {
      const ho = pad === 'same' ? Math.ceil(h / s) : Math.ceil((h - f + 1) / s);
      const wo = pad === 'same' ? Math.ceil(w / s) : Math.ceil((w - f + 1) / s);
      await expectMatches({
        kernel: tf.MaxPoolGrad,
        inputs: { dy: v([n, ho, wo, ch], 30 + i), input: v([n, h, w, ch], 40 + i, ties), output: v([n, ho, wo, ch], 50 + i) },
        attrs: { filterSize: [f, f], strides: [s, s], pad, dimRoundingMode: undefined },
      }, `${n}x${h}x${w}x${ch} f${f} s${s} ${pad} ties=${ties}`);
    }
  });

  it('AddN of 2, 7, 8 and 13 tensors (over the 8 storage buffers of a default device)', async () => {
    for (const count of [2, 7, 8, 13]) {
      await tf.setBackend('webgpu');
      registerFastKernels('webgpu');
      const xs = Array.from({ length: count }, (_, i) => tf.tensor(v([3, 5], 60 + i).values, [3, 5]));
      const got = await tf.addN(xs).data();
      const want = new Float32Array(15);
      for (let i = 0; i < count; i++) v([3, 5], 60 + i).values.forEach((x, j) => { want[j] += x; });
      tf.dispose(xs);
      expect(gpuErrors).toEqual([]);
      expect(relativeError(got, want), `AddN of ${count}`).toBeLessThanOrEqual(1e-5);
    }
  });

  it(`fused Adam = tf.train.adam on cpu over 20 steps, shapes ${JSON.stringify(ADAM_SHAPES)} (rel. err ≤ 1e-5)`, async () => {
    const r = await compareAdam('webgpu', 20);
    expect(tf.getBackend()).toBe('webgpu');
    console.log(`fused Adam on webgpu vs tfjs cpu: rel. err value ${r.value}, m ${r.m}, v ${r.v}`);
    expect(gpuErrors).toEqual([]);
    expect(r.fused).toBe(true);
    expect(r.value).toBeLessThanOrEqual(1e-5);
    expect(r.m).toBeLessThanOrEqual(1e-5);
    expect(r.v).toBeLessThanOrEqual(1e-5);
  });

  it('fused Adam with a folded weight decay (λ = 0.3 on every other variable) and L1 (λ = 0.05 on the rest) = tf.train.adam on g + autodiff of the decay, 20 steps (rel. err ≤ 1e-5)', async () => {
    const r = await compareAdam('webgpu', 20, 1e-2, 0.3, 0.05);
    expect(tf.getBackend()).toBe('webgpu');
    expect(gpuErrors).toEqual([]);
    expect(r.fused).toBe(true);
    expect(r.value).toBeLessThanOrEqual(1e-5);
    expect(r.m).toBeLessThanOrEqual(1e-5);
    expect(r.v).toBeLessThanOrEqual(1e-5);
  });

  it('conv4 training gives the same losses as cpu with tfjs kernels (≤ 1e-3)', async () => {
    const run = async (backendName: string, stock: boolean): Promise<number[]> => {
      await tf.setBackend(backendName);
      if (stock) restoreStockKernels(backendName); else registerFastKernels(backendName);
      const data = makeResident(syntheticTask('a', 4, 1, false, 32, 8).train);
      const net = buildNet('conv4', 1, 0.125);
      addHead(net, 'a', 4, 1);
      const out: number[] = [];
      const opts = { epochs: 10, batchSize: 8, learningRate: 3e-3, weightDecay: 1e-4, seed: 1, reportIntervalMs: 0, maxSteps: 3 };
      for await (const p of trainSource(net, 'a', data, opts)) {
        if (p.lossFresh) out.push(p.loss);
        if (p.compileMs !== undefined) compiledIn.push([backendName, p.step, p.compileMs]);
      }
      disposeNet(net);
      disposeResident(data);
      return out;
    };
    const compiledIn: [string, number, number][] = [];
    const reference = await run('cpu', true);
    const got = await run('webgpu', false);
    expect(gpuErrors).toEqual([]);
    // the pipeline warm-up ran on webgpu only, and its time came with the first step
    expect(compiledIn.map(([b, step]) => [b, step])).toEqual([['webgpu', 1]]);
    console.log(`conv4 pipeline warm-up on webgpu: ${compiledIn[0][2].toFixed(0)} ms`);
    expect(got.length).toBe(reference.length);
    got.forEach((l, i) => expect(Math.abs(l - reference[i]), `step ${i + 1}: ${l} vs ${reference[i]}`).toBeLessThanOrEqual(1e-3 * Math.max(1, reference[i])));
  }, 180_000); // ~40 s alone (SwiftShader compiles every conv4 program first); far longer on a loaded machine
});
