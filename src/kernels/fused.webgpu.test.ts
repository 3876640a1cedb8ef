/**
 * The fused training kernels of the webgpu backend (softmax cross-entropy, ...) against the core's
 * composite tfjs ops differentiated by tfjs's autodiff on cpu: random shapes, odd sizes, batch 1,
 * rel. err ≤ 1e-4 on value and gradient. Dawn + SwiftShader in Node; skipped, saying why, without
 * a WebGPU adapter.
 *
 * (Over 400 lines: one case per fused kernel, all sharing this file's Dawn setup and its
 * compare-with-autodiff helpers; a kernel's case is easier to find beside the others.)
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { combineKernels } from '../core/combineKernel';
import { globalAvgPool } from '../core/poolKernel';
import { denseKernel, denseReluKernels } from '../core/denseKernel';
import { canFoldPenalties, crossEntropy, crossEntropyComposite, distillation, distillationSum, l1Value, weightDecayValue } from '../core/losses';
import { applyBatchNormUpdates, batchNormInference, batchNormInferenceAutodiff, batchNormTraining, batchNormTrainingAutodiff, batchNormTrainingRelu, type BatchNormParams, type BatchNormUpdate } from '../core/nets';
import { createAdam } from '../core/optimizer';
import { warmUpPipelines } from '../core/pipelineWarmUp';
import { countDeviceWork } from './deviceWork';
import { registerFastKernels, restoreStockKernels } from './register';
import { randomValues, relativeError } from './testing';
import { gpuErrors, setupWebGPU } from './webgpuTesting';

const unavailable = await setupWebGPU();

afterAll(async () => {
  if (!unavailable) restoreStockKernels('webgpu');
  await tf.setBackend('cpu');
});

/** Loss and ∂loss/∂logits of `loss` on the active backend, read back. */
async function lossAndGrad(
  loss: (z: tf.Tensor2D, y: tf.Tensor1D) => tf.Scalar, logits: Float32Array, labels: Int32Array, shape: [number, number],
): Promise<{ value: Float32Array; grad: Float32Array }> {
  const z = tf.tensor2d(logits, shape);
  const y = tf.tensor1d(labels, 'int32');
  const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => loss(t as tf.Tensor2D, y))(z);
  const out = { value: (await value.data()) as Float32Array, grad: (await grad.data()) as Float32Array };
  tf.dispose([z, y, value, grad]);
  return out;
}

/** BN parameters (γ ≈ 1 ± 1, β, running μ, σ² > 0) and z far from 0 mean / unit variance, channels last. */
function bnCase(shape: number[], seed: number): { bn: BatchNormParams; z: tf.Tensor; w: tf.Tensor; dispose: () => void } {
  const c = shape[shape.length - 1];
  const size = shape.reduce((a, b) => a * b, 1);
  const bn: BatchNormParams = {
    gamma: tf.variable(tf.tensor1d(randomValues(c, seed).map((x) => 1 + x))),
    beta: tf.variable(tf.tensor1d(randomValues(c, seed + 1))),
    movingMean: tf.variable(tf.tensor1d(randomValues(c, seed + 4).map((x) => 3 * x)), false),
    movingVariance: tf.variable(tf.tensor1d(randomValues(c, seed + 5).map((x) => 1.5 + x)), false),
  };
  const z = tf.tensor(randomValues(size, seed + 2).map((x, i) => 3 + 2 * x + (i % c)), shape);
  const w = tf.tensor(randomValues(size, seed + 3), shape);
  return { bn, z, w, dispose: () => tf.dispose([z, w, bn.gamma, bn.beta, bn.movingMean, bn.movingVariance]) };
}

/** Value and gradients of `f` at `inputs` read back, and how many tensors the call left behind. */
interface Result { value: number; grads: Float32Array[]; leaked: number }

async function valueAndGradsOf(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): Promise<Result> {
  const before = tf.memory().numTensors;
  const { value, grads } = tf.valueAndGrads(f)(inputs);
  const out = { value: (await value.data())[0], grads: await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array)) };
  tf.dispose([value, ...grads]);
  return { ...out, leaked: tf.memory().numTensors - before };
}

/** No GPU error, no leak, value and every named gradient within 1e-4 (relative) of the reference. */
function expectSame(label: string, got: Result, ref: Result, names: string[]): void {
  expect(gpuErrors).toEqual([]);
  expect(got.leaked, 'no leaked tensors').toBe(0);
  expect(relativeError([got.value], [ref.value]), `${label} value`).toBeLessThanOrEqual(1e-4);
  names.forEach((name, k) => expect(relativeError(got.grads[k], ref.grads[k]), `${label} ${name}`).toBeLessThanOrEqual(1e-4));
}

