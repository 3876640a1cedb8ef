import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { restoreStockKernels } from './register';
import { randomValues, relativeError, runKernelOn, setupWasmForTests, type KernelCase } from './testing';

const TOL = 1e-4;

type Pad = 'same' | 'valid';
interface ConvShape { n: number; h: number; w: number; ci: number; co: number; f: [number, number]; s: number; pad: Pad }

function convShapes(): ConvShape[] {
  const out: ConvShape[] = [];
  let seed = 7;
  const pick = <T,>(xs: T[]): T => { seed = (seed * 48271) % 2147483647; return xs[seed % xs.length]; };
  for (const pad of ['same', 'valid'] as Pad[]) {
    for (const s of [1, 2]) {
      for (const n of [1, 3]) {
        for (let k = 0; k < 3; k++) {
          out.push({ n, h: pick([5, 7, 8, 9]), w: pick([5, 6, 7]), ci: pick([1, 2, 3]), co: pick([1, 2, 4]), f: pick([[1, 1], [2, 2], [3, 3], [3, 2]]) as [number, number], s, pad });
        }
      }
    }
  }
  return out;
}

function outSize(size: number, f: number, s: number, pad: Pad): number {
  return pad === 'same' ? Math.ceil(size / s) : Math.ceil((size - f + 1) / s);
}

/** A Conv2DBackpropFilter or Conv2DBackpropInput call of shape `c`, random tensors from `seed`. */
function gradCase(kernel: typeof tf.Conv2DBackpropFilter | typeof tf.Conv2DBackpropInput, c: ConvShape, seed: number): KernelCase {
  const ho = outSize(c.h, c.f[0], c.s, c.pad);
  const wo = outSize(c.w, c.f[1], c.s, c.pad);
  const tensor = (shape: number[], k: number) => ({ shape, values: randomValues(shape.reduce((a, b) => a * b, 1), seed + k) });
  const dy = tensor([c.n, ho, wo, c.co], 1);
  const forFilter = kernel === tf.Conv2DBackpropFilter;
  return {
    kernel,
    inputs: forFilter ? { x: tensor([c.n, c.h, c.w, c.ci], 0), dy } : { dy, filter: tensor([c.f[0], c.f[1], c.ci, c.co], 0) },
    attrs: {
      strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined,
      ...(forFilter ? { filterShape: [c.f[0], c.f[1], c.ci, c.co] } : { inputShape: [c.n, c.h, c.w, c.ci] }),
    },
  };
}

function maxPoolGradCase(n: number, h: number, w: number, ch: number, f: number, s: number, pad: Pad, seed: number, ties = false): KernelCase {
  const input = randomValues(n * h * w * ch, seed);
  // ReLU'd activations: many exact zeros, so windows tie and the first maximum must win.
  if (ties) for (let i = 0; i < input.length; i++) input[i] = Math.max(0, input[i]);
  const ho = outSize(h, f, s, pad);
  const wo = outSize(w, f, s, pad);
  const output = new Float32Array(n * ho * wo * ch);
  return {
    kernel: tf.MaxPoolGrad,
    inputs: {
      dy: { shape: [n, ho, wo, ch], values: randomValues(n * ho * wo * ch, seed + 1) },
      input: { shape: [n, h, w, ch], values: input },
      // Not read by any backend's MaxPoolGrad; present because the kernel signature has it.
      output: { shape: [n, ho, wo, ch], values: output },
    },
    attrs: { filterSize: [f, f], strides: [s, s], pad, dimRoundingMode: undefined },
  };
}

/** Reference: tfjs's own cpu kernel. */
async function reference(c: KernelCase): Promise<{ shape: number[]; values: Float32Array }> {
  return runKernelOn('cpu', c, true);
}

async function expectMatches(backendName: string, c: KernelCase, label: string): Promise<number> {
  const ref = await reference(c);
  const got = await runKernelOn(backendName, c, false);
  expect(got.shape, label).toEqual(ref.shape);
  const err = relativeError(got.values, ref.values);
  expect(err, `${label}: rel. err ${err}`).toBeLessThanOrEqual(TOL);
  return err;
}

const label = (c: ConvShape): string => `n${c.n} ${c.h}x${c.w} ${c.ci}->${c.co} f${c.f.join('x')} s${c.s} ${c.pad}`;

const wasmOk = await setupWasmForTests();
const backends = wasmOk ? ['cpu', 'wasm'] : ['cpu'];

afterAll(async () => {
  for (const b of backends) restoreStockKernels(b);
  await tf.setBackend('cpu');
});