describe.skipIf(unavailable !== null)(`fused webgpu kernels (SwiftShader here; ${unavailable ?? 'adapter found'})`, () => {
  it('softmax cross-entropy: loss and gradient = tfjs autodiff of the composite on cpu (batch 1, odd sizes, out-of-range label, a weight on the loss)', async () => {
    const shapes: [number, number][] = [[1, 10], [7, 3], [128, 10], [5, 2], [33, 17], [2, 100]];
    for (const [i, [n, k]] of shapes.entries()) {
      // the loss times a weight (1 in the first case): the gradient kernel multiplies the incoming dy in
      const weight = 1 + 0.7 * i;
      const weighted = (loss: typeof crossEntropy) => (z: tf.Tensor2D, y: tf.Tensor1D) => tf.mul(loss(z, y), weight) as tf.Scalar;
      // logits up to ±8 so softmax is far from uniform; labels in range except one -1 in the last case
      const logits = randomValues(n * k, 70 + i).map((x) => 8 * x);
      const labels = new Int32Array(n).map((_, r) => (i === shapes.length - 1 && r === 0 ? -1 : (r * 7 + i) % k));
      await tf.setBackend('cpu');
      const ref = await lossAndGrad(weighted(crossEntropyComposite), logits, labels, [n, k]);
      await tf.setBackend('webgpu');
      registerFastKernels('webgpu');
      const before = tf.memory().numTensors;
      const got = await lossAndGrad(weighted(crossEntropy), logits, labels, [n, k]);
      expect(tf.memory().numTensors, 'no leaked tensors').toBe(before);
      expect(gpuErrors).toEqual([]);
      const label = `[${n}, ${k}]`;
      expect(relativeError(got.value, ref.value), `${label} loss ${got.value[0]} vs ${ref.value[0]}`).toBeLessThanOrEqual(1e-4);
      expect(relativeError(got.grad, ref.grad), `${label} gradient`).toBeLessThanOrEqual(1e-4);
    }
  });

  it('softmax cross-entropy without the kernel registered is the composite (stock path unchanged)', async () => {
    await tf.setBackend('webgpu');
    restoreStockKernels('webgpu');
    const logits = randomValues(12, 5);
    const labels = new Int32Array([0, 2, 1]);
    const a = await lossAndGrad(crossEntropy, logits, labels, [3, 4]);
    const b = await lossAndGrad(crossEntropyComposite, logits, labels, [3, 4]);
    expect(Array.from(a.value)).toEqual(Array.from(b.value));
    expect(Array.from(a.grad)).toEqual(Array.from(b.grad));
  });

  it('pipeline warm-up: a compile-only dry run compiles the step\'s programs, dispatches nothing, changes nothing, leaks nothing; the real step then compiles none of them again', async () => {
    await tf.setBackend('webgpu');
    registerFastKernels('webgpu');
    const backend = tf.backend() as unknown as { pipelineCache: Record<string, unknown> };
    const w = tf.variable(tf.tensor2d(randomValues(13 * 6, 801), [13, 6]), true, 'warmUpW');
    const x = tf.tensor2d(randomValues(9 * 13, 802), [9, 13]);
    const y = tf.tensor1d([0, 1, 2, 3, 4, 5, 0, 1, 2], 'int32');
    // shapes no other test uses, so every program here is new to the cache
    const step = () => tf.variableGrads(() => crossEntropy(tf.relu(tf.matMul(tf.sigmoid(x), w)) as tf.Tensor2D, y), [w]);
    const wBefore = await w.data();
    const tensors = tf.memory().numTensors;
    const cached = Object.keys(backend.pipelineCache).length;
    const counter = countDeviceWork();
    const ms = await warmUpPipelines('webgpu', () => tf.tidy(() => { step(); }));
    const work = counter?.read();
    counter?.restore();
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(work?.dispatches, 'nothing dispatched').toBe(0);
    const compiled = Object.keys(backend.pipelineCache).length - cached;
    expect(compiled, 'programs compiled by the dry run').toBeGreaterThanOrEqual(4);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(Array.from(await w.data())).toEqual(Array.from(wBefore));
    const real = step();
    await real.value.data();
    expect(Object.keys(backend.pipelineCache).length - cached, 'the real step found them all compiled').toBe(compiled);
    expect(gpuErrors).toEqual([]);
    tf.dispose([real.value, ...Object.values(real.grads), w, x, y]);
    await expect(warmUpPipelines('cpu', () => { throw new Error('no runner on cpu: not called'); })).resolves.toBeNull();
  });

  it('distillation T²·KL(softmax(ŷ/T) ‖ softmax(z/T)): value and ∂z = tfjs autodiff of the composite on cpu (batch 1, odd sizes, T = 1, 2, 3.5, a weight λ_o on the term)', async () => {
    const cases: [number, number, number][] = [[1, 2, 2], [7, 10, 2], [5, 3, 1], [33, 11, 3.5], [2, 1, 2]];
    for (const [i, [n, k, temperature]] of cases.entries()) {
      const teacher = randomValues(n * k, 500 + i).map((x) => 4 * x);
      const student = randomValues(n * k, 600 + i).map((x) => 3 * x);
      const run = async (backendName: string) => {
        await tf.setBackend(backendName);
        registerFastKernels(backendName);
        const t = tf.tensor2d(teacher, [n, k]);
        const z = tf.tensor2d(student, [n, k]);
        const r = await valueAndGradsOf((zz) => tf.mul(distillation(t, zz as tf.Tensor2D, temperature), 0.5 + i), [z]);
        tf.dispose([t, z]);
        return r;
      };
      const ref = await run('cpu');
      const got = await run('webgpu');
      expectSame(`KD ${n}x${k} T=${temperature}`, got, ref, ['∂z']);
    }
  });

  it('a sum of distillation terms (distillationSum: each kernel adds the previous sum, each reads its teacher columns of one packed tensor) = the AddN of composites over slices on cpu, value and every ∂z, with no AddN and no slice dispatch', async () => {
    const n = 9;
    const ks = [10, 3, 10];
    const offsets = ks.map((_, i) => ks.slice(0, i).reduce((a, b) => a + b, 0));
    const width = ks.reduce((a, b) => a + b, 0);
    const run = async (backendName: string) => {
      await tf.setBackend(backendName);
      registerFastKernels(backendName);
      const teachers = tf.tensor2d(randomValues(n * width, 800).map((x) => 4 * x), [n, width]);
      const students = ks.map((k, i) => tf.tensor2d(randomValues(n * k, 900 + i).map((x) => 3 * x), [n, k]));
      const counter = countDeviceWork();
      const r = await valueAndGradsOf((...zs) => distillationSum(zs.map((z, i) => ({ teacher: teachers, student: z as tf.Tensor2D, teacherOffset: offsets[i] }))), students);
      const byProgram = counter?.read().byProgram ?? null;
      counter?.restore();
      tf.dispose([teachers, ...students]);
      return { r, byProgram };
    };
    const ref = await run('cpu');
    const got = await run('webgpu');
    expectSame('Σ KD over 3 heads', got.r, ref.r, ['∂z0', '∂z1', '∂z2']);
    if (got.byProgram) {
      expect(got.byProgram.AddNPackedProgram2 ?? 0, 'no AddN of the terms').toBe(0);
      expect(got.byProgram.SliceProgram ?? 0, 'no slice of the teachers').toBe(0);
      expect(got.byProgram.resclDistillationLossPlus).toBe(2);
    }
  });

  it('global average pooling: value and ∂x = tfjs autodiff of tf.mean over H, W on cpu (batch 1, odd sizes, 1x1)', async () => {
    const shapes = [[1, 1, 1, 3], [2, 5, 3, 7], [3, 8, 8, 16], [1, 7, 9, 1]];
    for (const [i, shape] of shapes.entries()) {
      const size = shape.reduce((a, b) => a * b, 1);
      const run = async (backendName: string) => {
        await tf.setBackend(backendName);
        registerFastKernels(backendName);
        const x = tf.tensor(randomValues(size, 950 + i), shape);
        const w = tf.tensor(randomValues(shape[0] * shape[3], 960 + i), [shape[0], shape[3]]);
        const counter = backendName === 'webgpu' ? countDeviceWork() : null;
        const r = await valueAndGradsOf((xx) => tf.sum(tf.mul(globalAvgPool(xx as tf.Tensor4D), w)), [x]);
        const byProgram = counter?.read().byProgram ?? null;
        counter?.restore();
        tf.dispose([x, w]);
        return { r, byProgram };
      };
      const ref = await run('cpu');
      const got = await run('webgpu');
      expectSame(`[${shape}]`, got.r, ref.r, ['∂x']);
      if (got.byProgram) {
        expect(got.byProgram.resclGlobalAvgPool, 'forward in one program').toBe(1);
        expect(got.byProgram.resclGlobalAvgPoolGrad, 'backward in one program').toBe(1);
      }
    }
  });

  it('scaled power sums (folded penalties\' values) = (λ/2) Σ‖θ‖² and λ Σ|θ| composites on cpu: 1 to 13 tensors (chained chunks), odd sizes, with and without a base loss', async () => {
    const shapes = [[1], [63], [65], [3, 3, 2, 5], [1031], [7, 9], [2], [130], [5, 5, 3, 1], [64], [1], [17, 3], [300]];
    for (const count of [1, 3, 7, 13]) {
      const values = shapes.slice(0, count).map((shape, k) => randomValues(shape.reduce((a, b) => a * b, 1), 700 + k));
      const run = async (backendName: string) => {
        await tf.setBackend(backendName);
        registerFastKernels(backendName);
        const ts = values.map((v, k) => tf.tensor(v, shapes[k]));
        const base = tf.scalar(1.75);
        const before = tf.memory().numTensors;
        const penalties = [weightDecayValue(ts, 0.02), l1Value(ts, 0.3), weightDecayValue(ts, 0.02, base), l1Value(ts, 0.3, base)];
        const out = await Promise.all(penalties.map(async (p) => (await p.data())[0]));
        tf.dispose(penalties);
        const leaked = tf.memory().numTensors - before;
        expect((await base.data())[0], 'the base is left alone').toBe(1.75);
        tf.dispose([...ts, base]);
        return { out, leaked };
      };
      const ref = await run('cpu');
      const got = await run('webgpu');
      expect(canFoldPenalties(), 'the kernel is registered on webgpu').toBe(true);
      expect(gpuErrors).toEqual([]);
      expect(got.leaked, 'no leaked tensors').toBe(0);
      expect(relativeError(got.out, ref.out), `${count} tensors: ${got.out} vs ${ref.out}`).toBeLessThanOrEqual(1e-5);
    }
  });

  it('in place on a dirty buffer pool: a host-resident input (fresh Adam moments, running statistics) is uploaded, not replaced by a pooled buffer\'s old data', async () => {
    const sizes = [8, 5, 33];
    const run = async (backendName: string, dirty: boolean) => {
      await tf.setBackend(backendName);
      registerFastKernels(backendName);
      if (dirty) {
        // leave freed buffers of every size used below in tfjs's pool, full of 1e6
        for (const n of sizes.flatMap((c) => [c, 2 * c])) {
          const junk = tf.add(tf.fill([n], 1e6), tf.scalar(1));
          await junk.data();
          junk.dispose();
        }
        await tf.scalar(0).data(); // a submit: the freed buffers are in the pool now
      }
      // exclusive variables (their source tensors disposed) that stay on the host until the update
      const exclusiveVariable = (values: Float32Array, trainable: boolean, name: string) => {
        const t = tf.tensor1d(values);
        const v = tf.variable(t, trainable, name);
        t.dispose();
        return v;
      };
      const vars = sizes.map((n, k) => exclusiveVariable(randomValues(n, 300 + k), true, `dirtyPool${backendName}${dirty}${k}`));
      const optimizer = createAdam(1e-2);
      const grads = vars.map((v, k) => tf.tensor1d(randomValues(v.size, 310 + k)));
      optimizer.applyGradients(vars.map((v, k) => ({ name: v.name, tensor: grads[k] })));
      const bn: BatchNormParams = {
        gamma: exclusiveVariable(new Float32Array(8).fill(1), true, `dirtyGamma${backendName}${dirty}`),
        beta: exclusiveVariable(new Float32Array(8), true, `dirtyBeta${backendName}${dirty}`),
        movingMean: exclusiveVariable(new Float32Array(8), false, `dirtyMean${backendName}${dirty}`),
        movingVariance: exclusiveVariable(new Float32Array(8).fill(1), false, `dirtyVar${backendName}${dirty}`),
      };
      applyBatchNormUpdates([{ bn, mean: tf.tensor1d(randomValues(8, 320)), variance: tf.tensor1d(randomValues(8, 321).map((x) => 1 + x)) }]);
      const out = await Promise.all([...vars, bn.movingMean, bn.movingVariance].map(async (v) => (await v.data()) as Float32Array));
      optimizer.dispose();
      tf.dispose([...vars, ...grads, bn.gamma, bn.beta, bn.movingMean, bn.movingVariance]);
      return out;
    };
    const ref = await run('cpu', false);
    const got = await run('webgpu', true);
    expect(gpuErrors).toEqual([]);
    got.forEach((v, k) => expect(relativeError(v, ref[k]), `tensor ${k}`).toBeLessThanOrEqual(1e-5));
  });

  it('group Adam in place: a step is ⌈variables / ⌊storage buffers / 3⌋⌉ dispatches, values = cpu, a cloned variable leaves its original alone', async () => {
    const shapes = [[1], [7], [33, 5], [3, 3, 2, 5], [1031], [4, 4]];
    const run = async (backendName: string): Promise<{ values: Float32Array[]; original: Float32Array; groupDispatches: number[] }> => {
      await tf.setBackend(backendName);
      registerFastKernels(backendName);
      const vars = shapes.map((shape, k) => tf.variable(tf.tensor(randomValues(shape.reduce((a, b) => a * b, 1), 90 + k), shape), true, `adamGroup${backendName}${k}`));
      // the last variable shares its buffer with `original` (tf.variable of a clone), as cloneNet's do
      const original = vars[0].clone();
      const shared = tf.variable(original, true, `adamGroupShared${backendName}`);
      const all = [...vars, shared];
      const optimizer = createAdam(1e-2);
      const groupDispatches: number[] = [];
      for (let step = 0; step < 4; step++) {
        const grads = all.map((v, k) => tf.tensor(randomValues(v.size, 200 + 10 * step + k).map((x) => x * (k + 1)), v.shape));
        const counter = countDeviceWork();
        optimizer.applyGradients(all.map((v, k) => ({ name: v.name, tensor: grads[k] })));
        if (counter) { groupDispatches.push(counter.read().byProgram.resclAdamGroup ?? 0); counter.restore(); }
        tf.dispose(grads);
      }
      const values = await Promise.all(all.map(async (v) => (await v.data()) as Float32Array));
      const originalValues = (await original.data()) as Float32Array;
      optimizer.dispose();
      tf.dispose([...all, original]);
      return { values, original: originalValues, groupDispatches };
    };
    const ref = await run('cpu');
    const got = await run('webgpu');
    expect(gpuErrors).toEqual([]);
    const perChunk = Math.floor((tf.backend() as unknown as { device: GPUDevice }).device.limits.maxStorageBuffersPerShaderStage / 3);
    const count = shapes.length + 1;
    // step 1: every variable is shared with the tensor it was made from (out of place, no group dispatch)
    expect(got.groupDispatches).toEqual([0, 1, 2, 3].map((s) => (s === 0 ? 0 : Math.ceil(count / perChunk))));
    got.values.forEach((v, k) => expect(relativeError(v, ref.values[k]), `variable ${k}`).toBeLessThanOrEqual(1e-5));
    expect(Array.from(got.original)).toEqual(Array.from(ref.original));
  });

  it('batch norm training, with and without the ReLU after it: y, moments and ∂z, ∂γ, ∂β = tfjs autodiff on cpu (2-D and 4-D, batch 1, odd sizes)', async () => {
    const shapes = [[1, 3], [7, 5], [2, 5, 3, 4], [1, 9, 7, 3], [3, 4, 4, 17], [64, 10]];
    const run = async (backendName: string, shape: number[], seed: number, reference: boolean, relu: boolean) => {
      await tf.setBackend(backendName);
      registerFastKernels(backendName);
      const { bn, z, w, dispose } = bnCase(shape, seed);
      const updates: BatchNormUpdate[] = [];
      const before = tf.memory().numTensors;
      const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const params = { ...bn, gamma: g as tf.Variable, beta: b as tf.Variable };
        if (reference) {
          const y = batchNormTrainingAutodiff(params, x, updates);
          return tf.sum(tf.mul(relu ? tf.relu(y) : y, w));
        }
        const y = relu ? batchNormTrainingRelu(params, x, updates) : batchNormTraining(params, x, updates);
        if (!y) throw new Error('no batch-norm training kernels on webgpu');
        return tf.sum(tf.mul(y, w));
      };
      const { value, grads } = tf.valueAndGrads(f)([z, bn.gamma, bn.beta]);
      const out = {
        value: (await value.data())[0], grads: await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array)),
        mean: (await updates[0].mean.data()) as Float32Array, variance: (await updates[0].variance.data()) as Float32Array,
      };
      tf.dispose([value, ...grads, updates[0].mean, updates[0].variance]);
      const leaked = tf.memory().numTensors - before;
      dispose();
      return { ...out, leaked };
    };
    for (const [i, shape] of shapes.entries()) for (const relu of [false, true]) {
      const ref = await run('cpu', shape, 300 + 10 * i, true, relu);
      const got = await run('webgpu', shape, 300 + 10 * i, false, relu);
      expect(gpuErrors).toEqual([]);
      expect(got.leaked, 'no leaked tensors').toBe(0);
      const label = `[${shape}]${relu ? ' relu' : ''}`;
      expect(relativeError([got.value], [ref.value]), `${label} value`).toBeLessThanOrEqual(1e-4);
      expect(relativeError(got.mean, ref.mean), `${label} mean`).toBeLessThanOrEqual(1e-4);
      expect(relativeError(got.variance, ref.variance), `${label} variance`).toBeLessThanOrEqual(1e-4);
      ['∂z', '∂γ', '∂β'].forEach((name, k) => {
        // one position per channel ([1, C]): y = β whatever z is, so ∂z is 0 and autodiff's is rounding noise
        if (k === 0 && shape.length === 2 && shape[0] === 1) {
          expect(Math.max(...got.grads[0].map(Math.abs)), `${label} ∂z`).toBeLessThanOrEqual(1e-6);
          expect(Math.max(...ref.grads[0].map(Math.abs)), `${label} ∂z (autodiff)`).toBeLessThanOrEqual(1e-3);
        } else {
          expect(relativeError(got.grads[k], ref.grads[k]), `${label} ${name}`).toBeLessThanOrEqual(1e-4);
        }
      });
    }
  });

  it('combination (1 + α_s) ⊙ z_s + α_t ⊙ z_t, with and without ReLU: value and ∂z_s, ∂z_t, ∂α_s, ∂α_t = tfjs autodiff of the composite on cpu', async () => {
    const shapes = [[1, 3], [7, 5], [2, 5, 3, 4], [1, 9, 7, 3], [3, 4, 4, 17], [128, 1]];
    const run = async (backendName: string, shape: number[], seed: number, fused: boolean, relu: boolean, sourceGrad = true) => {
      await tf.setBackend(backendName);
      registerFastKernels(backendName);
      const c = shape[shape.length - 1];
      const size = shape.reduce((a, b) => a * b, 1);
      const t = (n: number, k: number, sh: number[]) => tf.tensor(randomValues(n, seed + k), sh);
      const inputs = [t(size, 0, shape), t(size, 1, shape), t(c, 2, [c]), t(c, 3, [c])];
      const w = t(size, 4, shape);
      const composite = (zs: tf.Tensor, zt: tf.Tensor, as: tf.Tensor, at: tf.Tensor) => {
        const y = tf.add(tf.mul(tf.add(as, 1), zs), tf.mul(at, zt));
        return relu ? tf.relu(y) : y;
      };
      const f = (zs: tf.Tensor, zt: tf.Tensor, as: tf.Tensor, at: tf.Tensor) =>
        tf.sum(tf.mul(fused ? combineKernels(zs, zt, as, at, relu, sourceGrad) : composite(zs, zt, as, at), w));
      const result = await valueAndGradsOf(f, inputs);
      tf.dispose([...inputs, w]);
      return result;
    };
    for (const relu of [false, true]) {
      for (const [i, shape] of shapes.entries()) {
        const ref = await run('cpu', shape, 500 + 10 * i, false, relu);
        // all four asked for: grouped programs (sourceGrad) or, without, ∂z_s from its own program
        for (const sourceGrad of [true, false]) {
          const got = await run('webgpu', shape, 500 + 10 * i, true, relu, sourceGrad);
          expectSame(`[${shape}]${relu ? ' relu' : ''}${sourceGrad ? '' : ' no ∂z_s announced'}`, got, ref, ['∂z_s', '∂z_t', '∂α_s', '∂α_t']);
        }
      }
    }
  });

  it('combination gradients: 1 program for ∂z_t, ∂α_s, ∂α_t of a unit fed by the data, 2 with ∂z_s; gradients nobody asks for are disposed', async () => {
    await tf.setBackend('webgpu');
    registerFastKernels('webgpu');
    const shape = [4, 6];
    const [zs, zt] = [tf.tensor(randomValues(24, 1), shape), tf.tensor(randomValues(24, 2), shape)];
    const [as, at] = [tf.tensor(randomValues(6, 3)), tf.tensor(randomValues(6, 4))];
    const programsFor = async (sourceGrad: boolean, ask: 'alphas' | 'all') => {
      const before = tf.memory().numTensors;
      const counter = countDeviceWork();
      const f = ask === 'all'
        ? tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(combineKernels(c, d, a, b, true, sourceGrad)))
        : tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(combineKernels(zs, zt, a, b, true, sourceGrad)));
      const grads = ask === 'all' ? f([as, at, zs, zt]) : f([as, at]);
      await Promise.all(grads.map((g) => g.data()));
      const byProgram = counter?.read().byProgram ?? {};
      counter?.restore();
      tf.dispose(grads);
      // the grouped program's outputs that no thunk handed out went with tfjs's backward scope
      expect(tf.memory().numTensors, `${ask}, sourceGrad ${sourceGrad}`).toBe(before);
      return counter ? Object.fromEntries(Object.entries(byProgram).filter(([k]) => k.startsWith('resclCombine') && k !== 'resclCombineRelu')) : null;
    };
    const fromData = await programsFor(false, 'alphas');
    const inner = await programsFor(true, 'alphas');
    const undeclared = await programsFor(false, 'all');
    tf.dispose([zs, zt, as, at]);
    if (!fromData) return;
    expect(fromData).toEqual({ resclCombineGradsZtAlphaRelu: 1 });
    expect(inner).toEqual({ resclCombineGradsZRelu: 1, resclCombineGradsAlphaRelu: 1 });
    // ∂z_s asked for although the forward said it would not be: its own program, still right (test above)
    expect(undeclared).toEqual({ resclCombineGradsZtAlphaRelu: 1, resclCombineDzsRelu: 1 });
  });

  it('batch norm inference gradient (frozen: ∂z; else ∂z, ∂γ, ∂β) = tfjs autodiff of tf.batchNorm on cpu', async () => {
    const shapes = [[1, 3], [7, 5], [2, 5, 3, 4], [1, 9, 7, 3], [3, 4, 4, 17]];
    const run = async (backendName: string, shape: number[], seed: number, reference: boolean, frozen: boolean) => {
      await tf.setBackend(backendName);
      registerFastKernels(backendName);
      const { bn, z, w, dispose } = bnCase(shape, seed);
      const before = tf.memory().numTensors;
      const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const params = { ...bn, gamma: g as tf.Variable, beta: b as tf.Variable };
        return tf.sum(tf.mul(reference ? batchNormInferenceAutodiff(params, x) : batchNormInference(params, x, frozen), w));
      };
      const { value, grads } = frozen
        ? (() => { const r = tf.valueAndGrad((x: tf.Tensor) => f(x, bn.gamma, bn.beta))(z); return { value: r.value, grads: [r.grad] }; })()
        : tf.valueAndGrads(f)([z, bn.gamma, bn.beta]);
      const out = { value: (await value.data())[0], grads: await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array)) };
      tf.dispose([value, ...grads]);
      const leaked = tf.memory().numTensors - before;
      dispose();
      return { ...out, leaked };
    };
    for (const frozen of [true, false]) {
      for (const [i, shape] of shapes.entries()) {
        const ref = await run('cpu', shape, 700 + 10 * i, true, frozen);
        const got = await run('webgpu', shape, 700 + 10 * i, false, frozen);
        expect(gpuErrors).toEqual([]);
        expect(got.leaked, 'no leaked tensors').toBe(0);
        expect(got.grads.length).toBe(frozen ? 1 : 3);
        const label = `[${shape}] frozen=${frozen}`;
        expect(relativeError([got.value], [ref.value]), `${label} value`).toBeLessThanOrEqual(1e-4);
        got.grads.forEach((g, k) => expect(relativeError(g, ref.grads[k]), `${label} gradient ${k}`).toBeLessThanOrEqual(1e-4));
      }
    }
  });

  it('BN running statistics: applyBatchNormUpdates = the composite on cpu (in place, a shared buffer left alone)', async () => {
    const channels = [3, 16, 1, 7, 33];
    const run = async (backendName: string) => {
      await tf.setBackend(backendName);
      registerFastKernels(backendName);
      const cases = channels.map((c, k) => bnCase([2, c], 900 + 10 * k));
      // the last BN's running mean shares its buffer with `original` (a cloned net's does until assigned)
      const original = tf.tensor1d(randomValues(channels[4], 5));
      cases[4].bn.movingMean.dispose();
      cases[4].bn.movingMean = tf.variable(original, false);
      const dispatches: number[] = [];
      for (let step = 0; step < 3; step++) {
        const updates: BatchNormUpdate[] = cases.map(({ bn }, k) => ({
          bn, mean: tf.tensor1d(randomValues(channels[k], 40 + step * 10 + k)), variance: tf.tensor1d(randomValues(channels[k], 80 + step * 10 + k).map((x) => 1 + x)),
        }));
        const counter = countDeviceWork();
        applyBatchNormUpdates(updates);
        if (counter) { dispatches.push(counter.read().dispatches); counter.restore(); }
      }
      const stats = await Promise.all(cases.flatMap(({ bn }) => [bn.movingMean, bn.movingVariance]).map(async (v) => (await v.data()) as Float32Array));
      const originalValues = (await original.data()) as Float32Array;
      cases.forEach((c) => c.dispose());
      original.dispose();
      return { stats, original: originalValues, dispatches };
    };
    const ref = await run('cpu');
    const got = await run('webgpu');
    expect(gpuErrors).toEqual([]);
    const perChunk = Math.floor((tf.backend() as unknown as { device: GPUDevice }).device.limits.maxStorageBuffersPerShaderStage / 2);
    const pairs = 2 * channels.length;
    // step 1: every running statistic shares its buffer with the tensor it was made from: one
    // out-of-place program each; then all in place
    expect(got.dispatches).toEqual([pairs, Math.ceil(pairs / perChunk), Math.ceil(pairs / perChunk)]);
    got.stats.forEach((v, k) => expect(relativeError(v, ref.stats[k]), `statistic ${k}`).toBeLessThanOrEqual(1e-5));
    expect(Array.from(got.original)).toEqual(Array.from(ref.original));
  });

  it('dense unit x · W + b and relu(x · W + b): value and ∂x, ∂W, ∂b = tfjs autodiff of matMul, add (, relu) on cpu', async () => {
    const shapes: [number, number, number][] = [[1, 5, 3], [7, 13, 9], [2, 3, 1], [8, 64, 40], [33, 17, 31]];
    const run = async (backendName: string, [n, cin, c]: [number, number, number], seed: number, fused: boolean, relu: boolean) => {
      await tf.setBackend(backendName);
      registerFastKernels(backendName);
      const inputs = [tf.tensor2d(randomValues(n * cin, seed), [n, cin]), tf.tensor2d(randomValues(cin * c, seed + 1), [cin, c]), tf.tensor1d(randomValues(c, seed + 2))];
      const w = tf.tensor2d(randomValues(n * c, seed + 3), [n, c]);
      const composite = (x: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => {
        const z = tf.add(tf.matMul(x as tf.Tensor2D, k as tf.Tensor2D), b);
        return relu ? tf.relu(z) : z;
      };
      const kernels = relu ? denseReluKernels : denseKernel;
      const f = (x: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fused
        ? kernels(x as tf.Tensor2D, k as tf.Tensor2D, b as tf.Tensor1D)
        : composite(x, k, b), w));
      const result = await valueAndGradsOf(f, inputs);
      tf.dispose([...inputs, w]);
      return result;
    };
    for (const relu of [true, false]) {
      for (const [i, shape] of shapes.entries()) {
        const ref = await run('cpu', shape, 1100 + 10 * i, false, relu);
        const got = await run('webgpu', shape, 1100 + 10 * i, true, relu);
        expectSame(`[${shape}]${relu ? ' relu' : ''}`, got, ref, ['∂x', '∂W', '∂b']);
      }
    }
    // lazy: with ∂W and ∂b only (a first unit: its input trains nothing), no ∂x matMul runs
    const [x, k, b] = [tf.tensor2d(randomValues(8 * 5, 7), [8, 5]), tf.tensor2d(randomValues(5 * 3, 8), [5, 3]), tf.tensor1d(randomValues(3, 9))];
    const count = async (wrt: 'all' | 'weights') => {
      const counter = countDeviceWork();
      const f = (...vs: tf.Tensor[]) => tf.sum(denseReluKernels(vs[0] as tf.Tensor2D, vs[1] as tf.Tensor2D, vs[2] as tf.Tensor1D));
      const grads = wrt === 'all' ? tf.grads(f)([x, k, b]) : tf.grads((kk: tf.Tensor, bb: tf.Tensor) => f(x, kk, bb))([k, b]);
      await Promise.all(grads.map((g) => g.data()));
      tf.dispose(grads);
      const work = counter?.read();
      counter?.restore();
      return work?.dispatches;
    };
    const all = await count('all');
    const weights = await count('weights');
    tf.dispose([x, k, b]);
    if (all !== undefined && weights !== undefined) expect(weights, 'no ∂x program').toBeLessThan(all);
  });
});