describe('kernels match tfjs reference kernels (cpu stock) within 1e-4', () => {
  it('wasm backend starts under Node (else only cpu is checked)', () => {
    expect(wasmOk).toBe(true);
  });

  for (const backendName of backends) {
    it(`${backendName}: Conv2DBackpropFilter over ${convShapes().length} shapes`, async () => {
      let worst = 0;
      for (const [i, c] of convShapes().entries()) worst = Math.max(worst, await expectMatches(backendName, gradCase(tf.Conv2DBackpropFilter, c, 100 + i), label(c)));
      expect(worst).toBeLessThanOrEqual(TOL);
    });

    it(`${backendName}: Conv2DBackpropInput over ${convShapes().length} shapes`, async () => {
      for (const [i, c] of convShapes().entries()) await expectMatches(backendName, gradCase(tf.Conv2DBackpropInput, c, 200 + i), label(c));
    });

    it(`${backendName}: MaxPoolGrad (2x2/2, 3x3/2 same, 3x3/1 valid, odd sizes, ties)`, async () => {
      const cases: [number, number, number, number, number, number, Pad, boolean][] = [
        [2, 8, 8, 3, 2, 2, 'valid', false], [1, 7, 5, 2, 2, 2, 'valid', true], [3, 7, 7, 2, 3, 2, 'same', false],
        [1, 6, 9, 4, 3, 1, 'valid', true], [2, 5, 5, 1, 2, 2, 'same', true],
      ];
      for (const [i, [n, h, w, ch, f, s, pad, ties]] of cases.entries()) {
        await expectMatches(backendName, maxPoolGradCase(n, h, w, ch, f, s, pad, 300 + i, ties), `${n}x${h}x${w}x${ch} f${f} s${s} ${pad} ties=${ties}`);
      }
    });

    it(`${backendName}: Tile, Sum and Mean (fast paths and fallbacks)`, async () => {
      const v = (shape: number[], seed: number) => ({ shape, values: randomValues(shape.reduce((a, b) => a * b, 1), seed) });
      const cases: [string, KernelCase][] = [
        ['tile bn', { kernel: tf.Tile, inputs: { x: v([1, 1, 1, 5], 1) }, attrs: { reps: [3, 4, 5, 1] } }],
        ['tile general', { kernel: tf.Tile, inputs: { x: v([2, 3], 2) }, attrs: { reps: [2, 3] } }],
        ['tile rows', { kernel: tf.Tile, inputs: { x: v([1, 7], 3) }, attrs: { reps: [9, 1] } }],
        ['sum leading', { kernel: tf.Sum, inputs: { x: v([3, 5, 4, 6], 4) }, attrs: { axis: [0, 1, 2], keepDims: false } }],
        ['sum leading keepDims', { kernel: tf.Sum, inputs: { x: v([3, 5, 4, 6], 5) }, attrs: { axis: [1, 0], keepDims: true } }],
        ['sum all', { kernel: tf.Sum, inputs: { x: v([4, 7], 6) }, attrs: { axis: [0, 1], keepDims: false } }],
        ['sum last', { kernel: tf.Sum, inputs: { x: v([4, 7], 7) }, attrs: { axis: -1, keepDims: false } }],
        ['mean leading', { kernel: tf.Mean, inputs: { x: v([3, 5, 4, 6], 8) }, attrs: { axis: [0, 1, 2], keepDims: true } }],
        ['mean middle', { kernel: tf.Mean, inputs: { x: v([3, 5, 4], 9) }, attrs: { axis: 1, keepDims: false } }],
      ];
      for (const [name, c] of cases) await expectMatches(backendName, c, name);
    });
  }

  if (wasmOk) {
    it('wasm: BatchMatMul with transposed operands', async () => {
      const v = (shape: number[], seed: number) => ({ shape, values: randomValues(shape.reduce((a, b) => a * b, 1), seed) });
      for (const [ta, tb] of [[true, false], [false, true], [true, true], [false, false]]) {
        const a = ta ? v([2, 7, 5], 10) : v([2, 5, 7], 10);
        const b = tb ? v([2, 3, 7], 11) : v([2, 7, 3], 11);
        await expectMatches('wasm', { kernel: tf.BatchMatMul, inputs: { a, b }, attrs: { transposeA: ta, transposeB: tb } }, `tA=${ta} tB=${tb}`);
      }
    });
  }
});

describe('fast kernels on tensors whose cpu storage is not a Float32Array', () => {
  // tfjs-cpu's Cast from bool or int32 to float32 keeps the source's Uint8Array/Int32Array: the
  // fast Sum/Mean must read it (an accuracy computation does exactly this: sum(cast(equal(...)))).
  it('cpu: sum and mean of bool→float32 and int32→float32 casts', async () => {
    await tf.setBackend('cpu');
    const { registerFastKernels } = await import('./register');
    registerFastKernels('cpu');
    try {
      const got = tf.tidy(() => {
        const bools = tf.equal(tf.tensor1d([1, 2, 3, 4, 5]), tf.tensor1d([1, 0, 3, 0, 5]));
        const ints = tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32');
        return [
          tf.sum(tf.cast(bools, 'float32')).dataSync()[0],
          tf.mean(tf.cast(ints, 'float32'), 0).arraySync() as number[],
        ] as const;
      });
      expect(got[0]).toBe(3);
      expect(got[1]).toEqual([3, 4]);
    } finally {
      restoreStockKernels('cpu');
    }
  });
});
